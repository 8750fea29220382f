/* trace.h — writes every activation of the current run to a safetensors file. */
#ifndef GB_TRACE_H
#define GB_TRACE_H

#include "glassbox.h"

/* Tensors: "tokens" (I32 [T]) and every hook by its full TransformerLens name
 * (F32, shapes as gb_activation_shape; masked attention scores are -inf).
 * Errors are reported through ctx. */
gb_status gb_write_trace(gb_ctx *ctx, const char *path);

#endif
