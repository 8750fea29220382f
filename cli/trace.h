/* trace.h — writes every activation of the current run to a safetensors file
 * that says what it holds. */
#ifndef CLI_TRACE_H
#define CLI_TRACE_H

#include "glassbox.h"

typedef struct {
    const char *model_dir;  /* the model's name is its last path component */
    const char *prompt;     /* the text the ids came from, or NULL (ids given) */
    int batch_dim;          /* 1: a leading batch dimension of 1 on every tensor */
} trace_info;

/* Tensors: "tokens" (I32 [T]) and every hook by its full TransformerLens name
 * (F32, shapes as gb_activation_shape; masked attention scores are -inf);
 * with batch_dim each shape gains a leading 1. __metadata__ (strings, as the
 * format requires): see trace.c. Errors are reported through ctx. */
gb_status cli_write_trace(gb_ctx *ctx, const char *path, const trace_info *info);

#endif
