/* cmd_attribute.c — `glassbox attribute`: direct logit attribution, the head
 * finder, MLP sparsity and ReAGent token attribution for one prompt, written
 * as safetensors under the names wasm/interp.js uses.
 *
 *   glassbox attribute --model DIR (--prompt TEXT | --tokens 1,2,3)
 *                      --target TOK --distractor TOK [--threshold 0.1]
 *                      [--heads-seed 1] [--heads-length 20] [--heads-lo 0]
 *                      [--heads-hi VOCAB] [--heads-bos -1]
 *                      [--reagent-steps 300] [--reagent-ratio 0.3] [--seed 1]
 *                      --out FILE.safetensors
 *
 * TOK is a token's text (exactly one token) or #id. --reagent-steps 0 skips ReAGent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "interp_cli.h"

int cli_cmd_attribute(int argc, char **argv);

static int usage_error(const char *msg, const char *arg) {
    fprintf(stderr, "glassbox attribute: %s%s%s\n(run 'glassbox --help' for usage)\n", msg, arg ? ": " : "",
            arg ? arg : "");
    return 2;
}

static int number(const char *s, double *x) {
    char *end;
    *x = strtod(s, &end);
    return end != s && !*end;
}

#define CAP 32

int cli_cmd_attribute(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL, *ids_csv = NULL, *target = NULL, *distractor = NULL, *out = NULL;
    double threshold = 0.1, hseed = 1, hlen = 20, hlo = 0, hhi = -1, hbos = -1, steps = 300, ratio = 0.3, seed = 1;
    if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
        fputs("usage: glassbox attribute --model DIR (--prompt TEXT | --tokens 1,2,3) --target TOK --distractor TOK\n"
          "                          [--threshold 0.1] [--heads-seed 1] [--heads-length 20] [--heads-lo 0]\n"
          "                          [--heads-hi VOCAB] [--heads-bos -1] [--reagent-steps 300]\n"
          "                          [--reagent-ratio 0.3] [--seed 1] --out FILE.safetensors\n"
          "Direct logit attribution at the last position (dla.*), the head finder on a seeded repeated random\n"
          "sequence (heads.*), MLP sparsity (mlp.*) and ReAGent token attribution (reagent.*; --reagent-steps 0\n"
          "skips it). TOK: one token's text, or #id. Exit status 0 done, 1 refused, 2 usage error.\n",
          stdout);
        return 0;
    }
    for (int i = 2; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x = 0;
        if (!v) return usage_error("missing value after", a);
        if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--prompt")) prompt = v;
        else if (!strcmp(a, "--tokens")) ids_csv = v;
        else if (!strcmp(a, "--target")) target = v;
        else if (!strcmp(a, "--distractor")) distractor = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!number(v, &x)) return usage_error("expected a number after", a);
        else if (!strcmp(a, "--threshold")) threshold = x;
        else if (!strcmp(a, "--heads-seed")) hseed = x;
        else if (!strcmp(a, "--heads-length")) hlen = x;
        else if (!strcmp(a, "--heads-lo")) hlo = x;
        else if (!strcmp(a, "--heads-hi")) hhi = x;
        else if (!strcmp(a, "--heads-bos")) hbos = x;
        else if (!strcmp(a, "--reagent-steps")) steps = x;
        else if (!strcmp(a, "--reagent-ratio")) ratio = x;
        else if (!strcmp(a, "--seed")) seed = x;
        else return usage_error("unknown option", a);
    }
    if (!model) return usage_error("--model DIR is required", NULL);
    if (!out) return usage_error("--out FILE.safetensors is required", NULL);
    gb_ctx *ctx = gb_create();
    if (!ctx) { fputs("glassbox: out of memory\n", stderr); return 1; }
    int rc = 1, T = 0, n = 0, t, d;
    int32_t *ids = NULL, *rep = NULL, td[3] = {0, 0, 0};
    float *heads = NULL, *bias = NULL, *mlp = NULL, *bysrc = NULL, *scores = NULL, *outl = NULL, *act = NULL;
    float *above = NULL, *rs = NULL, other[5];
    cli_out_tensor list[CAP];
    if (cli_load_model_dir(ctx, model)) goto done;
    const gb_config *c = gb_get_config(ctx);
    int L = c->n_layer, H = c->n_head, C = c->n_embd;
    if (hhi < 0) hhi = c->vocab_size;
    if (!(ids = cli_tokens(ctx, ids_csv, prompt, &T))) goto done;
    if ((t = cli_token(ctx, target, "target")) < 0 || (d = cli_token(ctx, distractor, "distractor")) < 0)
        goto done;
    if (gb_set_tokens(ctx, ids, T)) goto done;
    int o = hbos >= 0, R = o + 2 * (int)hlen;
    heads = malloc(sizeof(float) * L * H); bias = malloc(sizeof(float) * L); mlp = malloc(sizeof(float) * L);
    bysrc = malloc(sizeof(float) * L * H * T); scores = malloc(sizeof(float) * 5 * L * H);
    outl = malloc(sizeof(float) * L * C); act = malloc(sizeof(float) * L * T); above = malloc(sizeof(float) * L * T);
    rs = malloc(sizeof(float) * T); rep = malloc(sizeof(int32_t) * (R > 0 ? R : 1));
    if (!heads || !bias || !mlp || !bysrc || !scores || !outl || !act || !above || !rs || !rep) {
        gb_report_error(ctx, GB_E_OOM, "out of memory");
        goto done;
    }
    if (gb_dla(ctx, t, d, heads, bias, mlp, other) || gb_dla_by_source(ctx, t, d, bysrc, (size_t)L * H * T))
        goto done;
    printf("logit difference %.4f = embed %.4f + pos_embed %.4f + heads + attn biases + MLPs + ln_final bias %.4f "
           "(remainder %.2g)\n", other[4], other[0], other[1], other[2], other[3]);
    int bh = 0;
    for (int i = 1; i < L * H; i++) if (heads[i] > heads[bh]) bh = i;
    printf("largest head: %d.%d %.4f\n", bh / H, bh % H, heads[bh]);
    if (gb_mlp_sparsity(ctx, (float)threshold, act, above)) goto done;
    if (gb_head_finder(ctx, (uint64_t)hseed, (int)hlen, (int)hlo, (int)hhi, (int)hbos, scores, outl)) goto done;
    gb_repeated_tokens((uint64_t)hseed, (int)hlen, (int)hlo, (int)hhi, (int)hbos, rep);
    n = cli_out_add(list, n, CAP, "tokens.prompt", 1, ids, 1, T, 0, 0);
    td[0] = t; td[1] = d;
    n = cli_out_add(list, n, CAP, "tokens.target", 1, td, 1, 1, 0, 0);
    n = cli_out_add(list, n, CAP, "tokens.distractor", 1, td + 1, 1, 1, 0, 0);
    n = cli_out_add(list, n, CAP, "dla.embed", 0, other, 1, 1, 0, 0);
    n = cli_out_add(list, n, CAP, "dla.pos_embed", 0, other + 1, 1, 1, 0, 0);
    n = cli_out_add(list, n, CAP, "dla.ln_final_bias", 0, other + 2, 1, 1, 0, 0);
    n = cli_out_add(list, n, CAP, "dla.remainder", 0, other + 3, 1, 1, 0, 0);
    n = cli_out_add(list, n, CAP, "dla.total", 0, other + 4, 1, 1, 0, 0);
    n = cli_out_add(list, n, CAP, "dla.heads", 0, heads, 2, L, H, 0);
    n = cli_out_add(list, n, CAP, "dla.attn_bias", 0, bias, 1, L, 0, 0);
    n = cli_out_add(list, n, CAP, "dla.mlp", 0, mlp, 1, L, 0, 0);
    n = cli_out_add(list, n, CAP, "dla.head_by_source", 0, bysrc, 3, L, H, T);
    n = cli_out_add(list, n, CAP, "mlp.active_share", 0, act, 2, L, T, 0);
    n = cli_out_add(list, n, CAP, "mlp.above_share", 0, above, 2, L, T, 0);
    static const char *sk[5] = {"heads.previous_token", "heads.induction", "heads.duplicate_token", "heads.sink",
                                "heads.virtual_induction"};
    n = cli_out_add(list, n, CAP, "heads.tokens", 1, rep, 1, R, 0, 0);
    for (int k = 0; k < 5; k++) n = cli_out_add(list, n, CAP, sk[k], 0, scores + (size_t)k * L * H, 2, L, H, 0);
    n = cli_out_add(list, n, CAP, "heads.outlier_share", 0, outl, 2, L, C, 0);
    if (steps > 0) {
        int done_steps = 0, fin = 0;
        if (gb_reagent_begin(ctx, (uint64_t)seed, (float)ratio, (int)steps)) goto done;
        while (!fin)
            if (gb_reagent_step(ctx, 8, &done_steps, &fin)) goto done;
        if (gb_reagent_scores(ctx, rs, &td[2])) goto done;
        printf("ReAGent: %d steps, predicted token %d; scores by position:", done_steps, td[2]);
        for (int i = 0; i < T; i++) printf(" %.3f", rs[i]);
        printf("\n");
        n = cli_out_add(list, n, CAP, "reagent.scores", 0, rs, 1, T, 0, 0);
        n = cli_out_add(list, n, CAP, "reagent.target", 1, td + 2, 1, 1, 0, 0);
    }
    if (cli_write_tensors(ctx, out, list, n)) goto done;
    printf("wrote %d tensors to %s\n", n, out);
    rc = 0;
done:
    if (rc) fprintf(stderr, "glassbox attribute: %s\n", gb_error_message(ctx));
    free(ids); free(rep); free(heads); free(bias); free(mlp); free(bysrc); free(scores); free(outl); free(act);
    free(above); free(rs);
    gb_destroy(ctx);
    return rc;
}
