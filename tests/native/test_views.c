/* test_views.c — gb_head_pattern_view against the stored pattern
 * (gb_activation_copy) downsampled by a plain loop here: max cells exact, mean
 * cells within float rounding of a double mean, the zoom bit for bit; the same
 * with keep_all off (the head recomputed from the kept residual and K, not
 * the block), on a pool of 3 workers, and on a Conv1D-layout model (which
 * recomputes the block). gb_store_bytes: sizes that order as they must. */
#include <string.h>

#include "check.h"
#include "synth.h"

typedef struct { int n; } serial3;
static void run3(void *pool, gb_task_fn task, void *arg, int n) {
    (void)pool;
    for (int i = n - 1; i >= 0; i--) task(arg, i, i % 3);
}

static void cell(int i, int n, int T, int *lo, int *hi) {
    *lo = (int)((long long)i * T / n);
    *hi = (int)((long long)(i + 1) * T / n);
    if (*hi <= *lo) *hi = *lo + 1;
    if (*hi > T) *hi = T;
}

/* ref: [T, T] pattern of one head. */
static void check_view(gb_ctx *ctx, const float *ref, int T, int layer, int head, int ow, int oh, int mode,
                       const char *what) {
    float *ov = malloc(sizeof(float) * ow * oh);
    int r0 = T / 3, r1 = T / 3 + 9 < T ? T / 3 + 9 : T, c0 = 2, c1 = T - 1;
    float *zoom = malloc(sizeof(float) * (r1 - r0) * (c1 - c0));
    gb_status s = gb_head_pattern_view(ctx, layer, head, ow, oh, mode, ov, r0, r1, c0, c1, zoom);
    CHECK(s == GB_OK, "%s: view: %s", what, gb_error_message(ctx));
    int zoom_same = 1, max_same = 1;
    double worst = 0;
    for (int r = r0; r < r1; r++)
        for (int c = c0; c < c1; c++)
            zoom_same &= memcmp(&zoom[(r - r0) * (c1 - c0) + c - c0], &ref[r * T + c], sizeof(float)) == 0;
    for (int i = 0; i < oh; i++)
        for (int c = 0; c < ow; c++) {
            int a, b, x, y;
            cell(i, oh, T, &a, &b);
            cell(c, ow, T, &x, &y);
            double acc = 0;
            float mx = 0;
            for (int r = a; r < b; r++)
                for (int k = x; k < y; k++) {
                    acc += ref[r * T + k];
                    if (ref[r * T + k] > mx) mx = ref[r * T + k];
                }
            float got = ov[i * ow + c];
            if (mode == 0) max_same &= got == mx;
            else {
                double want = acc / ((double)(b - a) * (y - x)), e = fabs(got - want) / (want > 1e-3 ? want : 1e-3);
                if (e > worst) worst = e;
            }
        }
    CHECK(zoom_same, "%s: zoom equals the stored pattern bit for bit", what);
    CHECK(max_same, "%s: max overview %dx%d equals the plain loop's", what, ow, oh);
    CHECK(worst < 1e-5, "%s: mean overview %dx%d within 1e-5 of a double mean (%g)", what, ow, oh, worst);
    free(ov);
    free(zoom);
}

static void test_model(int C, const char *what) {
    synth_model m;
    synth_make(&m, 2, 4, C, 128);
    synth_pad_header(&m);
    gb_ctx *ctx = gb_create();
    CHECK(synth_load(ctx, &m) == GB_OK, "load: %s", gb_error_message(ctx));
    const int T = 70, H = 4;
    int32_t ids[70];
    for (int i = 0; i < T; i++) ids[i] = (i * 53 + 5) % 256;
    float ov[4];
    CHECK(gb_set_tokens(ctx, ids, T) == GB_OK, "set tokens");
    CHECK(gb_head_pattern_view(ctx, 0, 0, 2, 2, 0, ov, 0, 0, 0, 0, NULL) == GB_E_STATE, "before the stage: refused");
    CHECK(gb_run_all(ctx) == GB_OK, "run");
    float *pat = malloc(sizeof(float) * H * T * T);
    int hp = gb_hook_find("blocks.0.attn.hook_pattern", NULL);
    CHECK(gb_activation_copy(ctx, hp, 0, pat, (size_t)H * T * T) == GB_OK, "pattern copy");
    const float *ref = pat + (size_t)2 * T * T; /* head 2 */
    char buf[128];
    snprintf(buf, sizeof buf, "%s keep_all", what);
    check_view(ctx, ref, T, 0, 2, 16, 9, 0, buf);
    check_view(ctx, ref, T, 0, 2, 7, 70, 1, buf);
    CHECK(gb_set_keep_all(ctx, 0) == GB_OK && gb_run_all(ctx) == GB_OK, "keep_all off");
    snprintf(buf, sizeof buf, "%s keep_all off", what);
    check_view(ctx, ref, T, 0, 2, 16, 9, 0, buf);
    check_view(ctx, ref, T, 0, 2, 70, 5, 1, buf);
    serial3 p3 = {3};
    CHECK(gb_set_parallel(ctx, run3, &p3, 3) == GB_OK, "pool");
    snprintf(buf, sizeof buf, "%s keep_all off, 3 workers", what);
    check_view(ctx, ref, T, 0, 2, 16, 9, 0, buf);
    check_view(ctx, ref, T, 0, 2, 3, 3, 1, buf);
    CHECK(gb_head_pattern_view(ctx, 2, 0, 2, 2, 0, ov, 0, 0, 0, 0, NULL) == GB_E_RANGE, "block out of range");
    CHECK(gb_head_pattern_view(ctx, 0, 4, 2, 2, 0, ov, 0, 0, 0, 0, NULL) == GB_E_RANGE, "head out of range");
    CHECK(gb_head_pattern_view(ctx, 0, 0, 71, 2, 0, ov, 0, 0, 0, 0, NULL) == GB_E_RANGE, "overview wider than T");
    CHECK(gb_head_pattern_view(ctx, 0, 0, 2, 2, 2, ov, 0, 0, 0, 0, NULL) == GB_E_RANGE, "unknown mode");
    CHECK(gb_head_pattern_view(ctx, 0, 0, 0, 0, 0, NULL, 5, 5, 0, 1, ov) == GB_E_RANGE, "empty zoom");
    CHECK(gb_head_pattern_view(ctx, 0, 0, 0, 0, 0, NULL, 0, 1, 0, 71, ov) == GB_E_RANGE, "zoom past T");

    double all, lean, small;
    CHECK(gb_store_bytes(ctx, 100, 1, &all) == GB_OK && gb_store_bytes(ctx, 100, 0, &lean) == GB_OK &&
          gb_store_bytes(ctx, 10, 1, &small) == GB_OK, "store bytes");
    /* keep_all holds both layers' patterns and scores: 2 * 2 * H * 100*101/2 floats at least (cap 128: more) */
    CHECK(all > lean && lean > 0 && small < all && all >= 2.0 * 2 * H * 128 * 129 / 2 * 4, "store sizes %g %g %g", all, lean, small);
    CHECK(gb_store_bytes(ctx, 129, 1, &all) == GB_E_RANGE, "past n_positions");
    free(pat);
    gb_destroy(ctx);
    synth_free(&m);
}

int main(void) {
    test_model(32, "packed model");
    test_model(20, "Conv1D-layout model");
    return CHECK_DONE("test_views");
}
