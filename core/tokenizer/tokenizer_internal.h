/* tokenizer_internal.h — the tokenizer's data layout, shared by
 * tokenizer_load.c (which builds it from vocab/merges files) and tokenizer.c
 * (which encodes and decodes with it). Not part of any public API.
 *
 * Everything is kept in raw bytes, not GPT-2's printable "byte-to-unicode"
 * spelling: the spelling only matters when reading the files, and bytes make
 * encoding a matter of integer lookups.
 */
#ifndef GB_TOKENIZER_INTERNAL_H
#define GB_TOKENIZER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "load/config.h" /* GB_MAX_VOCAB */
#include "tokenizer/tokenizer.h"

/* Ids above this are rejected as absurd before anything is allocated: no
 * config.json may have more than GB_MAX_VOCAB tokens, so a larger id could
 * never load, and the id tables cost 8 bytes per id up to the largest (a
 * 12-byte vocab.json {"a":16777215} used to take 128 MB). */
#define GB_TOK_MAX_ID (GB_MAX_VOCAB - 1)
#define GB_TOK_ABSENT UINT32_MAX /* tok_len of an id no token uses */

/* One slot of the merge table: the pair (left id, right id) packed in key. */
typedef struct {
    uint64_t key;      /* ((uint64_t)left << 32) | right; GB_MERGE_EMPTY if unused */
    uint32_t rank;     /* line order in merges: lower merges first */
    int32_t merged;    /* id of the concatenated token */
} gb_merge_slot;
#define GB_MERGE_EMPTY UINT64_MAX

struct gb_tokenizer {
    int32_t n_ids;          /* largest id + 1 */
    uint32_t *tok_off;      /* [n_ids] offset of each token's bytes in pool */
    uint32_t *tok_len;      /* [n_ids] byte length, GB_TOK_ABSENT for unused ids */
    char *pool;             /* every token's bytes, back to back */
    size_t pool_len;
    int32_t byte_id[256];   /* the token of each single byte, -1 if none */
    gb_merge_slot *merges;  /* open addressing, power-of-two size */
    size_t merge_mask;      /* table size - 1 */
    size_t n_merges;
};

static inline uint64_t gb_mix64(uint64_t x) { /* splitmix64's finalizer */
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* The merge of (left, right), or NULL. */
static inline const gb_merge_slot *gb_merge_find(const struct gb_tokenizer *t, int32_t left,
                                                 int32_t right) {
    uint64_t key = ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
    for (size_t i = gb_mix64(key) & t->merge_mask;; i = (i + 1) & t->merge_mask) {
        if (t->merges[i].key == key) return &t->merges[i];
        if (t->merges[i].key == GB_MERGE_EMPTY) return NULL;
    }
}

/* End (exclusive) of the pre-tokenizer piece that starts at pos < len: one
 * match of GPT-2's pattern, findall-style. Pieces tile the text exactly. */
size_t gb_pretok_next(const char *text, size_t len, size_t pos);

#endif
