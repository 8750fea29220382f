/* fuzz_load_stream.c — the load streamed in pieces (gb_load_begin/write/finish)
 * against the same load in one piece (gb_load_model), on mutated bytes of a
 * valid small model.
 *
 * Input: fuzz_model_load's five files (config.json | model.safetensors |
 * vocab.json | merges.txt | tokenizer.json, fz_split's scheme), so the two
 * targets share seeds. model.safetensors is streamed in pieces whose sizes
 * come from a hash of the input (1 byte up to the whole file), then the same
 * files are loaded whole with gb_load_model into a second handle. Both must
 * agree: the same status and message, and on success the same logits, bit for
 * bit (every cut, inside a header, a weight or a panel, must place each byte
 * where the one-piece load does). */
#include "fuzz_util.h"

static gb_ctx *streamed, *whole;
static const int32_t prompt[3] = {104, 105, 33};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    streamed = gb_create();
    whole = gb_create();
    return 0;
}

static float *logits(gb_ctx *ctx, size_t *n) {
    const gb_config *c = gb_get_config(ctx);
    int k = c->n_positions < 3 ? c->n_positions : 3;
    int32_t ids[3];
    for (int i = 0; i < k; i++) ids[i] = prompt[i] % c->vocab_size;
    if (gb_set_tokens(ctx, ids, k) != GB_OK || gb_run_all(ctx) != GB_OK) return NULL;
    *n = (size_t)k * (size_t)c->vocab_size;
    float *out = malloc(*n * sizeof *out);
    if (out && gb_activation_copy(ctx, gb_hook_find("logits", NULL), -1, out, *n) != GB_OK) {
        free(out);
        out = NULL;
    }
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_part f[5];
    fz_split(data, size, f, 5);
    uint64_t r = 0x9e3779b97f4a7c15ull ^ size;
    for (size_t i = 0; i < size && i < 64; i++) r = (r ^ data[i]) * 0x100000001b3ull;
    size_t max_piece = 1 + (size_t)(r % 4 == 0 ? f[1].len : r % 4 == 1 ? 7 : 1 + f[1].len / 5);
    gb_status s1 = gb_load_begin(streamed, f[0].p, f[0].len, f[1].len);
    for (size_t at = 0; s1 == GB_OK && at < f[1].len;) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        size_t n = 1 + (size_t)(r % max_piece);
        if (n > f[1].len - at) n = f[1].len - at;
        s1 = gb_load_write(streamed, f[1].p + at, n);
        at += n;
    }
    if (s1 == GB_OK) s1 = gb_load_finish(streamed, f[2].p, f[2].len, f[3].p, f[3].len, f[4].p, f[4].len);
    char msg1[600];
    snprintf(msg1, sizeof msg1, "%s", gb_error_message(streamed));
    /* gb_load_begin parses config.json first; the whole load reads it too, so
     * a config the stream refused must fail the whole load the same way. */
    gb_status s2 = gb_load_model(whole, f[0].p, f[0].len, f[1].p, f[1].len, f[2].p, f[2].len, f[3].p,
                                 f[3].len, f[4].p, f[4].len);
    if (!f[0].p || !f[1].p) return 0; /* NULL files: the two APIs word the refusal differently */
    FZ_ASSERT(s1 == s2, "streamed %s (%s) vs whole %s (%s)", gb_status_name(s1), msg1, gb_status_name(s2),
              gb_error_message(whole));
    if (s1 != GB_OK) {
        FZ_ASSERT(strcmp(msg1, gb_error_message(whole)) == 0, "messages differ: '%s' vs '%s'", msg1,
                  gb_error_message(whole));
        return 0;
    }
    size_t n1 = 0, n2 = 0;
    float *a = logits(streamed, &n1), *b = logits(whole, &n2);
    FZ_ASSERT((a == NULL) == (b == NULL), "one model ran, the other did not");
    if (a && b) FZ_ASSERT(n1 == n2 && memcmp(a, b, n1 * sizeof *a) == 0, "streamed and whole logits differ");
    free(a);
    free(b);
    return 0;
}
