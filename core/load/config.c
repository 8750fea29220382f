/* config.c — config.json to gb_model_config, rejecting what the engine cannot
 * run (wrong architecture, absurd sizes) with the field's name in the message. */
#include "load/config.h"

#include <math.h>
#include <string.h>

#include "load/json.h"

/* Reads an integer field; `alt` is an older alias (n_ctx for n_positions). */
static gb_status get_int(const gb_json *doc, const char *key, const char *alt, int lo, int hi,
                         int *out, gb_err *e) {
    int32_t n = gb_json_get(doc, 0, key);
    if (n < 0 && alt) n = gb_json_get(doc, 0, alt);
    if (n < 0) return GB_FAIL(e, GB_E_FORMAT, "config.json: missing field \"%s\"", key);
    double v;
    if (gb_json_number(doc, n, &v) != 0 || v != floor(v))
        return GB_FAIL(e, GB_E_FORMAT, "config.json: \"%s\" must be an integer", key);
    if (v < lo || v > hi)
        return GB_FAIL(e, GB_E_RANGE, "config.json: \"%s\" is %.0f; expected %d..%d", key, v, lo, hi);
    *out = (int)v;
    return GB_OK;
}

static int get_bool(const gb_json *doc, const char *key, int dflt) {
    int32_t n = gb_json_get(doc, 0, key);
    if (n < 0) return dflt;
    return doc->nodes[n].type == GB_JSON_TRUE ? 1 : doc->nodes[n].type == GB_JSON_FALSE ? 0 : dflt;
}

static gb_status parse_activation(gb_model_config *m, const gb_json *doc, gb_err *e) {
    int32_t n = gb_json_get(doc, 0, "activation_function");
    m->act = GB_ACT_GELU_TANH; /* GPT-2's default, gelu_new */
    if (n < 0) return GB_OK;
    if (gb_json_string_eq(doc, n, "gelu_new") || gb_json_string_eq(doc, n, "gelu_pytorch_tanh") ||
        gb_json_string_eq(doc, n, "gelu_fast"))
        return GB_OK;
    if (gb_json_string_eq(doc, n, "gelu")) { m->act = GB_ACT_GELU_ERF; return GB_OK; }
    return GB_FAIL(e, GB_E_FORMAT,
                   "config.json: activation_function must be gelu_new, gelu_pytorch_tanh, gelu_fast or gelu");
}

static gb_status parse_fields(gb_model_config *m, const gb_json *doc, gb_err *e) {
    gb_config *c = &m->c;
    gb_status s;
    if ((s = get_int(doc, "n_layer", NULL, 1, GB_MAX_LAYERS, &c->n_layer, e)) ||
        (s = get_int(doc, "n_head", NULL, 1, GB_MAX_EMBD, &c->n_head, e)) ||
        (s = get_int(doc, "n_embd", NULL, 1, GB_MAX_EMBD, &c->n_embd, e)) ||
        (s = get_int(doc, "n_positions", "n_ctx", 1, GB_MAX_POSITIONS, &c->n_positions, e)) ||
        (s = get_int(doc, "vocab_size", NULL, 1, GB_MAX_VOCAB, &c->vocab_size, e)))
        return s;
    if (c->n_embd % c->n_head != 0)
        return GB_FAIL(e, GB_E_RANGE, "config.json: n_embd (%d) must be divisible by n_head (%d)",
                       c->n_embd, c->n_head);
    c->d_head = c->n_embd / c->n_head;
    c->d_mlp = 4 * c->n_embd;
    int32_t inner = gb_json_get(doc, 0, "n_inner");
    if (inner >= 0 && doc->nodes[inner].type != GB_JSON_NULL &&
        (s = get_int(doc, "n_inner", NULL, 1, 4 * GB_MAX_EMBD, &c->d_mlp, e)))
        return s;
    c->layer_norm_epsilon = 1e-5f;
    int32_t eps = gb_json_get(doc, 0, "layer_norm_epsilon");
    double v;
    if (eps >= 0) {
        /* (float)v > 0, not just v > 0: 1e-85 rounds to 0.0f, and a zero epsilon
         * divides by zero on a constant row (fuzz_config found it). */
        if (gb_json_number(doc, eps, &v) != 0 || !(v > 0) || v > 1 || !((float)v > 0))
            return GB_FAIL(e, GB_E_RANGE,
                           "config.json: layer_norm_epsilon must be a number in (0, 1] that float32 "
                           "can hold (>= 1e-45)");
        c->layer_norm_epsilon = (float)v;
    }
    m->scale_attn_weights = get_bool(doc, "scale_attn_weights", 1);
    m->scale_by_layer = get_bool(doc, "scale_attn_by_inverse_layer_idx", 0);
    if (get_bool(doc, "add_cross_attention", 0))
        return GB_FAIL(e, GB_E_FORMAT, "config.json: add_cross_attention is not supported (decoder-only GPT-2 expected)");
    return parse_activation(m, doc, e);
}

gb_status gb_config_parse(gb_model_config *out, const uint8_t *json, size_t len, gb_err *e) {
    memset(out, 0, sizeof *out);
    gb_json doc;
    gb_status s = gb_json_parse(&doc, (const char *)json, len, "config.json", e);
    if (s) return s;
    if (doc.nodes[0].type != GB_JSON_OBJECT) {
        s = GB_FAIL(e, GB_E_FORMAT, "config.json: expected a JSON object");
    } else {
        int32_t mt = gb_json_get(&doc, 0, "model_type");
        if (mt >= 0 && !gb_json_string_eq(&doc, mt, "gpt2"))
            s = GB_FAIL(e, GB_E_FORMAT, "config.json: model_type is not \"gpt2\"; only the GPT-2 architecture is supported");
        else
            s = parse_fields(out, &doc, e);
    }
    gb_json_free(&doc);
    return s;
}

/* In uint64_t: with the limits above this cannot overflow even where size_t is 32 bits. */
uint64_t gb_config_param_count(const gb_config *c, int tied) {
    uint64_t C = (uint64_t)c->n_embd, M = (uint64_t)c->d_mlp, V = (uint64_t)c->vocab_size;
    uint64_t per_block = 4 * C + (C * 3 * C + 3 * C) + (C * C + C) + (C * M + M) + (M * C + C);
    return V * C + (uint64_t)c->n_positions * C + (uint64_t)c->n_layer * per_block + 2 * C +
           (tied ? 0 : V * C);
}
