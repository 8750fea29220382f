/* tokenizer.h — GPT-2 byte-level BPE (internal API; gb_tokenize etc. wrap it).
 *
 * Exactly GPT-2's scheme: the pre-tokenizer pattern
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * with Unicode letter/number classes and White_Space for \s, the
 * bytes-to-unicode table, and merges applied by rank. Bytes that are not valid
 * UTF-8 are treated as one-byte characters of the "other" class, so any byte
 * string round-trips exactly.
 */
#ifndef GB_TOKENIZER_H
#define GB_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct gb_tokenizer gb_tokenizer;

/* Either vocab.json + merges.txt, or tokenizer.json (the others NULL/0).
 * merges.txt may hold only its "#version" line (a vocabulary with no merges,
 * e.g. a character-level lesson model). */
gb_status gb_tokenizer_load(gb_tokenizer **out,
                            const uint8_t *vocab_json, size_t vocab_len,
                            const uint8_t *merges_txt, size_t merges_len,
                            const uint8_t *tokenizer_json, size_t tokenizer_json_len,
                            gb_err *e);
void gb_tokenizer_free(gb_tokenizer *tok);

/* Largest id + 1. */
int gb_tokenizer_vocab_size(const gb_tokenizer *tok);

/* See gb_tokenize in glassbox.h for the contract. A byte that no token covers
 * (possible with small vocabularies) is an error naming the byte. */
gb_status gb_tokenizer_encode(const gb_tokenizer *tok, const char *text, size_t len,
                              int32_t *ids, int32_t *spans, int cap, int *n_tokens,
                              gb_err *e);
gb_status gb_tokenizer_token_bytes(const gb_tokenizer *tok, int32_t id,
                                   const char **bytes, size_t *len, gb_err *e);
gb_status gb_tokenizer_decode(const gb_tokenizer *tok, const int32_t *ids, int n,
                              char *out, size_t cap, size_t *out_len, gb_err *e);

#endif
