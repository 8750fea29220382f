/* test_interp.c — the interpretability tools against PyTorch.
 *
 * tests/fixtures/make_interp_fixtures.py computed, with Hugging Face
 * GPT2LMHeadModel in float64 and hooks on its modules, the patching grids,
 * direct logit attribution, head scores and MLP sparsity for six models
 * (tests/fixtures/interp/<model>.safetensors). Here the engine computes the
 * same from the same tokens and every number is compared.
 *
 * Tolerances (the engine runs in float32; the reference in float64):
 *   logit differences, DLA parts, DLA by source: |ours - ref| <= 1e-4 * max(1, |LD_clean|)
 *   DLA: the engine's own parts sum to its total within 1e-4 * max(1, |total|)
 *   patching grids (normalised, clean = 1): |ours - ref| <= 1e-4 * max(1, |LD_clean|) / |gap|
 *     (the logit-difference error scaled by the normalisation 1 / (LD_clean - LD_corrupted))
 *   head scores (means of pattern entries, in [0, 1]): |ours - ref| <= 1e-4
 *   outlier share, MLP sparsity (counts of a threshold test): within one
 *     position (1/T) or two neurons (2/d_mlp), for values on the threshold's edge
 * The repeated sequence is rebuilt here by gb_repeated_tokens and must equal
 * the reference's heads.tokens (same SplitMix64 spec, two implementations). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fileio.h"
#include "load/safetensors.h"

typedef struct { gb_safetensors st; uint8_t *buf; } ref_t;

static int ref_open(ref_t *r, const char *path) {
    char err[600];
    size_t len = 0;
    gb_err e;
    r->buf = cli_read_file(path, &len, err, sizeof err);
    CHECK(r->buf != NULL, "%s", err);
    if (!r->buf) return 0;
    gb_status s = gb_st_parse(&r->st, r->buf, len, path, &e);
    CHECK(s == GB_OK, "%s: not safetensors", path);
    return s == GB_OK;
}

static float *ref_f32(ref_t *r, const char *name, size_t *n) {
    const gb_st_tensor *t = gb_st_find(&r->st, name);
    CHECK(t != NULL, "reference lacks %s", name);
    if (!t) return NULL;
    float *out = malloc(sizeof(float) * (t->numel ? t->numel : 1));
    gb_err e;
    CHECK(gb_st_read_f32(&r->st, t, out, &e) == GB_OK, "cannot read %s", name);
    if (n) *n = t->numel;
    return out;
}

static int32_t *ref_i32(ref_t *r, const char *name, int *n) {
    const gb_st_tensor *t = gb_st_find(&r->st, name);
    CHECK(t && t->dtype == GB_DT_I32, "reference lacks I32 %s", name);
    if (!t) return NULL;
    int32_t *out = malloc(sizeof(int32_t) * (t->numel ? t->numel : 1));
    memcpy(out, r->st.data + t->begin, t->numel * 4);
    *n = (int)t->numel;
    return out;
}

static double max_abs(const float *a, const float *b, size_t n) {
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > w || d != d) w = d;
    }
    return w;
}

typedef struct { const char *name, *dir; int seed, length, lo, hi, bos; } model_t;

static void test_model(const model_t *m) {
    char path[512];
    snprintf(path, sizeof path, "tests/fixtures/interp/%s.safetensors", m->name);
    ref_t r;
    if (!ref_open(&r, path)) return;
    gb_ctx *ctx = gb_create();
    CHECK(cli_load_model_dir(ctx, m->dir) == GB_OK, "%s: %s", m->name, gb_error_message(ctx));
    const gb_config *c = gb_get_config(ctx);
    if (!c) { gb_destroy(ctx); gb_st_free(&r.st); free(r.buf); return; }
    int L = c->n_layer, H = c->n_head, C = c->n_embd, T, Tx, n1, n2;
    int32_t *clean = ref_i32(&r, "tokens.clean", &T), *corr = ref_i32(&r, "tokens.corrupted", &Tx);
    int32_t *tg = ref_i32(&r, "tokens.target", &n1), *ds = ref_i32(&r, "tokens.distractor", &n2);
    int target = tg[0], distractor = ds[0];
    float *ldc = ref_f32(&r, "patch.ld_clean", NULL), *ldx = ref_f32(&r, "patch.ld_corrupted", NULL);
    double scale = fabs(ldc[0]) > 1 ? fabs(ldc[0]) : 1, gap = fabs(ldc[0] - ldx[0]);
    double tol_ld = 1e-4 * scale, tol_grid = tol_ld / gap;
    double worst_grid = 0, worst_dla = 0, worst_heads = 0;

    /* ---- patching: run = corrupted, source = clean */
    CHECK(gb_set_tokens(ctx, corr, Tx) == GB_OK, "%s", gb_error_message(ctx));
    CHECK(gb_set_patch_source(ctx, clean, T) == GB_OK, "%s: %s", m->name, gb_error_message(ctx));
    float a = 0, b = 0;
    CHECK(gb_patch_baselines(ctx, target, distractor, &a, &b) == GB_OK, "%s", gb_error_message(ctx));
    CHECK(fabs(a - ldc[0]) <= tol_ld && fabs(b - ldx[0]) <= tol_ld, "%s: LD clean %g vs %g, corrupted %g vs %g",
          m->name, a, ldc[0], b, ldx[0]);
    const char *hooks[4] = {"blocks.0.hook_resid_pre", "blocks.0.hook_attn_out", "blocks.0.hook_mlp_out",
                            "blocks.0.attn.hook_z"};
    const char *keys[4] = {"patch.hook_resid_pre", "patch.hook_attn_out", "patch.hook_mlp_out", "patch.hook_z"};
    for (int k = 0; k < 4; k++) {
        int lay, hook = gb_hook_find(hooks[k], &lay), cols = gb_patch_grid_cols(ctx, hook);
        size_t n = 0;
        float *want = ref_f32(&r, keys[k], &n);
        CHECK(want && n == (size_t)L * cols, "%s %s: %zu cells, engine %d", m->name, keys[k], n, L * cols);
        if (!want || n != (size_t)L * cols) { free(want); continue; }
        float *got = malloc(sizeof(float) * n);
        /* in two chunks, as a worker reporting progress would call it */
        int half = (int)n / 2;
        CHECK(gb_patch_grid(ctx, hook, target, distractor, 0, half, got) == GB_OK &&
              gb_patch_grid(ctx, hook, target, distractor, half, (int)n - half, got + half) == GB_OK,
              "%s %s: %s", m->name, keys[k], gb_error_message(ctx));
        double e = max_abs(got, want, n);
        CHECK(e <= tol_grid, "%s %s: max error %.3g > %.3g (first cell ours %g ref %g)", m->name, keys[k], e, tol_grid,
              got[0], want[0]);
        if (e > worst_grid) worst_grid = e;
        free(got); free(want);
    }
    /* the grid leaves the run as it was */
    float a2 = 0, b2 = 0;
    gb_patch_baselines(ctx, target, distractor, &a2, &b2);
    CHECK(a2 == a && b2 == b, "%s: the grid changed the run (corrupted LD %g -> %g)", m->name, b, b2);
    /* a GB_IV_PATCH entry = the grid's cell: patch hook_z of head (L-1, 0), every position */
    {
        int lay, hz = gb_hook_find("blocks.0.attn.hook_z", &lay);
        float cell = 0, after_a = 0, after_b = 0;
        gb_patch_grid(ctx, hz, target, distractor, (L - 1) * H, 1, &cell);
        gb_intervention iv = {GB_IV_PATCH, hz, L - 1, 0, -1};
        CHECK(gb_add_intervention(ctx, &iv) == GB_OK, "%s: %s", m->name, gb_error_message(ctx));
        gb_patch_baselines(ctx, target, distractor, &after_a, &after_b);
        CHECK(fabs((after_b - b) / (a - b) - cell) < 1e-5, "%s: patch entry gives %g, grid cell %g", m->name,
              (after_b - b) / (a - b), cell);
        gb_clear_interventions(ctx);
    }

    /* ---- DLA on the clean prompt */
    CHECK(gb_set_tokens(ctx, clean, T) == GB_OK, "%s", gb_error_message(ctx));
    float *heads = malloc(sizeof(float) * L * H), *bias = malloc(sizeof(float) * L), *mlp = malloc(sizeof(float) * L);
    float other[5];
    CHECK(gb_dla(ctx, target, distractor, heads, bias, mlp, other) == GB_OK, "%s", gb_error_message(ctx));
    double sum = other[0] + other[1] + other[2];
    for (int i = 0; i < L * H; i++) sum += heads[i];
    for (int i = 0; i < L; i++) sum += bias[i] + mlp[i];
    double tscale = fabs(other[4]) > 1 ? fabs(other[4]) : 1;
    CHECK(fabs(sum - other[4]) <= 1e-4 * tscale && fabs(other[3]) <= 1e-4 * tscale,
          "%s: DLA parts sum to %.7g, total %.7g", m->name, sum, other[4]);
    struct { const char *key; const float *got; size_t n; } parts[] = {
        {"dla.heads", heads, (size_t)L * H}, {"dla.attn_bias", bias, (size_t)L}, {"dla.mlp", mlp, (size_t)L},
        {"dla.embed", other, 1}, {"dla.pos_embed", other + 1, 1}, {"dla.ln_final_bias", other + 2, 1},
        {"dla.total", other + 4, 1}};
    for (size_t k = 0; k < sizeof parts / sizeof *parts; k++) {
        size_t n = 0;
        float *want = ref_f32(&r, parts[k].key, &n);
        if (!want) continue;
        double e = n == parts[k].n ? max_abs(parts[k].got, want, n) : INFINITY;
        CHECK(e <= tol_ld, "%s %s: max error %.3g", m->name, parts[k].key, e);
        if (e > worst_dla) worst_dla = e;
        free(want);
    }
    {
        size_t n = 0;
        float *want = ref_f32(&r, "dla.head_by_source", &n), *got = malloc(sizeof(float) * L * H * T);
        CHECK(gb_dla_by_source(ctx, target, distractor, got, (size_t)L * H * T) == GB_OK, "%s", gb_error_message(ctx));
        double e = want && n == (size_t)L * H * T ? max_abs(got, want, n) : INFINITY;
        CHECK(e <= tol_ld, "%s dla.head_by_source: max error %.3g", m->name, e);
        for (int i = 0; i < L * H; i++) { /* each head's row sums to its part */
            double s = 0;
            for (int j = 0; j < T; j++) s += got[(size_t)i * T + j];
            CHECK(fabs(s - heads[i]) <= 1e-4 * tscale, "%s: head %d by source sums to %g, part %g", m->name, i, s,
                  heads[i]);
        }
        if (e > worst_dla) worst_dla = e;
        free(want); free(got);
    }

    /* ---- MLP sparsity on the clean prompt */
    {
        float *act = malloc(sizeof(float) * L * T), *abv = malloc(sizeof(float) * L * T);
        CHECK(gb_mlp_sparsity(ctx, 0.1f, act, abv) == GB_OK, "%s", gb_error_message(ctx));
        float *wa = ref_f32(&r, "mlp.active_share", NULL), *wb = ref_f32(&r, "mlp.above_share", NULL);
        double tol = 2.0 / c->d_mlp + 1e-6;
        CHECK(wa && max_abs(act, wa, (size_t)L * T) <= tol, "%s mlp.active_share off", m->name);
        CHECK(wb && max_abs(abv, wb, (size_t)L * T) <= tol, "%s mlp.above_share off", m->name);
        free(act); free(abv); free(wa); free(wb);
    }

    /* ---- head finder */
    {
        int seed = m->seed, len = m->length, lo = m->lo, hi = m->hi, bos = m->bos;
        if (len == 0) { /* the tiny models: as the generator chose */
            len = (c->n_positions - 1) / 2 < 6 ? (c->n_positions - 1) / 2 : 6;
            lo = 0; hi = c->vocab_size - 1; bos = c->vocab_size - 1; seed = 1;
        }
        int nt = 0, Tr = (bos >= 0) + 2 * len;
        int32_t *want_ids = ref_i32(&r, "heads.tokens", &nt), *ids = malloc(sizeof(int32_t) * Tr);
        CHECK(gb_repeated_tokens((uint64_t)seed, len, lo, hi, bos, ids) == GB_OK, "gb_repeated_tokens");
        CHECK(nt == Tr && !memcmp(ids, want_ids, sizeof(int32_t) * Tr), "%s: repeated sequence differs", m->name);
        float *sc = malloc(sizeof(float) * 5 * L * H), *outl = malloc(sizeof(float) * L * C);
        int32_t before = gb_num_tokens(ctx);
        CHECK(gb_head_finder(ctx, (uint64_t)seed, len, lo, hi, bos, sc, outl) == GB_OK, "%s: %s", m->name,
              gb_error_message(ctx));
        CHECK(gb_num_tokens(ctx) == before && !memcmp(gb_tokens(ctx), clean, sizeof(int32_t) * T),
              "%s: the head finder did not put the run back", m->name);
        const char *sk[5] = {"heads.previous_token", "heads.induction", "heads.duplicate_token", "heads.sink",
                             "heads.virtual_induction"};
        for (int k = 0; k < 5; k++) {
            float *want = ref_f32(&r, sk[k], NULL);
            double e = want ? max_abs(sc + (size_t)k * L * H, want, (size_t)L * H) : INFINITY;
            CHECK(e <= 1e-4, "%s %s: max error %.3g", m->name, sk[k], e);
            if (e > worst_heads) worst_heads = e;
            free(want);
        }
        float *wo = ref_f32(&r, "heads.outlier_share", NULL);
        CHECK(wo && max_abs(outl, wo, (size_t)L * C) <= 1.0 / Tr + 1e-6, "%s heads.outlier_share off", m->name);
        free(wo); free(sc); free(outl); free(ids); free(want_ids);
    }
    printf("%-18s T=%d grids max err %.2g (tol %.2g), DLA %.2g (tol %.2g), head scores %.2g (tol 1e-4)\n", m->name,
           T, worst_grid, tol_grid, worst_dla, tol_ld, worst_heads);
    free(heads); free(bias); free(mlp); free(clean); free(corr); free(tg); free(ds); free(ldc); free(ldx);
    gb_destroy(ctx);
    gb_st_free(&r.st);
    free(r.buf);
}

int main(void) {
    const model_t models[] = {
        {"tiny-f32", "tests/fixtures/models/tiny-f32", 0, 0, 0, 0, 0},
        {"tiny-f16", "tests/fixtures/models/tiny-f16", 0, 0, 0, 0, 0},
        {"tiny-bf16-untied", "tests/fixtures/models/tiny-bf16-untied", 0, 0, 0, 0, 0},
        {"default", "models/default", 1, 20, 0, 4095, 4095},
        {"addition", "models/lessons/addition", 1, 6, 48, 58, -1},
        {"induction", "models/lessons/induction", 1, 20, 32, 127, -1},
    };
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) test_model(&models[i]);
    return CHECK_DONE("test_interp");
}
