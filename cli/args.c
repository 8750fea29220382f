/* args.c — parses `glassbox`'s command line (args.h) and prints its help.
 *
 * Each command accepts only its own options (a table below). Values are
 * checked here, before the model is loaded: counts must be whole numbers in
 * range (`-n -3`, `--top-k -1` or `--seed 1e99` are usage errors, exit 2),
 * so a typo never costs a model load. `--` ends the options, so a TEXT that
 * begins with "-" can be given; a lone "-" is standard input. */
#include "args.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NEW_TOKENS 1000000L /* far beyond any context; larger is a typo */

enum { T = 1 << CMD_TOKENIZE, R = 1 << CMD_TRACE, G = 1 << CMD_GENERATE };

typedef enum {
    O_MODEL, O_PROMPT, O_PROMPT_FILE, O_TOKENS, O_IDS, O_OUT, O_PIECES, O_BATCH_DIM, O_N,
    O_TEMPERATURE, O_TOP_K, O_TOP_P, O_SEED, O_HELP
} opt_id;

static const struct {
    const char *name;
    opt_id id;
    int value;  /* 1: takes a value; 2: takes one when the next argument is an id list */
    int cmds;
} OPTS[] = {
    {"--model", O_MODEL, 1, T | R | G},
    {"--prompt", O_PROMPT, 1, T | R | G},
    {"--prompt-file", O_PROMPT_FILE, 1, T | R | G},
    {"--tokens", O_TOKENS, 1, R | G},
    {"--ids", O_IDS, 2, G},
    {"--out", O_OUT, 1, R},
    {"--pieces", O_PIECES, 0, T},
    {"--batch-dim", O_BATCH_DIM, 0, R},
    {"-n", O_N, 1, G},
    {"--temperature", O_TEMPERATURE, 1, G},
    {"--top-k", O_TOP_K, 1, G},
    {"--top-p", O_TOP_P, 1, G},
    {"--seed", O_SEED, 1, G},
    {"--help", O_HELP, 0, T | R | G},
    {"-h", O_HELP, 0, T | R | G},
};
#define N_OPTS (int)(sizeof OPTS / sizeof *OPTS)

static const char *const CMD_NAMES[] = {"", "tokenize", "trace", "generate"};

static const char EXIT_TEXT[] =
    "\nexit status: 0 done; 1 the model, an input file or the engine refused (the\n"
    "reason is one line on stderr); 2 the command line is wrong.\n";

static const char MODEL_TEXT[] =
    "DIR is a Hugging Face GPT-2 directory: config.json and model.safetensors, and\n"
    "vocab.json + merges.txt or tokenizer.json. Without tokenizer files the model\n"
    "runs on token ids (--tokens / --ids); text input then says it cannot.\n";

static const char TEXT_TEXT[] =
    "TEXT may follow '--' (so it may begin with '-'); '-' reads it from standard\n"
    "input, as does --prompt-file -.\n";

static void help(FILE *f, cli_command c) {
    switch (c) {
    case CMD_TOKENIZE:
        fputs("usage: glassbox tokenize --model DIR [--pieces] (TEXT | - | --prompt TEXT | --prompt-file FILE)\n"
              "\nPrint the token ids of TEXT, space-separated.\n"
              "  --pieces             one token per line: its id, a tab, its text (escaped)\n"
              "  --prompt-file FILE   read TEXT from FILE ('-': standard input)\n\n", f);
        fputs(TEXT_TEXT, f);
        break;
    case CMD_TRACE:
        fputs("usage: glassbox trace --model DIR (--tokens 1,2,3 | --prompt TEXT | --prompt-file FILE | TEXT)\n"
              "                      --out FILE.safetensors [--batch-dim]\n"
              "\nRun the model on the prompt and write every activation to a safetensors file:\n"
              "F32 tensors under TransformerLens HookedTransformer hook names\n"
              "(blocks.3.attn.hook_pattern, ...; the convention TransformerLens 3.0 keeps only\n"
              "in its compatibility mode and 4.0 removed), raw Hugging Face numbers (layer\n"
              "norm not folded into the weights), and 'tokens' (I32). The file's __metadata__\n"
              "says the same, with the model, the token ids, the prompt and the version.\n"
              "  --tokens LIST        comma-separated token ids instead of text\n"
              "  --batch-dim          give every tensor a leading batch dimension of 1, as\n"
              "                       TransformerLens's run_with_cache returns (default: none)\n\n", f);
        fputs(TEXT_TEXT, f);
        break;
    case CMD_GENERATE:
        fputs("usage: glassbox generate --model DIR (--prompt TEXT | --prompt-file FILE | TEXT |\n"
              "                         --tokens LIST | --ids LIST) [-n N] [--temperature T]\n"
              "                         [--top-k K] [--top-p P] [--seed S] [--ids]\n"
              "\nSample N tokens after the prompt and print them.\n"
              "  -n N                 new tokens, 0..1000000 (default 20)\n"
              "  --temperature T      >= 0 (default 0.8; 0 is greedy)\n"
              "  --top-k K            keep the K most likely, 0 = off (default 0)\n"
              "  --top-p P            nucleus, in (0, 1], 1 = off (default 1)\n"
              "  --seed S             0..2^64-1 (default 1)\n"
              "  --tokens LIST        start from comma-separated token ids instead of text\n"
              "  --ids [LIST]         print token ids, one per line, instead of text; with\n"
              "                       LIST, start from those ids (as --tokens)\n"
              "A model without tokenizer files always prints ids.\n\n", f);
        fputs(TEXT_TEXT, f);
        break;
    default:
        fputs("usage: glassbox COMMAND --model DIR [options]\n"
              "\ncommands:\n"
              "  tokenize   print the token ids (or pieces) of a text\n"
              "  trace      run the model and write every activation to a safetensors file\n"
              "  generate   sample a continuation\n"
              "  patch      activation patching between a clean and a corrupted prompt\n"
              "  attribute  direct logit attribution, head scores, MLP sparsity, ReAGent\n"
              "\n'glassbox COMMAND --help' shows a command's options; 'glassbox --version'\n"
              "the version.\n", f);
        break;
    }
    fputs("\n", f);
    fputs(MODEL_TEXT, f);
    fputs(EXIT_TEXT, f);
}

static int usage_error(cli_command c, const char *msg, const char *arg) {
    fprintf(stderr, "glassbox%s%s: %s%s%s (see 'glassbox%s%s --help')\n", c ? " " : "", CMD_NAMES[c], msg,
            arg ? ": " : "", arg ? arg : "", c ? " " : "", CMD_NAMES[c]);
    return EXIT_USAGE;
}

/* A whole number in [lo, hi], written in decimal digits (an optional sign). */
static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

static int parse_seed(const char *s, unsigned long long *out) {
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9') return 0; /* strtoull would wrap "-1" */
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return 0;
    *out = v;
    return 1;
}

static int parse_double(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

/* "1,2,3": what --ids takes as its optional value. */
static int is_id_list(const char *s) {
    if (!s || !*s) return 0;
    for (int digit = 0; *s; s++) {
        if (*s >= '0' && *s <= '9') digit = 1;
        else if (*s == ',' && digit) digit = 0;
        else return 0;
    }
    return s[-1] != ',';
}

static int set_value(cli_options *o, opt_id id, const char *name, const char *v) {
    cli_command c = o->cmd;
    switch (id) {
    case O_MODEL: o->model = v; break;
    case O_PROMPT: o->prompt = v; break;
    case O_PROMPT_FILE: o->prompt_file = v; break;
    case O_TOKENS: case O_IDS: o->tokens = v; break;
    case O_OUT: o->out = v; break;
    case O_N:
        if (!parse_long(v, 0, MAX_NEW_TOKENS, &o->n))
            return usage_error(c, "-n must be a whole number from 0 to 1000000, not", v);
        break;
    case O_TOP_K:
        if (!parse_long(v, 0, INT_MAX, &o->top_k))
            return usage_error(c, "--top-k must be a whole number from 0 (off) to 2147483647, not", v);
        break;
    case O_SEED:
        if (!parse_seed(v, &o->seed)) return usage_error(c, "--seed must be a whole number from 0 to 2^64-1, not", v);
        break;
    case O_TEMPERATURE:
        if (!parse_double(v, &o->temperature) || o->temperature < 0)
            return usage_error(c, "--temperature must be a number >= 0, not", v);
        break;
    case O_TOP_P:
        if (!parse_double(v, &o->top_p) || !(o->top_p > 0 && o->top_p <= 1))
            return usage_error(c, "--top-p must be a number in (0, 1], not", v);
        break;
    default: return usage_error(c, "internal: option without a value", name);
    }
    return -1;
}

int cli_parse_args(int argc, char **argv, cli_options *o) {
    memset(o, 0, sizeof *o);
    o->temperature = 0.8, o->top_p = 1.0, o->seed = 1, o->n = 20;
    if (argc < 2) return usage_error(CMD_NONE, "missing command (tokenize, trace, generate, patch or attribute)", NULL);
    const char *c0 = argv[1];
    if (!strcmp(c0, "--help") || !strcmp(c0, "-h") || !strcmp(c0, "help")) {
        help(stdout, argc > 2 && !strcmp(c0, "help") ? (cli_command)(!strcmp(argv[2], "tokenize") ? CMD_TOKENIZE
                                                                     : !strcmp(argv[2], "trace") ? CMD_TRACE
                                                                     : !strcmp(argv[2], "generate") ? CMD_GENERATE
                                                                                                    : CMD_NONE)
                                                     : CMD_NONE);
        return EXIT_OK;
    }
    if (!strcmp(c0, "--version")) {
        printf("glassbox %s\n", GLASSBOX_VERSION);
        return EXIT_OK;
    }
    for (int c = CMD_TOKENIZE; c <= CMD_GENERATE; c++)
        if (!strcmp(c0, CMD_NAMES[c])) o->cmd = (cli_command)c;
    if (!o->cmd) return usage_error(CMD_NONE, "unknown command", c0);
    int operands_only = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (operands_only || a[0] != '-' || !strcmp(a, "-")) { /* TEXT */
            if (o->text) return usage_error(o->cmd, "more than one TEXT (quote it, or use --prompt)", a);
            o->text = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            operands_only = 1;
            continue;
        }
        const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        int k = 0;
        while (k < N_OPTS && !(strlen(OPTS[k].name) == nlen && !strncmp(OPTS[k].name, a, nlen))) k++;
        if (k == N_OPTS) return usage_error(o->cmd, "unknown option", a);
        if (!(OPTS[k].cmds & (1 << o->cmd))) {
            fprintf(stderr, "glassbox %s: %.*s is not an option of %s (see 'glassbox %s --help')\n", CMD_NAMES[o->cmd],
                    (int)nlen, a, CMD_NAMES[o->cmd], CMD_NAMES[o->cmd]);
            return EXIT_USAGE;
        }
        opt_id id = OPTS[k].id;
        if (id == O_HELP) {
            help(stdout, o->cmd);
            return EXIT_OK;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (OPTS[k].value == 0) {
            if (v) return usage_error(o->cmd, "takes no value", a);
            if (id == O_PIECES) o->pieces = 1;
            if (id == O_BATCH_DIM) o->batch_dim = 1;
            continue;
        }
        if (id == O_IDS) {
            o->ids_out = 1;
            if (!v && is_id_list(i + 1 < argc ? argv[i + 1] : NULL)) v = argv[++i];
            if (!v) continue;
        }
        if (!v) {
            if (i + 1 >= argc) return usage_error(o->cmd, "missing value after", a);
            v = argv[++i];
        }
        int rc = set_value(o, id, OPTS[k].name, v);
        if (rc >= 0) return rc;
    }
    if (!o->model) return usage_error(o->cmd, "--model DIR is required", NULL);
    int sources = !!o->prompt + !!o->prompt_file + !!o->text + !!o->tokens;
    if (sources > 1)
        return usage_error(o->cmd, "give the prompt once: one of --prompt, --prompt-file, TEXT or --tokens", NULL);
    if (sources == 0)
        return usage_error(o->cmd, o->cmd == CMD_TOKENIZE ? "give TEXT, '-' or --prompt-file FILE"
                                                          : "give --prompt TEXT, --prompt-file FILE, TEXT or --tokens 1,2,3",
                           NULL);
    if (o->cmd == CMD_TRACE && !o->out) return usage_error(o->cmd, "--out FILE.safetensors is required", NULL);
    return -1;
}
