/* engine.js — what each view needs, read from a live Glassbox run.
 *
 * Used by web/worker.js (in the browser) and by web/tools/make-trace.js (in
 * Node, at build time, to precompute the trace the page draws before the
 * model loads), so the shipped trace and the live page show the same numbers.
 * Every array returned is a fresh Float32Array/Int32Array (safe to transfer).
 */
import { stepList, KIND } from './steps.js';
import { argmaxRows, counts, layout, pool, scoreGrid } from './lib/lesson-metrics.js';
import { keepWindow } from './lib/context-window.js';

/** Copy of an activation's data (glassbox.js views die on the next call). */
function act(gb, name) { return gb.activation(name, { copy: true }).data; }

export class Session {
  /** @param {import('./glassbox.js').Glassbox} gb  with a model loaded */
  constructor(gb) {
    this.gb = gb;
    this.ids = [];       // the run's tokens: prompt then generated
    this.nPrompt = 0;
    this.draws = 0;      // RNG draws that chose the generated tokens
    this.rngAt = 0;      // RNG draws made since the seed
    this.cache = null;
    this.pieceCache = new Map();
  }

  get config() { return this.gb.config; }

  piece(id) {
    let p = this.pieceCache.get(id);
    if (p === undefined) { p = this.gb.tokenText(id); this.pieceCache.set(id, p); }
    return p;
  }

  /** Tokenizes text without changing the run. */
  tokenize(text) {
    const { ids, pieces, spans } = this.gb.tokenize(text);
    return { ids: Array.from(ids), pieces, spans };
  }

  /**
   * Starts a run on the prompt, seeded once as the CLI does, then continues
   * it: gen as token ids appends those (a link carries the generated ids, so
   * it reproduces them whatever the sliders say now; each counts as one draw
   * of the RNG stream); gen as a number samples that many with the settings.
   * Returns the run's tokens.
   * @param {{prompt: string, gen?: number|number[], sampling?: object, seed?: number}} a
   */
  setRun({ prompt, gen = 0, sampling = {}, seed = 0, keep = 'end' }) {
    const gb = this.gb;
    let { ids, spans } = this.tokenize(prompt);
    if (!ids.length) ids = [50256 < this.config.vocab_size ? 50256 : 0]; // empty prompt: <|endoftext|>
    const max = this.config.n_positions;
    // Longer than the context: keep the last tokens (or the first, keep = 'start'); context-window.js.
    const win = keepWindow(ids, spans, max, keep);
    ids = win.ids;
    this.truncated = win.truncated;
    this.window = win;
    gb.clearAblations();
    gb.setTokens(ids);
    gb.runAll();
    this.ids = ids;
    this.nPrompt = ids.length;
    this.seedValue = seed;
    gb.seed(seed);
    this.rngAt = 0;     // uniform draws the engine's RNG has made since the seed
    this.draws = 0;     // draws that chose this run's generated tokens
    this.cache = null;  // the last predict(): its token and whether it drew
    if (Array.isArray(gen)) {
      const V = this.config.vocab_size;
      const add = gen.filter((id) => Number.isInteger(id) && id >= 0 && id < V).slice(0, max - this.ids.length);
      if (add.length) {
        gb.appendTokens(add);
        gb.runAll();
        this.ids.push(...add);
        this.draws = add.length;
      }
    } else {
      for (let i = 0; i < gen && this.ids.length < max; i++) { const d = this._draw(sampling); this._append(d.token, sampling, d.drew); }
    }
    return this.runInfo();
  }

  runInfo() {
    return { ids: this.ids.slice(), pieces: this.ids.map((id) => this.piece(id)), nPrompt: this.nPrompt, truncated: this.truncated || 0, context: this.config.n_positions,
      keep: this.window?.keep || 'end', keptBytes: this.window?.keptBytes || null };
  }

  /* The RNG stream, as in the CLI: seed once, then each sample with a
   * temperature above 0 draws one uniform (greedy draws none). predict()
   * draws too, so before a sample that must continue the stream, the RNG is
   * put back where the run's own draws left it (seed + replay) unless it is
   * already there. Generating right after predict() reuses the predicted
   * token and its draw, so each generated token costs one sample. */
  _draw(sampling) {
    if (this.rngAt !== this.draws) {
      this.gb.seed(this.seedValue);
      for (let i = 0; i < this.draws; i++) this.gb.sample({ ...sampling, temperature: 1 });
      this.rngAt = this.draws;
    }
    const s = this.gb.sample(sampling);
    const drew = sampling.temperature > 0 || sampling.temperature === undefined ? 1 : 0;
    this.rngAt += drew;
    return { ...s, drew };
  }

  _append(token, sampling, drew = sampling.temperature > 0 || sampling.temperature === undefined ? 1 : 0) {
    this.gb.appendTokens([token]);
    this.gb.runAll();              // KV cache: only the new position is computed
    this.ids.push(token);
    this.draws += drew;
    this.cache = null;
  }

  _cacheKey(sampling) { return `${this.ids.length}|${sampling.temperature}|${sampling.topK}|${sampling.topP}|${this.seedValue}`; }

  /** Appends n sampled tokens (continuing the seeded RNG stream). */
  generate({ n = 1, sampling = {} }) {
    const max = this.config.n_positions;
    for (let i = 0; i < n && this.ids.length < max; i++) {
      const c = this.cache;
      if (c && c.key === this._cacheKey(sampling) && this.rngAt === this.draws + c.drew) this._append(c.token, sampling, c.drew);
      else { const s = this._draw(sampling); this._append(s.token, sampling, s.drew); }
    }
    return this.runInfo();
  }

  /**
   * The next-token distribution at the last position through every sampling
   * stage, and the token drawn, for the k most likely tokens (plus the drawn
   * one if it falls outside them). The RNG continues the run's stream, so the
   * same settings always draw the same token (and match the CLI's --seed).
   */
  predict({ sampling = {}, k = 12 } = {}) {
    const key = this._cacheKey(sampling);
    if (this.cache && this.cache.key === key && this.cache.k === k && this.rngAt === this.draws + this.cache.drew) return this.cache.result;
    const s = this._draw(sampling);
    const order = topIndices(s.logits, k);
    if (!order.includes(s.token)) order.push(s.token);
    const pick = (arr, i) => (arr && arr.length ? arr[i] : null);
    const count = (arr) => { if (!arr || !arr.length) return null; let n = 0; for (const v of arr) if (v > 0) n++; return n; };
    const result = {
      token: s.token, piece: this.piece(s.token), uniform: s.uniform, sampling: { ...sampling },
      kept: { topK: count(s.topK), topP: count(s.topP) },
      rows: order.map((id) => ({
        id, piece: this.piece(id), logit: s.logits[id], scaled: pick(s.scaled, id), prob: pick(s.probs, id),
        topK: pick(s.topK, id), topP: pick(s.topP, id),
      })),
    };
    this.cache = { key, k, token: s.token, drew: s.drew, result };
    return result;
  }

  /** The payload one step of the walk draws (see steps.js for the keys). */
  stepData(stage, layer) {
    const gb = this.gb, c = this.config;
    const L = Math.max(0, Math.min(c.n_layer - 1, layer | 0));
    const b = `blocks.${L}`;
    const T = gb.numTokens, H = c.n_head, D = c.d_head, C = c.n_embd;
    const base = { stage, layer: KIND[stage].group === 'attn' || KIND[stage].group === 'mlp' ? L : -1, T, C, H, D, M: c.d_mlp };
    switch (stage) {
      case 'embed':
        return { ...base, tok: act(gb, 'hook_embed'), pos: act(gb, 'hook_pos_embed'), sum: act(gb, 'blocks.0.hook_resid_pre') };
      case 'ln1':
        return { ...base, x: act(gb, `${b}.hook_resid_pre`), scale: act(gb, `${b}.ln1.hook_scale`), out: act(gb, `${b}.ln1.hook_normalized`) };
      case 'qkv':
        return { ...base, x: act(gb, `${b}.ln1.hook_normalized`), q: act(gb, `${b}.attn.hook_q`), k: act(gb, `${b}.attn.hook_k`), v: act(gb, `${b}.attn.hook_v`) };
      case 'scores':
        return { ...base, scores: fullScores(act(gb, `${b}.attn.hook_q`), act(gb, `${b}.attn.hook_k`), T, H, D) };
      case 'mask':
        return { ...base, scores: act(gb, `${b}.attn.hook_attn_scores`) };
      case 'softmax':
        return { ...base, pattern: act(gb, `${b}.attn.hook_pattern`) };
      case 'mix':
        return { ...base, pattern: act(gb, `${b}.attn.hook_pattern`), v: act(gb, `${b}.attn.hook_v`), z: act(gb, `${b}.attn.hook_z`) };
      case 'concat':
        return { ...base, z: act(gb, `${b}.attn.hook_z`) };
      case 'proj':
        return { ...base, x: act(gb, `${b}.attn.hook_z`), out: act(gb, `${b}.hook_attn_out`) };
      case 'resid1':
        return { ...base, x: act(gb, `${b}.hook_resid_pre`), d: act(gb, `${b}.hook_attn_out`), out: act(gb, `${b}.hook_resid_mid`) };
      case 'ln2':
        return { ...base, x: act(gb, `${b}.hook_resid_mid`), scale: act(gb, `${b}.ln2.hook_scale`), out: act(gb, `${b}.ln2.hook_normalized`) };
      case 'up':
        return { ...base, x: act(gb, `${b}.ln2.hook_normalized`), pre: act(gb, `${b}.mlp.hook_pre`) };
      case 'gelu':
        return { ...base, pre: act(gb, `${b}.mlp.hook_pre`), post: act(gb, `${b}.mlp.hook_post`) };
      case 'down':
        return { ...base, post: act(gb, `${b}.mlp.hook_post`), out: act(gb, `${b}.hook_mlp_out`) };
      case 'resid2':
        return { ...base, x: act(gb, `${b}.hook_resid_mid`), d: act(gb, `${b}.hook_mlp_out`), out: act(gb, `${b}.hook_resid_post`), norms: this.residNorms() };
      case 'lnf':
        return { ...base, x: act(gb, `blocks.${c.n_layer - 1}.hook_resid_post`), scale: act(gb, 'ln_final.hook_scale'), out: act(gb, 'ln_final.hook_normalized') };
      case 'logits':
        return { ...base, top: this.topPerPosition(5) };
      case 'sample':
        return { ...base };
      default:
        throw new Error(`unknown stage "${stage}"`);
    }
  }

  /** ‖residual‖ at each position before block 0 and after every block: [(n_layer + 1) * T]. */
  residNorms() {
    const gb = this.gb, c = this.config, T = gb.numTokens, C = c.n_embd;
    const out = new Float32Array((c.n_layer + 1) * T);
    const put = (row, x) => { for (let t = 0; t < T; t++) { let s = 0; for (let i = 0; i < C; i++) s += x[t * C + i] ** 2; out[row * T + t] = Math.sqrt(s); } };
    put(0, gb.activation('blocks.0.hook_resid_pre').data);
    for (let L = 0; L < c.n_layer; L++) put(L + 1, gb.activation(`blocks.${L}.hook_resid_post`).data);
    return out;
  }

  /** Each position's k most likely next tokens (softmax of its logits). */
  topPerPosition(k) {
    const { data } = this.gb.activation('logits');
    const V = this.config.vocab_size, T = this.gb.numTokens;
    const rows = [];
    for (let t = 0; t < T; t++) {
      const row = data.subarray(t * V, (t + 1) * V);
      let max = -Infinity; for (const v of row) if (v > max) max = v;
      let z = 0; for (const v of row) z += Math.exp(v - max);
      rows.push(topIndices(row, k).map((id) => ({ id, piece: this.piece(id), logit: row[id], prob: Math.exp(row[id] - max) / z })));
    }
    return rows;
  }

  /**
   * Ablates heads ("L.H" strings, mode 'zero' or 'mean') and compares the last
   * position's next-token probabilities before and after; the run is restored.
   */
  ablation({ heads = [], mode = 'zero', k = 8 }) {
    const gb = this.gb;
    const before = this.lastProbs();
    if (!heads.length) return { heads, mode, changed: 0, rows: topOf(before, k, this) };
    for (const s of heads) { const [l, h] = s.split('.').map(Number); gb.setAblation(l, h, mode); }
    gb.runAll();
    const after = this.lastProbs();
    gb.clearAblations();
    gb.runAll();
    const ids = topIndices(before, k);
    for (const id of topIndices(after, k)) if (!ids.includes(id)) ids.push(id);
    let tv = 0; for (let i = 0; i < before.length; i++) tv += Math.abs(before[i] - after[i]);
    return {
      heads, mode, changed: tv / 2,
      rows: ids.map((id) => ({ id, piece: this.piece(id), before: before[id], after: after[id] })),
    };
  }

  /** Softmax of the last position's logits. */
  lastProbs() {
    const { data } = this.gb.activation('logits');
    const V = this.config.vocab_size, T = this.gb.numTokens;
    return softmax(data.subarray((T - 1) * V, T * V));
  }

  /**
   * Logit lens: for the residual before block 0 (layer -1) and after every
   * block, at each of the last maxPos positions, the top token and its probability.
   */
  lens({ maxPos = 16 } = {}) {
    const gb = this.gb, c = this.config, T = gb.numTokens;
    // Each cell is a full unembedding (n_embd × vocab multiply-adds): keep the
    // grid to ~3e9 of them so GPT-2 small answers in about a second.
    maxPos = Math.max(1, Math.min(maxPos, Math.floor(3e9 / ((c.n_layer + 1) * c.vocab_size * c.n_embd))));
    const from = Math.max(0, T - maxPos);
    const rows = [];
    for (let L = -1; L < c.n_layer; L++) {
      const cells = [];
      for (let t = from; t < T; t++) {
        const [top] = gb.logitLens(L, t, 1);
        cells.push({ pos: t, id: top.id, piece: this.piece(top.id), prob: top.prob });
      }
      rows.push({ layer: L, cells });
    }
    return { from, T, rows };
  }

  /**
   * Lesson mode's live measurement (lesson-metrics.js defines every number)
   * on the run's tokens: each scored position's greedy prediction and whether
   * it is right, the counts lesson.json reports, one score grid, the focused
   * head's attention pattern; with `heads` ablated ("L.H", mode 'zero' or
   * 'mean') the same again; and the lesson's main metric over `items` (the
   * card's held-out sample) without and with the ablation. The run is
   * restored afterwards (no ablation, same tokens).
   * @param {{lesson: string, grids?: string[], items?: {text: string, L?: number}[]|null,
   *   heads?: string[], mode?: string, focus?: {layer: number, head: number}|null}} a
   */
  lessonMeasure({ lesson, grids = [], items = null, heads = [], mode = 'zero', focus = null }) {
    const gb = this.gb, c = this.config, ids = this.ids.slice(), T = ids.length;
    const lay = layout(lesson, ids);
    const read = () => {
      const preds = argmaxRows(gb.activation('logits').data, T, c.vocab_size);
      const patterns = Array.from({ length: c.n_layer }, (_, l) => act(gb, `blocks.${l}.attn.hook_pattern`));
      return { preds, counts: counts(lesson, ids, preds, lay), grids: grids.map((g) => scoreGrid(g, ids, patterns, c.n_head, lay)), patterns };
    };
    const setHeads = () => { for (const s of heads) { const [l, h] = s.split('.').map(Number); gb.setAblation(l, h, mode); } };
    const clean = read();
    let ablated = null, pattern = null;
    if (focus && focus.layer < c.n_layer && focus.head < c.n_head) {
      const P = clean.patterns[focus.layer];
      pattern = { layer: focus.layer, head: focus.head, T, data: P.slice(focus.head * T * T, (focus.head + 1) * T * T) };
    }
    if (heads.length) { setHeads(); gb.runAll(); ablated = read(); }
    let sample = null;
    if (items && items.length) {
      const key = `${lesson}|${items.length}|${items[0].text}`;
      if (!this.sampleCache || this.sampleCache.key !== key) {
        gb.clearAblations();
        this.sampleCache = { key, clean: this._lessonPool(lesson, items) };
      }
      sample = { n: items.length, clean: this.sampleCache.clean, ablated: null };
      if (heads.length) {
        const k = `${heads.join(',')}|${mode}`;
        sample.ablated = this.sampleCache[k] ??= (setHeads(), this._lessonPool(lesson, items));
      }
    }
    if (heads.length || sample) {
      gb.clearAblations();
      gb.setTokens(ids);
      gb.runAll();
    }
    const guess = (preds) => lay.groups.map((g, t) => (g ? this.piece(preds[t]) : null));
    const strip = (r) => r && { preds: r.preds, guesses: guess(r.preds), counts: r.counts };
    return {
      lesson, ids, T, L: lay.L, groups: lay.groups, note: lay.note, complete: lay.complete, heads, mode,
      clean: strip(clean), ablated: strip(ablated),
      grids: grids.map((name, k) => ({ name, clean: clean.grids[k], ablated: ablated ? ablated.grids[k] : null })),
      pattern, sample,
    };
  }

  /** The lesson's pooled metrics over items, with whatever ablation is set. */
  _lessonPool(lesson, items) {
    const gb = this.gb, V = this.config.vocab_size;
    const list = items.map((it) => {
      const ids = Array.from(gb.tokenize(it.text).ids);
      gb.setTokens(ids);
      gb.runAll();
      const preds = argmaxRows(gb.activation('logits').data, ids.length, V);
      return counts(lesson, ids, preds, layout(lesson, ids, it.L));
    });
    return pool(lesson, list);
  }
}

/* ------------------------------------------------------------ helpers */

/** Full (unmasked) q·k/√d scores [H, T, T] from q, k [T, H, D]. */
export function fullScores(q, k, T, H, D) {
  const out = new Float32Array(H * T * T), s = 1 / Math.sqrt(D);
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        let acc = 0;
        const qi = (i * H + h) * D, kj = (j * H + h) * D;
        for (let d = 0; d < D; d++) acc += q[qi + d] * k[kj + d];
        out[(h * T + i) * T + j] = acc * s;
      }
    }
  }
  return out;
}

/** Indices of the k largest entries, largest first. */
export function topIndices(arr, k) {
  const best = [];
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (best.length === k && v <= arr[best[k - 1]]) continue;
    let j = best.length === k ? k - 1 : best.length;
    if (best.length < k) best.push(i);
    while (j > 0 && arr[best[j - 1]] < v) { best[j] = best[j - 1]; j--; }
    best[j] = i;
  }
  return best;
}

export function softmax(row) {
  let max = -Infinity; for (const v of row) if (v > max) max = v;
  const out = new Float32Array(row.length);
  let z = 0; for (let i = 0; i < row.length; i++) { out[i] = Math.exp(row[i] - max); z += out[i]; }
  for (let i = 0; i < row.length; i++) out[i] /= z;
  return out;
}

function topOf(probs, k, session) {
  return topIndices(probs, k).map((id) => ({ id, piece: session.piece(id), before: probs[id], after: null }));
}

/** Every step's payload for the current run (the precomputed trace uses this). */
export function allSteps(session) {
  const out = {};
  for (const s of stepList(session.config.n_layer)) out[s.id] = session.stepData(s.key, s.layer);
  return out;
}
