/* exports.c — the WebAssembly ABI of Glassbox: a thin shim over glassbox.h.
 *
 * wasm/glassbox.js talks to the engine through plain wasm values only: i32
 * ints, f32 floats, pointers into linear memory, and the opaque gb_ctx*
 * handle returned by gb_create() (0 = out of memory). There is no global
 * state here and no logic: each gbw_* function forwards one call.
 *
 * Most of glassbox.h already takes only scalars and pointers; those functions
 * are exported as they are (listed in wasm/exports.txt). The gbw_* functions
 * below exist only where the C API passes a struct or a 64-bit integer: they
 * flatten it into a small int32 array the caller provides, so JS never
 * depends on C struct layout. Those arrays are the whole layout contract:
 *
 *   gbw_config        out[0..6] = n_layer, n_head, n_embd, n_positions,
 *                     vocab_size, d_head, d_mlp;  *eps = layer_norm_epsilon
 *   gbw_*_shape       out[0..8] = ndim, shape[0..3], numel, dense, ready, data
 *                     (data: float* for gbw_activation_data, else 0)
 *   gbw_sample*       out[0..11] = logits*, scaled*, probs*, top_k*, top_p*,
 *                     token, uniform, rank, cum_before, cum_after, n_top_k,
 *                     n_top_p (uniform and cum_*: the float's bits; read as f32)
 *   gbw_*intervention iv[0..4] = kind, hook, layer, head, pos
 *
 * Pointers written into these arrays, and returned, are wasm32 addresses:
 * unsigned, so JS reads them with `>>> 0` (above 2 GB they look negative).
 *
 * Exports are chosen by wasm/exports.txt (build.sh turns it into
 * EXPORTED_FUNCTIONS), so nothing here needs EMSCRIPTEN_KEEPALIVE: one list,
 * and emcc fails the link if it names a function that does not exist.
 */
#include <stdint.h>
#include <string.h>

#include "glassbox.h"

/* Fields of the gbw_*_shape output array. */
enum {
    GBW_SHAPE_NDIM = 0, GBW_SHAPE_DIMS = 1, GBW_SHAPE_NUMEL = 5,
    GBW_SHAPE_DENSE = 6, GBW_SHAPE_READY = 7, GBW_SHAPE_DATA = 8,
    GBW_SHAPE_LEN = 9
};

/* Fields of the gbw_sample output array. */
enum {
    GBW_SAMPLE_LOGITS = 0, GBW_SAMPLE_SCALED = 1, GBW_SAMPLE_PROBS = 2,
    GBW_SAMPLE_TOP_K = 3, GBW_SAMPLE_TOP_P = 4, GBW_SAMPLE_TOKEN = 5,
    GBW_SAMPLE_UNIFORM = 6, GBW_SAMPLE_RANK = 7, GBW_SAMPLE_CUM_BEFORE = 8,
    GBW_SAMPLE_CUM_AFTER = 9, GBW_SAMPLE_N_TOP_K = 10, GBW_SAMPLE_N_TOP_P = 11,
    GBW_SAMPLE_LEN = 12
};

/* Bumped whenever an array layout above or an export's signature changes;
 * glassbox.js refuses a module whose version it does not know. */
int gbw_abi_version(void) { return 4; }

// ---------------------------------------------------------------- lifecycle

/* gb_get_config's struct as 7 ints and a float. GB_E_STATE before a model loads. */
gb_status gbw_config(gb_ctx *ctx, int32_t *out, float *eps) {
    const gb_config *c = gb_get_config(ctx);
    if (!c) return gb_report_error(ctx, GB_E_STATE, "no model is loaded: call loadModel first");
    out[0] = c->n_layer;
    out[1] = c->n_head;
    out[2] = c->n_embd;
    out[3] = c->n_positions;
    out[4] = c->vocab_size;
    out[5] = c->d_head;
    out[6] = c->d_mlp;
    *eps = c->layer_norm_epsilon;
    return GB_OK;
}

// ---------------------------------------------------------------- activations

static void put_shape(int32_t *out, const gb_shape *s, int ready, const float *data) {
    out[GBW_SHAPE_NDIM] = s->ndim;
    for (int i = 0; i < 4; i++) out[GBW_SHAPE_DIMS + i] = s->shape[i];
    out[GBW_SHAPE_NUMEL] = (int32_t)s->numel; /* < 2^30 floats fit in 4 GB */
    out[GBW_SHAPE_DENSE] = s->dense;
    out[GBW_SHAPE_READY] = ready;
    out[GBW_SHAPE_DATA] = (int32_t)(uintptr_t)data;
}

/* gb_activation_shape, flattened into out[GBW_SHAPE_LEN]. */
gb_status gbw_activation_shape(gb_ctx *ctx, int hook, int layer, int32_t *out) {
    gb_shape s;
    int ready = 0;
    memset(&s, 0, sizeof s);
    gb_status st = gb_activation_shape(ctx, hook, layer, &s, &ready);
    if (st == GB_OK) put_shape(out, &s, ready, NULL);
    return st;
}

/* gb_activation_data, flattened: the zero-copy pointer lands in out[GBW_SHAPE_DATA]. */
gb_status gbw_activation_data(gb_ctx *ctx, int hook, int layer, int32_t *out) {
    gb_shape s;
    const float *data = NULL;
    memset(&s, 0, sizeof s);
    gb_status st = gb_activation_data(ctx, hook, layer, &data, &s);
    if (st == GB_OK) put_shape(out, &s, 1, data);
    return st;
}

// ---------------------------------------------------------------- sampling

/* gb_seed with the uint64 split in two u32 halves (no BigInt across the ABI). */
void gbw_seed(gb_ctx *ctx, uint32_t lo, uint32_t hi) {
    gb_seed(ctx, ((uint64_t)hi << 32) | lo);
}

static void put_trace(int32_t *out, const gb_sample_trace *t) {
    out[GBW_SAMPLE_LOGITS] = (int32_t)(uintptr_t)t->logits;
    out[GBW_SAMPLE_SCALED] = (int32_t)(uintptr_t)t->scaled;
    out[GBW_SAMPLE_PROBS] = (int32_t)(uintptr_t)t->probs;
    out[GBW_SAMPLE_TOP_K] = (int32_t)(uintptr_t)t->top_k;
    out[GBW_SAMPLE_TOP_P] = (int32_t)(uintptr_t)t->top_p;
    out[GBW_SAMPLE_TOKEN] = t->token;
    memcpy(&out[GBW_SAMPLE_UNIFORM], &t->uniform, sizeof(float));
    out[GBW_SAMPLE_RANK] = t->rank;
    memcpy(&out[GBW_SAMPLE_CUM_BEFORE], &t->cum_before, sizeof(float));
    memcpy(&out[GBW_SAMPLE_CUM_AFTER], &t->cum_after, sizeof(float));
    out[GBW_SAMPLE_N_TOP_K] = t->n_top_k;
    out[GBW_SAMPLE_N_TOP_P] = t->n_top_p;
}

/* gb_sample_distribution / gb_sample_draw / gb_sample with the params struct
 * flattened and the trace written into out[GBW_SAMPLE_LEN]. The five
 * distributions stay owned by ctx. */
gb_status gbw_sample_distribution(gb_ctx *ctx, float temperature, int top_k, float top_p, int32_t *out) {
    gb_sample_params p = {temperature, top_k, top_p};
    gb_sample_trace t;
    gb_status st = gb_sample_distribution(ctx, &p, &t);
    if (st == GB_OK) put_trace(out, &t);
    return st;
}

gb_status gbw_sample_draw(gb_ctx *ctx, float temperature, int top_k, float top_p, float u, int32_t *out) {
    gb_sample_params p = {temperature, top_k, top_p};
    gb_sample_trace t;
    gb_status st = gb_sample_draw(ctx, &p, u, &t);
    if (st == GB_OK) put_trace(out, &t);
    return st;
}

gb_status gbw_sample(gb_ctx *ctx, float temperature, int top_k, float top_p, int32_t *out) {
    gb_sample_params p = {temperature, top_k, top_p};
    gb_sample_trace t;
    gb_status st = gb_sample(ctx, &p, &t);
    if (st == GB_OK) put_trace(out, &t);
    return st;
}

// ---------------------------------------------------------------- interventions

gb_status gbw_add_intervention(gb_ctx *ctx, int kind, int hook, int layer, int head, int pos) {
    gb_intervention iv = {(gb_iv_kind)kind, hook, layer, head, pos};
    return gb_add_intervention(ctx, &iv);
}

gb_status gbw_get_intervention(gb_ctx *ctx, int index, int32_t *iv) {
    gb_intervention e;
    gb_status st = gb_get_intervention(ctx, index, &e);
    if (st != GB_OK) return gb_report_error(ctx, st, "no such intervention");
    iv[0] = (int32_t)e.kind; iv[1] = e.hook; iv[2] = e.layer; iv[3] = e.head; iv[4] = e.pos;
    return GB_OK;
}

// ---------------------------------------------------------------- interpretability tools
/* The tools whose C signature carries a uint64 seed, with it split in two u32
 * halves (seed = hi << 32 | lo); the rest are exported as they are. */
gb_status gbw_repeated_tokens(uint32_t seed_lo, uint32_t seed_hi, int length, int lo, int hi, int bos, int32_t *out) {
    return gb_repeated_tokens(((uint64_t)seed_hi << 32) | seed_lo, length, lo, hi, bos, out);
}

gb_status gbw_head_finder(gb_ctx *ctx, uint32_t seed_lo, uint32_t seed_hi, int length, int lo, int hi, int bos,
                          float *scores, float *outlier_share) {
    return gb_head_finder(ctx, ((uint64_t)seed_hi << 32) | seed_lo, length, lo, hi, bos, scores, outlier_share);
}

gb_status gbw_reagent_begin(gb_ctx *ctx, uint32_t seed_lo, uint32_t seed_hi, float ratio, int max_steps) {
    return gb_reagent_begin(ctx, ((uint64_t)seed_hi << 32) | seed_lo, ratio, max_steps);
}
