/* fuzz_sample.c — sampling parameters and the distributions they cut.
 *
 * Input: temperature (4 raw bytes), top_k (int32), top_p (4 raw bytes), a
 * seed (8 bytes), then a mode byte and the rest:
 *   mode even: the rest are prompt token ids (one byte each) for a forward pass
 *   mode odd:  the rest overwrite the last position's logits (raw floats,
 *              repeated), so ties, huge ranges, -inf, inf and NaN all occur
 * Bad parameters (NaN/inf/negative temperature, negative top-k, top-p outside
 * (0, 1]) must be GB_E_ARG with a message. Valid ones must return a token in
 * range; with finite logits the token must survive both cuts (greedy: be the
 * argmax), the cut distributions must be subsets of each other with top-k
 * keeping at most k tokens. Non-finite logits may be refused with GB_E_RANGE. */
#include <math.h>

#include "ctx.h"
#include "fuzz_util.h"

static gb_ctx *ctx;
static int V, P;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    synth_model m;
    synth_make(&m, 1, 2, 8, 16);
    ctx = gb_create();
    if (synth_load(ctx, &m) != GB_OK) { fprintf(stderr, "model: %s\n", gb_error_message(ctx)); abort(); }
    synth_free(&m);
    V = gb_get_config(ctx)->vocab_size;
    P = gb_get_config(ctx)->n_positions;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 21) return 0;
    gb_sample_params p;
    uint64_t seed;
    memcpy(&p.temperature, data, 4);
    memcpy(&p.top_k, data + 4, 4);
    memcpy(&p.top_p, data + 8, 4);
    memcpy(&seed, data + 12, 8);
    int mode = data[20];
    data += 21; size -= 21;
    int32_t ids[64] = {0};
    int n = 1;
    if (!(mode & 1)) {
        n = size < 1 ? 1 : size > (size_t)P ? P : (int)size;
        for (int i = 0; i < n && i < (int)size; i++) ids[i] = data[i] % V;
    }
    /* planted-logits inputs share one single-token run (a forward pass per input
     * would dominate); prompt inputs run their own */
    static int single_run_ready = 0;
    if (!(mode & 1) || !single_run_ready) {
        FZ_ASSERT(gb_set_tokens(ctx, ids, n) == GB_OK && gb_run_all(ctx) == GB_OK, "run: %s", gb_error_message(ctx));
        single_run_ready = (mode & 1) != 0;
    }
    float *logits = gb_acts_ptr(&ctx->acts, HOOK_LOGITS, -1) + (size_t)(n - 1) * V;
    if ((mode & 1) && size >= 4)
        for (int i = 0; i < V; i++) memcpy(&logits[i], data + (4 * (size_t)i) % (size & ~(size_t)3), 4);
    int finite = 1;
    for (int i = 0; i < V; i++) finite &= isfinite(logits[i]);

    int valid = isfinite(p.temperature) && p.temperature >= 0 && p.top_k >= 0 && p.top_p > 0 && p.top_p <= 1;
    gb_seed(ctx, seed);
    gb_sample_trace tr;
    memset(&tr, 0, sizeof tr);
    gb_status s = gb_sample(ctx, &p, &tr);
    if (!valid) {
        FZ_ASSERT(s == GB_E_ARG && gb_error_message(ctx)[0], "bad params T=%g k=%d p=%g accepted (%s)",
                  (double)p.temperature, p.top_k, (double)p.top_p, gb_status_name(s));
        return 0;
    }
    if (!finite && s == GB_E_RANGE) { FZ_ASSERT(gb_error_message(ctx)[0], "no message"); return 0; }
    FZ_ASSERT(s == GB_OK, "valid params T=%g k=%d p=%g: %s", (double)p.temperature, p.top_k, (double)p.top_p,
              gb_error_message(ctx));
    FZ_ASSERT(tr.token >= 0 && tr.token < V, "token %d out of range", tr.token);
    if (!finite) return 0;
    if (p.temperature == 0) {
        for (int i = 0; i < V; i++)
            FZ_ASSERT(logits[i] < logits[tr.token] || (logits[i] == logits[tr.token] && i >= tr.token),
                      "greedy token %d is not the argmax (%d)", tr.token, i);
    }
    int kept = 0;
    double sum_k = 0, sum_p = 0;
    for (int i = 0; i < V; i++) {
        FZ_ASSERT(isfinite(tr.probs[i]) && tr.probs[i] >= 0, "probs[%d] = %g", i, (double)tr.probs[i]);
        FZ_ASSERT(isfinite(tr.top_k[i]) && isfinite(tr.top_p[i]), "cut %d not finite", i);
        FZ_ASSERT(tr.top_p[i] == 0 || tr.top_k[i] > 0, "top-p kept %d that top-k cut", i);
        kept += tr.top_k[i] > 0;
        sum_k += tr.top_k[i];
        sum_p += tr.top_p[i];
    }
    FZ_ASSERT(p.top_k == 0 || kept <= p.top_k, "top-k kept %d > %d", kept, p.top_k);
    FZ_ASSERT(fabs(sum_k - 1) < 1e-3 && fabs(sum_p - 1) < 1e-3, "cuts sum to %g, %g", sum_k, sum_p);
    FZ_ASSERT(tr.top_k[tr.token] > 0 && tr.top_p[tr.token] > 0, "token %d did not survive the cuts (T=%g k=%d p=%g)",
              tr.token, (double)p.temperature, p.top_k, (double)p.top_p);
    if (p.temperature > 0) FZ_ASSERT(tr.uniform >= 0 && tr.uniform < 1, "uniform %g", (double)tr.uniform);
    return 0;
}
