/* fileio.h — the native file layer: the core takes bytes, this reads them.
 * Used by the CLI and the native tests; the browser hands bytes instead. */
#ifndef GB_FILEIO_H
#define GB_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "glassbox.h"

/* Reads a whole file. Returns NULL and fills err (cap bytes) on failure. The
 * buffer has a NUL after its len bytes. */
uint8_t *cli_read_file(const char *path, size_t *len, char *err, size_t cap);
/* Reads an open stream (standard input) to its end, as cli_read_file;
 * `what` names it in messages. */
uint8_t *cli_read_stream(FILE *f, const char *what, size_t *len, char *err, size_t cap);

/* Loads a Hugging Face GPT-2 directory (config.json, model.safetensors, and
 * optionally vocab.json + merges.txt or tokenizer.json) into ctx. On failure
 * the message is in gb_error_message(ctx). */
gb_status cli_load_model_dir(gb_ctx *ctx, const char *dir);

#endif
