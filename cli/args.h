/* args.h — the command line of `glassbox`: per-command options, POSIX-style
 * (`--` ends the options, `-` is standard input, `--name=value` or
 * `--name value`), the help texts, and the exit codes. */
#ifndef CLI_ARGS_H
#define CLI_ARGS_H

#include <stdio.h>

/* Exit codes (README "The command-line tool", and every --help). */
enum {
    EXIT_OK = 0,      /* done */
    EXIT_REFUSED = 1, /* the model, an input file or the engine refused (message on stderr) */
    EXIT_USAGE = 2,   /* the command line is wrong (message on stderr) */
};

#define GLASSBOX_VERSION "0.1.0" /* package.json's; tests/node/cli.test.js checks they agree */

typedef enum { CMD_NONE, CMD_TOKENIZE, CMD_TRACE, CMD_GENERATE } cli_command;

typedef struct {
    cli_command cmd;
    const char *model;
    const char *prompt;      /* --prompt TEXT */
    const char *prompt_file; /* --prompt-file FILE ("-": standard input) */
    const char *text;        /* the TEXT operand ("-": standard input) */
    const char *tokens;      /* --tokens LIST, or --ids LIST */
    const char *out;
    int pieces, ids_out, batch_dim;
    long n, top_k;
    double temperature, top_p;
    unsigned long long seed;
} cli_options;

/* Parses argv into o. Returns -1 to go on, or the exit code to end with now
 * (after --help / --version: EXIT_OK; after a usage error, reported on
 * stderr in one line: EXIT_USAGE). */
int cli_parse_args(int argc, char **argv, cli_options *o);

#endif
