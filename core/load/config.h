/* config.h — reads and sanity-checks a Hugging Face GPT-2 config.json. */
#ifndef GB_CONFIG_H
#define GB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum { GB_ACT_GELU_TANH, GB_ACT_GELU_ERF } gb_act_fn;

/* Limits that reject absurd configs before anything is allocated. */
#define GB_MAX_LAYERS 256
#define GB_MAX_EMBD 16384
#define GB_MAX_POSITIONS 65536
#define GB_MAX_VOCAB 1048576

typedef struct {
    gb_config c;              /* the public part (glassbox.h) */
    gb_act_fn act;            /* activation_function */
    int scale_attn_weights;   /* divide scores by sqrt(d_head) (GPT-2: true) */
    int scale_by_layer;       /* scale_attn_by_inverse_layer_idx: also divide by layer + 1 */
} gb_model_config;

gb_status gb_config_parse(gb_model_config *out, const uint8_t *json, size_t len, gb_err *e);

/* Parameter count implied by the config (lm_head counted only if untied). */
uint64_t gb_config_param_count(const gb_config *c, int tied);

#endif
