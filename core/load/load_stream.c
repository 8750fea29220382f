/* load_stream.c — loading model.safetensors from pieces that arrive in order
 * (a fetch body, a file read in chunks), packing the matmul weights on the way.
 *
 * A whole-buffer load copies the file into the engine and then packs every
 * block matrix and the LM head in place: a second pass over ~500 MB for GPT-2
 * small, through a scratch copy of each matrix. Here each piece is placed once:
 * header bytes and unpacked tensors are copied where they lie in the file, a
 * block matrix's rows are scattered straight into gb_pack_inplace's panels,
 * and the LM head's rows are copied and each panel of GB_PACK_NR rows is
 * transposed while it is still in cache. What to pack comes from
 * gb_model_pack_plan, the loader's own decision, once the header has arrived;
 * when there is no plan (a bad header, F16 weights) the bytes are only copied
 * and gb_load_finish reports or packs exactly as gb_load_model_owned would. */
#include <stdlib.h>
#include <string.h>

#include "ctx.h"

struct gb_load_stream {
    uint8_t *buf;               /* the whole file, as it will be owned by the model */
    size_t len, pos;            /* announced size; bytes written so far */
    uint8_t *config;            /* a copy of config.json */
    size_t config_len;
    gb_model_config mc;
    int planned;                /* the header has been looked at (plan or not) */
    gb_pack_range *plan;        /* sorted by begin */
    int n_plan, next;           /* next: first range not yet fully written */
    unsigned parts;             /* GB_PREPACKED_* the plan covers */
    float *scratch;             /* one LM head panel, for gb_pack_nt_inplace */
};

/* A file can be at most the weight limit plus a header: anything larger could
 * not load, so it is refused before allocating. */
#define MAX_FILE_BYTES (GB_MAX_WEIGHT_BYTES + GB_ST_MAX_HEADER + 8)

void gb_load_cancel(gb_ctx *ctx) {
    if (!ctx || !ctx->stream) return;
    struct gb_load_stream *s = ctx->stream;
    free(s->buf);
    free(s->config);
    free(s->plan);
    free(s->scratch);
    free(s);
    ctx->stream = NULL;
}

gb_status gb_load_begin(gb_ctx *ctx, const uint8_t *config_json, size_t config_len,
                        size_t safetensors_len) {
    if (!ctx) return GB_E_ARG;
    gb_load_cancel(ctx);
    gb_err_clear(&ctx->err);
    if (!config_json) return GB_FAIL(&ctx->err, GB_E_ARG, "config.json is required");
    if ((uint64_t)safetensors_len > MAX_FILE_BYTES)
        return GB_FAIL(&ctx->err, GB_E_OOM, "model.safetensors is %.2f GB; the most this engine can load is %.2f GB",
                       safetensors_len / 1e9, MAX_FILE_BYTES / 1e9);
    struct gb_load_stream *s = calloc(1, sizeof *s);
    if (!s) return GB_FAIL(&ctx->err, GB_E_OOM, "out of memory starting a load");
    ctx->stream = s;
    gb_status st = gb_config_parse(&s->mc, config_json, config_len, &ctx->err);
    if (st) {
        gb_load_cancel(ctx);
        return st;
    }
    s->len = safetensors_len;
    s->config_len = config_len;
    s->config = malloc(config_len ? config_len : 1);
    s->buf = malloc(safetensors_len ? safetensors_len : 1);
    if (!s->config || !s->buf) {
        gb_load_cancel(ctx);
        return GB_FAIL(&ctx->err, GB_E_OOM, "out of memory for model.safetensors (%.1f MB)", safetensors_len / 1e6);
    }
    memcpy(s->config, config_json, config_len);
    return GB_OK;
}

static int by_begin(const void *a, const void *b) {
    const gb_pack_range *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Once the header is in: what gb_load_finish's load will pack. No plan is
 * not an error here; the load itself will say what is wrong. */
static void make_plan(struct gb_load_stream *s) {
    s->planned = 1;
    gb_safetensors st;
    gb_err ignored;
    if (gb_st_parse(&st, s->buf, s->len, "model.safetensors", &ignored)) return;
    s->plan = malloc(sizeof *s->plan * (4 * (size_t)s->mc.c.n_layer + 1));
    gb_layout lm = gb_layout_nt(s->mc.c.vocab_size, s->mc.c.n_embd);
    s->scratch = malloc(sizeof(float) * (gb_layout_scratch_floats(&lm) + 1));
    if (s->plan && s->scratch) s->n_plan = gb_model_pack_plan(&s->mc, &st, s->plan, &s->parts);
    gb_st_free(&st);
    if (s->n_plan > 1) qsort(s->plan, (size_t)s->n_plan, sizeof *s->plan, by_begin);
}

/* The header's end once its 8-byte length has arrived, else 8; an impossible
 * length ends at once (no plan: the load will report it). */
static size_t header_end(const struct gb_load_stream *s) {
    if (s->pos < 8) return 8;
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--) h = (h << 8) | s->buf[i];
    return h > s->len - 8 || h > GB_ST_MAX_HEADER ? s->pos : 8 + (size_t)h;
}

/* Bytes [s->pos, s->pos + n) of range r, through the kernels' writer. */
static void write_range(struct gb_load_stream *s, const gb_pack_range *r, const uint8_t *src, size_t n) {
    gb_layout l = r->kind == GB_PACK_RANGE_KN ? gb_layout_conv1d(r->rows, r->cols) : gb_layout_nt(r->rows, r->cols);
    gb_layout_write(&l, (float *)(void *)(s->buf + r->begin), s->pos - r->begin, src, n, s->scratch);
}

gb_status gb_load_write(gb_ctx *ctx, const uint8_t *bytes, size_t n) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    struct gb_load_stream *s = ctx->stream;
    if (!s) return GB_FAIL(&ctx->err, GB_E_STATE, "no load in progress: call gb_load_begin first");
    if (!bytes && n) return GB_FAIL(&ctx->err, GB_E_ARG, "load: NULL bytes");
    if (n > s->len - s->pos) {
        size_t len = s->len;
        gb_load_cancel(ctx);
        return GB_FAIL(&ctx->err, GB_E_FORMAT, "model.safetensors: more bytes arrived than the %zu announced; load cancelled", len);
    }
    while (n) {
        size_t m;
        if (!s->planned) { /* the header: copied as is */
            size_t end = header_end(s);
            m = end - s->pos < n ? end - s->pos : n;
            memcpy(s->buf + s->pos, bytes, m);
            s->pos += m;
            if (s->pos >= 8 && s->pos == header_end(s)) make_plan(s);
        } else {
            while (s->next < s->n_plan && s->plan[s->next].end <= s->pos) s->next++;
            const gb_pack_range *r = s->next < s->n_plan ? &s->plan[s->next] : NULL;
            if (r && s->pos >= r->begin) {
                m = r->end - s->pos < n ? r->end - s->pos : n;
                write_range(s, r, bytes, m);
            } else {
                size_t stop = r ? r->begin : s->len;
                m = stop - s->pos < n ? stop - s->pos : n;
                memcpy(s->buf + s->pos, bytes, m);
            }
            s->pos += m;
        }
        bytes += m;
        n -= m;
    }
    return GB_OK;
}

unsigned gb_load_stream_parts(const gb_ctx *ctx) {
    return ctx && ctx->stream && ctx->stream->planned ? ctx->stream->parts : 0;
}

gb_status gb_load_finish(gb_ctx *ctx, const uint8_t *vocab_json, size_t vocab_len,
                         const uint8_t *merges_txt, size_t merges_len,
                         const uint8_t *tokenizer_json, size_t tokenizer_json_len) {
    if (!ctx) return GB_E_ARG;
    gb_err_clear(&ctx->err);
    struct gb_load_stream *s = ctx->stream;
    if (!s) return GB_FAIL(&ctx->err, GB_E_STATE, "no load in progress: call gb_load_begin first");
    if (s->pos != s->len) {
        size_t pos = s->pos, len = s->len;
        gb_load_cancel(ctx);
        return GB_FAIL(&ctx->err, GB_E_FORMAT, "model.safetensors: the data ended after %zu of the %zu bytes announced (truncated download?)", pos, len);
    }
    uint8_t *buf = s->buf, *config = s->config;
    size_t len = s->len, config_len = s->config_len;
    unsigned parts = s->planned ? s->parts : 0;
    s->buf = NULL;   /* the load owns it now */
    s->config = NULL;
    gb_load_cancel(ctx);
    gb_status st = gb_ctx_load(ctx, config, config_len, buf, len, buf, parts, vocab_json, vocab_len,
                               merges_txt, merges_len, tokenizer_json, tokenizer_json_len);
    free(config);
    return st;
}
