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
    size_t nt_panels_done;      /* panels of plan[next] already transposed (NT ranges) */
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
    s->scratch = malloc(sizeof(float) * GB_PACK_NR * (size_t)s->mc.c.n_embd);
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

/* Bytes [off, off + n) of a [K, N] Conv1D matrix into gb_pack_inplace's
 * layout: element (k, c) goes to panel c / NR, row k. A piece of a panel-row
 * (NR floats) moves as one 32-byte copy; a piece cut by the chunk boundary
 * moves a float or a byte at a time. */
static void scatter_pieces(uint8_t *dst, size_t K, size_t N, size_t off, const uint8_t *src, size_t n) {
    const size_t NR = GB_PACK_NR, row_step = K * NR * sizeof(float);
    while (n) {
        size_t i = off / 4, k = i / N, c = i % N, b = off % 4;
        uint8_t *d = dst + (((c / NR) * K + k) * NR + c % NR) * sizeof(float) + b;
        size_t step;
        if (b == 0 && c % NR == 0 && n >= NR * sizeof(float)) {
            size_t pieces = (N - c) / NR, fit = n / (NR * sizeof(float));
            if (pieces > fit) pieces = fit;
            for (size_t p = 0; p < pieces; p++, d += row_step, src += NR * sizeof(float))
                memcpy(d, src, NR * sizeof(float));
            step = pieces * NR * sizeof(float);
        } else {
            step = b == 0 && n >= sizeof(float) ? sizeof(float) : 1;
            memcpy(d, src, step);
            src += step;
        }
        off += step;
        n -= step;
    }
}

/* Whole rows go panel by panel: a panel's rows are adjacent in the
 * destination, so R rows write runs of R * 32 contiguous bytes. Row by row
 * instead, each 32-byte piece of a row lands in another page, and each cache
 * line is read, then written half by one row and half by the next: measured
 * at about half the speed of a plain copy. */
static void scatter_kn(uint8_t *dst, size_t K, size_t N, size_t off, const uint8_t *src, size_t n) {
    const size_t NR = GB_PACK_NR, row_bytes = N * sizeof(float);
    size_t head = (row_bytes - off % row_bytes) % row_bytes;
    if (head > n) head = n;
    scatter_pieces(dst, K, N, off, src, head);
    off += head, src += head, n -= head;
    size_t k0 = off / row_bytes, rows = n / row_bytes;
    for (size_t p = 0; rows && p < N / NR; p++) {
        uint8_t *d = dst + (p * K + k0) * NR * sizeof(float);
        const uint8_t *s = src + p * NR * sizeof(float);
        for (size_t r = 0; r < rows; r++, d += NR * sizeof(float), s += row_bytes)
            memcpy(d, s, NR * sizeof(float));
    }
    off += rows * row_bytes, src += rows * row_bytes, n -= rows * row_bytes;
    scatter_pieces(dst, K, N, off, src, n);
}

/* The LM head: rows are copied as they lie; each panel of NR rows is packed
 * (gb_pack_nt_inplace on that panel alone) as soon as its last byte is in. */
static void write_nt(struct gb_load_stream *s, const gb_pack_range *r, const uint8_t *src, size_t n) {
    memcpy(s->buf + s->pos, src, n);
    size_t K = (size_t)r->cols, panel_bytes = GB_PACK_NR * K * sizeof(float), end = s->pos + n;
    for (;;) {
        size_t p0 = r->begin + s->nt_panels_done * panel_bytes;
        if (p0 >= r->end) break;
        size_t p1 = p0 + panel_bytes < r->end ? p0 + panel_bytes : r->end;
        if (p1 > end) break;
        int rows = (int)((p1 - p0) / (K * sizeof(float)));
        gb_pack_nt_inplace((float *)(void *)(s->buf + p0), rows, (int)K, s->scratch);
        s->nt_panels_done++;
    }
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
            while (s->next < s->n_plan && s->plan[s->next].end <= s->pos) s->next++, s->nt_panels_done = 0;
            const gb_pack_range *r = s->next < s->n_plan ? &s->plan[s->next] : NULL;
            if (r && s->pos >= r->begin) {
                m = r->end - s->pos < n ? r->end - s->pos : n;
                if (r->kind == GB_PACK_RANGE_KN)
                    scatter_kn(s->buf + r->begin, (size_t)r->rows, (size_t)r->cols, s->pos - r->begin, bytes, m);
                else
                    write_nt(s, r, bytes, m);
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
