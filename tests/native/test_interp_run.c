/* test_interp_run.c — how the interpretability tools treat the run.
 *
 * - A grid cell, computed by recomputing only later blocks and later
 *   positions, equals the same patch as a GB_IV_PATCH entry on a run rebuilt
 *   from scratch (gb_set_tokens), for every hook, with keep_all on and off,
 *   and with a mean ablation in the run (which forces whole-stage recompute).
 * - Adding then removing a patch entry (resid_pre: invalidated from the
 *   previous block's MLP, the stage that writes it) gives back the run bit
 *   for bit.
 * - Tools that run another sequence (patch source, head finder, ReAGent)
 *   put the caller's tokens, prompt length and interventions back.
 * - Errors: no source, unequal lengths, a hook that cannot be patched,
 *   equal baselines, bad ranges. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fileio.h"

#define DIR "tests/fixtures/models/tiny-f16" /* 3 blocks, 4 heads, n_embd 64 */

static float last_ld(gb_ctx *ctx, int t, int d) {
    gb_run_all(ctx);
    const float *lg;
    gb_shape sh;
    int lay, hl = gb_hook_find("logits", &lay);
    gb_activation_data(ctx, hl, -1, &lg, &sh);
    int V = gb_get_config(ctx)->vocab_size, T = gb_num_tokens(ctx);
    return lg[(size_t)(T - 1) * V + t] - lg[(size_t)(T - 1) * V + d];
}

static void grid_vs_entries(int keep_all, int mean_ablation) {
    gb_ctx *ctx = gb_create();
    CHECK(cli_load_model_dir(ctx, DIR) == GB_OK, "%s", gb_error_message(ctx));
    const gb_config *c = gb_get_config(ctx);
    int32_t clean[7] = {5, 80, 17, 200, 33, 9, 121}, corr[7] = {5, 80, 18, 200, 301, 9, 121};
    int T = 7, t = 40, d = 41, L = c->n_layer;
    gb_set_keep_all(ctx, keep_all);
    gb_set_tokens(ctx, corr, T);
    if (mean_ablation) CHECK(gb_set_ablation(ctx, 1, 2, GB_ABLATE_MEAN) == GB_OK, "%s", gb_error_message(ctx));
    CHECK(gb_set_patch_source(ctx, clean, T) == GB_OK, "%s", gb_error_message(ctx));
    float a, b;
    CHECK(gb_patch_baselines(ctx, t, d, &a, &b) == GB_OK, "%s", gb_error_message(ctx));
    CHECK(fabsf(last_ld(ctx, t, d) - b) < 1e-4f, "baseline corrupted LD %g vs logits %g", b, last_ld(ctx, t, d));
    const char *names[4] = {"blocks.0.hook_resid_pre", "blocks.0.hook_attn_out", "blocks.0.hook_mlp_out",
                            "blocks.0.attn.hook_z"};
    double worst = 0;
    for (int k = 0; k < 4; k++) {
        int lay, hook = gb_hook_find(names[k], &lay), cols = gb_patch_grid_cols(ctx, hook);
        float *g = malloc(sizeof(float) * L * cols);
        CHECK(gb_patch_grid(ctx, hook, t, d, 0, L * cols, g) == GB_OK, "%s", gb_error_message(ctx));
        for (int cell = 0; cell < L * cols; cell++) {
            int l = cell / cols, col = cell % cols;
            gb_intervention iv = {GB_IV_PATCH, hook, l, k == 3 ? col : -1, k == 3 ? -1 : col};
            CHECK(gb_add_intervention(ctx, &iv) == GB_OK, "%s", gb_error_message(ctx));
            gb_set_tokens(ctx, corr, T); /* a run rebuilt from nothing */
            double v = (last_ld(ctx, t, d) - b) / (a - b);
            /* (on head 1.2 the patch entry replaced the ablation: one entry per target) */
            gb_clear_interventions(ctx);
            if (mean_ablation) gb_set_ablation(ctx, 1, 2, GB_ABLATE_MEAN);
            if (fabs(v - g[cell]) > worst) worst = fabs(v - g[cell]);
        }
        free(g);
    }
    CHECK(worst < 2e-5, "keep_all %d, mean ablation %d: grid vs rebuilt run differ by %.3g", keep_all, mean_ablation,
          worst);
    printf("keep_all %d, mean ablation %d: grid = patched run rebuilt from scratch within %.2g\n", keep_all,
           mean_ablation, worst);
    gb_destroy(ctx);
}

static void entries_and_restores(void) {
    gb_ctx *ctx = gb_create();
    CHECK(cli_load_model_dir(ctx, DIR) == GB_OK, "%s", gb_error_message(ctx));
    const gb_config *c = gb_get_config(ctx);
    int32_t clean[6] = {1, 2, 3, 4, 5, 6}, corr[6] = {1, 2, 9, 4, 5, 6}, other[5] = {7, 7, 7, 7, 7};
    int lay, hr = gb_hook_find("blocks.2.hook_resid_pre", &lay), hz = gb_hook_find("blocks.0.attn.hook_z", &lay);
    gb_intervention iv = {GB_IV_PATCH, hr, 2, -1, 2};
    gb_set_tokens(ctx, corr, 6);
    CHECK(gb_add_intervention(ctx, &iv) == GB_E_STATE, "a patch entry without a source must fail");
    float a, b, g;
    CHECK(gb_patch_grid(ctx, hr, 3, 4, 0, 1, &g) == GB_E_STATE, "a grid without a source must fail");
    CHECK(gb_set_patch_source(ctx, other, 5) == GB_OK, "%s", gb_error_message(ctx));
    CHECK(gb_patch_grid(ctx, hr, 3, 4, 0, 1, &g) == GB_E_STATE, "a grid over unequal lengths must fail");
    CHECK(strstr(gb_error_message(ctx), "equal lengths") != NULL, "message: %s", gb_error_message(ctx));
    CHECK(gb_set_patch_source(ctx, corr, 6) == GB_OK, "%s", gb_error_message(ctx));
    CHECK(gb_patch_grid(ctx, hr, 3, 4, 0, 1, &g) == GB_E_STATE, "equal baselines must fail, not divide by zero");
    CHECK(gb_set_patch_source(ctx, clean, 6) == GB_OK, "%s", gb_error_message(ctx));
    int hq = gb_hook_find("blocks.0.attn.hook_q", &lay);
    CHECK(gb_patch_grid(ctx, hq, 3, 4, 0, 1, &g) == GB_E_ARG, "hook_q cannot be patched");
    CHECK(gb_patch_grid(ctx, hr, 3, 4, 0, c->n_layer * 6 + 1, &g) == GB_E_RANGE, "cells beyond the grid");
    gb_intervention bad = {GB_IV_PATCH, hz, 0, c->n_head, -1};
    CHECK(gb_add_intervention(ctx, &bad) == GB_E_RANGE, "head out of range");
    bad.hook = hr; bad.head = 0;
    CHECK(gb_add_intervention(ctx, &bad) == GB_E_RANGE, "resid_pre takes head -1");

    /* add then remove: the run comes back bit for bit */
    CHECK(gb_patch_baselines(ctx, 3, 4, &a, &b) == GB_OK, "%s", gb_error_message(ctx));
    float base = last_ld(ctx, 3, 4);
    CHECK(gb_add_intervention(ctx, &iv) == GB_OK, "%s", gb_error_message(ctx));
    float patched = last_ld(ctx, 3, 4);
    CHECK(patched != base, "patching blocks.2.hook_resid_pre at position 2 changed nothing");
    gb_remove_intervention(ctx, 0);
    CHECK(last_ld(ctx, 3, 4) == base, "after removing the patch: %g, before: %g", last_ld(ctx, 3, 4), base);

    /* tools put the run back: tokens, prompt length, interventions */
    int32_t gen = 11;
    gb_append_tokens(ctx, &gen, 1); /* one "generated" token: n_prompt stays 6 */
    gb_set_ablation(ctx, 0, 1, GB_ABLATE_ZERO);
    float before = last_ld(ctx, 3, 4);
    float sc[5 * 12];
    CHECK(gb_head_finder(ctx, 3, 4, 0, 300, 359, sc, NULL) == GB_OK, "%s", gb_error_message(ctx));
    CHECK(gb_set_patch_source(ctx, clean, 6) == GB_OK, "%s", gb_error_message(ctx));
    CHECK(gb_reagent_begin(ctx, 2, 0.3f, 5) == GB_OK, "%s", gb_error_message(ctx));
    int steps = 0, fin = 0;
    CHECK(gb_reagent_step(ctx, 100, &steps, &fin) == GB_OK && steps == 5 && fin, "ReAGent: %d steps, finished %d",
          steps, fin);
    CHECK(gb_num_tokens(ctx) == 7 && gb_num_prompt_tokens(ctx) == 6 && gb_tokens(ctx)[6] == 11 &&
          gb_num_interventions(ctx) == 1, "the run was not put back");
    CHECK(last_ld(ctx, 3, 4) == before, "the run's logits changed: %g vs %g", last_ld(ctx, 3, 4), before);
    /* ReAGent is deterministic for a seed */
    float s1[7], s2[7];
    int32_t y1, y2;
    gb_reagent_scores(ctx, s1, &y1);
    gb_reagent_begin(ctx, 2, 0.3f, 5);
    gb_reagent_step(ctx, 100, &steps, &fin);
    gb_reagent_scores(ctx, s2, &y2);
    CHECK(y1 == y2 && !memcmp(s1, s2, sizeof s1), "ReAGent with the same seed gave other scores");
    gb_set_tokens(ctx, clean, 6);
    CHECK(gb_reagent_step(ctx, 1, &steps, &fin) == GB_E_STATE, "ReAGent after the run changed must fail");
    gb_destroy(ctx);
}

/* keep_all off (internals recomputed per block on demand): the same numbers. */
static void keep_all_off_reads(void) {
    float r[2][64 + 3 + 3 + 5 + 3 * 4 * 7 + 2 * 3 * 7];
    int32_t ids[7] = {5, 80, 17, 200, 33, 9, 121};
    for (int k = 0; k < 2; k++) {
        gb_ctx *ctx = gb_create();
        CHECK(cli_load_model_dir(ctx, DIR) == GB_OK, "%s", gb_error_message(ctx));
        gb_set_keep_all(ctx, k);
        gb_set_tokens(ctx, ids, 7);
        float *o = r[k];
        CHECK(gb_dla(ctx, 40, 41, o, o + 12, o + 15, o + 18) == GB_OK, "%s", gb_error_message(ctx));
        CHECK(gb_dla_by_source(ctx, 40, 41, o + 23, 12 * 7) == GB_OK, "%s", gb_error_message(ctx));
        CHECK(gb_mlp_sparsity(ctx, 0.1f, o + 23 + 84, o + 23 + 84 + 21) == GB_OK, "%s", gb_error_message(ctx));
        gb_destroy(ctx);
    }
    CHECK(!memcmp(r[0], r[1], sizeof(float) * (23 + 84 + 42)), "keep_all off gives other DLA / sparsity numbers");
}

int main(void) {
    keep_all_off_reads();
    grid_vs_entries(1, 0);
    grid_vs_entries(0, 0);
    grid_vs_entries(1, 1);
    entries_and_restores();
    return CHECK_DONE("test_interp_run");
}
