/* test_run.c — run control on a synthetic model: stage order, KV-cache parity
 * with full recompute, keep_all off (recompute on demand) equal to keep_all on,
 * context limits, hook names, head ablation and the logit lens. Numerical
 * parity with Hugging Face is test_parity.c's job. */
#include <math.h>

#include "check.h"
#include "snapshot.h"
#include "synth.h"

#define TOL_KV_REL 1e-5    /* incremental vs full recompute, max |diff| / max |ref| */
#define TOL_LEAN_REL 1e-6  /* keep_all off vs on */

static double tensor_rel(const float *a, const float *b, size_t n) {
    double md = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        if (isinf(a[i]) && isinf(b[i]) && (a[i] > 0) == (b[i] > 0)) continue;
        double d = fabs((double)a[i] - b[i]);
        if (d > md || d != d) md = d;
        if (fabs(b[i]) > mb) mb = fabs(b[i]);
    }
    return md / (mb > 0 ? mb : 1);
}

static void test_stages(gb_ctx *ctx, const int32_t *ids, int n) {
    CHECK(gb_set_tokens(ctx, ids, n) == GB_OK, "set_tokens");
    CHECK(gb_run_stage(ctx, 2) == GB_E_STATE, "stage 2 before 0 must fail");
    CHECK(gb_run_stage(ctx, 0) == GB_OK && gb_stages_done(ctx) == 1, "embed stage");
    const float *d;
    gb_shape s;
    int hook_logits = gb_hook_find("logits", NULL);
    CHECK(gb_activation_data(ctx, hook_logits, -1, &d, &s) == GB_E_STATE, "logits before final stage");
    for (int st = 1; st < gb_num_stages(ctx); st++) CHECK(gb_run_stage(ctx, st) == GB_OK, "stage %d", st);
    CHECK(gb_stages_done(ctx) == gb_num_stages(ctx), "all stages done");
    CHECK(gb_activation_data(ctx, hook_logits, -1, &d, &s) == GB_OK && s.shape[0] == n && s.shape[1] == 256,
          "logits shape");
}

static void test_kv_cache(gb_ctx *ctx, const int32_t *ids, int n) {
    size_t nf, ni;
    gb_set_tokens(ctx, ids, n);
    gb_run_all(ctx);
    float *full = snapshot(ctx, &nf);
    gb_set_tokens(ctx, ids, 3);
    gb_run_all(ctx);
    for (int i = 3; i < n; i++) { /* one token at a time, as generation does */
        CHECK(gb_append_tokens(ctx, ids + i, 1) == GB_OK, "append %d", i);
        CHECK(gb_run_all(ctx) == GB_OK, "run after append %d", i);
    }
    float *inc = snapshot(ctx, &ni);
    CHECK(nf == ni, "same activation count %zu vs %zu", nf, ni);
    double err = tensor_rel(inc, full, nf < ni ? nf : ni);
    CHECK(err <= TOL_KV_REL, "KV-cache run differs from full recompute: rel %.3g", err);
    printf("kv cache vs full recompute: max rel err %.3g (tol %.0e)\n", err, TOL_KV_REL);
    free(full); free(inc);
}

static void test_lean(gb_ctx *ctx, const int32_t *ids, int n) {
    size_t na, nl;
    gb_set_tokens(ctx, ids, n);
    gb_run_all(ctx);
    float *all = snapshot(ctx, &na);
    CHECK(gb_set_keep_all(ctx, 0) == GB_OK, "keep_all off");
    gb_set_tokens(ctx, ids, n - 2);
    gb_run_all(ctx);
    gb_append_tokens(ctx, ids + n - 2, 2);
    gb_run_all(ctx);
    float *lean = snapshot(ctx, &nl);
    double err = tensor_rel(lean, all, na);
    CHECK(na == nl && err <= TOL_LEAN_REL, "keep_all off differs: rel %.3g", err);
    printf("keep_all off (recompute on read) vs on: max rel err %.3g\n", err);
    gb_set_keep_all(ctx, 1);
    free(all); free(lean);
}

static void test_limits(gb_ctx *ctx, const synth_model *m) {
    int32_t ids[40] = {0};
    CHECK(gb_set_tokens(ctx, ids, 0) == GB_E_ARG, "empty prompt");
    CHECK(gb_set_tokens(ctx, ids, 33) == GB_E_RANGE, "33 tokens > n_positions 32");
    CHECK(strstr(gb_error_message(ctx), "n_positions") != NULL, "message names n_positions: %s", gb_error_message(ctx));
    ids[0] = 256;
    CHECK(gb_set_tokens(ctx, ids, 1) == GB_E_RANGE, "id outside vocab");
    ids[0] = 5;
    CHECK(gb_set_tokens(ctx, ids, 30) == GB_OK, "30 tokens");
    CHECK(gb_append_tokens(ctx, ids, 3) == GB_E_RANGE, "append past context");
    CHECK(gb_num_tokens(ctx) == 30, "failed append loses nothing");
    (void)m;
}

static void test_names(gb_ctx *ctx) {
    char name[96];
    for (int h = 0; h < gb_num_hooks(); h++) {
        int l = -2;
        snprintf(name, sizeof name, gb_hook_pattern(h), 1);
        CHECK(gb_hook_find(name, &l) == h && l == (gb_hook_is_per_layer(h) ? 1 : -1), "find %s", name);
    }
    CHECK(gb_hook_find("blocks.01.attn.hook_q", NULL) < 0, "leading zero rejected");
    CHECK(gb_hook_find("blocks.1.attn.hook_nope", NULL) < 0, "unknown rejected");
    CHECK(gb_hook_find("blocks..attn.hook_q", NULL) < 0, "missing layer rejected");
    (void)ctx;
}

static void test_ablation(gb_ctx *ctx, const int32_t *ids, int n) {
    const gb_config *c = gb_get_config(ctx);
    int hz = gb_hook_find("blocks.1.attn.hook_z", NULL), H = c->n_head, D = c->d_head;
    size_t nz = (size_t)n * H * D;
    float *base = malloc(nz * 4), *abl = malloc(nz * 4), *l0 = malloc(nz * 4), *l0b = malloc(nz * 4);
    gb_set_tokens(ctx, ids, n);
    gb_run_all(ctx);
    gb_activation_copy(ctx, hz, 1, base, nz);
    gb_activation_copy(ctx, hz, 0, l0, nz);
    CHECK(gb_set_ablation(ctx, 1, 2, GB_ABLATE_ZERO) == GB_OK, "ablate 1.2");
    CHECK(gb_stages_done(ctx) == 1 + 2 * 1, "ablation invalidates from block 1 attention");
    gb_run_all(ctx);
    gb_activation_copy(ctx, hz, 1, abl, nz);
    gb_activation_copy(ctx, hz, 0, l0b, nz);
    int ok_zero = 1, ok_other = 1;
    for (int t = 0; t < n; t++)
        for (int h = 0; h < H; h++)
            for (int d = 0; d < D; d++) {
                size_t i = ((size_t)t * H + h) * D + d;
                if (h == 2) ok_zero &= abl[i] == 0.0f;
                else ok_other &= abl[i] == base[i];
            }
    CHECK(ok_zero, "ablated head's z is zero");
    CHECK(ok_other, "other heads' z unchanged");
    CHECK(memcmp(l0, l0b, nz * 4) == 0, "block 0 unchanged");
    gb_set_ablation(ctx, 1, 2, GB_ABLATE_MEAN);
    gb_run_all(ctx);
    gb_activation_copy(ctx, hz, 1, abl, nz);
    double worst = 0;
    for (int d = 0; d < D; d++) {
        double mean = 0;
        for (int t = 0; t < n; t++) mean += base[((size_t)t * H + 2) * D + d] / n;
        for (int t = 0; t < n; t++) worst = fmax(worst, fabs(abl[((size_t)t * H + 2) * D + d] - mean));
    }
    CHECK(worst < 1e-5, "mean ablation writes the head's mean over positions (err %.3g)", worst);
    CHECK(gb_set_ablation(ctx, 9, 0, GB_ABLATE_ZERO) == GB_E_RANGE, "bad layer");
    CHECK(gb_set_ablation(ctx, 0, 0, (gb_ablation)7) == GB_E_ARG, "bad mode");
    gb_clear_ablations(ctx);
    gb_run_all(ctx);
    gb_activation_copy(ctx, hz, 1, abl, nz);
    CHECK(memcmp(abl, base, nz * 4) == 0, "clearing ablations restores the run exactly");
    free(base); free(abl); free(l0); free(l0b);
}

static void test_logit_lens(gb_ctx *ctx, const int32_t *ids, int n) {
    const gb_config *c = gb_get_config(ctx);
    gb_set_tokens(ctx, ids, n);
    gb_run_all(ctx);
    const float *logits;
    gb_shape s;
    gb_activation_data(ctx, gb_hook_find("logits", NULL), -1, &logits, &s);
    int32_t top[5];
    float pr[5];
    int pos = n - 2;
    CHECK(gb_logit_lens(ctx, c->n_layer - 1, pos, 5, top, pr) == GB_OK, "lens: %s", gb_error_message(ctx));
    const float *row = logits + (size_t)pos * c->vocab_size;
    double mx = -INFINITY, z = 0;
    int arg = 0;
    for (int v = 0; v < c->vocab_size; v++) if (row[v] > mx) { mx = row[v]; arg = v; }
    for (int v = 0; v < c->vocab_size; v++) z += exp(row[v] - mx);
    CHECK(top[0] == arg, "lens top token %d == argmax logits %d", top[0], arg);
    double want = exp(row[top[1]] - mx) / z;
    CHECK(fabs(pr[1] - want) < 1e-5, "lens prob %g vs softmax(logits) %g", pr[1], want);
    CHECK(pr[0] >= pr[1] && pr[1] >= pr[4], "sorted");
    CHECK(gb_logit_lens(ctx, -1, 0, 3, top, pr) == GB_OK, "lens after embeddings");
    CHECK(gb_logit_lens(ctx, c->n_layer, 0, 3, top, pr) == GB_E_RANGE, "lens bad layer");
    CHECK(gb_logit_lens(ctx, 0, n, 3, top, pr) == GB_E_RANGE, "lens bad pos");
}

/* Runs ids and returns a copy of the logits (caller frees). */
static float *run_logits(gb_ctx *ctx, const int32_t *ids, int n) {
    const float *d;
    gb_shape s;
    gb_set_tokens(ctx, ids, n);
    gb_run_all(ctx);
    gb_activation_data(ctx, gb_hook_find("logits", NULL), -1, &d, &s);
    float *copy = malloc(s.numel * sizeof(float));
    memcpy(copy, d, s.numel * sizeof(float));
    return copy;
}

/* The hub's gpt2 files have no "transformer." prefix and carry attn.bias /
 * attn.masked_bias buffers: same model, same logits. */
static void test_published_layout(gb_ctx *ctx, const int32_t *ids, int n) {
    const float *d;
    gb_shape s;
    int hl = gb_hook_find("logits", NULL);
    float *want = run_logits(ctx, ids, n);
    synth_model pub;
    synth_published_layout = 1;
    synth_make(&pub, 3, 4, 20, 32);
    synth_published_layout = 0;
    gb_ctx *c2 = gb_create();
    CHECK(synth_load(c2, &pub) == GB_OK, "published layout loads: %s", gb_error_message(c2));
    gb_set_tokens(c2, ids, n);
    gb_run_all(c2);
    CHECK(gb_activation_data(c2, hl, -1, &d, &s) == GB_OK && memcmp(d, want, s.numel * sizeof(float)) == 0,
          "published layout gives the same logits");
    gb_destroy(c2);
    synth_free(&pub);
    free(want);
}

/* The same logits with the header padded by 0-3 spaces (as Hugging Face pads
 * it), so the data starts at every alignment: the loader's writer must take
 * weights from unaligned bytes. A corrupt header fails the load. */
static void test_padded_load(gb_ctx *ctx, const synth_model *m, const int32_t *ids, int n) {
    const float *d;
    gb_shape s;
    int hl = gb_hook_find("logits", NULL);
    float *want = run_logits(ctx, ids, n);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | m->st[i];
    for (int pad = 0; pad < 4; pad++) {
        size_t len = m->st_len + (size_t)pad;
        uint8_t *own = malloc(len);
        for (int i = 0; i < 8; i++) own[i] = (uint8_t)((hlen + (uint64_t)pad) >> (8 * i));
        memcpy(own + 8, m->st + 8, (size_t)hlen);
        memset(own + 8 + hlen, ' ', (size_t)pad);
        memcpy(own + 8 + hlen + pad, m->st + 8 + hlen, m->st_len - 8 - (size_t)hlen);
        gb_ctx *c2 = gb_create();
        gb_status st = gb_load_model(c2, (const uint8_t *)m->config, m->config_len, own, len,
                                           (const uint8_t *)m->vocab, m->vocab_len,
                                           (const uint8_t *)m->merges, m->merges_len, NULL, 0);
        CHECK(st == GB_OK, "padded load (pad %d): %s", pad, gb_error_message(c2));
        gb_set_tokens(c2, ids, n);
        gb_run_all(c2);
        CHECK(gb_activation_data(c2, hl, -1, &d, &s) == GB_OK && memcmp(d, want, s.numel * sizeof(float)) == 0,
              "padded load (pad %d) gives the same logits", pad);
        gb_destroy(c2);
        free(own);
    }
    uint8_t *bad = malloc(m->st_len);
    memcpy(bad, m->st, m->st_len);
    bad[9] = 'x'; /* breaks the header JSON */
    gb_ctx *c3 = gb_create();
    CHECK(gb_load_model(c3, (const uint8_t *)m->config, m->config_len, bad, m->st_len,
                              (const uint8_t *)m->vocab, m->vocab_len, (const uint8_t *)m->merges,
                              m->merges_len, NULL, 0) != GB_OK,
          "load of a corrupt file fails");
    gb_destroy(c3);
    free(bad);
    free(want);
}

int main(void) {
    synth_model m;
    synth_make(&m, 3, 4, 20, 32); /* d_head 5: no multiple of 4 anywhere */
    gb_ctx *ctx = gb_create();
    CHECK(synth_load(ctx, &m) == GB_OK, "load synthetic model: %s", gb_error_message(ctx));
    int32_t ids[24];
    for (int i = 0; i < 24; i++) ids[i] = (i * 37 + 11) % 256;
    test_names(ctx);
    test_stages(ctx, ids, 24);
    test_kv_cache(ctx, ids, 24);
    test_lean(ctx, ids, 24);
    test_ablation(ctx, ids, 17);
    test_logit_lens(ctx, ids, 9);
    test_published_layout(ctx, ids, 12);
    test_padded_load(ctx, &m, ids, 12);
    test_limits(ctx, &m);
    gb_destroy(ctx);
    synth_free(&m);
    return CHECK_DONE("test_run");
}
