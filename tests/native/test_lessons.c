/* test_lessons.c — the lesson models (models/lessons/<name>/) through Glassbox's
 * own engine give the numbers their model cards state.
 *
 * models/lessons/train_lessons.py wrote each lesson.json: a fixed held-out
 * sample ("sample.items": text, and L for induction and sort), what PyTorch
 * measured on it (the main metric, every head's attention scores, the metric
 * with each head zero-ablated, and with each named group ablated, zero and
 * mean), and the card's claims ("claims": the claim's metric is >= or <= a
 * bound with the listed heads zero-ablated). Induction also has the two-step
 * "virtual" scores of layer 1 through each layer-0 head ([head][head] grids),
 * checked with every layer-0 head ablated too. For each lesson this test
 *  - loads the directory with cli_load_model_dir and checks that gb_tokenize
 *    gives one token per byte (id = byte value), as the card says;
 *  - runs every sample item (teacher forcing: the whole text, as PyTorch did)
 *    and recomputes the metrics from "logits" and the scores from
 *    blocks.L.attn.hook_pattern;
 *  - repeats that with each head zero-ablated (gb_set_ablation) and with each
 *    named group ablated zero and mean;
 *  - compares everything with PyTorch's numbers on the same sample: correct
 *    counts within TOL_COUNT (an argmax can flip on a near-tie between two
 *    float32 implementations), scores within TOL_SCORE;
 *  - checks each claim against the engine's own number.
 * A lesson whose directory has no lesson.json is skipped with a message
 * (it has not been trained yet); one that exists must pass.
 *
 * The parent directory can be overridden with GLASSBOX_LESSONS (run from the
 * repository root otherwise, as build.sh does).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "fileio.h"
#include "glassbox.h"
#include "load/json.h"

#define TOL_COUNT 1     /* correct items (or tokens) may differ from PyTorch by this many */
#define TOL_SCORE 2e-3  /* attention scores: absolute */
#define MAX_T 128
#define MAX_HEADS 64    /* n_layer * n_head */

typedef enum { L_INDUCTION, L_ADDITION, L_SORT } lesson_kind;

typedef struct {
    char text[MAX_T + 1];
    int T, L;
    int32_t ids[MAX_T];
} item;

#define MAX_SCORES 5

/* One configuration's measurements over the sample. */
typedef struct {
    /* induction: correct tokens in the first / repeated half; others: exact items, correct tokens */
    long correct_a, n_a, correct_b, n_b;
    /* per score (score_names): [layer][head] grids, or [layer-0 head][layer-1 head] for the
     * induction lesson's virtual (two-step path) scores */
    double score[MAX_SCORES][MAX_HEADS];
    long score_n[MAX_SCORES];
} result;

typedef struct {
    const char *name;
    lesson_kind kind;
    gb_ctx *ctx;
    int n_layer, n_head;
    item *items;
    int n_items;
    gb_json doc;
    float *pat; /* [layer][H, T, T] scratch */
} lesson;

/* ---------------------------------------------------------------- json helpers */
static int32_t jget(const lesson *ls, int32_t obj, const char *key) {
    return obj < 0 ? -1 : gb_json_get(&ls->doc, obj, key);
}
static int32_t jidx(const lesson *ls, int32_t arr, int i) {
    if (arr < 0 || ls->doc.nodes[arr].type != GB_JSON_ARRAY || i >= ls->doc.nodes[arr].count) return -1;
    int32_t n = gb_json_first(&ls->doc, arr);
    while (i-- > 0) n = ls->doc.nodes[n].skip;
    return n;
}
static int jlen(const lesson *ls, int32_t arr) {
    return arr >= 0 && ls->doc.nodes[arr].type == GB_JSON_ARRAY ? ls->doc.nodes[arr].count : 0;
}
static double jnum(const lesson *ls, int32_t node) {
    double v = NAN;
    if (node < 0 || gb_json_number(&ls->doc, node, &v) != 0) return NAN;
    return v;
}
static int jstr(const lesson *ls, int32_t node, char *out, size_t cap) {
    size_t len = 0;
    return node >= 0 && gb_json_string(&ls->doc, node, out, cap, &len) == 0 && len < cap;
}
/* heads array [[l,h],...] -> flat l*n_head+h list; returns count or -1 */
static int jheads(const lesson *ls, int32_t arr, int *out, int cap) {
    int n = jlen(ls, arr);
    if (n > cap) return -1;
    for (int i = 0; i < n; i++) {
        int32_t p = jidx(ls, arr, i);
        double l = jnum(ls, jidx(ls, p, 0)), h = jnum(ls, jidx(ls, p, 1));
        if (!(l >= 0 && l < ls->n_layer && h >= 0 && h < ls->n_head)) return -1;
        out[i] = (int)l * ls->n_head + (int)h;
    }
    return n;
}

/* ---------------------------------------------------------------- measuring */
/* Scores each lesson.json stores per head, as train_lessons.py defines them. A name
 * starting with "virtual_" is a [layer-0 head][layer-1 head] grid of the two-step
 * path 1.h -> 0.g (the product of the two patterns); the others are [layer][head]. */
static const char *score_names[3][MAX_SCORES] = {
    {"induction_score", "prev_token_score", "lookback_ratio", "virtual_induction_score", "virtual_match_score"},
    {"operand_score", "carry_score"},
    {"next_letter_score", "remaining_score"},
};
static const char *metric_names[3][2] = {
    {"correct_first", "correct_repeat"},
    {"correct", NULL},
    {"correct", NULL},
};
static int is_virtual(const char *name) { return strncmp(name, "virtual_", 8) == 0; }

/* Scores of every head on one item from the patterns of all layers. */
static int add_scores(lesson *ls, const item *it, result *r) {
    int T = it->T, H = ls->n_head, L = it->L;
    size_t per_layer = (size_t)H * T * T;
    for (int l = 0; l < ls->n_layer; l++) {
        char name[64];
        snprintf(name, sizeof name, "blocks.%d.attn.hook_pattern", l);
        int layer = 0, hook = gb_hook_find(name, &layer);
        gb_status st = hook >= 0 ? gb_activation_copy(ls->ctx, hook, layer, ls->pat + l * per_layer, per_layer)
                                 : GB_E_ARG;
        CHECK(st == GB_OK, "%s: %s: %s", ls->name, name, gb_error_message(ls->ctx));
        if (st != GB_OK) return 0;
    }
#define PAT(l, h) (ls->pat + (size_t)(l) * per_layer + (size_t)(h) * T * T)
#define AT(q, k) ((double)P[(size_t)(q) * T + (k)])
    for (int l = 0; l < ls->n_layer; l++) {
        for (int h = 0; h < H; h++) {
            const float *P = PAT(l, h);
            double s[MAX_SCORES] = {0};
            if (ls->kind == L_INDUCTION) {
                for (int t = L; t < 2 * L - 1; t++) s[0] += AT(t, t - L + 1);
                for (int t = 1; t < 2 * L; t++) {
                    s[1] += AT(t, t - 1);
                    double m = 0;
                    for (int j = 0; j <= t; j++) m += j * AT(t, j);
                    s[2] += m / t;
                }
            } else if (ls->kind == L_ADDITION) {
                for (int k = 0; k <= 2; k++) s[0] += AT(7 + k, 2 - k) + AT(7 + k, 6 - k);
                for (int k = 1; k <= 3; k++) s[1] += AT(7 + k, 3 - k) + AT(7 + k, 7 - k);
            } else {
                for (int i = 0; i < L; i++) {
                    int q = L + i, next = it->ids[L + 1 + i];
                    for (int j = 0; j < L; j++) {
                        if (it->ids[j] == next) s[0] += AT(q, j);
                        if (it->ids[j] >= next) s[1] += AT(q, j);
                    }
                }
            }
            for (int k = 0; k < 3; k++) r->score[k][l * H + h] += s[k];
        }
    }
    if (ls->kind == L_INDUCTION && ls->n_layer >= 2) {
        /* virtual scores: (P1h @ P0g)[t, j] for j = t-L+1 (the next token) and t-L (the match) */
        for (int g = 0; g < H; g++) {
            const float *P0 = PAT(0, g);
            for (int h = 0; h < H; h++) {
                const float *P = PAT(1, h);
                double vi = 0, vm = 0;
                for (int t = L; t < 2 * L - 1; t++)
                    for (int s = 0; s <= t; s++) {
                        double a = AT(t, s);
                        vi += a * P0[(size_t)s * T + (t - L + 1)];
                        vm += a * P0[(size_t)s * T + (t - L)];
                    }
                r->score[3][g * H + h] += vi;
                r->score[4][g * H + h] += vm;
            }
        }
    }
#undef AT
#undef PAT
    if (ls->kind == L_INDUCTION) {
        r->score_n[0] += L - 1;
        r->score_n[1] += 2 * L - 1;
        r->score_n[2] += 2 * L - 1;
        r->score_n[3] += L - 1;
        r->score_n[4] += L - 1;
    } else {
        r->score_n[0] += ls->kind == L_ADDITION ? 3 : L;
        r->score_n[1] += ls->kind == L_ADDITION ? 3 : L;
    }
    return 1;
}

/* Runs the sample with the given ablations (heads[] flat, n of them, mode);
 * fills r. with_scores: also the attention scores. Returns 0 on engine failure. */
static int run_sample(lesson *ls, const int *heads, int n, gb_ablation mode, int with_scores,
                      result *r) {
    memset(r, 0, sizeof *r);
    gb_status st = gb_clear_ablations(ls->ctx);
    for (int i = 0; st == GB_OK && i < n; i++)
        st = gb_set_ablation(ls->ctx, heads[i] / ls->n_head, heads[i] % ls->n_head, mode);
    CHECK(st == GB_OK, "%s: gb_set_ablation: %s", ls->name, gb_error_message(ls->ctx));
    if (st != GB_OK) return 0;
    int lh = 0, logits = gb_hook_find("logits", &lh);
    for (int k = 0; k < ls->n_items; k++) {
        const item *it = &ls->items[k];
        st = gb_set_tokens(ls->ctx, it->ids, it->T);
        if (st == GB_OK) st = gb_run_all(ls->ctx);
        const float *lg = NULL;
        gb_shape sh;
        if (st == GB_OK) st = gb_activation_data(ls->ctx, logits, lh, &lg, &sh);
        CHECK(st == GB_OK, "%s item %d: %s", ls->name, k, gb_error_message(ls->ctx));
        if (st != GB_OK) return 0;
        int V = sh.shape[1];
        int ok[MAX_T];
        for (int t = 0; t + 1 < it->T; t++) {
            const float *row = lg + (size_t)t * V;
            int best = 0;
            for (int v = 1; v < V; v++)
                if (row[v] > row[best]) best = v;
            ok[t] = best == it->ids[t + 1];
        }
        int L = it->L;
        if (ls->kind == L_INDUCTION) {
            for (int t = 0; t < L - 1; t++) r->correct_a += ok[t];
            for (int t = L; t < 2 * L - 1; t++) r->correct_b += ok[t];
            r->n_a += L - 1;
            r->n_b += L - 1;
        } else {
            int from = ls->kind == L_ADDITION ? 7 : L, to = ls->kind == L_ADDITION ? 12 : 2 * L + 1;
            int all = 1;
            for (int t = from; t < to; t++) {
                all &= ok[t];
                r->correct_b += ok[t];
                r->n_b++;
            }
            r->correct_a += all;
            r->n_a++;
        }
        if (with_scores && !add_scores(ls, it, r)) return 0;
    }
    for (int k = 0; with_scores && k < MAX_SCORES; k++)
        for (int i = 0; r->score_n[k] > 0 && i < MAX_HEADS; i++) r->score[k][i] /= (double)r->score_n[k];
    gb_clear_ablations(ls->ctx);
    return 1;
}

/* A metric of a result by its lesson.json name (acc_first, acc_repeat, exact). */
static double metric_value(const lesson *ls, const result *r, const char *metric) {
    if (ls->kind == L_INDUCTION && strcmp(metric, "acc_first") == 0) return (double)r->correct_a / (double)r->n_a;
    if (ls->kind == L_INDUCTION && strcmp(metric, "acc_repeat") == 0) return (double)r->correct_b / (double)r->n_b;
    if (ls->kind != L_INDUCTION && strcmp(metric, "exact") == 0) return (double)r->correct_a / (double)r->n_a;
    return NAN;
}

/* Compares a result's counts with a lesson.json "metrics" object. */
static void compare_metrics(const lesson *ls, const result *r, int32_t metrics, const char *what) {
    const char *na = metric_names[ls->kind][0], *nb = metric_names[ls->kind][1];
    double a = jnum(ls, jget(ls, metrics, na));
    CHECK(a == a && labs(r->correct_a - (long)a) <= TOL_COUNT, "%s %s: %s %ld, PyTorch %.0f", ls->name,
          what, na, r->correct_a, a);
    if (nb) {
        double b = jnum(ls, jget(ls, metrics, nb));
        CHECK(b == b && labs(r->correct_b - (long)b) <= TOL_COUNT, "%s %s: %s %ld, PyTorch %.0f",
              ls->name, what, nb, r->correct_b, b);
    }
}

/* Compares one score grid with lesson.json's obj[name]; returns the worst difference
 * (a missing or misshapen grid fails the check). */
static double compare_grid(const lesson *ls, const result *r, int k, int32_t obj, const char *what) {
    const char *name = score_names[ls->kind][k];
    int rows = is_virtual(name) ? ls->n_head : ls->n_layer, cols = ls->n_head;
    int32_t grid = jget(ls, obj, name);
    double worst = 0;
    int found = jlen(ls, grid) == rows;
    for (int i = 0; found && i < rows; i++) {
        int32_t row = jidx(ls, grid, i);
        found = jlen(ls, row) == cols;
        for (int j = 0; found && j < cols; j++) {
            double d = fabs(r->score[k][i * cols + j] - jnum(ls, jidx(ls, row, j)));
            if (!(d <= worst)) worst = d; /* NaN counts as worst */
        }
    }
    CHECK(found, "%s %s: %s missing or not [%d][%d] in lesson.json", ls->name, what, name, rows, cols);
    CHECK(worst <= TOL_SCORE, "%s %s: %s differs from PyTorch by %.2e (tol %g)", ls->name, what, name, worst,
          TOL_SCORE);
    return worst;
}

static void compare_scores(const lesson *ls, const result *r, int32_t obj, const char *what) {
    for (int k = 0; k < MAX_SCORES && score_names[ls->kind][k]; k++) compare_grid(ls, r, k, obj, what);
}

static void print_grid(const lesson *ls, const char *label, const double *g) {
    int rows = is_virtual(label) ? ls->n_head : ls->n_layer;
    printf("  %s %s:", ls->name, label);
    for (int l = 0; l < rows; l++) {
        printf(" [");
        for (int h = 0; h < ls->n_head; h++) printf("%s%.3f", h ? " " : "", g[l * ls->n_head + h]);
        printf("]");
    }
    printf("\n");
}

/* ---------------------------------------------------------------- one lesson */
static int load_items(lesson *ls, int32_t arr) {
    ls->n_items = jlen(ls, arr);
    ls->items = calloc((size_t)(ls->n_items ? ls->n_items : 1), sizeof *ls->items);
    if (!ls->items) return 0;
    for (int k = 0; k < ls->n_items; k++) {
        item *it = &ls->items[k];
        int32_t o = jidx(ls, arr, k);
        if (!jstr(ls, jget(ls, o, "text"), it->text, sizeof it->text)) return 0;
        double L = jnum(ls, jget(ls, o, "L"));
        it->L = L == L ? (int)L : 0;
        int n = 0;
        gb_status st = gb_tokenize(ls->ctx, it->text, strlen(it->text), it->ids, NULL, MAX_T, &n);
        CHECK(st == GB_OK, "%s: gb_tokenize(item %d): %s", ls->name, k, gb_error_message(ls->ctx));
        if (st != GB_OK) return 0;
        it->T = n;
        int bytes = n == (int)strlen(it->text);
        for (int i = 0; bytes && i < n; i++) bytes = it->ids[i] == (unsigned char)it->text[i];
        CHECK(bytes, "%s item %d: tokens are not one per byte with id = byte value", ls->name, k);
        int shape_ok = ls->kind == L_ADDITION ? n == 13 : (ls->kind == L_INDUCTION ? n == 2 * it->L : n == 2 * it->L + 2);
        CHECK(shape_ok && it->L >= (ls->kind == L_ADDITION ? 0 : 2), "%s item %d: unexpected length %d (L %d)",
              ls->name, k, n, it->L);
        if (!bytes || !shape_ok) return 0;
    }
    return ls->n_items > 0;
}

static void check_lesson(const char *root, const char *name, lesson_kind kind) {
    char dir[4096], path[4200], err[600] = "";
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    snprintf(path, sizeof path, "%s/lesson.json", dir);
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        printf("SKIP %s: %s missing (model not trained yet)\n", name, path);
        return;
    }
    fclose(probe);
    clock_t t0 = clock();
    lesson ls = {.name = name, .kind = kind};
    size_t len = 0;
    uint8_t *buf = cli_read_file(path, &len, err, sizeof err);
    CHECK(buf != NULL, "%s", err);
    if (!buf) return;
    gb_err e = {0};
    gb_status st = gb_json_parse(&ls.doc, (const char *)buf, len, "lesson.json", &e);
    CHECK(st == GB_OK, "%s: %s", path, e.msg);
    if (st != GB_OK) {
        free(buf);
        return;
    }
    ls.ctx = gb_create();
    st = ls.ctx ? cli_load_model_dir(ls.ctx, dir) : GB_E_OOM;
    CHECK(st == GB_OK, "loading %s: %s", dir, ls.ctx ? gb_error_message(ls.ctx) : "no context");
    if (st != GB_OK) goto done;
    const gb_config *cfg = gb_get_config(ls.ctx);
    ls.n_layer = cfg->n_layer;
    ls.n_head = cfg->n_head;
    CHECK(ls.n_layer * ls.n_head <= MAX_HEADS && cfg->n_positions <= MAX_T, "%s: model too large for this test",
          name);
    if (ls.n_layer * ls.n_head > MAX_HEADS || cfg->n_positions > MAX_T) goto done;
    ls.pat = malloc(sizeof *ls.pat * (size_t)ls.n_layer * ls.n_head * MAX_T * MAX_T);
    int32_t root_node = 0, sample = jget(&ls, root_node, "sample");
    int items_ok = ls.pat && load_items(&ls, jget(&ls, sample, "items"));
    CHECK(items_ok, "%s: lesson.json sample.items missing or malformed", name);
    if (!items_ok) goto done;

    /* the unablated model: metrics and every head's scores */
    result base;
    if (!run_sample(&ls, NULL, 0, GB_ABLATE_NONE, 1, &base)) goto done;
    compare_metrics(&ls, &base, jget(&ls, sample, "metrics"), "baseline");
    compare_scores(&ls, &base, sample, "baseline");
    char main_name[32] = "";
    jstr(&ls, jget(&ls, root_node, "main_metric"), main_name, sizeof main_name);
    printf("  %s: %d sample items; %s %.4f (PyTorch %.4f)\n", name, ls.n_items, main_name,
           metric_value(&ls, &base, main_name), jnum(&ls, jget(&ls, jget(&ls, sample, "metrics"), main_name)));
    for (int k = 0; k < MAX_SCORES && score_names[kind][k]; k++) print_grid(&ls, score_names[kind][k], base.score[k]);

    /* every head zero-ablated alone (and, for induction's layer 0, layer 1's induction and
     * virtual scores: does layer 1 still find the earlier token, through which head?) */
    int32_t singles = jget(&ls, sample, "single_head_ablations");
    int n_single = 0;
    for (int i = 0; i < jlen(&ls, singles); i++) {
        int32_t a = jidx(&ls, singles, i);
        char mode[8] = "";
        int heads[MAX_HEADS];
        if (!jstr(&ls, jget(&ls, a, "mode"), mode, sizeof mode) || strcmp(mode, "zero") != 0) continue;
        int n = jheads(&ls, jget(&ls, a, "heads"), heads, MAX_HEADS);
        CHECK(n == 1, "%s: single_head_ablations[%d] heads malformed", name, i);
        if (n != 1) continue;
        int with_scores = jget(&ls, a, "induction_score") >= 0;
        result r;
        if (!run_sample(&ls, heads, 1, GB_ABLATE_ZERO, with_scores, &r)) goto done;
        char what[64];
        snprintf(what, sizeof what, "zero-ablate %d.%d", heads[0] / ls.n_head, heads[0] % ls.n_head);
        compare_metrics(&ls, &r, jget(&ls, a, "metrics"), what);
        for (int k = 0; with_scores && k < MAX_SCORES && score_names[kind][k]; k++)
            if (jget(&ls, a, score_names[kind][k]) >= 0) compare_grid(&ls, &r, k, a, what);
        n_single++;
    }
    CHECK(n_single == ls.n_layer * ls.n_head, "%s: %d single-head zero ablations in lesson.json, expected %d",
          name, n_single, ls.n_layer * ls.n_head);

    /* the named groups, zero and mean */
    int32_t groups = jget(&ls, sample, "group_ablations");
    for (int i = 0; i < jlen(&ls, groups); i++) {
        int32_t a = jidx(&ls, groups, i);
        char mode[8] = "";
        int heads[MAX_HEADS];
        int n = jheads(&ls, jget(&ls, a, "heads"), heads, MAX_HEADS);
        int ok = n > 0 && jstr(&ls, jget(&ls, a, "mode"), mode, sizeof mode);
        CHECK(ok, "%s: group_ablations[%d] malformed", name, i);
        if (!ok || n == 1) continue; /* single heads: zero done above; mean checked via groups of >1 */
        result r;
        gb_ablation m = strcmp(mode, "mean") == 0 ? GB_ABLATE_MEAN : GB_ABLATE_ZERO;
        if (!run_sample(&ls, heads, n, m, 0, &r)) goto done;
        char what[64];
        snprintf(what, sizeof what, "%s-ablate group %d", mode, i);
        compare_metrics(&ls, &r, jget(&ls, a, "metrics"), what);
    }

    /* the card's claims, on the engine's own numbers */
    int32_t claims = jget(&ls, root_node, "claims");
    CHECK(jlen(&ls, claims) >= 3, "%s: lesson.json has %d claims, expected a baseline, named heads and a control",
          name, jlen(&ls, claims));
    for (int i = 0; i < jlen(&ls, claims); i++) {
        int32_t c = jidx(&ls, claims, i);
        char op[4] = "", what[32] = "", metric[32] = "";
        int heads[MAX_HEADS];
        int n = jheads(&ls, jget(&ls, c, "heads"), heads, MAX_HEADS);
        double bound = jnum(&ls, jget(&ls, c, "bound"));
        int ok = n >= 0 && bound == bound && jstr(&ls, jget(&ls, c, "op"), op, sizeof op) &&
                 jstr(&ls, jget(&ls, c, "what"), what, sizeof what) &&
                 jstr(&ls, jget(&ls, c, "metric"), metric, sizeof metric);
        CHECK(ok, "%s: claims[%d] malformed", name, i);
        if (!ok) continue;
        result r;
        if (!run_sample(&ls, heads, n, GB_ABLATE_ZERO, 0, &r)) goto done;
        double v = metric_value(&ls, &r, metric);
        CHECK(v == v, "%s: claims[%d]: unknown metric %s", name, i, metric);
        int holds = strcmp(op, "<=") == 0 ? v <= bound : v >= bound;
        char hl[128] = "";
        for (int k = 0; k < n; k++) {
            size_t used = strlen(hl);
            snprintf(hl + used, sizeof hl - used, "%s%d.%d", k ? "," : "", heads[k] / ls.n_head, heads[k] % ls.n_head);
        }
        printf("  %s claim: %s [%s] zero-ablated: %s %.4f %s %.2f %s\n", name, what, hl, metric, v, op, bound,
               holds ? "holds" : "FAILS");
        CHECK(holds, "%s: claim %s [%s]: %s %.4f is not %s %.2f", name, what, hl, metric, v, op, bound);
    }
    printf("  %s: %.1f s\n", name, (double)(clock() - t0) / CLOCKS_PER_SEC);
done:
    gb_destroy(ls.ctx);
    gb_json_free(&ls.doc);
    free(ls.items);
    free(ls.pat);
    free(buf);
}

int main(void) {
    const char *root = getenv("GLASSBOX_LESSONS");
    if (!root || !*root) root = "models/lessons";
    check_lesson(root, "induction", L_INDUCTION);
    check_lesson(root, "addition", L_ADDITION);
    check_lesson(root, "sort", L_SORT);
    return CHECK_DONE("test_lessons");
}
