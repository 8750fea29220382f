/* api.c — the public handle: lifecycle, loading, tokenizer calls, run control
 * and activation access (glassbox.h). The math lives in forward.c, sampling
 * in sample.c, interventions in intervene.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"

#define INITIAL_CAP 16

/* ------------------------------------------------------------------ lifecycle */
gb_ctx *gb_create(void) {
    gb_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx) {
        ctx->acts.keep_all = 1;
        ctx->scratch_layer = -1;
        ctx->par.n_workers = 1;
        gb_seed(ctx, 0);
    }
    return ctx;
}

static void free_run(gb_ctx *ctx) {
    gb_interp_free(ctx);
    gb_acts_free(&ctx->acts);
    free(ctx->tokens); free(ctx->done); free(ctx->qkv); free(ctx->iv);
    free(ctx->sample_buf); free(ctx->sample_order); free(ctx->sample_bucket); free(ctx->lens_buf);
    free(ctx->logits_all);
    ctx->logits_all = NULL, ctx->logits_all_cap = 0, ctx->logits_all_rows = 0;
    ctx->tokens = NULL; ctx->done = NULL; ctx->qkv = NULL; ctx->iv = NULL;
    ctx->sample_buf = NULL; ctx->sample_order = NULL; ctx->sample_bucket = NULL; ctx->lens_buf = NULL;
    ctx->n_tokens = 0; ctx->n_prompt = 0; ctx->n_iv = 0; ctx->sample_valid = 0;
}

void gb_destroy(gb_ctx *ctx) {
    if (!ctx) return;
    gb_load_cancel(ctx);
    free_run(ctx);
    gb_par_free(&ctx->par);
    gb_model_free(&ctx->model);
    gb_tokenizer_free(ctx->tok);
    free(ctx);
}

const char *gb_error_message(const gb_ctx *ctx) { return ctx ? ctx->err.msg : "no context"; }

const char *gb_status_name(gb_status s) {
    static const char *names[] = {"GB_OK", "GB_E_IO", "GB_E_FORMAT", "GB_E_SHAPE", "GB_E_RANGE",
                                  "GB_E_OOM", "GB_E_ARG", "GB_E_STATE"};
    return (unsigned)s < sizeof names / sizeof *names ? names[s] : "GB_E_UNKNOWN";
}

gb_status gb_report_error(gb_ctx *ctx, gb_status code, const char *msg) {
    return GB_FAIL(&ctx->err, code, "%s", msg);
}

#define REQUIRE_TOKENIZER(ctx)                                                              \
    do {                                                                                    \
        REQUIRE_MODEL(ctx);                                                                 \
        if (!(ctx)->tok)                                                                    \
            return GB_FAIL(&(ctx)->err, GB_E_STATE, "this checkpoint has no tokenizer "     \
                           "(no vocab.json + merges.txt or tokenizer.json): give token ids, not text"); \
    } while (0)

#define REQUIRE_MODEL(ctx)                                                                  \
    do {                                                                                    \
        if (!(ctx)) return GB_E_ARG;                                                        \
        gb_err_clear(&(ctx)->err);                                                          \
        if (!(ctx)->loaded) return GB_FAIL(&(ctx)->err, GB_E_STATE, "no model loaded yet"); \
    } while (0)

/* ------------------------------------------------------------------ loading */
static int max_k(const gb_config *c) { return c->d_mlp > c->n_embd ? c->d_mlp : c->n_embd; }

/* Allocates the per-model run state for an empty run. */
static gb_status alloc_run(gb_ctx *ctx) {
    const gb_config *c = &ctx->model.mc.c;
    ctx->n_stages = 2 + 2 * c->n_layer;
    ctx->done = calloc((size_t)ctx->n_stages, sizeof *ctx->done);
    ctx->iv = malloc(sizeof *ctx->iv * GB_MAX_INTERVENTIONS);
    ctx->sample_buf = malloc(sizeof(float) * 5 * (size_t)c->vocab_size);
    ctx->sample_order = malloc(gb_sample_order_bytes(c->vocab_size));
    ctx->sample_bucket = malloc(sizeof(int) * (2 * GB_SAMPLE_BUCKETS + 1));
    ctx->lens_buf = malloc(sizeof(float) * 2 * (size_t)c->vocab_size);
    ctx->acts.d = (gb_dims){c->n_layer, c->n_head, c->d_head, c->n_embd, c->d_mlp, c->vocab_size};
    if (!ctx->done || !ctx->iv || !ctx->sample_buf || !ctx->sample_order || !ctx->sample_bucket || !ctx->lens_buf)
        return GB_FAIL(&ctx->err, GB_E_OOM, "out of memory setting up the run");
    /* the pool's scratch is sized by the model's widest matmul input */
    return gb_par_set(&ctx->par, ctx->par.run, ctx->par.pool, ctx->par.n_workers, max_k(c), &ctx->err);
}

/* The load is driven from here, down into load/loader.c (which never calls
 * back up): begin, write, finish, then the tokenizer and the run state. */
void gb_load_cancel(gb_ctx *ctx) {
    if (!ctx) return;
    gb_loader_free(ctx->loader);
    ctx->loader = NULL;
}

gb_status gb_load_begin(gb_ctx *ctx, const uint8_t *config_json, size_t config_len,
                        size_t safetensors_len) {
    if (!ctx) return GB_E_ARG;
    gb_load_cancel(ctx);
    gb_err_clear(&ctx->err);
    return gb_loader_begin(&ctx->loader, config_json, config_len, safetensors_len, &ctx->err);
}

gb_status gb_load_write(gb_ctx *ctx, const uint8_t *bytes, size_t n) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->loader) return GB_FAIL(&ctx->err, GB_E_STATE, "no load in progress: call gb_load_begin first");
    gb_status s = gb_loader_write(ctx->loader, bytes, n, &ctx->err);
    if (s) gb_load_cancel(ctx);
    return s;
}

/* Makes m (and tok) the loaded model; on failure both are freed and the
 * previous model stays loaded. */
static gb_status install(gb_ctx *ctx, gb_model *m, const uint8_t *vocab_json, size_t vocab_len,
                         const uint8_t *merges_txt, size_t merges_len,
                         const uint8_t *tokenizer_json, size_t tokenizer_json_len) {
    gb_tokenizer *tok = NULL;
    gb_status s = GB_OK;
    /* config.json + model.safetensors alone is a model that runs on ids */
    if (vocab_json || merges_txt || tokenizer_json)
        s = gb_tokenizer_load(&tok, vocab_json, vocab_len, merges_txt, merges_len, tokenizer_json,
                              tokenizer_json_len, &ctx->err);
    if (!s && tok && gb_tokenizer_vocab_size(tok) > m->mc.c.vocab_size)
        s = GB_FAIL(&ctx->err, GB_E_SHAPE, "tokenizer has %d tokens but config.json vocab_size is %d",
                    gb_tokenizer_vocab_size(tok), m->mc.c.vocab_size);
    if (s) {
        gb_model_free(m);
        gb_tokenizer_free(tok);
        return s;
    }
    free_run(ctx);
    gb_model_free(&ctx->model);
    gb_tokenizer_free(ctx->tok);
    ctx->model = *m;
    ctx->tok = tok;
    ctx->loaded = 1;
    ctx->scratch_layer = -1;
    s = alloc_run(ctx);
    if (s) { free_run(ctx); gb_model_free(&ctx->model); gb_tokenizer_free(ctx->tok); ctx->tok = NULL; ctx->loaded = 0; }
    return s;
}

gb_status gb_load_finish(gb_ctx *ctx, const uint8_t *vocab_json, size_t vocab_len,
                         const uint8_t *merges_txt, size_t merges_len,
                         const uint8_t *tokenizer_json, size_t tokenizer_json_len) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (!ctx->loader) return GB_FAIL(&ctx->err, GB_E_STATE, "no load in progress: call gb_load_begin first");
    gb_model m;
    gb_status s = gb_loader_finish(ctx->loader, &m, &ctx->err);
    gb_load_cancel(ctx);
    if (s) return s;
    return install(ctx, &m, vocab_json, vocab_len, merges_txt, merges_len, tokenizer_json, tokenizer_json_len);
}

/* The bytes in memory are one piece of the same stream. */
gb_status gb_load_model(gb_ctx *ctx, const uint8_t *config_json, size_t config_len,
                        const uint8_t *safetensors, size_t safetensors_len,
                        const uint8_t *vocab_json, size_t vocab_len,
                        const uint8_t *merges_txt, size_t merges_len,
                        const uint8_t *tokenizer_json, size_t tokenizer_json_len) {
    gb_status s = gb_load_begin(ctx, config_json, config_len, safetensors_len);
    if (!s) s = gb_load_write(ctx, safetensors, safetensors_len);
    if (!s) s = gb_load_finish(ctx, vocab_json, vocab_len, merges_txt, merges_len, tokenizer_json, tokenizer_json_len);
    return s;
}

int gb_has_tokenizer(const gb_ctx *ctx) { return ctx && ctx->loaded && ctx->tok; }

const gb_config *gb_get_config(const gb_ctx *ctx) {
    return ctx && ctx->loaded ? &ctx->model.mc.c : NULL;
}

/* ------------------------------------------------------------------ tokenizer */
gb_status gb_tokenize(gb_ctx *ctx, const char *text, size_t len, int32_t *ids, int32_t *spans,
                      int cap, int *n_tokens) {
    REQUIRE_TOKENIZER(ctx);
    if ((!text && len) || !n_tokens || (!ids && cap > 0))
        return GB_FAIL(&ctx->err, GB_E_ARG, "tokenize: NULL argument");
    return gb_tokenizer_encode(ctx->tok, text ? text : "", len, ids, spans, cap, n_tokens, &ctx->err);
}

gb_status gb_token_bytes(gb_ctx *ctx, int32_t id, const char **bytes, size_t *len) {
    REQUIRE_TOKENIZER(ctx);
    return gb_tokenizer_token_bytes(ctx->tok, id, bytes, len, &ctx->err);
}

gb_status gb_decode(gb_ctx *ctx, const int32_t *ids, int n, char *out, size_t cap, size_t *out_len) {
    REQUIRE_TOKENIZER(ctx);
    return gb_tokenizer_decode(ctx->tok, ids, n, out, cap, out_len, &ctx->err);
}

/* ------------------------------------------------------------------ run control */
int gb_num_stages(const gb_ctx *ctx) { return ctx && ctx->loaded ? ctx->n_stages : 0; }
int gb_num_tokens(const gb_ctx *ctx) { return ctx ? ctx->n_tokens : 0; }
const int32_t *gb_tokens(const gb_ctx *ctx) { return ctx ? ctx->tokens : NULL; }

/* Grows token and activation storage to hold n tokens, keeping the run. */
static gb_status ensure_capacity(gb_ctx *ctx, int n) {
    if (n <= ctx->acts.cap && ctx->acts.arena) return GB_OK;
    int cap = ctx->acts.cap ? ctx->acts.cap : INITIAL_CAP;
    while (cap < n) cap *= 2;
    if (cap > ctx->model.mc.c.n_positions) cap = ctx->model.mc.c.n_positions;
    int32_t *tokens = realloc(ctx->tokens, sizeof *tokens * (size_t)cap);
    if (!tokens) return GB_FAIL(&ctx->err, GB_E_OOM, "out of memory for %d tokens", cap);
    ctx->tokens = tokens;
    size_t qkv_floats = (size_t)cap * 3 * (size_t)ctx->model.mc.c.n_embd;
    float *qkv = malloc(sizeof(float) * qkv_floats);
    if (!qkv) return GB_FAIL(&ctx->err, GB_E_OOM, "out of memory for %d tokens", cap);
    gb_status s = gb_acts_reserve(&ctx->acts, cap, ctx->n_tokens, &ctx->err);
    if (s) { free(qkv); return s; }
    free(ctx->qkv);
    ctx->qkv = qkv;
    return GB_OK;
}

static gb_status check_tokens(gb_ctx *ctx, const int32_t *ids, int n, int total) {
    const gb_config *c = &ctx->model.mc.c;
    if (n < 0 || (n > 0 && !ids)) return GB_FAIL(&ctx->err, GB_E_ARG, "tokens: NULL or negative count");
    if (total > c->n_positions)
        return GB_FAIL(&ctx->err, GB_E_RANGE,
                       "%d tokens exceed the model's context of %d positions (n_positions); shorten the prompt",
                       total, c->n_positions);
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= c->vocab_size)
            return GB_FAIL(&ctx->err, GB_E_RANGE, "token id %d at index %d is outside the vocabulary 0..%d",
                           ids[i], i, c->vocab_size - 1);
    return GB_OK;
}

gb_status gb_set_tokens(gb_ctx *ctx, const int32_t *ids, int n) {
    REQUIRE_MODEL(ctx);
    if (n == 0) return GB_FAIL(&ctx->err, GB_E_ARG, "the prompt is empty: give at least one token");
    gb_status s = check_tokens(ctx, ids, n, n);
    if (s) return s;
    ctx->n_tokens = 0; /* nothing to keep when growing */
    gb_invalidate_from(ctx, 0);
    if ((s = ensure_capacity(ctx, n))) return s;
    memcpy(ctx->tokens, ids, sizeof *ids * (size_t)n);
    ctx->n_tokens = n;
    ctx->n_prompt = n; /* what is appended from here on was generated */
    ctx->sample_valid = 0;
    return GB_OK;
}

gb_status gb_append_tokens(gb_ctx *ctx, const int32_t *ids, int n) {
    REQUIRE_MODEL(ctx);
    if (ctx->n_tokens == 0) return gb_set_tokens(ctx, ids, n);
    gb_status s = check_tokens(ctx, ids, n, ctx->n_tokens + n);
    if (s || n == 0) return s;
    if ((s = ensure_capacity(ctx, ctx->n_tokens + n))) return s;
    memcpy(ctx->tokens + ctx->n_tokens, ids, sizeof *ids * (size_t)n);
    ctx->n_tokens += n;
    ctx->sample_valid = 0;
    int lm = gb_first_whole_run_layer(ctx); /* a mean over positions moves with T */
    if (lm >= 0) gb_invalidate_from(ctx, gb_stage_attn(lm));
    return GB_OK;
}

gb_status gb_run_stage(gb_ctx *ctx, int stage) {
    REQUIRE_MODEL(ctx);
    if (stage < 0 || stage >= ctx->n_stages)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "stage %d out of range 0..%d", stage, ctx->n_stages - 1);
    if (ctx->n_tokens == 0) return GB_FAIL(&ctx->err, GB_E_STATE, "no tokens: call gb_set_tokens first");
    return gb_forward_stage(ctx, stage);
}

gb_status gb_run_until(gb_ctx *ctx, int stage) {
    REQUIRE_MODEL(ctx);
    if (stage < 0 || stage >= ctx->n_stages)
        return GB_FAIL(&ctx->err, GB_E_RANGE, "stage %d out of range 0..%d", stage, ctx->n_stages - 1);
    for (int s = 0; s <= stage; s++) {
        gb_status st = gb_run_stage(ctx, s);
        if (st) return st;
    }
    return GB_OK;
}

gb_status gb_run_all(gb_ctx *ctx) {
    REQUIRE_MODEL(ctx);
    return gb_run_until(ctx, ctx->n_stages - 1);
}

int gb_stages_done(const gb_ctx *ctx) {
    if (!ctx || !ctx->loaded || ctx->n_tokens == 0) return 0;
    int s = 0;
    while (s < ctx->n_stages && ctx->done[s] == ctx->n_tokens) s++;
    return s;
}

gb_status gb_set_keep_all(gb_ctx *ctx, int keep_all) {
    REQUIRE_MODEL(ctx);
    keep_all = keep_all != 0;
    if (keep_all == ctx->acts.keep_all) return GB_OK;
    /* the layout changes: start the store afresh (the tokens stay) */
    int cap = ctx->acts.cap;
    gb_acts_free(&ctx->acts);
    ctx->acts.keep_all = keep_all;
    gb_invalidate_from(ctx, 0);
    ctx->scratch_layer = -1;
    gb_status s = cap ? gb_acts_reserve(&ctx->acts, cap, 0, &ctx->err) : GB_OK;
    if (s) ctx->n_tokens = 0; /* no store: the next gb_set_tokens allocates one */
    return s;
}

/* ------------------------------------------------------------------ threads */
gb_status gb_set_parallel(gb_ctx *ctx, gb_parallel_fn run, void *pool, int n_workers) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    if (n_workers < 1 || n_workers > 256 || (n_workers > 1 && !run))
        return GB_FAIL(&ctx->err, GB_E_ARG, "threads: %d workers (1..256, and a run function for more than 1)",
                       n_workers);
    return gb_par_set(&ctx->par, run, pool, n_workers, ctx->loaded ? max_k(&ctx->model.mc.c) : 0, &ctx->err);
}

int gb_num_workers(const gb_ctx *ctx) { return ctx && ctx->par.run ? ctx->par.n_workers : 1; }
