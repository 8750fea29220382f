/* interp_cli.h — what `glassbox patch` and `glassbox attribute` share: a
 * safetensors writer for named result tensors, and argument helpers (a
 * prompt as text or ids, a token as text or #id). */
#ifndef GB_INTERP_CLI_H
#define GB_INTERP_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "glassbox.h"

typedef struct {
    char name[64];
    int is_i32;            /* 1: I32, 0: F32 */
    int ndim;
    int shape[3];
    const void *data;      /* numel = product of shape */
} cli_out_tensor;

/* Writes the tensors (names sorted by the caller or not: safetensors keys are a map). */
gb_status cli_write_tensors(gb_ctx *ctx, const char *path, const cli_out_tensor *t, int n);

/* Appends a tensor to list (cap entries); returns the new count. */
int cli_out_add(cli_out_tensor *list, int n, int cap, const char *name, int is_i32, const void *data, int ndim,
               int d0, int d1, int d2);

/* "1,2,3" -> ids, or text tokenized by the model. Caller frees; NULL on error (reported in ctx). */
int32_t *cli_tokens(gb_ctx *ctx, const char *ids_csv, const char *text, int *n);
/* A token: "#123" is id 123; any other text must tokenize to exactly one token. -1 on error. */
int cli_token(gb_ctx *ctx, const char *spec, const char *what);

#endif
