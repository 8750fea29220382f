/* test_config.c — config.json as Hugging Face publishes it for gpt2,
 * distilgpt2 and gpt2-medium (extra fields, n_ctx alongside n_positions,
 * nested objects) parses to the right dimensions, and the parameter count
 * implied by the config equals the published sizes of those models. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "load/config.h"
#include "fileio.h"

typedef struct {
    const char *file;
    int n_layer, n_head, n_embd, d_mlp;
    unsigned long long params; /* published parameter counts (tied LM head) */
} expect;

int main(void) {
    const expect cases[] = {
        {"tests/fixtures/configs/gpt2.json", 12, 12, 768, 3072, 124439808ull},
        {"tests/fixtures/configs/distilgpt2.json", 6, 12, 768, 3072, 81912576ull},
        {"tests/fixtures/configs/gpt2-medium.json", 24, 16, 1024, 4096, 354823168ull},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err[600];
        size_t len;
        uint8_t *buf = cli_read_file(cases[i].file, &len, err, sizeof err);
        CHECK(buf != NULL, "%s", err);
        if (!buf) continue;
        gb_model_config mc;
        gb_err e;
        gb_status s = gb_config_parse(&mc, buf, len, &e);
        CHECK(s == GB_OK, "%s: %s", cases[i].file, e.msg);
        CHECK(mc.c.n_layer == cases[i].n_layer && mc.c.n_head == cases[i].n_head &&
                  mc.c.n_embd == cases[i].n_embd && mc.c.d_mlp == cases[i].d_mlp &&
                  mc.c.n_positions == 1024 && mc.c.vocab_size == 50257 && mc.c.d_head == 64,
              "%s: dimensions", cases[i].file);
        CHECK(mc.act == GB_ACT_GELU_TANH && mc.scale_attn_weights == 1 && mc.scale_by_layer == 0,
              "%s: gelu_new, scaled attention", cases[i].file);
        CHECK(mc.c.layer_norm_epsilon == 1e-5f, "%s: epsilon", cases[i].file);
        unsigned long long p = gb_config_param_count(&mc.c, 1);
        CHECK(p == cases[i].params, "%s: %llu parameters, published %llu", cases[i].file, p, cases[i].params);
        free(buf);
    }
    return CHECK_DONE("test_config");
}
