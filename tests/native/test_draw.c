/* test_draw.c — the draw a learner can check by hand, and the run's RNG position.
 *
 * For 1,000 seeded draws over random prompts (so random logits), settings and
 * u, the token must be the first row whose cumulative top-p probability
 * exceeds u, with the rows put in the displayed order (probability
 * descending, ties by logit, then id) by this test's own full sort, not the
 * engine's bucketed selection. The cuts are checked against the same order.
 * Then: generated token i uses uniform i of the seed's stream, so a run
 * rebuilt from (prompt, generated ids, seed) draws the next token without
 * replaying anything. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "synth.h"

typedef struct { float p, logit; int32_t id; } ref_row;
static int ref_order(const void *a, const void *b) {
    const ref_row *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    if (x->logit != y->logit) return x->logit > y->logit ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static uint64_t lcg = 0xC0FFEEull;
static uint32_t rnd(void) { lcg = lcg * 6364136223846793005ull + 1442695040888963407ull; return (uint32_t)(lcg >> 33); }
static float rnd_u(void) { return (float)(rnd() >> 7) * (1.0f / 16777216.0f); } /* 24 bits, [0, 1) */

static void check_one(gb_ctx *ctx, int V, ref_row *rows, int32_t *ids, float *cum, int draw) {
    static const float temps[] = {0.0f, 0.05f, 0.3f, 0.8f, 1.0f, 1.7f, 3.0f};
    static const int ks[] = {0, 1, 2, 5, 40, 100000};
    static const float ps[] = {1.0f, 0.99f, 0.9f, 0.5f, 0.05f};
    gb_sample_params sp = {temps[rnd() % 7], ks[rnd() % 6], ps[rnd() % 5]};
    float u = rnd_u();
    gb_sample_trace tr;
    gb_status st = gb_sample_draw(ctx, &sp, u, &tr);
    CHECK(st == GB_OK, "draw %d: %s", draw, gb_error_message(ctx));
    if (st) return;
    for (int i = 0; i < V; i++) rows[i] = (ref_row){tr.probs[i], tr.logits[i], i};
    qsort(rows, (size_t)V, sizeof *rows, ref_order);
    /* the cuts follow the same order: top-k keeps the first k, top-p the
     * shortest prefix of those whose top-k mass reaches p */
    int k = sp.top_k == 0 || sp.top_k > V ? V : sp.top_k, bad = 0;
    for (int i = 0; i < V; i++) bad += (i < k) != (tr.top_k[rows[i].id] > 0 || (i < k && rows[i].p == 0));
    CHECK(bad == 0, "draw %d: top-k keeps exactly the first %d rows (%d wrong)", draw, k, bad);
    double mass = 0;
    int np = 0;
    while (np < k) { mass += tr.top_k[rows[np++].id]; if (sp.top_p < 1 && mass >= sp.top_p) break; }
    bad = 0;
    for (int i = 0; i < V; i++) bad += (i < np && rows[i].p > 0) != (tr.top_p[rows[i].id] > 0);
    CHECK(bad == 0, "draw %d: top-p keeps the first %d rows (%d wrong)", draw, np, bad);
    /* the draw */
    int want = -1, rank = -1;
    double c = 0, before = 0;
    if (sp.temperature == 0) { want = rows[0].id; rank = 0; }
    else {
        int last = 0;
        for (int i = 0; i < V && want < 0; i++) {
            double q = tr.top_p[rows[i].id];
            if (q <= 0) continue;
            last = i;
            if (u < c + q) { want = rows[i].id; rank = i; before = c; }
            c += q;
        }
        if (want < 0) { want = rows[last].id; rank = last; before = c - tr.top_p[rows[last].id]; }
    }
    CHECK(tr.token == want && tr.rank == rank, "draw %d (T=%g k=%d p=%g u=%.7f): token %d at row %d, want %d at row %d",
          draw, sp.temperature, sp.top_k, sp.top_p, u, tr.token, tr.rank, want, rank);
    if (sp.temperature > 0)
        CHECK(fabs(tr.cum_before - before) < 1e-6 && tr.cum_before <= u + 1e-6 && (u < tr.cum_after || rank == np - 1),
              "draw %d: cum_before %g (want %g) <= u %g < cum_after %g", draw, tr.cum_before, before, u, tr.cum_after);
    /* the rows a view lists, with their cumulative mass */
    int n = 1 + (int)(rnd() % 30);
    CHECK(gb_sample_rows(ctx, n, ids, cum) == GB_OK, "rows: %s", gb_error_message(ctx));
    bad = 0;
    c = 0;
    for (int i = 0; i < n; i++) {
        c += tr.top_p[rows[i].id];
        bad += ids[i] != rows[i].id || fabs(cum[i] - c) > 1e-6;
    }
    CHECK(bad == 0, "draw %d: the first %d listed rows and their cumulative sums match the order", draw, n);
}

static void make_model(synth_model *m, int V) {
    synth_make(m, 1, 2, 8, 32);
    free(m->config); free(m->st);
    synth_make_weights(m, 1, 2, 8, 32, V); /* the 256-byte tokenizer fits inside a larger vocabulary */
}

int main(void) {
    synth_model m;
    make_model(&m, 3001);
    gb_ctx *ctx = gb_create();
    CHECK(synth_load(ctx, &m) == GB_OK, "load: %s", gb_error_message(ctx));
    int V = gb_get_config(ctx)->vocab_size;
    ref_row *rows = malloc(sizeof *rows * V);
    int32_t ids[32], prompt[8];
    float cum[32];
    for (int d = 0; d < 1000; d++) {
        int n = 1 + (int)(rnd() % 8);
        for (int i = 0; i < n; i++) prompt[i] = (int32_t)(rnd() % (uint32_t)V);
        gb_set_tokens(ctx, prompt, n);
        gb_run_all(ctx);
        check_one(ctx, V, rows, ids, cum, d);
    }
    gb_sample_params sp = {0.9f, 0, 1.0f};
    gb_sample_trace tr;
    CHECK(gb_sample_draw(ctx, &sp, 1.0f, &tr) == GB_E_ARG, "u = 1 is refused");
    CHECK(gb_sample_draw(ctx, &sp, NAN, &tr) == GB_E_ARG, "u = NaN is refused");

    /* the RNG position: generate 12 tokens, then rebuild the run at every
     * point from (prompt, generated ids, seed) and draw the next one */
    int32_t start[3] = {5, 9, 200}, gen[12];
    gb_seed(ctx, 1234);
    gb_set_tokens(ctx, start, 3);
    for (int i = 0; i < 12; i++) {
        gb_run_all(ctx);
        CHECK(gb_next_uniform(ctx) == gb_uniform_at(ctx, i), "generated token %d uses uniform %d", i, i);
        gb_sample(ctx, &sp, &tr);
        gen[i] = tr.token;
        gb_append_tokens(ctx, &tr.token, 1);
    }
    gb_ctx *fresh = gb_create();
    synth_load(fresh, &m);
    gb_seed(fresh, 1234);
    for (int j = 0; j < 12; j++) {
        gb_set_tokens(fresh, start, 3);
        if (j) gb_append_tokens(fresh, gen, j);
        gb_run_all(fresh);
        CHECK(gb_num_prompt_tokens(fresh) == 3, "the prompt is what gb_set_tokens set");
        gb_sample(fresh, &sp, &tr);
        CHECK(tr.token == gen[j], "rebuilt run after %d generated tokens draws %d, generation drew %d", j, tr.token, gen[j]);
        gb_sample(fresh, &sp, &tr);
        CHECK(tr.token == gen[j], "sampling twice without appending draws the same token (pure)");
    }
    gb_destroy(fresh);
    free(rows);
    gb_destroy(ctx);
    synth_free(&m);
    return CHECK_DONE("test_draw");
}
