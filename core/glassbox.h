/* glassbox.h — the public C API of the Glassbox engine.
 *
 * Glassbox runs a GPT-2-architecture model one stage at a time and keeps every
 * intermediate activation under its TransformerLens hook name, so a UI, a CLI
 * dump and the tests can all look inside. Everything goes through one opaque
 * handle (gb_ctx): the loaded model, its tokenizer, the current run (tokens,
 * activations, which doubles as the KV cache), the sampler and the last error.
 *
 * Rules that hold for every function here:
 *  - Nothing exits or aborts. Each call returns a gb_status; on failure
 *    gb_error_message() says what went wrong in words a person can act on.
 *  - Loaders take bytes, never paths: the browser hands buffers, the CLI
 *    reads files (cli/) and passes them in.
 *  - Pointers returned by the API stay valid until the next call that changes
 *    the run (set/append tokens, ablations, model load) or gb_destroy().
 */
#ifndef GLASSBOX_H
#define GLASSBOX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    GB_OK = 0,
    GB_E_IO = 1,      /* a file could not be read (CLI layer only) */
    GB_E_FORMAT = 2,  /* bytes are not what the format says: JSON, safetensors, merges */
    GB_E_SHAPE = 3,   /* a tensor's shape or dtype disagrees with config.json */
    GB_E_RANGE = 4,   /* an index, length or count is out of range (e.g. prompt > n_positions) */
    GB_E_OOM = 5,     /* an allocation failed or would exceed the memory limit */
    GB_E_ARG = 6,     /* a caller passed a bad argument (NULL, unknown name, bad option) */
    GB_E_STATE = 7    /* the call needs something not done yet (no model, stage not run) */
} gb_status;

typedef struct gb_ctx gb_ctx;

/* Model hyper-parameters, named as in config.json. */
typedef struct {
    int n_layer;
    int n_head;
    int n_embd;
    int n_positions;      /* context length */
    int vocab_size;
    float layer_norm_epsilon;
    int d_head;           /* n_embd / n_head */
    int d_mlp;            /* n_inner, or 4 * n_embd when config.json has null */
} gb_config;

/* ---------------------------------------------------------------- lifecycle */
gb_ctx *gb_create(void);                 /* NULL only when out of memory */
void gb_destroy(gb_ctx *ctx);
const char *gb_error_message(const gb_ctx *ctx); /* "" after success */
const char *gb_status_name(gb_status s);         /* "GB_E_FORMAT" ... */
/* Lets a caller's own layer (file reading) report through the same handle. */
gb_status gb_report_error(gb_ctx *ctx, gb_status code, const char *msg);

/* ---------------------------------------------------------------- loading */
/* Loads a Hugging Face GPT-2 checkpoint given as bytes: config.json,
 * model.safetensors (weights F32, F16 or BF16, converted to F32 once), and
 * optionally a tokenizer: vocab.json + merges.txt, or tokenizer.json (pass
 * NULL/0 for what is absent). Without any tokenizer the model runs on token
 * ids; gb_tokenize and friends then return GB_E_STATE. On failure the
 * previously loaded model (if any) stays loaded and usable.
 * Exactly gb_load_begin, gb_load_write of all the bytes, gb_load_finish. */
gb_status gb_load_model(gb_ctx *ctx,
                        const uint8_t *config_json, size_t config_len,
                        const uint8_t *safetensors, size_t safetensors_len,
                        const uint8_t *vocab_json, size_t vocab_len,
                        const uint8_t *merges_txt, size_t merges_len,
                        const uint8_t *tokenizer_json, size_t tokenizer_json_len);
/* The same load with model.safetensors arriving in pieces (a download, a file
 * read in chunks): gb_load_begin takes config.json and the file's exact size;
 * gb_load_write takes the next n bytes, split anywhere; gb_load_finish takes
 * the tokenizer (as gb_load_model) and makes the model current. The header
 * is checked as soon as it is in (an error there fails that gb_load_write);
 * each weight is then written once, straight into the layout its kernel
 * reads, so the engine never holds the file. More bytes than announced, or
 * fewer at finish, is an error; any error ends the load (as gb_load_cancel)
 * and the previously loaded model stays usable throughout. */
gb_status gb_load_begin(gb_ctx *ctx, const uint8_t *config_json, size_t config_len,
                        size_t safetensors_len);
gb_status gb_load_write(gb_ctx *ctx, const uint8_t *bytes, size_t n);
gb_status gb_load_finish(gb_ctx *ctx,
                         const uint8_t *vocab_json, size_t vocab_len,
                         const uint8_t *merges_txt, size_t merges_len,
                         const uint8_t *tokenizer_json, size_t tokenizer_json_len);
void gb_load_cancel(gb_ctx *ctx); /* drops a load in progress; no-op without one */
/* 1 when the loaded model came with a tokenizer, 0 without one (or no model). */
int gb_has_tokenizer(const gb_ctx *ctx);
const gb_config *gb_get_config(const gb_ctx *ctx); /* NULL before a model loads */

/* ---------------------------------------------------------------- tokenizer */
/* GPT-2 byte-level BPE, id-for-id equal to the published GPT-2 encoder. The
 * text "<|endoftext|>" is ordinary text here (as tiktoken's encode_ordinary);
 * pass id 50256 with gb_set_tokens to use the special token.
 * Writes up to cap ids into ids[], and into spans[2*i], spans[2*i+1] the byte
 * range [start, end) of token i in text (spans may be NULL). *n_tokens gets
 * the count; if it exceeds cap, GB_E_RANGE (len + 1 is always enough).
 * Invalid UTF-8 bytes are kept as one-byte "other" characters, so decoding
 * always gives back the input bytes exactly. */
gb_status gb_tokenize(gb_ctx *ctx, const char *text, size_t len,
                      int32_t *ids, int32_t *spans, int cap, int *n_tokens);
/* The raw bytes of one token (not NUL-terminated; may be invalid UTF-8 alone). */
gb_status gb_token_bytes(gb_ctx *ctx, int32_t id, const char **bytes, size_t *len);
/* Concatenated bytes of ids into out (cap bytes); *out_len gets the full length. */
gb_status gb_decode(gb_ctx *ctx, const int32_t *ids, int n, char *out, size_t cap,
                    size_t *out_len);

/* ---------------------------------------------------------------- the run */
/* Stages, in order: 0 = embed; 1 + 2L = block L attention; 2 + 2L = block L
 * MLP; 1 + 2*n_layer = final layer norm + unembedding. Each stage computes all
 * positions it has not computed yet, so after gb_append_tokens only the new
 * positions are computed (the stored K and V are the KV cache). */
int gb_num_stages(const gb_ctx *ctx);
gb_status gb_set_tokens(gb_ctx *ctx, const int32_t *ids, int n);   /* new run */
gb_status gb_append_tokens(gb_ctx *ctx, const int32_t *ids, int n); /* extend run */
int gb_num_tokens(const gb_ctx *ctx);
const int32_t *gb_tokens(const gb_ctx *ctx);
gb_status gb_run_stage(gb_ctx *ctx, int stage);  /* earlier stages must be done */
gb_status gb_run_until(gb_ctx *ctx, int stage);  /* every stage up to and including */
gb_status gb_run_all(gb_ctx *ctx);
int gb_stages_done(const gb_ctx *ctx); /* how many leading stages cover all tokens */

/* Keep every layer's internals (default, 1) or only each block's input
 * residual, K, V and outputs (0). With 0, reading an internal activation of
 * block L recomputes block L from its stored input residual; this is what
 * makes GPT-2 small at 1,024 tokens fit (attention patterns alone: 1.2 GB).
 * With 0 the logits are stored for the last position only (sampling's row;
 * every position's are 206 MB at 1,024 tokens): reading the logits hook
 * computes and keeps every row then, gb_top_tokens computes its one row. */
gb_status gb_set_keep_all(gb_ctx *ctx, int keep_all);

/* ---------------------------------------------------------------- threads */
/* The engine splits each heavy step of the forward pass (block matmuls by
 * output columns, the LM head by vocabulary ranges, attention by heads and
 * query rows, GELU by element ranges) into tasks whose outputs never overlap
 * and never split a sum, so results are bit-identical for any thread count.
 * The host owns the threads: it passes a run function that calls
 * task(arg, i, worker) once for every i in [0, n_tasks), on any of its
 * threads, and returns when all have finished. `worker` is the calling
 * thread's index in [0, n_workers): no two tasks running at the same time
 * may get the same worker. The engine calls run only from the thread that
 * called into it, one job at a time, and tasks never allocate.
 * run NULL or n_workers 1: everything runs on the caller's thread (default).
 * cli/pool.c (pthreads) and wasm/pool.c (wasm atomics) are such hosts. */
typedef void (*gb_task_fn)(void *arg, int task, int worker);
typedef void (*gb_parallel_fn)(void *pool, gb_task_fn task, void *arg, int n_tasks);
gb_status gb_set_parallel(gb_ctx *ctx, gb_parallel_fn run, void *pool, int n_workers);
int gb_num_workers(const gb_ctx *ctx); /* 1 without a pool */

/* ---------------------------------------------------------------- activations */
/* Activation names are TransformerLens hook names, e.g. "hook_embed",
 * "blocks.3.attn.hook_pattern", "ln_final.hook_normalized", "logits".
 * An activation is identified by (hook id, layer); layer is -1 for the
 * non-block hooks. Shapes use the current number of tokens T. */
int gb_num_hooks(void);
const char *gb_hook_pattern(int hook);   /* "blocks.%d.attn.hook_pattern" */
int gb_hook_is_per_layer(int hook);
int gb_hook_find(const char *name, int *layer); /* parses a full name; -1 if unknown */

typedef struct {
    int ndim;
    int shape[4];
    size_t numel;
    int dense;        /* 1: data is the row-major tensor itself; 0: stored packed */
} gb_shape;

/* Shape of an activation now, and whether it has been computed (ready). */
gb_status gb_activation_shape(gb_ctx *ctx, int hook, int layer, gb_shape *shape,
                              int *ready);
/* Zero-copy pointer for dense activations (everything but attn scores and
 * pattern, which are stored as causal triangles). Recomputes the block when
 * keep_all is 0. The pointer dies with the next run-changing call. */
gb_status gb_activation_data(gb_ctx *ctx, int hook, int layer, const float **data,
                             gb_shape *shape);
/* Copies any activation into out (row-major, full shape; masked attention
 * scores are -inf, masked pattern entries 0). cap is in floats. */
gb_status gb_activation_copy(gb_ctx *ctx, int hook, int layer, float *out, size_t cap);

/* ---------------------------------------------------------------- views */
/* What a view of one head draws, computed for it: block `layer` head `head`'s
 * attention pattern (query rows x key columns, T x T, masked entries 0)
 *  - overview (may be NULL): [oh, ow] floats; cell (i, c) covers query rows
 *    [i*T/oh, (i+1)*T/oh) and keys [c*T/ow, (c+1)*T/ow) (at least one each)
 *    and holds their max (mode 0) or mean (mode 1, masked entries counted as
 *    0). 1 <= ow, oh <= T.
 *  - zoom (may be NULL): rows [r0, r1) x keys [c0, c1) at full resolution,
 *    [r1 - r0, c1 - c0] floats.
 * The block's attention stage must have run. With keep_all 0 the pattern is
 * not stored: this recomputes only the head (ln_1, its queries, scores against
 * the kept K, softmax; the stored pattern's bits), not the block. */
gb_status gb_head_pattern_view(gb_ctx *ctx, int layer, int head, int ow, int oh, int mode,
                               float *overview, int r0, int r1, int c0, int c1, float *zoom);
/* Bytes the activation store (and its per-token scratch) takes for a run of
 * n_tokens with this keep_all, as allocated (capacity rounds up to a power
 * of two, at most n_positions); the model's weights are not included. For
 * choosing keep_all by what fits. */
gb_status gb_store_bytes(gb_ctx *ctx, int n_tokens, int keep_all, double *bytes);

/* ---------------------------------------------------------------- sampling */
/* The run's sampling state is (seed, settings, tokens): generated token i
 * (0-based, counted from the end of the prompt that gb_set_tokens set) is
 * drawn with uniform number i of the seed's stream, greedy included (greedy
 * ignores it). So a run's next draw follows from its tokens and seed alone:
 * nothing is replayed, and the CLI, the JS API and the page agree. */
typedef struct {
    float temperature; /* 0 = greedy (argmax); must be finite and >= 0 */
    int top_k;         /* 0 = off; otherwise keep the k most likely */
    float top_p;       /* 1 = off; keep the smallest set with mass >= top_p, in (0, 1] */
} gb_sample_params;

/* Every intermediate distribution of one sampling step, each [vocab_size]:
 * raw logits, logits / temperature, softmax, after top-k (zeros outside,
 * renormalised), after top-p (zeros outside, renormalised). Owned by ctx,
 * valid until the next sampling call or run change.
 *
 * The display order, in which the page lists rows and the draw walks:
 * probability descending, ties by logit descending, then by id ascending
 * (the same order for every stage, since each stage is a rescaled prob).
 * The draw takes the first row whose cumulative top-p probability (summed in
 * double in that order) exceeds u; if rounding leaves the total just under u,
 * the last survivor. A learner can check it by hand from the table. */
typedef struct {
    const float *logits;
    const float *scaled;
    const float *probs;
    const float *top_k;
    const float *top_p;
    int n_top_k;       /* survivors of the top-k cut */
    int n_top_p;       /* survivors of both cuts */
    int32_t token;     /* the chosen token (-1 from gb_sample_distribution) */
    float uniform;     /* the uniform in [0, 1) the draw used (greedy: the stream's, unused) */
    int rank;          /* the token's row in the display order (0 = most likely) */
    float cum_before;  /* top-p mass of the rows above it */
    float cum_after;   /* ... and including it: cum_before <= u < cum_after */
} gb_sample_trace;

/* Sets the run's seed (any value; 0 is mapped to a fixed non-zero state). */
void gb_seed(gb_ctx *ctx, uint64_t seed);
/* Uniform number `index` of the seed's stream, and the one the next draw
 * uses (index = tokens generated so far). */
float gb_uniform_at(const gb_ctx *ctx, int index);
float gb_next_uniform(const gb_ctx *ctx);
int gb_num_prompt_tokens(const gb_ctx *ctx);
/* The distribution at every stage, without drawing (no state changes). */
gb_status gb_sample_distribution(gb_ctx *ctx, const gb_sample_params *p, gb_sample_trace *trace);
/* The distribution, then the draw with the given u in [0, 1). */
gb_status gb_sample_draw(gb_ctx *ctx, const gb_sample_params *p, float u, gb_sample_trace *trace);
/* gb_sample_draw with u = gb_next_uniform: the run's next token. Does not
 * append it: call gb_append_tokens to continue. Final stage must be done. */
gb_status gb_sample(gb_ctx *ctx, const gb_sample_params *p, gb_sample_trace *trace);
/* After a sampling call: the first n rows of its display order (ids) and the
 * cumulative top-p mass through each row (cum may be NULL). n may exceed the
 * survivors; rows past them carry the total. */
gb_status gb_sample_rows(gb_ctx *ctx, int n, int32_t *ids, float *cum);

/* ---------------------------------------------------------------- interventions */
/* An intervention is an entry of the run: every activation, the sampler and
 * the logit lens read the intervened run. Adding or removing one invalidates
 * the run from its block on; the next gb_run_* recomputes only that. */
typedef enum {
    GB_IV_ABLATE_ZERO = 1, /* a head's hook_z set to 0 at pos (-1 = every position) */
    GB_IV_ABLATE_MEAN = 2, /* a head's hook_z set to its mean over every position of the run */
    GB_IV_PATCH = 3        /* an activation replaced by the patch source run's (see below) */
} gb_iv_kind;

typedef struct {
    gb_iv_kind kind;
    int hook;   /* hook id (gb_hook_find): HOOK_Z for ablations */
    int layer;  /* block */
    int head;   /* for hook_z: the head; else -1 */
    int pos;    /* position, -1 = every position */
} gb_intervention;

#define GB_MAX_INTERVENTIONS 4096
gb_status gb_add_intervention(gb_ctx *ctx, const gb_intervention *iv); /* an equal entry replaces it */
gb_status gb_remove_intervention(gb_ctx *ctx, int index);
gb_status gb_clear_interventions(gb_ctx *ctx);
int gb_num_interventions(const gb_ctx *ctx);
gb_status gb_get_intervention(const gb_ctx *ctx, int index, gb_intervention *out);

/* Head ablation in the older spelling: one entry per (layer, head) of kind
 * zero or mean; GB_ABLATE_NONE removes it. */
typedef enum { GB_ABLATE_NONE = 0, GB_ABLATE_ZERO = 1, GB_ABLATE_MEAN = 2 } gb_ablation;
gb_status gb_set_ablation(gb_ctx *ctx, int layer, int head, gb_ablation mode);
gb_status gb_clear_ablations(gb_ctx *ctx); /* removes the ablation entries only */

/* ---------------------------------------------------------------- reads for views */
/* Logit lens: final layer norm + unembedding applied to the residual stream
 * after block `layer` (-1 = after the embeddings) at position pos. Writes the
 * k most likely ids and their probabilities (softmax over the whole vocab),
 * in the display order. Has its own scratch: sampling results stay valid. */
gb_status gb_logit_lens(gb_ctx *ctx, int layer, int pos, int k, int32_t *ids,
                        float *probs);
/* The k most likely next tokens at position pos from the run's logits
 * (softmax over the vocab), in the display order. */
gb_status gb_top_tokens(gb_ctx *ctx, int pos, int k, int32_t *ids, float *probs);
/* Attention scores of block `layer` before the causal mask, [n_head, T, T]:
 * q . k times the model's own scale (scale_attn_weights,
 * scale_attn_by_inverse_layer_idx), for every query and key. cap in floats. */
gb_status gb_attn_scores_unmasked(gb_ctx *ctx, int layer, float *out, size_t cap);
/* The L2 norm of each row (position) of a [T, n] activation into out[T]. */
gb_status gb_row_norms(gb_ctx *ctx, int hook, int layer, float *out, size_t cap);
/* Top columns of a [T, n] activation (e.g. MLP neurons of blocks.L.mlp.hook_pre),
 * for the tables a view draws: for each position t in [pos0, pos0 + n_pos),
 * the k columns with the largest values, largest first, ties by the lower
 * column, into ids[(t - pos0) * k + i] and vals (the values). 1 <= k <= n. */
gb_status gb_top_columns(gb_ctx *ctx, int hook, int layer, int pos0, int n_pos, int k, int32_t *ids, float *vals);
/* The k columns whose largest |value| over every position is largest, in that
 * order (ties by the lower column); scores[i] = that |value|. 1 <= k <= n. */
gb_status gb_top_columns_absmax(gb_ctx *ctx, int hook, int layer, int k, int32_t *ids, float *scores);

/* ---------------------------------------------------------------- interpretability tools */
/* Activation patching, direct logit attribution, a head finder, MLP sparsity
 * and ReAGent token attribution (core/run/patch.c, attribute.c, heads.c,
 * sparsity.c, reagent.c). Names follow TransformerLens; the numbers are raw
 * (no layer norm folded into weights). Each call reads the run as it is,
 * interventions included, and leaves it as it was (tools that run another
 * sequence put the caller's tokens back; the run then recomputes on the next
 * gb_run_*, so pointers from gb_activation_data die).
 *
 * Metric. "Logit difference" LD = logit[target] - logit[distractor] at the
 * run's last position T-1.
 *
 * Activation patching is "denoising" (TransformerLens, ARENA): the run holds
 * the CORRUPTED prompt; the patch source holds the CLEAN prompt; a patch
 * copies one activation of the clean run into the corrupted run. */

/* Runs ids (1..n_positions tokens) with no interventions, keeps its
 * hook_resid_pre, hook_attn_out, hook_mlp_out and hook_z of every block, and
 * puts the caller's run back. Replaces any earlier source. */
gb_status gb_set_patch_source(gb_ctx *ctx, const int32_t *ids, int n);
gb_status gb_clear_patch_source(gb_ctx *ctx);
/* The source's tokens (NULL and *n = 0 without one). */
const int32_t *gb_patch_source_tokens(const gb_ctx *ctx, int *n);
/* GB_IV_PATCH entries (gb_add_intervention): hook is blocks.L.hook_resid_pre,
 * blocks.L.hook_attn_out, blocks.L.hook_mlp_out (head -1) or
 * blocks.L.attn.hook_z (head h: that head's slice only); pos -1 = every
 * position. The source's value at the same position is copied in; positions
 * the source does not have are left alone. Needs a patch source. */

/* The two baselines of the grids: LD of the source (clean) and of the run
 * (corrupted, with its interventions). Runs the run's blocks if needed. */
gb_status gb_patch_baselines(gb_ctx *ctx, int target, int distractor, float *ld_clean,
                             float *ld_corrupted);
/* Columns of a patching grid for hook (rows are blocks): T for hook_resid_pre,
 * hook_attn_out and hook_mlp_out (one position patched at a time), n_head for
 * hook_z (one head, every position). -1 for any other hook. */
int gb_patch_grid_cols(const gb_ctx *ctx, int hook);
/* Cells [first, first + count) of the grid, row-major (cell = layer * cols +
 * col), into out[count]: (LD_patched - LD_corrupted) / (LD_clean -
 * LD_corrupted), so 1 = the clean behaviour restored, 0 = no effect. Each cell
 * recomputes only blocks from the patched one on and only positions from the
 * patched one on (earlier positions cannot see it); the metric reads the last
 * block's residual through ln_final, so the unembedding runs for two tokens,
 * not the vocabulary. Call it in chunks to report progress or cancel; the
 * run's own interventions stay applied. Needs source and run of equal length;
 * fails (GB_E_STATE) when LD_clean == LD_corrupted. */
gb_status gb_patch_grid(gb_ctx *ctx, int hook, int target, int distractor, int first, int count,
                        float *out);

/* Direct logit attribution at the last position T-1: the residual stream
 * there is the sum of hook_embed, hook_pos_embed, and per block each head's
 * hook_z[h] @ W_O[h] ("hook_result"), the attention bias attn.c_proj.bias
 * and hook_mlp_out (its c_proj bias included). Each piece v goes through
 * ln_final with its scale s frozen at the run's value (ln_final.hook_scale,
 * as TransformerLens's apply_ln_to_stack): part(v) = (v - mean(v)) .
 * (w_lnf * (W_U[target] - W_U[distractor])) / s. ln_final's bias adds the
 * constant b_lnf . (W_U[target] - W_U[distractor]). So
 *   total = embed + pos_embed + sum(heads) + sum(attn_bias) + sum(mlp)
 *           + ln_final_bias + remainder
 * where remainder is float rounding (< 1e-4 of the total), except when a
 * patch replaces hook_resid_pre or hook_attn_out: that difference was
 * written by no component, and remainder holds it.
 * heads [n_layer * n_head], attn_bias [n_layer], mlp [n_layer];
 * other[5] = embed, pos_embed, ln_final_bias, remainder, total (the LD). */
gb_status gb_dla(gb_ctx *ctx, int target, int distractor, float *heads, float *attn_bias,
                 float *mlp, float *other);
/* Each head's part split by source position j: pattern[h, T-1, j] *
 * part(hook_v[j, h] @ W_O[h]), into out[n_layer * n_head * T]; a head's row
 * sums to its gb_dla part (for a head whose hook_z an intervention replaced,
 * to what its pattern computed before that). */
gb_status gb_dla_by_source(gb_ctx *ctx, int target, int distractor, float *out, size_t cap);

/* Head finder. The sequence: [bos] (if bos >= 0) + r + r, where r holds
 * `length` distinct ids from [lo, hi) drawn by a partial Fisher-Yates shuffle
 * of lo..hi-1: for i = 0..length-1, j = i + (splitmix64() % (hi - lo - i)),
 * swap a[i], a[j]; r[i] = a[i]. SplitMix64 (Steele et al.) starts from state
 * = seed. out holds (bos >= 0) + 2 * length ids. */
gb_status gb_repeated_tokens(uint64_t seed, int length, int lo, int hi, int bos, int32_t *out);
/* Scores of every head on that sequence, run with no interventions (the
 * caller's run is put back). Each is a mean of attention-pattern entries;
 * o = (bos >= 0), the second copy is q = o + length .. o + 2*length - 1:
 *   0 previous_token     mean over q >= 1 of pattern[q, q-1]
 *   1 induction          mean over the second copy of pattern[q, q-length+1]
 *                        (TransformerLens / ARENA: attend to the token after
 *                        the earlier occurrence of the current one)
 *   2 duplicate_token    mean over the second copy of pattern[q, q-length]
 *   3 sink               mean over q >= 1 of pattern[q, 0] (first token)
 *   4 virtual_induction  layer >= 1: max over heads g of earlier blocks of the
 *                        mean over the second copy of (P_head @ P_g)[q, q-length+1]:
 *                        induction through one earlier head (K/V composition,
 *                        the measure of models/lessons/induction); layer 0: 0
 * scores[5 * n_layer * n_head] (score-major). outlier_share (may be NULL):
 * [n_layer * n_embd], for each block's hook_resid_post and each dimension d,
 * the share of positions where |x_d - mean(x)| > 6 std(x), mean and
 * population std over the row's n_embd values ("outlier dimensions").
 * length: 2..128, with hi - lo >= length and the sequence within n_positions. */
enum { GB_HEAD_PREV = 0, GB_HEAD_INDUCTION = 1, GB_HEAD_DUPLICATE = 2, GB_HEAD_SINK = 3,
       GB_HEAD_VIRTUAL_INDUCTION = 4, GB_HEAD_NUM_SCORES = 5 };
gb_status gb_head_finder(gb_ctx *ctx, uint64_t seed, int length, int lo, int hi, int bos,
                         float *scores, float *outlier_share);
/* The same outlier share on the current run: out[n_layer * n_embd]. */
gb_status gb_outlier_dims(gb_ctx *ctx, float sigma, float *out);

/* MLP sparsity of the run: for each block and position, the share of the
 * d_mlp neurons with mlp.hook_post > 0 (active) and > threshold (above);
 * active/above [n_layer * T]. */
gb_status gb_mlp_sparsity(gb_ctx *ctx, float threshold, float *active, float *above);
/* The k neurons of a block with the largest hook_post at pos (-1: the
 * largest over every position), descending: ids[k], acts[k]. k <= 1024. */
gb_status gb_mlp_top_neurons(gb_ctx *ctx, int layer, int pos, int k, int32_t *ids, float *acts);
/* A neuron's output weights (row of mlp.c_proj.weight, [n_embd]) projected
 * on the unembedding, W_out[neuron] . W_U[v], directly (no ln_final): the k
 * tokens it most promotes (largest first), ids[k], values[k]. k <= 1024. */
gb_status gb_neuron_top_tokens(gb_ctx *ctx, int layer, int neuron, int k, int32_t *ids, float *values);

/* ReAGent-style token attribution (Zhao & Shan 2024, replace-and-measure),
 * step-wise so a worker can show progress and cancel. The predicted token y
 * is the run's argmax at T-1; p = its probability. Each step draws (seeded
 * SplitMix64) a random set of max(1, round(ratio * T)) positions, replaces
 * each by a uniformly random other id of the vocabulary, runs the model and
 * measures d = p(y | run) - p(y | replaced). A position's score is the mean d
 * over steps that replaced it minus the mean d over steps that kept it.
 * Stopping rule: from step 32 on, every 8 steps, keep the ceil(T / 2)
 * highest-scoring positions and replace the others (a fresh draw): if y is
 * still the argmax, the ranking explains the prediction and it stops; else at
 * max_steps. The run's interventions stay applied; after every call the run
 * holds its own tokens again. */
gb_status gb_reagent_begin(gb_ctx *ctx, uint64_t seed, float ratio, int max_steps);
/* Up to n steps; *steps = steps done so far, *finished = 1 when stopped. */
gb_status gb_reagent_step(gb_ctx *ctx, int n, int *steps, int *finished);
/* scores[T] and the predicted token. */
gb_status gb_reagent_scores(gb_ctx *ctx, float *scores, int32_t *target);

#ifdef __cplusplus
}
#endif
#endif
