/* main.c — the `glassbox` command-line tool: tokenize, trace, generate.
 *
 *   glassbox tokenize --model DIR [--pieces] (TEXT | - | --prompt-file FILE)
 *   glassbox trace    --model DIR (--tokens 1,2,3 | --prompt TEXT | ...) --out FILE [--batch-dim]
 *   glassbox generate --model DIR (--prompt TEXT | --tokens LIST | --ids LIST | ...) [-n N]
 *                     [--temperature T] [--top-k K] [--top-p P] [--seed S] [--ids]
 *
 * The command line is parsed and checked in args.c (usage errors exit 2);
 * everything the model or the engine refuses comes back as the engine's
 * one-line message and exit status 1. `glassbox COMMAND --help` for more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "fileio.h"
#include "glassbox.h"
#include "trace.h"

static int fail(gb_ctx *ctx) {
    fprintf(stderr, "glassbox: %s\n", gb_error_message(ctx));
    return EXIT_REFUSED;
}

/* The prompt's text (caller frees): --prompt, TEXT, or read from
 * --prompt-file / '-' (standard input). NULL with the error in ctx. */
static char *prompt_text(gb_ctx *ctx, const cli_options *o, size_t *len) {
    const char *file = o->prompt_file ? o->prompt_file : o->text && !strcmp(o->text, "-") ? "-" : NULL;
    if (file) {
        char err[4400];
        uint8_t *b = !strcmp(file, "-") ? cli_read_stream(stdin, "standard input", len, err, sizeof err)
                                        : cli_read_file(file, len, err, sizeof err);
        if (!b) gb_report_error(ctx, GB_E_IO, err);
        return (char *)b;
    }
    const char *t = o->prompt ? o->prompt : o->text;
    *len = strlen(t);
    char *copy = malloc(*len + 1);
    if (copy) memcpy(copy, t, *len + 1);
    else gb_report_error(ctx, GB_E_OOM, "out of memory");
    return copy;
}

/* "1,2,3" into ids (caller frees). */
static int32_t *parse_ids(gb_ctx *ctx, const char *list, int *n) {
    size_t cap = strlen(list) / 2 + 1;
    int32_t *ids = malloc(sizeof *ids * cap);
    const char *p = list;
    *n = 0;
    while (ids && *p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || (*end && *end != ',') || v < 0 || v > 0x7fffffff || *p == '-' || *p == '+') {
            gb_report_error(ctx, GB_E_ARG, "token ids must be comma-separated non-negative integers, as 464,3290,286");
            free(ids);
            return NULL;
        }
        ids[(*n)++] = (int32_t)v;
        p = *end ? end + 1 : end;
    }
    if (ids && *n == 0) {
        gb_report_error(ctx, GB_E_ARG, "no token ids given");
        free(ids);
        return NULL;
    }
    return ids;
}

/* The prompt as ids: --tokens / --ids, or the text tokenized (caller frees).
 * *text (may be NULL) gets the text, or NULL when ids were given. */
static int32_t *prompt_ids(gb_ctx *ctx, const cli_options *o, int *n, char **text) {
    if (text) *text = NULL;
    if (o->tokens) return parse_ids(ctx, o->tokens, n);
    size_t len;
    char *t = prompt_text(ctx, o, &len);
    int32_t *ids = t ? malloc(sizeof *ids * (len + 1)) : NULL;
    if (t && !ids) gb_report_error(ctx, GB_E_OOM, "out of memory");
    if (ids && gb_tokenize(ctx, t, len, ids, NULL, (int)len + 1, n) != GB_OK) {
        free(ids);
        ids = NULL;
    }
    if (ids && text) *text = t;
    else free(t);
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

static int cmd_tokenize(gb_ctx *ctx, const cli_options *o) {
    int n;
    int32_t *ids = prompt_ids(ctx, o, &n, NULL);
    if (!ids) return fail(ctx);
    for (int i = 0; i < n; i++) {
        if (o->pieces) print_piece(ctx, ids[i]);
        else printf(i ? " %d" : "%d", ids[i]);
    }
    if (!o->pieces) putchar('\n');
    free(ids);
    return EXIT_OK;
}

static int cmd_trace(gb_ctx *ctx, const cli_options *o) {
    int n;
    char *text;
    int32_t *ids = prompt_ids(ctx, o, &n, &text);
    trace_info info = {o->model, text, o->batch_dim};
    int rc = !ids || gb_set_tokens(ctx, ids, n) || gb_run_all(ctx) || cli_write_trace(ctx, o->out, &info);
    free(ids);
    free(text);
    return rc ? fail(ctx) : EXIT_OK;
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

static int cmd_generate(gb_ctx *ctx, const cli_options *o) {
    int n;
    int32_t *ids = prompt_ids(ctx, o, &n, NULL);
    if (!ids || gb_set_tokens(ctx, ids, n)) { free(ids); return fail(ctx); }
    free(ids);
    /* every new token but the last is appended: check the context first,
     * rather than fail after printing part of the text */
    int ctx_len = gb_get_config(ctx)->n_positions;
    if (o->n > 0 && (long)n + o->n - 1 > ctx_len) {
        char msg[200];
        snprintf(msg, sizeof msg, "%d prompt tokens + %ld new exceed the model's context of %d positions; lower -n",
                 n, o->n, ctx_len);
        gb_report_error(ctx, GB_E_RANGE, msg);
        return fail(ctx);
    }
    int as_ids = o->ids_out || !gb_has_tokenizer(ctx); /* without a tokenizer, ids are all there is */
    gb_seed(ctx, o->seed);
    gb_sample_params p = {(float)o->temperature, (int)o->top_k, (float)o->top_p};
    for (long i = 0; i < o->n; i++) {
        gb_sample_trace tr;
        if (gb_run_all(ctx) || gb_sample(ctx, &p, &tr)) return fail(ctx);
        if (print_token(ctx, tr.token, as_ids)) return fail(ctx);
        if (i + 1 < o->n && gb_append_tokens(ctx, &tr.token, 1)) return fail(ctx);
    }
    if (!as_ids) putchar('\n');
    return EXIT_OK;
}

int cli_cmd_patch(int argc, char **argv);     /* cmd_patch.c */
int cli_cmd_attribute(int argc, char **argv); /* cmd_attribute.c */

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "patch")) return cli_cmd_patch(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "attribute")) return cli_cmd_attribute(argc, argv);
    cli_options o;
    int rc = cli_parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    gb_ctx *ctx = gb_create();
    if (!ctx) { fputs("glassbox: out of memory\n", stderr); return EXIT_REFUSED; }
    if (cli_load_model_dir(ctx, o.model)) rc = fail(ctx);
    else if (o.cmd == CMD_TOKENIZE) rc = cmd_tokenize(ctx, &o);
    else if (o.cmd == CMD_TRACE) rc = cmd_trace(ctx, &o);
    else rc = cmd_generate(ctx, &o);
    gb_destroy(ctx);
    return rc;
}
