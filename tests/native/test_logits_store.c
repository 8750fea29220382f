/* test_logits_store.c — the low-memory store keeps one row of logits.
 *
 * With keep_all off the logits hook's store is the last position's row (what
 * sampling needs); every position's logits are computed into their own buffer
 * only when the whole hook is read, and one position's top tokens compute that
 * row alone. This test runs the same sequence of edits on two contexts, one
 * with keep_all on (every row stored, the reference) and one with it off, and
 * checks after each step that every logits row, each position's top tokens and
 * the sampled token are bit-identical: reads in between must never leave a
 * stale row behind (a changed token, an appended token, an intervention).
 * And the store's size: the low-memory store no longer grows by a vocabulary
 * row per token. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "synth.h"

#define V 256 /* synth_make's byte vocabulary */
#define T0 40

typedef struct { int n; } serial2;
/* A pool that runs the tasks in order here: the split path, one core. */
static void run2(void *pool, gb_task_fn task, void *arg, int n) {
    (void)pool;
    for (int i = 0; i < n; i++) task(arg, i, i % 2);
}

static int logits_hook(void) { return gb_hook_find("logits", NULL); }

/* Every row of lean's logits equals full's, bit for bit. */
static void same_logits(gb_ctx *full, gb_ctx *lean, const char *when) {
    const float *a, *b;
    gb_shape sa, sb;
    CHECK(gb_activation_data(full, logits_hook(), -1, &a, &sa) == GB_OK, "%s: keep_all logits", when);
    CHECK(gb_activation_data(lean, logits_hook(), -1, &b, &sb) == GB_OK, "%s: low-memory logits: %s", when,
          gb_error_message(lean));
    CHECK(sa.numel == sb.numel && sa.shape[0] == gb_num_tokens(full), "%s: shapes", when);
    CHECK(!memcmp(a, b, sizeof(float) * sa.numel), "%s: the low-memory store's logits differ", when);
}

/* Each position's top 5 tokens agree (lean computes rows one at a time). */
static void same_top(gb_ctx *full, gb_ctx *lean, const char *when) {
    int T = gb_num_tokens(full), bad = 0;
    for (int t = T - 1; t >= 0; t -= 3) {
        int32_t ia[5], ib[5];
        float pa[5], pb[5];
        CHECK(gb_top_tokens(full, t, 5, ia, pa) == GB_OK && gb_top_tokens(lean, t, 5, ib, pb) == GB_OK,
              "%s: top tokens at %d", when, t);
        bad += memcmp(ia, ib, sizeof ia) != 0 || memcmp(pa, pb, sizeof pa) != 0;
    }
    CHECK(bad == 0, "%s: %d positions' top tokens differ", when, bad);
}

static void same_draw(gb_ctx *full, gb_ctx *lean, const char *when) {
    gb_sample_params p = {.temperature = 0.9f, .top_k = 20, .top_p = 0.9f};
    gb_sample_trace ra, rb;
    CHECK(gb_sample_draw(full, &p, 0.37f, &ra) == GB_OK && gb_sample_draw(lean, &p, 0.37f, &rb) == GB_OK,
          "%s: draw", when);
    CHECK(ra.token == rb.token, "%s: drew %d and %d", when, ra.token, rb.token);
}

static void both(gb_ctx *c[2], gb_status (*f)(gb_ctx *, const int32_t *, int), const int32_t *ids, int n) {
    for (int i = 0; i < 2; i++) CHECK(f(c[i], ids, n) == GB_OK && gb_run_all(c[i]) == GB_OK, "step: %s",
                                      gb_error_message(c[i]));
}

int main(void) {
    synth_model m;
    synth_make(&m, 2, 4, 32, 128);
    synth_pad_header(&m);
    gb_ctx *c[2] = {gb_create(), gb_create()};
    for (int i = 0; i < 2; i++) CHECK(synth_load(c[i], &m) == GB_OK, "load");
    CHECK(gb_set_keep_all(c[1], 0) == GB_OK, "keep_all off");
    serial2 pool = {2};
    CHECK(gb_set_parallel(c[1], run2, &pool, 2) == GB_OK, "split path");

    int32_t ids[T0 + 2];
    for (int i = 0; i < T0; i++) ids[i] = (i * 71 + 3) % V;
    both(c, gb_set_tokens, ids, T0);
    same_top(c[0], c[1], "fresh run, rows one at a time");
    same_logits(c[0], c[1], "fresh run");
    same_draw(c[0], c[1], "fresh run");

    int32_t next = 17;
    both(c, gb_append_tokens, &next, 1);
    same_draw(c[0], c[1], "appended");
    same_logits(c[0], c[1], "appended (earlier rows kept, the new one added)");

    ids[5] = 200; /* the same length, one earlier token changed: rows 5.. are stale */
    ids[T0] = next;
    both(c, gb_set_tokens, ids, T0 + 1);
    same_logits(c[0], c[1], "a token changed");
    same_top(c[0], c[1], "a token changed");

    gb_intervention iv = {.kind = GB_IV_ABLATE_ZERO, .hook = gb_hook_find("blocks.1.attn.hook_z", NULL),
                          .layer = 1, .head = 2, .pos = -1};
    for (int i = 0; i < 2; i++)
        CHECK(gb_add_intervention(c[i], &iv) == GB_OK && gb_run_all(c[i]) == GB_OK, "ablate: %s",
              gb_error_message(c[i]));
    same_logits(c[0], c[1], "a head ablated");
    same_draw(c[0], c[1], "a head ablated");

    /* Size, on a model whose vocabulary row (4,096 floats) outweighs what the
     * low-memory store keeps of every other hook per token (about 1,500
     * floats at 128 tokens: residual rows, one block's internals, one layer
     * of patterns): 64 more tokens add 64 logits rows to the keep_all store
     * and none to the low-memory one. */
    synth_model wide;
    synth_make_weights(&wide, 2, 4, 16, 128, 4096);
    gb_ctx *w = gb_create();
    CHECK(gb_load_model(w, (const uint8_t *)wide.config, wide.config_len, wide.st, wide.st_len, NULL, 0, NULL, 0,
                        NULL, 0) == GB_OK, "load the wide model: %s", gb_error_message(w));
    double all64, all128, lean64, lean128, row = 4096.0 * sizeof(float);
    CHECK(gb_store_bytes(w, 64, 1, &all64) == GB_OK && gb_store_bytes(w, 128, 1, &all128) == GB_OK &&
          gb_store_bytes(w, 64, 0, &lean64) == GB_OK && gb_store_bytes(w, 128, 0, &lean128) == GB_OK,
          "store bytes");
    CHECK(all128 - all64 >= 64 * row, "keep_all grows by a logits row per token: %g", all128 - all64);
    CHECK(lean128 - lean64 < 64 * row, "the low-memory store grows by a logits row per token: %g", lean128 - lean64);
    gb_destroy(w);
    synth_free(&wide);

    for (int i = 0; i < 2; i++) gb_destroy(c[i]);
    synth_free(&m);
    return CHECK_DONE("test_logits_store");
}
