/* test_parity.c — every activation against Hugging Face transformers.
 *
 * tests/fixtures/make_hf_fixtures.py saved small random GPT-2 checkpoints
 * (F32, F16 and BF16 storage; tied and untied heads; sizes that are not
 * multiples of 4) together with GPT2LMHeadModel's activations for fixed
 * prompts, keyed "p{i}.<hook name>". Here the engine loads each checkpoint
 * from its directory, runs each prompt three ways (all at once, stage by stage
 * after a KV-cached prefix, and with keep_all off) and compares every hook.
 *
 * Metric: max |ours - ref| / max |ref| over the tensor (masked -inf scores
 * must match exactly). llm.c-style: one line per failing tensor, a summary
 * per model, and a non-zero exit on any miss. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fileio.h"
#include "load/safetensors.h"

#define FIXTURES_DIR "tests/fixtures/models"
#define TOL_REL 1e-4 /* logits, patterns and every hidden state */

typedef struct { double worst; char worst_name[128]; int compared; } tally;

static double compare(const float *ours, const float *ref, size_t n) {
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        if (isinf(ref[i])) {
            if (ours[i] != ref[i]) return INFINITY;
            continue;
        }
        double d = fabs((double)ours[i] - ref[i]);
        if (d > md || d != d) md = d;
        if (fabs(ref[i]) > mr) mr = fabs(ref[i]);
    }
    return md / (mr > 0 ? mr : 1);
}

static void check_hook(gb_ctx *ctx, const gb_safetensors *ref, int p, int hook, int layer, tally *t,
                       const char *model, const char *mode) {
    char name[96], key[112];
    snprintf(name, sizeof name, gb_hook_pattern(hook), layer);
    snprintf(key, sizeof key, "p%d.%s", p, name);
    const gb_st_tensor *rt = gb_st_find(ref, key);
    CHECK(rt != NULL, "%s: reference lacks %s", model, key);
    if (!rt) return;
    gb_shape sh;
    gb_activation_shape(ctx, hook, layer, &sh, NULL);
    CHECK(sh.numel == rt->numel, "%s %s: %zu values, reference has %zu", model, key, sh.numel, rt->numel);
    if (sh.numel != rt->numel) return;
    float *ours = malloc(sh.numel * sizeof(float)), *want = malloc(sh.numel * sizeof(float));
    gb_err e;
    gb_status s1 = gb_activation_copy(ctx, hook, layer, ours, sh.numel);
    gb_status s2 = gb_st_read_f32(ref, rt, want, &e);
    CHECK(s1 == GB_OK && s2 == GB_OK, "%s %s: read failed: %s", model, key, gb_error_message(ctx));
    if (s1 == GB_OK && s2 == GB_OK) {
        double err = compare(ours, want, sh.numel);
        CHECK(err <= TOL_REL, "%s [%s] %s: rel err %.3g (first: ours %.6g ref %.6g)", model, mode, key, err,
              ours[0], want[0]);
        if (err > t->worst) { t->worst = err; snprintf(t->worst_name, sizeof t->worst_name, "%s", key); }
        t->compared++;
    }
    free(ours);
    free(want);
}

static void check_all_hooks(gb_ctx *ctx, const gb_safetensors *ref, int p, tally *t, const char *model,
                            const char *mode) {
    int L = gb_get_config(ctx)->n_layer;
    for (int h = 0; h < gb_num_hooks(); h++) {
        if (!strcmp(gb_hook_pattern(h), "ln_final.hook_scale")) continue; /* not in HF's outputs */
        if (gb_hook_is_per_layer(h))
            for (int l = 0; l < L; l++) check_hook(ctx, ref, p, h, l, t, model, mode);
        else
            check_hook(ctx, ref, p, h, -1, t, model, mode);
    }
}

/* Reads p{i}.tokens; returns the count or -1 when the prompt does not exist. */
static int read_tokens(const gb_safetensors *ref, int p, int32_t *ids, int cap) {
    char key[32];
    snprintf(key, sizeof key, "p%d.tokens", p);
    const gb_st_tensor *t = gb_st_find(ref, key);
    if (!t || t->dtype != GB_DT_I32 || (int)t->numel > cap) return -1;
    memcpy(ids, ref->data + t->begin, t->numel * 4);
    return (int)t->numel;
}

static void run_prompt(gb_ctx *ctx, const gb_safetensors *ref, int p, const int32_t *ids, int n,
                       const char *model, tally *t) {
    /* 1: everything in one call */
    CHECK(gb_set_tokens(ctx, ids, n) == GB_OK && gb_run_all(ctx) == GB_OK, "%s p%d: %s", model, p,
          gb_error_message(ctx));
    check_all_hooks(ctx, ref, p, t, model, "full");
    /* 2: half the prompt, then the rest one token at a time through the KV cache */
    gb_set_tokens(ctx, ids, (n + 1) / 2);
    for (int s = 0; s < gb_num_stages(ctx); s++) gb_run_stage(ctx, s);
    for (int i = (n + 1) / 2; i < n; i++) { gb_append_tokens(ctx, ids + i, 1); gb_run_all(ctx); }
    check_all_hooks(ctx, ref, p, t, model, "kv-cache");
    /* 3: keep_all off: internals recomputed from each block's input on read */
    gb_set_keep_all(ctx, 0);
    gb_set_tokens(ctx, ids, n);
    gb_run_all(ctx);
    check_all_hooks(ctx, ref, p, t, model, "recompute");
    gb_set_keep_all(ctx, 1);
}

static void test_model(const char *dir, const char *model) {
    gb_ctx *ctx = gb_create();
    char path[512], err[600];
    CHECK(cli_load_model_dir(ctx, dir) == GB_OK, "%s: %s", model, gb_error_message(ctx));
    snprintf(path, sizeof path, "%s/reference.safetensors", dir);
    size_t len = 0;
    uint8_t *buf = cli_read_file(path, &len, err, sizeof err);
    CHECK(buf != NULL, "%s", err);
    gb_safetensors ref;
    gb_err e;
    if (buf && gb_get_config(ctx) && gb_st_parse(&ref, buf, len, "reference.safetensors", &e) == GB_OK) {
        tally t = {0, "", 0};
        int32_t ids[4096];
        int prompts = 0;
        for (int p = 0; p < 16; p++) {
            int n = read_tokens(&ref, p, ids, 4096);
            if (n < 0) break;
            run_prompt(ctx, &ref, p, ids, n, model, &t);
            prompts++;
        }
        CHECK(prompts > 0, "%s: no prompts in reference", model);
        printf("%-20s %d prompts, %d tensors compared x3 modes, worst rel err %.3g (%s), tol %.0e\n", model,
               prompts, t.compared / 3, t.worst, t.worst_name, TOL_REL);
        gb_st_free(&ref);
    }
    free(buf);
    gb_destroy(ctx);
}

int main(void) {
    DIR *d = opendir(FIXTURES_DIR);
    CHECK(d != NULL, "cannot open %s (run from the repository root)", FIXTURES_DIR);
    int models = 0, scaling = 0;
    struct dirent *ent;
    while (d && (ent = readdir(d))) {
        if (ent->d_name[0] == '.') continue;
        /* the two attention-scaling options of GPT2Config must stay covered */
        if (!strcmp(ent->d_name, "tiny-scale-by-layer") || !strcmp(ent->d_name, "tiny-unscaled-attn"))
            scaling++;
        char dir[512];
        snprintf(dir, sizeof dir, "%s/%s", FIXTURES_DIR, ent->d_name);
        test_model(dir, ent->d_name);
        models++;
    }
    if (d) closedir(d);
    CHECK(models >= 5, "expected at least 5 fixture models, found %d", models);
    CHECK(scaling == 2, "tiny-scale-by-layer and tiny-unscaled-attn must be in %s (found %d of 2)",
          FIXTURES_DIR, scaling);
    return CHECK_DONE("test_parity");
}
