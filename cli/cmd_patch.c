/* cmd_patch.c — `glassbox patch`: activation patching grids from the command
 * line, written as safetensors under the names wasm/interp.js uses.
 *
 *   glassbox patch --model DIR (--clean TEXT | --clean-tokens 1,2,3)
 *                  (--corrupted TEXT | --corrupted-tokens 1,2,3)
 *                  --target TOK --distractor TOK [--hooks resid_pre,attn_out,mlp_out,z]
 *                  --out FILE.safetensors
 *
 * Denoising: the run is the corrupted prompt, the clean one is the patch
 * source; each cell is (LD_patched - LD_corrupted) / (LD_clean - LD_corrupted). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "interp_cli.h"

int cli_cmd_patch(int argc, char **argv);

static int usage_error(const char *msg, const char *arg) {
    fprintf(stderr, "glassbox patch: %s%s%s\n(run 'glassbox --help' for usage)\n", msg, arg ? ": " : "", arg ? arg : "");
    return 2;
}

/* Prints the grid's three largest cells. */
static void summary(const char *hook, const float *g, int rows, int cols, int by_head) {
    int best[3] = {-1, -1, -1};
    for (int i = 0; i < rows * cols; i++)
        for (int k = 0; k < 3; k++)
            if (best[k] < 0 || g[i] > g[best[k]]) {
                for (int j = 2; j > k; j--) best[j] = best[j - 1];
                best[k] = i;
                break;
            }
    printf("%-16s largest:", hook);
    for (int k = 0; k < 3 && best[k] >= 0; k++)
        printf(by_head ? "  head %d.%d %.3f" : "  block %d pos %d %.3f", best[k] / cols, best[k] % cols, g[best[k]]);
    printf("\n");
}

int cli_cmd_patch(int argc, char **argv) {
    const char *model = NULL, *clean = NULL, *clean_ids = NULL, *corr = NULL, *corr_ids = NULL, *target = NULL;
    const char *distractor = NULL, *hooks = "resid_pre,attn_out,mlp_out,z", *out = NULL;
    if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
        fputs("usage: glassbox patch --model DIR (--clean TEXT | --clean-tokens 1,2,3)\n"
          "                      (--corrupted TEXT | --corrupted-tokens 1,2,3) --target TOK --distractor TOK\n"
          "                      [--hooks resid_pre,attn_out,mlp_out,z] --out FILE.safetensors\n"
          "Activation patching (denoising): the run is the corrupted prompt; each cell copies one activation\n"
          "from the clean run and measures (LD - LD_corrupted) / (LD_clean - LD_corrupted), LD = logit[target]\n"
          "- logit[distractor] at the last position (1 = clean restored). TOK: one token's text, or #id.\n"
          "Writes tokens.*, patch.ld_clean, patch.ld_corrupted, patch.hook_resid_pre/attn_out/mlp_out [n_layer, T]\n"
          "and patch.hook_z [n_layer, n_head]. Exit status 0 done, 1 refused, 2 usage error.\n",
          stdout);
        return 0;
    }
    for (int i = 2; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return usage_error("missing value after", a);
        if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--clean")) clean = v;
        else if (!strcmp(a, "--clean-tokens")) clean_ids = v;
        else if (!strcmp(a, "--corrupted")) corr = v;
        else if (!strcmp(a, "--corrupted-tokens")) corr_ids = v;
        else if (!strcmp(a, "--target")) target = v;
        else if (!strcmp(a, "--distractor")) distractor = v;
        else if (!strcmp(a, "--hooks")) hooks = v;
        else if (!strcmp(a, "--out")) out = v;
        else return usage_error("unknown option", a);
    }
    if (!model) return usage_error("--model DIR is required", NULL);
    if (!out) return usage_error("--out FILE.safetensors is required", NULL);
    gb_ctx *ctx = gb_create();
    if (!ctx) { fputs("glassbox: out of memory\n", stderr); return 1; }
    int rc = 1, nc = 0, nx = 0, t = -1, d = -1, n = 0;
    int32_t *ci = NULL, *xi = NULL;
    float *grids[4] = {NULL, NULL, NULL, NULL}, ldc = 0, ldx = 0;
    cli_out_tensor list[16];
    static const char *names[4] = {"resid_pre", "attn_out", "mlp_out", "z"};
    static const char *hook_names[4] = {"blocks.0.hook_resid_pre", "blocks.0.hook_attn_out", "blocks.0.hook_mlp_out",
                                        "blocks.0.attn.hook_z"};
    static const char *keys[4] = {"patch.hook_resid_pre", "patch.hook_attn_out", "patch.hook_mlp_out", "patch.hook_z"};
    if (cli_load_model_dir(ctx, model)) goto done;
    ci = cli_tokens(ctx, clean_ids, clean, &nc);
    xi = ci ? cli_tokens(ctx, corr_ids, corr, &nx) : NULL;
    if (!xi) goto done;
    if ((t = cli_token(ctx, target, "target")) < 0 || (d = cli_token(ctx, distractor, "distractor")) < 0)
        goto done;
    if (gb_set_tokens(ctx, xi, nx) || gb_set_patch_source(ctx, ci, nc) || gb_patch_baselines(ctx, t, d, &ldc, &ldx))
        goto done;
    printf("logit difference (target %d - distractor %d): clean %.4f, corrupted %.4f\n", t, d, ldc, ldx);
    n = cli_out_add(list, n, 16, "tokens.clean", 1, ci, 1, nc, 0, 0);
    n = cli_out_add(list, n, 16, "tokens.corrupted", 1, xi, 1, nx, 0, 0);
    int32_t td[2] = {t, d};
    n = cli_out_add(list, n, 16, "tokens.target", 1, td, 1, 1, 0, 0);
    n = cli_out_add(list, n, 16, "tokens.distractor", 1, td + 1, 1, 1, 0, 0);
    n = cli_out_add(list, n, 16, "patch.ld_clean", 0, &ldc, 1, 1, 0, 0);
    n = cli_out_add(list, n, 16, "patch.ld_corrupted", 0, &ldx, 1, 1, 0, 0);
    int L = gb_get_config(ctx)->n_layer;
    for (int k = 0; k < 4; k++) {
        const char *p = strstr(hooks, names[k]);
        if (!p) continue;
        int lay, hook = gb_hook_find(hook_names[k], &lay), cols = gb_patch_grid_cols(ctx, hook);
        grids[k] = malloc(sizeof(float) * (size_t)L * cols);
        if (!grids[k] || gb_patch_grid(ctx, hook, t, d, 0, L * cols, grids[k])) goto done;
        summary(keys[k] + 6, grids[k], L, cols, k == 3);
        n = cli_out_add(list, n, 16, keys[k], 0, grids[k], 2, L, cols, 0);
    }
    if (cli_write_tensors(ctx, out, list, n)) goto done;
    printf("wrote %d tensors to %s\n", n, out);
    rc = 0;
done:
    if (rc) fprintf(stderr, "glassbox patch: %s\n", gb_error_message(ctx));
    for (int k = 0; k < 4; k++) free(grids[k]);
    free(ci); free(xi);
    gb_destroy(ctx);
    return rc;
}
