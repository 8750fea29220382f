/* trace.c — the CLI's `trace` output: a safetensors file readable by Python's
 * safetensors, holding the tokens and every named activation of the run, and
 * a __metadata__ that says what the numbers are, so a file found later
 * explains itself:
 *   format            "glassbox-trace/1"
 *   glassbox_version  the tool's version
 *   model             the model directory's name; model_path_fnv1a64 a hash of
 *                     its absolute path (tells two same-named models apart
 *                     without writing a local path into the file)
 *   token_ids         the prompt's ids, as a JSON array in a string
 *   prompt            the prompt's text ("" when ids were given; bytes that
 *                     are not UTF-8 become U+FFFD)
 *   hook_names        the naming convention (TransformerLens HookedTransformer)
 *   values            raw Hugging Face numbers: layer norm not folded
 *   batch_dim         whether tensors have a leading batch dimension
 * safetensors metadata maps strings to strings, hence the JSON in a string. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* realpath */
#endif
#include "trace.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

typedef struct {
    char name[96];
    int hook, layer;
    gb_shape shape;
} entry;

/* Every (hook, layer) of the loaded model, in hook order. */
static entry *list_entries(gb_ctx *ctx, int *n) {
    int L = gb_get_config(ctx)->n_layer, count = 0;
    entry *es = calloc((size_t)gb_num_hooks() * (size_t)L, sizeof *es);
    for (int h = 0; es && h < gb_num_hooks(); h++) {
        int per = gb_hook_is_per_layer(h);
        for (int l = per ? 0 : -1; l < (per ? L : 0); l++) {
            entry *e = &es[count++];
            snprintf(e->name, sizeof e->name, gb_hook_pattern(h), l);
            e->hook = h;
            e->layer = l;
            gb_activation_shape(ctx, h, l, &e->shape, NULL);
        }
    }
    *n = count;
    return es;
}

/* A growing string. */
typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

/* a string literal, its length counted by the compiler */
#define PUT_LIT(b, lit) put((b), (lit), sizeof(lit) - 1)

static void putf(sbuf *b, const char *fmt, long long v) {
    char t[32];
    int n = snprintf(t, sizeof t, fmt, v);
    put(b, t, (size_t)n);
}

/* Length of the well-formed UTF-8 sequence at s (n bytes left), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t k = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!k || k > n) return 0;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] > 0x8f))
        return 0; /* overlong, surrogate, above U+10FFFF */
    return k;
}

/* s as a JSON string literal (quotes included); not UTF-8 -> U+FFFD. */
static void put_json_string(sbuf *b, const char *s, size_t n) {
    PUT_LIT(b, "\"");
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_len(u + i, n - i);
        if (!k) {
            PUT_LIT(b, "\\ufffd");
            i++;
        } else if (k == 1 && (u[i] < 0x20 || u[i] == '"' || u[i] == '\\')) {
            char t[8];
            int m = u[i] == '"' ? snprintf(t, sizeof t, "\\\"") : u[i] == '\\' ? snprintf(t, sizeof t, "\\\\")
                  : u[i] == '\n' ? snprintf(t, sizeof t, "\\n") : snprintf(t, sizeof t, "\\u%04x", u[i]);
            put(b, t, (size_t)m);
            i++;
        } else {
            put(b, s + i, k);
            i += k;
        }
    }
    PUT_LIT(b, "\"");
}

/* A JSON key and a string value (value as JSON-escaped text). */
static void put_meta(sbuf *b, const char *key, const char *v, size_t n) {
    PUT_LIT(b, ",");
    put_json_string(b, key, strlen(key));
    PUT_LIT(b, ":");
    put_json_string(b, v, n);
}

static uint64_t fnv1a64(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static void put_metadata(sbuf *b, gb_ctx *ctx, const trace_info *info) {
    PUT_LIT(b, "\"__metadata__\":{\"format\":\"glassbox-trace/1\"");
    put_meta(b, "glassbox_version", GLASSBOX_VERSION, strlen(GLASSBOX_VERSION));
    /* the directory's last component, trailing slashes ignored */
    const char *dir = info->model_dir ? info->model_dir : "";
    size_t end = strlen(dir);
    while (end > 1 && dir[end - 1] == '/') end--;
    size_t start = end;
    while (start > 0 && dir[start - 1] != '/') start--;
    put_meta(b, "model", dir + start, end - start);
    char abs[PATH_MAX + 1], hash[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)fnv1a64(realpath(dir, abs) ? abs : dir));
    put_meta(b, "model_path_fnv1a64", hash, strlen(hash));
    sbuf ids = {0};
    put(&ids, "[", 1);
    for (int i = 0; i < gb_num_tokens(ctx); i++) putf(&ids, i ? ",%lld" : "%lld", gb_tokens(ctx)[i]);
    put(&ids, "]", 1);
    put_meta(b, "token_ids", ids.oom ? "" : ids.p, ids.oom ? 0 : ids.len);
    b->oom |= ids.oom;
    free(ids.p);
    const char *prompt = info->prompt ? info->prompt : "";
    put_meta(b, "prompt", prompt, strlen(prompt));
    static const char hooks[] =
        "TransformerLens HookedTransformer hook names (hook_embed, blocks.{layer}.attn.hook_pattern, ...), the "
        "convention TransformerLens 3.0 keeps only in its compatibility mode and 4.0 removed";
    static const char values[] =
        "raw Hugging Face GPT-2 numbers: layer norm not folded into the weights, weights not centred "
        "(TransformerLens's from_pretrained_no_processing); masked attention scores are -inf";
    put_meta(b, "hook_names", hooks, sizeof hooks - 1);
    put_meta(b, "values", values, sizeof values - 1);
    const char *bd = info->batch_dim ? "a leading batch dimension of 1 on every tensor ([1, pos, ...])"
                                     : "none: tensors start at the position dimension ([pos, ...])";
    put_meta(b, "batch_dim", bd, strlen(bd));
    PUT_LIT(b, "}");
}

/* JSON header: metadata, tokens, then entries at consecutive offsets. */
static char *build_header(gb_ctx *ctx, const entry *es, int n, const trace_info *info, size_t *hlen) {
    sbuf b = {0};
    const char *lead = info->batch_dim ? "1," : "";
    PUT_LIT(&b, "{");
    put_metadata(&b, ctx, info);
    size_t tok_bytes = (size_t)gb_num_tokens(ctx) * 4, off = tok_bytes;
    PUT_LIT(&b, ",\"tokens\":{\"dtype\":\"I32\",\"shape\":[");
    put(&b, lead, strlen(lead));
    putf(&b, "%lld],\"data_offsets\":[0,", gb_num_tokens(ctx));
    putf(&b, "%lld]}", (long long)tok_bytes);
    for (int i = 0; i < n; i++) {
        const gb_shape *s = &es[i].shape;
        PUT_LIT(&b, ",");
        put_json_string(&b, es[i].name, strlen(es[i].name));
        PUT_LIT(&b, ":{\"dtype\":\"F32\",\"shape\":[");
        put(&b, lead, strlen(lead));
        for (int d = 0; d < s->ndim; d++) putf(&b, d ? ",%lld" : "%lld", s->shape[d]);
        putf(&b, "],\"data_offsets\":[%lld,", (long long)off);
        putf(&b, "%lld]}", (long long)(off + s->numel * 4));
        off += s->numel * 4;
    }
    PUT_LIT(&b, "}");
    while (!b.oom && b.len % 8) PUT_LIT(&b, " "); /* keeps the data section 8-byte aligned */
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *hlen = b.len;
    return b.p;
}

static gb_status write_all(gb_ctx *ctx, FILE *f, const entry *es, int n, const char *hdr,
                           size_t hlen) {
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    fwrite(len8, 1, 8, f);
    fwrite(hdr, 1, hlen, f);
    fwrite(gb_tokens(ctx), 4, (size_t)gb_num_tokens(ctx), f);
    gb_status s = GB_OK;
    for (int i = 0; i < n && !s; i++) {
        float *buf = malloc(es[i].shape.numel * sizeof(float) + 1);
        if (!buf) return gb_report_error(ctx, GB_E_OOM, "out of memory writing the trace");
        s = gb_activation_copy(ctx, es[i].hook, es[i].layer, buf, es[i].shape.numel);
        if (!s) fwrite(buf, sizeof(float), es[i].shape.numel, f);
        free(buf);
    }
    return s;
}

gb_status cli_write_trace(gb_ctx *ctx, const char *path, const trace_info *info) {
    int n = 0;
    size_t hlen = 0;
    entry *es = list_entries(ctx, &n);
    char *hdr = es ? build_header(ctx, es, n, info, &hlen) : NULL;
    if (!hdr) { free(es); return gb_report_error(ctx, GB_E_OOM, "out of memory writing the trace"); }
    FILE *f = fopen(path, "wb");
    gb_status s;
    if (!f) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s: cannot write: %s", path, strerror(errno));
        s = gb_report_error(ctx, GB_E_IO, msg);
    } else {
        s = write_all(ctx, f, es, n, hdr, hlen);
        if (fclose(f) != 0 && !s) s = gb_report_error(ctx, GB_E_IO, "trace: write failed (disk full?)");
    }
    free(hdr);
    free(es);
    return s;
}
