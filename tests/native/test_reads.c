/* test_reads.c — the run's intervention list, and the reads the views use
 * instead of doing model math in JS: unmasked attention scores, each
 * position's top tokens, row norms, the logit lens's own scratch, and the
 * top columns (neurons) of a [T, n] activation. Each is checked against a
 * recomputation in this file (double precision, or its own ranking). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "synth.h"

static int hook(const char *name) { int l; return gb_hook_find(name, &l); }

static const float *act(gb_ctx *ctx, const char *name, int layer) {
    const float *d = NULL;
    gb_shape sh;
    gb_activation_data(ctx, hook(name), layer, &d, &sh);
    return d;
}

static void check_interventions(gb_ctx *ctx, const synth_model *m) {
    int32_t ids[6] = {3, 1, 4, 1, 5, 9};
    gb_set_tokens(ctx, ids, 6);
    gb_run_all(ctx);
    int V = gb_get_config(ctx)->vocab_size;
    float *clean = malloc(sizeof(float) * 6 * V), *abl = malloc(sizeof(float) * 6 * V);
    memcpy(clean, act(ctx, "logits", -1), sizeof(float) * 6 * V);
    int z = hook("blocks.1.attn.hook_z");
    gb_intervention a = {GB_IV_ABLATE_ZERO, z, 1, 0, -1}, b = {GB_IV_ABLATE_MEAN, z, 0, 1, -1};
    CHECK(gb_add_intervention(ctx, &a) == GB_OK && gb_add_intervention(ctx, &b) == GB_OK, "add: %s", gb_error_message(ctx));
    CHECK(gb_num_interventions(ctx) == 2, "two entries");
    CHECK(gb_stages_done(ctx) == 1, "an entry at block 0 invalidates from block 0's attention (done %d)", gb_stages_done(ctx));
    gb_run_all(ctx);
    memcpy(abl, act(ctx, "logits", -1), sizeof(float) * 6 * V);
    CHECK(memcmp(clean, abl, sizeof(float) * 6 * V) != 0, "ablation changes the logits");
    /* the same entries through the older call give the same run */
    gb_ctx *other = gb_create();
    synth_load(other, m);
    gb_set_ablation(other, 1, 0, GB_ABLATE_ZERO);
    gb_set_ablation(other, 0, 1, GB_ABLATE_MEAN);
    gb_set_tokens(other, ids, 6);
    gb_run_all(other);
    CHECK(memcmp(abl, act(other, "logits", -1), sizeof(float) * 6 * V) == 0, "gb_set_ablation = the list entries");
    const float *zz = act(other, "blocks.1.attn.hook_z", 1);
    int H = gb_get_config(ctx)->n_head, D = gb_get_config(ctx)->d_head, zero = 1;
    for (int t = 0; t < 6; t++) for (int d = 0; d < D; d++) zero &= zz[(t * H + 0) * D + d] == 0;
    CHECK(zero, "head 1.0's hook_z reads as zero");
    gb_destroy(other);
    gb_intervention got;
    CHECK(gb_get_intervention(ctx, 1, &got) == GB_OK && got.kind == GB_IV_ABLATE_MEAN && got.layer == 0, "read back");
    a.kind = GB_IV_ABLATE_MEAN;
    gb_add_intervention(ctx, &a);
    CHECK(gb_num_interventions(ctx) == 2, "an entry on the same target replaces it");
    CHECK(gb_remove_intervention(ctx, 0) == GB_OK && gb_num_interventions(ctx) == 1, "remove");
    CHECK(gb_remove_intervention(ctx, 5) == GB_E_RANGE, "remove a missing entry: %s", gb_error_message(ctx));
    gb_intervention bad[] = {{GB_IV_ABLATE_ZERO, z, 9, 0, -1}, {GB_IV_ABLATE_ZERO, z, 0, 7, -1},
                             {GB_IV_ABLATE_ZERO, hook("blocks.0.hook_resid_pre"), 0, 0, -1},
                             {GB_IV_ABLATE_MEAN, z, 0, 0, 2}, {(gb_iv_kind)9, z, 0, 0, -1}};
    for (int i = 0; i < 5; i++) {
        CHECK(gb_add_intervention(ctx, &bad[i]) != GB_OK && strlen(gb_error_message(ctx)) > 10, "bad entry %d: %s", i,
              gb_error_message(ctx));
    }
    CHECK(gb_num_interventions(ctx) == 1, "bad entries change nothing");
    gb_clear_interventions(ctx);
    gb_run_all(ctx);
    CHECK(memcmp(clean, act(ctx, "logits", -1), sizeof(float) * 6 * V) == 0, "clear: back to the clean run, bit for bit");
    free(clean); free(abl);
}

static void check_reads(gb_ctx *ctx) {
    const gb_config *c = gb_get_config(ctx);
    int32_t ids[7] = {10, 20, 30, 40, 50, 60, 70};
    gb_set_tokens(ctx, ids, 7);
    gb_run_all(ctx);
    int T = 7, H = c->n_head, D = c->d_head, V = c->vocab_size, C = c->n_embd;
    for (int L = 0; L < c->n_layer; L++) {
        float *full = malloc(sizeof(float) * H * T * T), *masked = malloc(sizeof(float) * H * T * T);
        CHECK(gb_attn_scores_unmasked(ctx, L, full, (size_t)H * T * T) == GB_OK, "unmasked: %s", gb_error_message(ctx));
        gb_activation_copy(ctx, hook("blocks.0.attn.hook_attn_scores"), L, masked, (size_t)H * T * T);
        const float *q = act(ctx, "blocks.0.attn.hook_q", L), *k = act(ctx, "blocks.0.attn.hook_k", L);
        int same = 1;
        double worst = 0;
        for (int h = 0; h < H; h++)
            for (int i = 0; i < T; i++)
                for (int j = 0; j < T; j++) {
                    double ref = 0;
                    for (int d = 0; d < D; d++) ref += (double)q[(i * H + h) * D + d] * k[(j * H + h) * D + d];
                    ref /= sqrt((double)D);
                    float got = full[(h * T + i) * T + j];
                    worst = fmax(worst, fabs(got - ref) / fmax(1, fabs(ref)));
                    if (j <= i) same &= got == masked[(h * T + i) * T + j];
                }
        CHECK(same, "block %d: the causal part is hook_attn_scores bit for bit", L);
        CHECK(worst < 1e-5, "block %d: unmasked scores vs q.k/sqrt(d) in double: %.3g", L, worst);
        free(full); free(masked);
    }
    CHECK(gb_attn_scores_unmasked(ctx, 0, (float[4]){0}, 4) == GB_E_RANGE, "too small an output is refused");
    /* top tokens at every position vs a double softmax and a full sort */
    const float *logits = act(ctx, "logits", -1);
    for (int t = 0; t < T; t++) {
        int32_t top[5];
        float p[5];
        CHECK(gb_top_tokens(ctx, t, 5, top, p) == GB_OK, "top tokens: %s", gb_error_message(ctx));
        const float *row = logits + (size_t)t * V;
        double mx = -INFINITY, zsum = 0;
        for (int v = 0; v < V; v++) mx = fmax(mx, row[v]);
        for (int v = 0; v < V; v++) zsum += exp(row[v] - mx);
        for (int i = 0; i < 5; i++) {
            int rank = 0;
            for (int v = 0; v < V; v++) rank += row[v] > row[top[i]] || (row[v] == row[top[i]] && v < top[i]);
            CHECK(rank == i, "position %d: row %d is the %d-th most likely (rank %d)", t, i, i, rank);
            CHECK(fabs(p[i] - exp(row[top[i]] - mx) / zsum) < 1e-6, "position %d: probability of row %d", t, i);
        }
    }
    /* norms */
    float norms[7];
    CHECK(gb_row_norms(ctx, hook("blocks.0.hook_resid_post"), 1, norms, 7) == GB_OK, "norms: %s", gb_error_message(ctx));
    const float *x = act(ctx, "blocks.0.hook_resid_post", 1);
    for (int t = 0; t < T; t++) {
        double s = 0;
        for (int i = 0; i < C; i++) s += (double)x[t * C + i] * x[t * C + i];
        CHECK(fabs(norms[t] - sqrt(s)) <= 1e-6 * sqrt(s), "norm at %d", t);
    }
    CHECK(gb_row_norms(ctx, hook("blocks.0.attn.hook_q"), 0, norms, 7) == GB_E_ARG, "a [T,H,D] hook has no row norm here");
    /* the logit lens leaves the sampler's answer alone */
    gb_sample_params sp = {1.0f, 0, 1.0f};
    gb_sample_trace tr;
    gb_sample_distribution(ctx, &sp, &tr);
    float before = tr.probs[17];
    int32_t lid[3];
    float lp[3];
    CHECK(gb_logit_lens(ctx, 0, 3, 3, lid, lp) == GB_OK, "lens: %s", gb_error_message(ctx));
    CHECK(tr.probs[17] == before, "the logit lens has its own scratch");
    gb_logit_lens(ctx, c->n_layer - 1, T - 1, 3, lid, lp);
    int32_t fid[3];
    float fp[3];
    gb_top_tokens(ctx, T - 1, 3, fid, fp);
    CHECK(lid[0] == fid[0] && fabs(lp[0] - fp[0]) < 1e-5, "the lens after the last block is the model's own prediction");
}

/* Top columns vs this file's own ranking: each returned column's rank among
 * all columns (count of columns that come before it) must be its row. */
static int before(float a, int ia, float b, int ib) { return a > b || (a == b && ia < ib); }

static void check_top_columns(gb_ctx *ctx) {
    int32_t ids[9] = {5, 3, 5, 3, 8, 1, 2, 5, 9};
    gb_set_tokens(ctx, ids, 9);
    gb_run_all(ctx);
    const gb_config *c = gb_get_config(ctx);
    int T = 9, M = c->d_mlp, k = 6;
    int h = hook("blocks.0.mlp.hook_pre");
    for (int L = 0; L < c->n_layer; L++) {
        int32_t got[9 * 6];
        float val[9 * 6];
        CHECK(gb_top_columns(ctx, h, L, 2, 7, k, got, val) == GB_OK, "top columns: %s", gb_error_message(ctx));
        const float *x = act(ctx, "blocks.0.mlp.hook_pre", L);
        for (int t = 0; t < 7; t++)
            for (int i = 0; i < k; i++) {
                const float *row = x + (size_t)(t + 2) * M;
                int j = got[t * k + i], rank = 0;
                for (int m = 0; m < M; m++) rank += before(row[m], m, row[j], j);
                CHECK(rank == i && val[t * k + i] == row[j], "block %d position %d: row %d is column %d of rank %d", L,
                      t + 2, i, j, rank);
            }
        /* columns by their largest |value| over every position */
        int32_t top[6];
        float sc[6];
        CHECK(gb_top_columns_absmax(ctx, h, L, k, top, sc) == GB_OK, "absmax: %s", gb_error_message(ctx));
        double *m = calloc((size_t)M, sizeof(double));
        for (int t = 0; t < T; t++)
            for (int j = 0; j < M; j++) m[j] = fmax(m[j], fabs((double)x[(size_t)t * M + j]));
        for (int i = 0; i < k; i++) {
            int rank = 0;
            for (int j = 0; j < M; j++) rank += before((float)m[j], j, (float)m[top[i]], top[i]);
            CHECK(rank == i && sc[i] == (float)m[top[i]], "block %d: |max| column %d has rank %d", L, i, rank);
        }
        free(m);
    }
    int32_t one[1];
    float v1[1];
    CHECK(gb_top_columns(ctx, h, 0, 8, 2, 1, one, v1) == GB_E_RANGE, "positions past T are refused: %s",
          gb_error_message(ctx));
    CHECK(gb_top_columns(ctx, h, 0, 0, 1, M + 1, one, v1) == GB_E_ARG, "k > n is refused: %s", gb_error_message(ctx));
    CHECK(gb_top_columns(ctx, hook("blocks.0.attn.hook_q"), 0, 0, 1, 1, one, v1) == GB_E_ARG,
          "a [T, H, D] hook is refused: %s", gb_error_message(ctx));
}

int main(void) {
    synth_model m;
    synth_make(&m, 2, 3, 12, 32);
    gb_ctx *ctx = gb_create();
    CHECK(synth_load(ctx, &m) == GB_OK, "load: %s", gb_error_message(ctx));
    check_interventions(ctx, &m);
    check_reads(ctx);
    check_top_columns(ctx);
    gb_set_keep_all(ctx, 0);
    check_reads(ctx); /* the low-memory store recomputes q for the unmasked scores */
    check_top_columns(ctx); /* and the block for hook_pre */
    gb_destroy(ctx);
    synth_free(&m);
    return CHECK_DONE("test_reads");
}
