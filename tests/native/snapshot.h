/* snapshot.h — every activation of a run in one buffer, for the native tests
 * that compare whole runs bit for bit (test_run: full vs incremental vs
 * low-memory store; test_threads: any thread count). Needs check.h. */
#ifndef GB_SNAPSHOT_H
#define GB_SNAPSHOT_H

#include <stdlib.h>

#include "glassbox.h"

/* Copies every activation of the run, in hook order, into one buffer. */
static float *snapshot(gb_ctx *ctx, size_t *total) {
    int L = gb_get_config(ctx)->n_layer;
    size_t cap = 0;
    for (int h = 0; h < gb_num_hooks(); h++)
        for (int l = gb_hook_is_per_layer(h) ? 0 : -1; l < (gb_hook_is_per_layer(h) ? L : 0); l++) {
            gb_shape s;
            gb_activation_shape(ctx, h, l, &s, NULL);
            cap += s.numel;
        }
    float *buf = malloc(cap * sizeof(float)), *p = buf;
    for (int h = 0; h < gb_num_hooks(); h++)
        for (int l = gb_hook_is_per_layer(h) ? 0 : -1; l < (gb_hook_is_per_layer(h) ? L : 0); l++) {
            gb_shape s;
            gb_activation_shape(ctx, h, l, &s, NULL);
            CHECK(gb_activation_copy(ctx, h, l, p, s.numel) == GB_OK, "copy %s: %s", gb_hook_pattern(h),
                  gb_error_message(ctx));
            p += s.numel;
        }
    *total = cap;
    return buf;
}

#endif
