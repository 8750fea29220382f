/* fuzz_model_load.c — gb_load_model on mutated bytes of a valid small model.
 *
 * Input: five files in fz_split's length-prefixed scheme:
 *   config.json | model.safetensors | vocab.json | merges.txt | tokenizer.json
 * (a part of length 0xFFFFFFFF is passed as NULL). The seeds are a valid
 * model (make_seeds.sh), so mutations land in every stage of loading.
 *
 * One handle lives across inputs with a valid model loaded. After a failed
 * load that model must be untouched: same config, and the same logits, bit
 * for bit, for a fixed prompt. A load that succeeds must give a model that
 * runs a short prompt and samples a token in range; the valid model is then
 * loaded again. */
#include "fuzz_util.h"

static gb_ctx *ctx;
static synth_model good;
static gb_config good_cfg;
static float *good_logits;
static size_t n_logits;
static const int32_t prompt[3] = {104, 105, 33};

static gb_status load_good(void) {
    return gb_load_model(ctx, (const uint8_t *)good.config, good.config_len, good.st, good.st_len,
                         (const uint8_t *)good.vocab, good.vocab_len, (const uint8_t *)good.merges,
                         good.merges_len, NULL, 0);
}

/* Runs the fixed prompt and copies the logits into out (n_logits floats). */
static void run_prompt(float *out) {
    FZ_ASSERT(gb_set_tokens(ctx, prompt, 3) == GB_OK, "set_tokens: %s", gb_error_message(ctx));
    FZ_ASSERT(gb_run_all(ctx) == GB_OK, "run: %s", gb_error_message(ctx));
    int h = gb_hook_find("logits", NULL);
    FZ_ASSERT(gb_activation_copy(ctx, h, -1, out, n_logits) == GB_OK, "logits: %s", gb_error_message(ctx));
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fz_model_make(&good, 1, 2, 8, 8, 256 + FZ_N_MERGES);
    fz_small_vocab(&good.vocab, &good.vocab_len, &good.merges, &good.merges_len);
    ctx = gb_create();
    if (load_good() != GB_OK) { fprintf(stderr, "valid model: %s\n", gb_error_message(ctx)); abort(); }
    good_cfg = *gb_get_config(ctx);
    n_logits = 3 * (size_t)good_cfg.vocab_size;
    good_logits = malloc(n_logits * sizeof(float));
    run_prompt(good_logits);
    return 0;
}

/* The new model runs: a short prompt, every stage, one greedy sample. */
static void exercise_new_model(void) {
    const gb_config *c = gb_get_config(ctx);
    FZ_ASSERT(c && c->n_layer >= 1 && c->vocab_size >= 1, "config after load");
    int32_t ids[4];
    int n = c->n_positions < 4 ? c->n_positions : 4;
    for (int i = 0; i < n; i++) ids[i] = (int32_t)((i * 97) % c->vocab_size);
    gb_status s = gb_set_tokens(ctx, ids, n);
    if (s == GB_OK) s = gb_run_all(ctx);
    FZ_ASSERT(s == GB_OK || s == GB_E_OOM, "run on a loaded model: %s", gb_error_message(ctx));
    if (s == GB_OK) {
        gb_sample_params p = {0.0f, 0, 1.0f};
        gb_sample_trace tr;
        s = gb_sample(ctx, &p, &tr);
        FZ_ASSERT(s == GB_OK || s == GB_E_RANGE, "sample: %s", gb_error_message(ctx));
        if (s == GB_OK) FZ_ASSERT(tr.token >= 0 && tr.token < c->vocab_size, "token %d", tr.token);
    }
    if (s == GB_OK) { /* the rest of the run API over this model's shapes */
        int32_t ids3[3];
        float probs[3];
        FZ_ASSERT(gb_logit_lens(ctx, c->n_layer - 1, n - 1, 3, ids3, probs) == GB_OK || c->vocab_size < 3,
                  "logit lens: %s", gb_error_message(ctx));
        FZ_ASSERT(gb_set_ablation(ctx, 0, c->n_head - 1, GB_ABLATE_MEAN) == GB_OK, "ablate: %s", gb_error_message(ctx));
        FZ_ASSERT(gb_run_all(ctx) == GB_OK, "run ablated: %s", gb_error_message(ctx));
        gb_clear_ablations(ctx);
        if (n < c->n_positions) {
            int32_t one = 1 % c->vocab_size;
            FZ_ASSERT(gb_append_tokens(ctx, &one, 1) == GB_OK && gb_run_all(ctx) == GB_OK, "append: %s",
                      gb_error_message(ctx));
        }
        FZ_ASSERT(gb_set_keep_all(ctx, 0) == GB_OK, "keep_all 0: %s", gb_error_message(ctx));
        s = gb_run_all(ctx);
        int hp = gb_hook_find("blocks.0.attn.hook_pattern", NULL);
        gb_shape sh;
        if (s == GB_OK && gb_activation_shape(ctx, hp, 0, &sh, NULL) == GB_OK) {
            float *pat = malloc(sh.numel * sizeof(float) + 1);
            FZ_ASSERT(gb_activation_copy(ctx, hp, 0, pat, sh.numel) == GB_OK, "pattern: %s", gb_error_message(ctx));
            free(pat);
        }
        FZ_ASSERT(gb_set_keep_all(ctx, 1) == GB_OK, "keep_all 1: %s", gb_error_message(ctx));
    }
    int32_t tk[16];
    int nt = 0;
    s = gb_tokenize(ctx, "Hi there", 8, tk, NULL, 16, &nt);
    FZ_ASSERT(s == GB_OK || s == GB_E_ARG, "tokenize: %s", gb_error_message(ctx));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_part f[5];
    fz_split(data, size, f, 5);
    gb_status s = gb_load_model(ctx, f[0].p, f[0].len, f[1].p, f[1].len, f[2].p, f[2].len, f[3].p, f[3].len,
                                f[4].p, f[4].len);
    if (s != GB_OK) {
        FZ_ASSERT(gb_error_message(ctx)[0], "status %s without a message", gb_status_name(s));
        const gb_config *c = gb_get_config(ctx);
        FZ_ASSERT(c && memcmp(c, &good_cfg, sizeof *c) == 0, "failed load changed the config");
        float *now = malloc(n_logits * sizeof(float));
        run_prompt(now);
        FZ_ASSERT(memcmp(now, good_logits, n_logits * sizeof(float)) == 0, "failed load changed the model");
        free(now);
        return 0;
    }
    exercise_new_model();
    FZ_ASSERT(load_good() == GB_OK, "reloading the valid model: %s", gb_error_message(ctx));
    return 0;
}
