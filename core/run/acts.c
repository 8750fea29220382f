/* acts.c — layout and growth of the activation store (see acts.h). */
#include "run/acts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const gb_hook_info gb_hooks[GB_NUM_HOOKS] = {
#define X(id, name, per_layer, shape, keep, stage) {name, per_layer, shape, keep, stage},
    GB_HOOKS(X)
#undef X
};

size_t gb_acts_row(const gb_dims *d, gb_shape_kind s, int t) {
    switch (s) {
    case SH_TC: return (size_t)d->n_embd;
    case SH_T1: return 1;
    case SH_THD: return (size_t)d->n_head * (size_t)d->d_head;
    case SH_HTT: return (size_t)d->n_head * (size_t)(t + 1);
    case SH_TM: return (size_t)d->d_mlp;
    case SH_TV: return (size_t)d->vocab;
    }
    return 0;
}

size_t gb_acts_rows(const gb_dims *d, gb_shape_kind s, int n) {
    if (s == SH_HTT) return (size_t)d->n_head * ((size_t)n * (size_t)(n + 1) / 2);
    return gb_acts_row(d, s, 0) * (size_t)n;
}

/* Rows of the logits hook the store holds: every position's, or with
 * keep_all off the last position's only (ctx.h: logits_all). */
static uint64_t stored_rows(const gb_acts *a, int h, int cap) {
    return h == HOOK_LOGITS && !a->keep_all ? 1 : (uint64_t)cap;
}

static int n_slots(const gb_acts *a, const gb_hook_info *h) {
    if (!h->per_layer) return 1;
    return (h->keep || a->keep_all) ? a->d.n_layer : 1;
}

/* Computes offsets for capacity cap; returns total floats or 0 on overflow. */
static size_t layout(const gb_acts *a, int cap, size_t *off, size_t *slot) {
    size_t total = 0;
    for (int h = 0; h < GB_NUM_HOOKS; h++) {
        /* in 64 bits first: on wasm32 a size_t product can wrap */
        uint64_t r64 = gb_hooks[h].shape == SH_HTT
                           ? (uint64_t)a->d.n_head * ((uint64_t)cap * (uint64_t)(cap + 1) / 2)
                           : (uint64_t)gb_acts_row(&a->d, gb_hooks[h].shape, 0) * stored_rows(a, h, cap);
        if (r64 > SIZE_MAX / 8) return 0;
        size_t rows = (size_t)r64, all;
        if (!gb_mul_size(rows, (size_t)n_slots(a, &gb_hooks[h]), &all)) return 0;
        off[h] = total;
        slot[h] = rows;
        if (!gb_add_size(total, all, &total)) return 0;
    }
    return total;
}

gb_status gb_acts_reserve(gb_acts *a, int cap, int keep_rows, gb_err *e) {
    size_t off[GB_NUM_HOOKS], slot[GB_NUM_HOOKS];
    size_t total = layout(a, cap, off, slot), bytes;
    if (!total || !gb_mul_size(total, sizeof(float), &bytes))
        return GB_FAIL(e, GB_E_OOM, "activations for %d tokens overflow the address space", cap);
    float *arena = malloc(bytes);
    if (!arena)
        return GB_FAIL(e, GB_E_OOM,
                       "out of memory: activations for %d tokens need %.0f MB (turn off keep-all to store less)",
                       cap, (double)bytes / 1e6);
    if (a->arena && keep_rows > 0) {
        for (int h = 0; h < GB_NUM_HOOKS; h++) {
            size_t n = gb_acts_rows(&a->d, gb_hooks[h].shape, keep_rows);
            if (n > slot[h]) n = slot[h]; /* the one-row logits slot: its one row */
            for (int s = 0; s < n_slots(a, &gb_hooks[h]); s++)
                memcpy(arena + off[h] + (size_t)s * slot[h],
                       a->arena + a->off[h] + (size_t)s * a->slot_size[h], n * sizeof(float));
        }
    }
    free(a->arena);
    a->arena = arena;
    a->cap = cap;
    memcpy(a->off, off, sizeof off);
    memcpy(a->slot_size, slot, sizeof slot);
    return GB_OK;
}

void gb_acts_free(gb_acts *a) {
    free(a->arena);
    a->arena = NULL;
    a->cap = 0;
}

float *gb_acts_ptr(const gb_acts *a, gb_hook_id h, int layer) {
    const gb_hook_info *hi = &gb_hooks[h];
    int s = (hi->per_layer && (hi->keep || a->keep_all)) ? layer : 0;
    return a->arena + a->off[h] + (size_t)s * a->slot_size[h];
}

double gb_acts_bytes(const gb_dims *d, int keep_all, int cap) {
    gb_acts a;
    memset(&a, 0, sizeof a);
    a.d = *d;
    a.keep_all = keep_all;
    size_t off[GB_NUM_HOOKS], slot[GB_NUM_HOOKS];
    return (double)layout(&a, cap, off, slot) * sizeof(float);
}
