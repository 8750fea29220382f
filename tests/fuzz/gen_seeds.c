/* gen_seeds.c — writes the seed corpora of every fuzz target from valid small
 * files: the synth model (config.json, model.safetensors in F32, F16 and
 * BF16), the small byte-level vocabulary with merges (as vocab.json +
 * merges.txt and as tokenizer.json), texts for the tokenizer and sampling
 * parameters. Usage: gen_seeds OUT_DIR (one subdirectory per target). */
#include <errno.h>
#include <math.h>
#include <sys/stat.h>

#include "fuzz_util.h"

static const char *out_dir;

static void put(const char *target, const char *name, const void *p, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", out_dir, target);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) { perror(path); exit(1); }
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) { perror(path); exit(1); }
    fclose(f);
}
static void put_s(const char *target, const char *name, const char *s) { put(target, name, s, strlen(s)); }

/* The same checkpoint with every F32 tensor stored as F16 or BF16 (keeps the
 * header length by padding the JSON with spaces, as safetensors allows). */
static uint8_t *convert(const synth_model *m, const char *dt, size_t *out_len) {
    size_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | m->st[i];
    char *h = fz_strdup_n((const char *)m->st + 8, hl), *nh = malloc(2 * hl + 64);
    size_t nl = 0;
    /* rewrite "F32" and halve every data offset */
    for (size_t i = 0; i < hl;) {
        if (strncmp(h + i, "\"F32\"", 5) == 0) { nl += (size_t)sprintf(nh + nl, "\"%s\"", dt); i += 5; continue; }
        if (strncmp(h + i, "\"data_offsets\":[", 16) == 0) {
            unsigned long a, b;
            int used;
            sscanf(h + i + 16, "%lu,%lu]%n", &a, &b, &used);
            nl += (size_t)sprintf(nh + nl, "\"data_offsets\":[%lu,%lu]", a / 2, b / 2);
            i += 16 + (size_t)used;
            continue;
        }
        nh[nl++] = h[i++];
    }
    size_t data = m->st_len - 8 - hl, n = data / 4;
    *out_len = 8 + nl + 2 * n;
    uint8_t *b = malloc(*out_len);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)nl >> (8 * i));
    memcpy(b + 8, nh, nl);
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, m->st + 8 + hl + 4 * i, 4);
        uint16_t v;
        if (dt[0] == 'B') v = (uint16_t)(bits >> 16);
        else { /* F16 of a value in [-0.5, 0.5): normal or zero, truncated */
            uint32_t sign = (bits >> 16) & 0x8000, e = (bits >> 23) & 0xff, man = bits & 0x7fffff;
            v = (uint16_t)(e < 113 ? sign : sign | ((e - 112) << 10) | (man >> 13));
        }
        b[8 + nl + 2 * i] = (uint8_t)v;
        b[8 + nl + 2 * i + 1] = (uint8_t)(v >> 8);
    }
    free(h); free(nh);
    return b;
}

/* tokenizer.json for the small vocabulary: the same vocab object, merges as strings. */
static char *tokenizer_json(const char *vocab, size_t vl, const char *merges, size_t ml, size_t *out_len) {
    char *t = malloc(vl + 2 * ml + 512);
    size_t n = (size_t)sprintf(t, "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":%d,\"content\":\"<|endoftext|>\","
                               "\"special\":true}],\"model\":{\"type\":\"BPE\",\"vocab\":", 256 + FZ_N_MERGES - 1);
    memcpy(t + n, vocab, vl);
    n += vl;
    n += (size_t)sprintf(t + n, ",\"merges\":[");
    int first = 1;
    for (size_t i = 0; i < ml;) {
        const char *nl = memchr(merges + i, '\n', ml - i);
        size_t end = nl ? (size_t)(nl - merges) : ml;
        if (merges[i] != '#' && end > i) {
            if (!first) t[n++] = ',';
            first = 0;
            t[n++] = '"';
            for (size_t j = i; j < end; j++) {
                if (merges[j] == '"' || merges[j] == '\\') t[n++] = '\\';
                t[n++] = merges[j];
            }
            t[n++] = '"';
        }
        i = end + 1;
    }
    n += (size_t)sprintf(t + n, "]}}");
    *out_len = n;
    return t;
}

static void model_seeds(void) {
    synth_model m;
    fz_model_make(&m, 1, 2, 8, 4, 256 + FZ_N_MERGES); /* n_embd 8: every matrix packs */
    fz_small_vocab(&m.vocab, &m.vocab_len, &m.merges, &m.merges_len);
    size_t tl, n;
    char *tj = tokenizer_json(m.vocab, m.vocab_len, m.merges, m.merges_len, &tl);
    fz_part f[5] = {{(uint8_t *)m.config, m.config_len}, {m.st, m.st_len}, {(uint8_t *)m.vocab, m.vocab_len},
                    {(uint8_t *)m.merges, m.merges_len}, {NULL, 0}};
    uint8_t *j = fz_join(f, 5, &n);
    put("model_load", "vocab_merges", j, n);
    free(j);
    fz_part g[5] = {f[0], f[1], {NULL, 0}, {NULL, 0}, {(uint8_t *)tj, tl}};
    j = fz_join(g, 5, &n);
    put("model_load", "tokenizer_json", j, n);
    free(j);
    const char *dts[2] = {"F16", "BF16"};
    for (int d = 0; d < 2; d++) {
        size_t cl;
        uint8_t *c = convert(&m, dts[d], &cl);
        fz_part h[5] = {f[0], {c, cl}, f[2], f[3], {NULL, 0}};
        j = fz_join(h, 5, &n);
        put("model_load", dts[d], j, n);
        put("safetensors", dts[d], c, cl);
        free(j); free(c);
    }
    put("safetensors", "F32", m.st, m.st_len);
    put("config", "small", m.config, m.config_len);
    put("json", "config", m.config, m.config_len);
    put("json", "vocab", m.vocab, m.vocab_len);
    put("json", "tokenizer", tj, tl);
    size_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | m.st[i];
    put("json", "st_header", m.st + 8, hl);
    /* tokenizer_load: mode byte, then the parts */
    fz_part t0[2] = {{(uint8_t *)m.vocab, m.vocab_len}, {(uint8_t *)m.merges, m.merges_len}};
    j = fz_join(t0, 2, &n);
    uint8_t *k = malloc(n + 1);
    k[0] = 0; memcpy(k + 1, j, n);
    put("tokenizer_load", "vocab_merges", k, n + 1);
    free(j); free(k);
    k = malloc(tl + 1);
    k[0] = 1; memcpy(k + 1, tj, tl);
    put("tokenizer_load", "tokenizer_json", k, tl + 1);
    free(k);
    k = malloc(m.merges_len + 1);
    k[0] = 2; memcpy(k + 1, m.merges, m.merges_len);
    put("tokenizer_load", "merges_only", k, m.merges_len + 1);
    free(k);
    free(tj);
    synth_free(&m);
    /* the real GPT-2 config and a few valid variants */
    put_s("config", "gpt2", "{\"activation_function\":\"gelu_new\",\"architectures\":[\"GPT2LMHeadModel\"],"
          "\"attn_pdrop\":0.1,\"bos_token_id\":50256,\"embd_pdrop\":0.1,\"eos_token_id\":50256,"
          "\"initializer_range\":0.02,\"layer_norm_epsilon\":1e-05,\"model_type\":\"gpt2\",\"n_ctx\":1024,"
          "\"n_embd\":768,\"n_head\":12,\"n_layer\":12,\"n_positions\":1024,\"resid_pdrop\":0.1,"
          "\"summary_activation\":null,\"summary_first_dropout\":0.1,\"summary_proj_to_labels\":true,"
          "\"summary_type\":\"cls_index\",\"summary_use_proj\":true,\"task_specific_params\":{\"text-generation\":"
          "{\"do_sample\":true,\"max_length\":50}},\"vocab_size\":50257}");
    put_s("config", "n_ctx_inner", "{\"n_layer\":2,\"n_head\":4,\"n_embd\":64,\"n_ctx\":128,\"vocab_size\":300,"
          "\"n_inner\":100,\"activation_function\":\"gelu\",\"scale_attn_by_inverse_layer_idx\":true,"
          "\"scale_attn_weights\":false,\"add_cross_attention\":false}");
}

static void json_seeds(void) {
    put_s("json", "escapes", "[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\",\"\\u00e9\\u20ac\\ud83d\\ude00\\u0000\",\"\xc3\xa9\xf0\x9f\x98\x80\"]");
    put_s("json", "numbers", "[0,-0,1.5,-2.25e-3,1E+10,123456789012345678901234567890,1e308,5e-324,-1]");
    put_s("json", "nested", "{\"a\":{\"b\":[[[{}]],[],{\"c\":null}]},\"a\":true,\"d\":false,\"\":\"\"}");
    put_s("json", "ws", " \t\r\n{ \"k\" : [ 1 , 2 ] } \n");
}

static void tokenize_seeds(void) {
    put_s("tokenize", "english", "Hello world! It's the 123rd time, isn't it? They'll say we'd've done it.");
    put_s("tokenize", "spaces", "a  b   c\t\t d \n\n\n  e\r\n \xc2\x85\xc2\xa0x\xe3\x80\x80y   ");
    put_s("tokenize", "unicode", "caf\xc3\xa9 na\xc3\xafve \xe2\x80\x99s \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
          "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d \xd9\xa3\xd9\xa4 \xe2\x85\xa7 \xef\xbb\xbf");
    put_s("tokenize", "invalid_utf8", "\xff\xfe\xc0\xaf\xed\xa0\x80 \xe2\x82 a\x80" "b \xf4\x90\x80\x80");
    put_s("tokenize", "runs", "aaaaaaaaaaaaa abababab xyxyxyxy bbbbbb 1234567890 !!!??? <|endoftext|>");
    put("tokenize", "bytes", "\0\x01\x02\x7f\x80 \0 \x1b[0m", 14);
}

static void sample_seeds(void) {
    struct { float t; int32_t k; float p; int mode; } cases[] = {
        {1, 0, 1, 0}, {0, 0, 1, 0}, {0.7f, 40, 0.9f, 0}, {1, 1, 1, 1}, {2, 5, 0.5f, 1}, {1e-3f, 0, 1e-3f, 0},
        {NAN, 0, 1, 0}, {INFINITY, 0, 1, 0}, {-1, 0, 1, 0}, {1, -1, 1, 0}, {1, 0, 0, 0}, {1, 0, 1.5f, 0},
        {1, 2147483647, 1, 0}, {1, 0, NAN, 0}, {1e-40f, 0, 1, 1}, {1, 300, 0.999f, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t b[21 + 16];
        uint64_t seed = 12345 + i;
        memcpy(b, &cases[i].t, 4); memcpy(b + 4, &cases[i].k, 4); memcpy(b + 8, &cases[i].p, 4);
        memcpy(b + 12, &seed, 8);
        b[20] = (uint8_t)cases[i].mode;
        float l[4] = {1.5f, -2.0f, 1.5f, 30.0f};
        if (cases[i].mode) memcpy(b + 21, l, 16);
        else memcpy(b + 21, "Hello, world!!!!", 16);
        char name[32];
        snprintf(name, sizeof name, "params%02zu", i);
        put("sample", name, b, sizeof b);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: gen_seeds OUT_DIR\n"); return 2; }
    out_dir = argv[1];
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) { perror(out_dir); return 1; }
    model_seeds();
    json_seeds();
    tokenize_seeds();
    sample_seeds();
    return 0;
}
