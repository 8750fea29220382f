/* loader.h — the one way a model is loaded: config.json, then model.safetensors
 * streamed in pieces of any size (a download, a file read in chunks, or the
 * whole buffer at once). The public gb_load_* calls (api.c) drive it; it
 * knows nothing of the handle, so nothing here calls back up into api.c. */
#ifndef GB_LOADER_H
#define GB_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "load/model.h"

typedef struct gb_loader gb_loader;

/* Parses config.json and sizes the load for a model.safetensors of
 * safetensors_len bytes. *out is NULL on failure. */
gb_status gb_loader_begin(gb_loader **out, const uint8_t *config_json, size_t config_len,
                          size_t safetensors_len, gb_err *e);
/* The next n bytes of model.safetensors. On failure the load cannot go on:
 * free it. */
gb_status gb_loader_write(gb_loader *l, const uint8_t *bytes, size_t n, gb_err *e);
/* After the last byte: moves the finished weights into *m (the caller's to
 * gb_model_free). The loader is spent either way: free it. */
gb_status gb_loader_finish(gb_loader *l, gb_model *m, gb_err *e);
void gb_loader_free(gb_loader *l);

#endif
