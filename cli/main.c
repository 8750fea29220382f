/* main.c — the `glassbox` command-line tool: tokenize, trace, generate.
 *
 *   glassbox tokenize --model DIR [--pieces] TEXT
 *   glassbox trace    --model DIR (--prompt TEXT | --tokens 1,2,3) --out FILE.safetensors
 *   glassbox generate --model DIR --prompt TEXT -n N [--temperature T] [--top-k K]
 *                     [--top-p P] [--seed S] [--ids]
 *
 * All engine errors come back as a one-line message and exit status 1;
 * usage errors exit with 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "glassbox.h"
#include "pool.h"
#include "trace.h"

typedef struct {
    const char *cmd, *model, *prompt, *tokens, *out, *text;
    int n, top_k, pieces, ids, threads;
    float temperature, top_p;
    unsigned long long seed;
} options;

static void usage(FILE *f) {
    fputs("usage:\n"
          "  glassbox tokenize --model DIR [--pieces] TEXT\n"
          "      print the token ids of TEXT, space-separated (--pieces: one token per line\n"
          "      with its id and text)\n"
          "  glassbox trace --model DIR (--prompt TEXT | --tokens 1,2,3) --out FILE.safetensors\n"
          "      run the model and write every activation (F32, TransformerLens hook names)\n"
          "  glassbox generate --model DIR --prompt TEXT -n N [--temperature T] [--top-k K]\n"
          "                    [--top-p P] [--seed S] [--ids]\n"
          "      print the continuation (defaults: temperature 0.8, top-k 0 = off,\n"
          "      top-p 1 = off, seed 1; temperature 0 is greedy; --ids prints token ids)\n"
          "\nEvery command takes --threads N (default 1): the forward pass on N threads,\n"
          "with the same results for any N.\n"
          "\nDIR is a Hugging Face GPT-2 directory: config.json, model.safetensors and\n"
          "vocab.json + merges.txt or tokenizer.json.\n",
          f);
}

static int bad_usage(const char *msg, const char *arg) {
    fprintf(stderr, "glassbox: %s%s%s\n(run 'glassbox --help' for usage)\n", msg, arg ? ": " : "",
            arg ? arg : "");
    return 2;
}

static int parse_number(const char *s, double *out) {
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return errno == 0 && end != s && *end == 0;
}

static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->temperature = 0.8f; o->top_p = 1.0f; o->seed = 1; o->n = 20; o->threads = 1;
    if (argc < 2) return bad_usage("missing command", NULL);
    o->cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        int takes = 1;
        if (!strcmp(a, "--pieces")) { o->pieces = 1; takes = 0; }
        else if (!strcmp(a, "--ids")) { o->ids = 1; takes = 0; }
        else if (a[0] != '-' || !strcmp(a, "-")) { o->text = a; takes = 0; }
        else if (!v) return bad_usage("missing value after", a);
        else if (!strcmp(a, "--model")) o->model = v;
        else if (!strcmp(a, "--prompt")) o->prompt = v;
        else if (!strcmp(a, "--tokens")) o->tokens = v;
        else if (!strcmp(a, "--out")) o->out = v;
        else if (!parse_number(v, &x)) return bad_usage("expected a number after", a);
        else if (!strcmp(a, "-n")) o->n = (int)x;
        else if (!strcmp(a, "--temperature")) o->temperature = (float)x;
        else if (!strcmp(a, "--top-k")) o->top_k = (int)x;
        else if (!strcmp(a, "--top-p")) o->top_p = (float)x;
        else if (!strcmp(a, "--seed")) o->seed = (unsigned long long)x;
        else if (!strcmp(a, "--threads")) {
            if (x < 1 || x > 256 || x != (int)x) return bad_usage("--threads takes 1..256", v);
            o->threads = (int)x;
        }
        else return bad_usage("unknown option", a);
        i += takes;
    }
    if (!o->model) return bad_usage("--model DIR is required", NULL);
    return 0;
}

static int fail(gb_ctx *ctx) {
    fprintf(stderr, "glassbox: %s\n", gb_error_message(ctx));
    return 1;
}

/* Tokens from --tokens "1,2,3" or by tokenizing --prompt. Caller frees. */
static int32_t *get_tokens(gb_ctx *ctx, const options *o, int *n) {
    if (o->tokens) {
        size_t cap = strlen(o->tokens) / 2 + 1;
        int32_t *ids = malloc(sizeof *ids * cap);
        const char *p = o->tokens;
        *n = 0;
        while (ids && *p) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p || (*end && *end != ',') || v < 0 || v > 0x7fffffff) {
                gb_report_error(ctx, GB_E_ARG, "--tokens must be comma-separated non-negative integers");
                free(ids);
                return NULL;
            }
            ids[(*n)++] = (int32_t)v;
            p = *end ? end + 1 : end;
        }
        return ids;
    }
    const char *text = o->prompt ? o->prompt : o->text;
    if (!text) { gb_report_error(ctx, GB_E_ARG, "give --prompt TEXT or --tokens 1,2,3"); return NULL; }
    size_t len = strlen(text);
    int32_t *ids = malloc(sizeof *ids * (len + 1));
    if (!ids || gb_tokenize(ctx, text, len, ids, NULL, (int)len + 1, n) != GB_OK) { free(ids); return NULL; }
    return ids;
}

static void print_piece(gb_ctx *ctx, int32_t id) {
    const char *b;
    size_t len;
    if (gb_token_bytes(ctx, id, &b, &len) != GB_OK) return;
    printf("%d\t", id);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
    putchar('\n');
}

static int cmd_tokenize(gb_ctx *ctx, const options *o) {
    int n;
    int32_t *ids = get_tokens(ctx, o, &n);
    if (!ids) return fail(ctx);
    for (int i = 0; i < n; i++) {
        if (o->pieces) print_piece(ctx, ids[i]);
        else printf(i ? " %d" : "%d", ids[i]);
    }
    if (!o->pieces) putchar('\n');
    free(ids);
    return 0;
}

static int cmd_trace(gb_ctx *ctx, const options *o) {
    if (!o->out) return bad_usage("trace needs --out FILE.safetensors", NULL);
    int n;
    int32_t *ids = get_tokens(ctx, o, &n);
    int rc = !ids || gb_set_tokens(ctx, ids, n) || gb_run_all(ctx) || gb_write_trace(ctx, o->out);
    free(ids);
    return rc ? fail(ctx) : 0;
}

static int print_token(gb_ctx *ctx, int32_t id, int as_id) {
    if (as_id) return printf("%d\n", id) < 0;
    const char *b;
    size_t len;
    if (gb_token_bytes(ctx, id, &b, &len)) return 1;
    fwrite(b, 1, len, stdout);
    fflush(stdout);
    return 0;
}

static int cmd_generate(gb_ctx *ctx, const options *o) {
    int n;
    int32_t *ids = get_tokens(ctx, o, &n);
    if (!ids || gb_set_tokens(ctx, ids, n)) { free(ids); return fail(ctx); }
    free(ids);
    gb_seed(ctx, o->seed);
    gb_sample_params p = {o->temperature, o->top_k, o->top_p};
    for (int i = 0; i < o->n; i++) {
        gb_sample_trace tr;
        if (gb_run_all(ctx) || gb_sample(ctx, &p, &tr)) return fail(ctx);
        if (print_token(ctx, tr.token, o->ids)) return fail(ctx);
        if (i + 1 < o->n && gb_append_tokens(ctx, &tr.token, 1)) return fail(ctx);
    }
    if (!o->ids) putchar('\n');
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
        usage(stdout);
        return 0;
    }
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc;
    if (strcmp(o.cmd, "tokenize") && strcmp(o.cmd, "trace") && strcmp(o.cmd, "generate"))
        return bad_usage("unknown command", o.cmd);
    gb_ctx *ctx = gb_create();
    if (!ctx) { fputs("glassbox: out of memory\n", stderr); return 1; }
    gb_pool *pool = o.threads > 1 ? gb_pool_create(o.threads) : NULL;
    if (o.threads > 1 && !pool) { fputs("glassbox: cannot start the threads\n", stderr); gb_destroy(ctx); return 1; }
    if (pool && gb_set_parallel(ctx, gb_pool_run, pool, o.threads)) rc = fail(ctx);
    else if (gb_load_model_dir(ctx, o.model)) rc = fail(ctx);
    else if (!strcmp(o.cmd, "tokenize")) rc = cmd_tokenize(ctx, &o);
    else if (!strcmp(o.cmd, "trace")) rc = cmd_trace(ctx, &o);
    else rc = cmd_generate(ctx, &o);
    gb_destroy(ctx);
    gb_pool_destroy(pool);
    return rc;
}
