/* test_interp_lessons.c — the interpretability tools find the circuits the
 * lesson models' cards measured (models/lessons/NAME/MODEL_CARD.md).
 *
 * addition: heads 0.0 and 0.2 read the column being added, 0.1 the carry,
 *   layer 1 is not needed. Patching hook_z (clean into corrupted) restores
 *   the answer through exactly the head that reads the changed digit: b0
 *   changed -> 0.0, a0 changed -> 0.2, a carry changed -> 0.1; 0.3 and
 *   layer 1 never (each below 0.1).
 *   Direct logit attribution: the three named heads are the three largest
 *   |parts|. ReAGent: the units digit depends on a0 and b0 (positions 2, 6).
 * induction: head 1.1 copies (through 0.0 and 0.1). The head finder ranks
 *   1.1 first by the card's own measure (virtual induction through a layer-0
 *   head); DLA's largest head is 1.1; patching hook_z restores through 1.1
 *   and its key source 0.1; ReAGent puts the current token (16), its earlier
 *   occurrence (4) and the character to copy (5) among its top four.
 * The thresholds are far from the measured values (printed), so the tests
 * check the finding, not float noise. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fileio.h"

static int ids_of(const char *s, int32_t *o) {
    int n = 0;
    for (; s[n]; n++) o[n] = (unsigned char)s[n];
    return n;
}

static int argmax(const float *v, int n, int absval) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if ((absval ? fabsf(v[i]) : v[i]) > (absval ? fabsf(v[b]) : v[b])) b = i;
    return b;
}

/* hook_z patching grid (layers x heads) for a clean/corrupted text pair. */
static void z_grid(gb_ctx *ctx, const char *clean, const char *corrupted, char target, char distractor, float *g) {
    int32_t a[64], b[64];
    int n = ids_of(clean, a), m = ids_of(corrupted, b), lay;
    int hz = gb_hook_find("blocks.0.attn.hook_z", &lay);
    const gb_config *c = gb_get_config(ctx);
    CHECK(gb_set_tokens(ctx, b, m) == GB_OK && gb_set_patch_source(ctx, a, n) == GB_OK &&
          gb_patch_grid(ctx, hz, target, distractor, 0, c->n_layer * c->n_head, g) == GB_OK,
          "%s vs %s: %s", clean, corrupted, gb_error_message(ctx));
    printf("  patch hook_z %s -> %s:", clean, corrupted);
    for (int i = 0; i < c->n_layer * c->n_head; i++) printf(" %.3f", g[i]);
    printf("\n");
}

static void reagent_top(gb_ctx *ctx, const char *text, int *order, int n_order) {
    int32_t a[64], target;
    int n = ids_of(text, a), steps = 0, fin = 0;
    float sc[64];
    CHECK(gb_set_tokens(ctx, a, n) == GB_OK && gb_reagent_begin(ctx, 1, 0.3f, 400) == GB_OK, "%s",
          gb_error_message(ctx));
    while (!fin && gb_reagent_step(ctx, 8, &steps, &fin) == GB_OK) {}
    CHECK(gb_reagent_scores(ctx, sc, &target) == GB_OK, "%s", gb_error_message(ctx));
    for (int k = 0; k < n_order; k++) { /* selection of the top n_order positions */
        int b = -1;
        for (int i = 0; i < n; i++) {
            int used = 0;
            for (int j = 0; j < k; j++) used |= order[j] == i;
            if (!used && (b < 0 || sc[i] > sc[b])) b = i;
        }
        order[k] = b;
    }
    printf("  ReAGent %s -> '%c' after %d steps:", text, (char)target, steps);
    for (int i = 0; i < n; i++) printf(" %.2f", sc[i]);
    printf("\n");
}

static int in(const int *v, int n, int x) {
    for (int i = 0; i < n; i++)
        if (v[i] == x) return 1;
    return 0;
}

static void addition(void) {
    gb_ctx *ctx = gb_create();
    CHECK(cli_load_model_dir(ctx, "models/lessons/addition") == GB_OK, "%s", gb_error_message(ctx));
    float g[3][8];
    z_grid(ctx, "045+123=", "045+124=", '8', '9', g[0]); /* b0 changed */
    z_grid(ctx, "045+123=", "046+123=", '8', '9', g[1]); /* a0 changed */
    z_grid(ctx, "045+127=2", "045+121=6", '7', '6', g[2]); /* the carry into the tens changed */
    const int want[3] = {0, 2, 1};
    for (int k = 0; k < 3; k++) {
        int b = argmax(g[k], 8, 0);
        CHECK(b == want[k] && g[k][b] > 0.5f, "addition pair %d: head 0.%d restores most (%.3f), card says 0.%d", k,
              b, g[k][b], want[k]);
        for (int h = 3; h < 8; h++) /* the heads the card does not name: 0.3 and layer 1 */
            CHECK(fabsf(g[k][h]) < 0.1f, "addition pair %d: head %d.%d restores %.3f", k, h / 4, h % 4, g[k][h]);
    }
    float heads[8], bias[2], mlp[2], other[5];
    int32_t a[16];
    gb_set_tokens(ctx, a, ids_of("045+123=", a));
    CHECK(gb_dla(ctx, '8', '9', heads, bias, mlp, other) == GB_OK, "%s", gb_error_message(ctx));
    printf("  DLA 045+123= heads:");
    for (int i = 0; i < 8; i++) printf(" %.3f", heads[i]);
    printf("\n");
    float rest = 0; /* the largest |part| of the heads the card does not name */
    for (int i = 3; i < 8; i++) rest = fabsf(heads[i]) > rest ? fabsf(heads[i]) : rest;
    for (int i = 0; i < 3; i++)
        CHECK(fabsf(heads[i]) > rest, "DLA: named head 0.%d (%.3f) is not above every other head (%.3f)", i, heads[i],
              rest);
    int top[2];
    reagent_top(ctx, "045+123=", top, 2);
    CHECK(in(top, 2, 2) && in(top, 2, 6), "ReAGent: the units digit's top positions are %d, %d, not a0 (2), b0 (6)",
          top[0], top[1]);
    gb_destroy(ctx);
}

static void induction(void) {
    gb_ctx *ctx = gb_create();
    CHECK(cli_load_model_dir(ctx, "models/lessons/induction") == GB_OK, "%s", gb_error_message(ctx));
    float sc[5 * 8];
    CHECK(gb_head_finder(ctx, 1, 20, 32, 127, -1, sc, NULL) == GB_OK, "%s", gb_error_message(ctx));
    const float *virt = sc + GB_HEAD_VIRTUAL_INDUCTION * 8;
    printf("  virtual induction:");
    for (int i = 0; i < 8; i++) printf(" %.3f", virt[i]);
    printf("\n");
    int b = argmax(virt, 8, 0);
    CHECK(b == 5, "head finder ranks %d.%d first by virtual induction, the card names 1.1", b / 4, b % 4);
    for (int i = 0; i < 8; i++)
        if (i != 5) CHECK(virt[5] > 2 * virt[i], "1.1 (%.3f) is not well ahead of %d.%d (%.3f)", virt[5], i / 4, i % 4,
                          virt[i]);
    float g[8];
    z_grid(ctx, "kQ7#vB2xLp9ZkQ7#v", "kQ7#@B2xLp9ZkQ7#v", 'B', 'k', g);
    b = argmax(g, 8, 0);
    CHECK(b == 5 || b == 1, "patching: head %d.%d restores most; the card's circuit is 1.1 with key source 0.1", b / 4,
          b % 4);
    CHECK(g[5] > 0.5f && g[1] > 0.5f, "patching: 1.1 (%.3f) and 0.1 (%.3f) should each restore most of it", g[5], g[1]);
    float heads[8], bias[2], mlp[2], other[5];
    int32_t a[32];
    gb_set_tokens(ctx, a, ids_of("kQ7#vB2xLp9ZkQ7#v", a));
    CHECK(gb_dla(ctx, 'B', 'k', heads, bias, mlp, other) == GB_OK, "%s", gb_error_message(ctx));
    b = argmax(heads, 8, 0);
    CHECK(b == 5, "DLA: largest head is %d.%d (%.3f), the card's copying head is 1.1", b / 4, b % 4, heads[b]);
    int top[4];
    reagent_top(ctx, "kQ7#vB2xLp9ZkQ7#v", top, 4);
    CHECK(in(top, 4, 4) && in(top, 4, 5) && in(top, 4, 16), "ReAGent top four %d %d %d %d lack 4, 5 or 16", top[0],
          top[1], top[2], top[3]);
    gb_destroy(ctx);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    addition();
    induction();
    return CHECK_DONE("test_interp_lessons");
}
