/* test_default_model.c — the default model (models/default) through Glassbox's
 * own engine gives PyTorch's loss.
 *
 * models/train.py wrote models/default/eval_sample.safetensors: 8 windows of
 * 256 validation tokens ("tokens", I32 [8,256]), PyTorch's mean next-token
 * cross-entropy over them ("loss", F32 [1], from the saved F16 weights in
 * float32/float64) and the per-window means ("window_loss", F32 [8]), plus
 * "prompt_ids" (I32) / "prompt_lens" (I32 [4]): the Hugging Face tokenizer's
 * ids of the four sample prompts. This test loads the model directory with
 * cli_load_model_dir, runs each window (gb_set_tokens, gb_run_all), reads
 * "logits" and recomputes the mean cross-entropy: it must agree within 1e-3
 * nats. It also checks that gb_tokenize gives the prompts' ids.
 *
 * The directory can be overridden with GLASSBOX_DEFAULT_MODEL (run from the
 * repository root otherwise, as build.sh does).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fileio.h"
#include "glassbox.h"

#define TOLERANCE 1e-3

/* ---------------------------------------------------------------- a minimal safetensors reader
 * Enough for the file this test's own pipeline writes: finds a tensor's entry
 * in the JSON header by name and reads dtype, shape and data_offsets. */
typedef struct {
    const uint8_t *buf;
    size_t len;
    const char *header; /* not NUL-terminated */
    size_t header_len;
    const uint8_t *data;
    size_t data_len;
} st_file;

typedef struct {
    char dtype[8];
    int ndim;
    long shape[4];
    size_t begin, end;
} st_entry;

static int st_open(st_file *f, const uint8_t *buf, size_t len) {
    if (len < 8) return 0;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | buf[i];
    if (n > len - 8) return 0;
    f->buf = buf;
    f->len = len;
    f->header = (const char *)buf + 8;
    f->header_len = (size_t)n;
    f->data = buf + 8 + n;
    f->data_len = len - 8 - (size_t)n;
    return 1;
}

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')) p++;
    return p;
}

/* Finds `"name"` followed by ':' and '{' in the header; fills e. */
static int st_find(const st_file *f, const char *name, st_entry *e) {
    char key[128];
    int kl = snprintf(key, sizeof key, "\"%s\"", name);
    if (kl <= 0 || (size_t)kl >= sizeof key) return 0;
    const char *end = f->header + f->header_len;
    for (const char *p = f->header; p + kl <= end; p++) {
        if (memcmp(p, key, (size_t)kl) != 0) continue;
        const char *q = skip_ws(p + kl, end);
        if (q >= end || *q != ':') continue;
        q = skip_ws(q + 1, end);
        if (q >= end || *q != '{') continue;
        const char *close = memchr(q, '}', (size_t)(end - q));
        if (!close) return 0;
        memset(e, 0, sizeof *e);
        int have_dtype = 0, have_shape = 0, have_offsets = 0;
        for (const char *r = q; r < close; r++) {
            if (r + 7 <= close && memcmp(r, "\"dtype\"", 7) == 0) {
                const char *s = memchr(r + 7, '"', (size_t)(close - r - 7));
                if (!s) return 0;
                const char *t = memchr(s + 1, '"', (size_t)(close - s - 1));
                if (!t || t - s - 1 >= (long)sizeof e->dtype) return 0;
                memcpy(e->dtype, s + 1, (size_t)(t - s - 1));
                have_dtype = 1;
            } else if (r + 7 <= close && memcmp(r, "\"shape\"", 7) == 0) {
                const char *s = memchr(r, '[', (size_t)(close - r));
                if (!s) return 0;
                s++;
                while (s < close && *s != ']') {
                    s = skip_ws(s, close);
                    if (*s == ']') break;
                    if (e->ndim >= 4) return 0;
                    char *stop;
                    e->shape[e->ndim++] = strtol(s, &stop, 10);
                    if (stop == s) return 0;
                    s = skip_ws(stop, close);
                    if (*s == ',') s++;
                }
                have_shape = 1;
            } else if (r + 14 <= close && memcmp(r, "\"data_offsets\"", 14) == 0) {
                const char *s = memchr(r, '[', (size_t)(close - r));
                if (!s) return 0;
                char *stop;
                e->begin = (size_t)strtoull(s + 1, &stop, 10);
                s = skip_ws(stop, close);
                if (*s != ',') return 0;
                e->end = (size_t)strtoull(s + 1, &stop, 10);
                have_offsets = 1;
            }
        }
        if (!have_dtype || !have_shape || !have_offsets) return 0;
        if (e->begin > e->end || e->end > f->data_len) return 0;
        return 1;
    }
    return 0;
}

static size_t entry_numel(const st_entry *e) {
    size_t n = 1;
    for (int i = 0; i < e->ndim; i++) n *= (size_t)e->shape[i];
    return n;
}

static int read_i32(const st_file *f, const st_entry *e, int32_t *out, size_t cap) {
    size_t n = entry_numel(e);
    if (strcmp(e->dtype, "I32") != 0 || n > cap || e->end - e->begin != n * 4) return 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *b = f->data + e->begin + 4 * i;
        out[i] = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                           (uint32_t)b[3] << 24);
    }
    return 1;
}

static int read_f32(const st_file *f, const st_entry *e, float *out, size_t cap) {
    size_t n = entry_numel(e);
    if (strcmp(e->dtype, "F32") != 0 || n > cap || e->end - e->begin != n * 4) return 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *b = f->data + e->begin + 4 * i;
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                     (uint32_t)b[3] << 24;
        memcpy(&out[i], &u, 4);
    }
    return 1;
}

/* ---------------------------------------------------------------- the test */
static const char *PROMPTS[4] = {"The president of the", "She opened the door and",
                                 "In the morning", "The ship"};

static void check_prompts(gb_ctx *ctx, const st_file *f) {
    st_entry ei, el;
    int32_t ids[256], lens[4];
    if (!st_find(f, "prompt_ids", &ei) || !st_find(f, "prompt_lens", &el) ||
        !read_i32(f, &ei, ids, 256) || !read_i32(f, &el, lens, 4)) {
        CHECK(0, "eval_sample.safetensors: prompt_ids / prompt_lens missing or malformed");
        return;
    }
    int off = 0;
    for (int p = 0; p < 4; p++) {
        int32_t got[64];
        int n = 0;
        gb_status st = gb_tokenize(ctx, PROMPTS[p], strlen(PROMPTS[p]), got, NULL, 64, &n);
        CHECK(st == GB_OK, "gb_tokenize(%s): %s", PROMPTS[p], gb_error_message(ctx));
        int same = st == GB_OK && n == lens[p] && off + n <= 256 &&
                   memcmp(got, ids + off, (size_t)n * sizeof *got) == 0;
        CHECK(same, "gb_tokenize(\"%s\") differs from the Hugging Face tokenizer's ids",
              PROMPTS[p]);
        off += lens[p];
    }
}

int main(void) {
    const char *dir = getenv("GLASSBOX_DEFAULT_MODEL");
    if (!dir || !*dir) dir = "models/default";
    char path[4096], err[600] = "";
    snprintf(path, sizeof path, "%s/eval_sample.safetensors", dir);
    size_t len = 0;
    uint8_t *buf = cli_read_file(path, &len, err, sizeof err);
    CHECK(buf != NULL, "%s", err);
    if (!buf) return CHECK_DONE("test_default_model");

    st_file f;
    st_entry et, el, ew;
    int ok = st_open(&f, buf, len) && st_find(&f, "tokens", &et) && st_find(&f, "loss", &el) &&
             et.ndim == 2 && strcmp(et.dtype, "I32") == 0;
    CHECK(ok, "%s: not the expected safetensors layout (tokens I32 [W,T], loss F32)", path);
    if (!ok) {
        free(buf);
        return CHECK_DONE("test_default_model");
    }
    int W = (int)et.shape[0], T = (int)et.shape[1];
    int32_t *tokens = malloc(sizeof *tokens * (size_t)W * (size_t)T);
    float ref_loss = NAN, window_ref[64];
    int have_windows = W <= 64 && st_find(&f, "window_loss", &ew) &&
                       read_f32(&f, &ew, window_ref, 64);
    ok = tokens && read_i32(&f, &et, tokens, (size_t)W * (size_t)T) &&
         read_f32(&f, &el, &ref_loss, 1);
    CHECK(ok, "%s: cannot read tokens / loss", path);

    gb_ctx *ctx = gb_create();
    CHECK(ctx != NULL, "gb_create failed");
    gb_status st = ok && ctx ? cli_load_model_dir(ctx, dir) : GB_E_STATE;
    CHECK(st == GB_OK, "loading %s: %s", dir, ctx ? gb_error_message(ctx) : "no context");
    if (st == GB_OK) {
        const gb_config *cfg = gb_get_config(ctx);
        int V = cfg->vocab_size;
        CHECK(cfg->n_positions >= T, "n_positions %d < window %d", cfg->n_positions, T);
        int layer = 0;
        int hook = gb_hook_find("logits", &layer);
        CHECK(hook >= 0, "gb_hook_find(\"logits\") failed");
        double total = 0;
        long count = 0;
        int run_ok = hook >= 0 && cfg->n_positions >= T;
        for (int w = 0; run_ok && w < W; w++) {
            const int32_t *x = tokens + (size_t)w * (size_t)T;
            st = gb_set_tokens(ctx, x, T);
            if (st == GB_OK) st = gb_run_all(ctx);
            const float *lg = NULL;
            gb_shape sh;
            if (st == GB_OK) st = gb_activation_data(ctx, hook, layer, &lg, &sh);
            CHECK(st == GB_OK, "window %d: %s", w, gb_error_message(ctx));
            if (st != GB_OK) {
                run_ok = 0;
                break;
            }
            CHECK(sh.ndim == 2 && sh.shape[0] == T && sh.shape[1] == V && sh.dense,
                  "logits shape [%d,%d] (ndim %d), expected [%d,%d]", sh.shape[0], sh.shape[1],
                  sh.ndim, T, V);
            if (!(sh.ndim == 2 && sh.shape[0] == T && sh.shape[1] == V)) {
                run_ok = 0;
                break;
            }
            double wsum = 0;
            int bad_targets = 0;
            for (int t = 0; t + 1 < T; t++) {
                const float *row = lg + (size_t)t * (size_t)V;
                double mx = row[0];
                for (int v = 1; v < V; v++) mx = row[v] > mx ? row[v] : mx;
                double se = 0;
                for (int v = 0; v < V; v++) se += exp((double)row[v] - mx);
                int target = x[t + 1];
                if (target < 0 || target >= V) {
                    bad_targets++;
                    continue;
                }
                wsum += mx + log(se) - (double)row[target];
            }
            CHECK(bad_targets == 0, "window %d: %d target ids outside [0, %d)", w, bad_targets, V);
            total += wsum;
            count += T - 1;
            if (have_windows) {
                double wl = wsum / (T - 1);
                CHECK(fabs(wl - window_ref[w]) <= TOLERANCE,
                      "window %d: loss %.6f, PyTorch %.6f", w, wl, (double)window_ref[w]);
            }
        }
        if (run_ok && count > 0) {
            double mean = total / (double)count;
            printf("default model: mean cross-entropy %.6f nats over %ld predictions; "
                   "PyTorch %.6f; |diff| %.2e\n", mean, count, (double)ref_loss,
                   fabs(mean - (double)ref_loss));
            CHECK(fabs(mean - (double)ref_loss) <= TOLERANCE,
                  "mean cross-entropy %.6f differs from PyTorch's %.6f by more than %g", mean,
                  (double)ref_loss, TOLERANCE);
        }
        check_prompts(ctx, &f);
    }
    gb_destroy(ctx);
    free(tokens);
    free(buf);
    return CHECK_DONE("test_default_model");
}
