/* fuzz_config.c — config.json to gb_model_config.
 *
 * Input: a config.json. Accepted configs must be inside the engine's limits
 * (so that every size derived from them is safe to compute), and the
 * parameter count must be computed without overflow. */
#include <math.h>

#include "load/config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gb_model_config mc;
    gb_err e = {0};
    gb_status s = gb_config_parse(&mc, data, size, &e);
    if (s != GB_OK) {
        FZ_ASSERT(strstr(e.msg, "config.json") != NULL, "message: %s", e.msg);
        FZ_ASSERT(s == GB_E_FORMAT || s == GB_E_RANGE || s == GB_E_OOM, "status %d", (int)s);
        return 0;
    }
    const gb_config *c = &mc.c;
    FZ_ASSERT(c->n_layer >= 1 && c->n_layer <= GB_MAX_LAYERS, "n_layer %d", c->n_layer);
    FZ_ASSERT(c->n_embd >= 1 && c->n_embd <= GB_MAX_EMBD, "n_embd %d", c->n_embd);
    FZ_ASSERT(c->n_head >= 1 && c->n_embd % c->n_head == 0 && c->d_head * c->n_head == c->n_embd, "heads");
    FZ_ASSERT(c->n_positions >= 1 && c->n_positions <= GB_MAX_POSITIONS, "n_positions %d", c->n_positions);
    FZ_ASSERT(c->vocab_size >= 1 && c->vocab_size <= GB_MAX_VOCAB, "vocab %d", c->vocab_size);
    FZ_ASSERT(c->d_mlp >= 1 && c->d_mlp <= 4 * GB_MAX_EMBD, "d_mlp %d", c->d_mlp);
    FZ_ASSERT(isfinite(c->layer_norm_epsilon) && c->layer_norm_epsilon > 0 && c->layer_norm_epsilon <= 1,
              "eps %g", (double)c->layer_norm_epsilon);
    FZ_ASSERT(mc.act == GB_ACT_GELU_TANH || mc.act == GB_ACT_GELU_ERF, "act");
    for (int tied = 0; tied < 2; tied++) { /* in long double: no wrap possible */
        long double C = c->n_embd, M = c->d_mlp, V = c->vocab_size;
        long double want = V * C + (long double)c->n_positions * C +
                           c->n_layer * (4 * C + C * 3 * C + 3 * C + C * C + C + C * M + M + M * C + C) + 2 * C +
                           (tied ? 0 : V * C);
        FZ_ASSERT((long double)gb_config_param_count(c, tied) == want, "param count wrapped");
    }
    return 0;
}
