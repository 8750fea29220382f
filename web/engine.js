/* engine.js — the page's questions, answered by a live Glassbox run.
 *
 * The engine holds the one run state (prompt tokens, generated tokens, seed,
 * interventions); a Session keeps it equal to the description the page sends
 * (state.js runDesc) and changes only what differs: new generated tokens are
 * appended (the KV cache computes only them), a new intervention list is set
 * (the engine recomputes from its first block on), a new seed is only a seed.
 * Every answer is a reading of that run: activations, the engine's own
 * attention scores, norms and top tokens, its sampler (sampleDist + draw at
 * the run's RNG position, no replay), the logit lens. Nothing here computes
 * a model quantity: no softmax, no dot products, no norms.
 *
 * The store. Before each run it picks the activation store by what fits
 * (gb.chooseStore): the full store when its bytes fit the tab's budget
 * (TAB_BYTES less the page's PAGE_BYTES less the wasm memory the model took
 * at load), else the low-memory store, whose reads recompute what they show
 * (a head's pattern, a block's hooks). runInfo().store says which.
 *
 * Long runs. The views get what they draw, not whole tensors: one head's
 * pattern as the engine's overview at screen resolution plus the zoomed
 * region (gb.headPatternView), the top neurons per position and the chosen
 * neuron columns (gb.topColumns*), a stride of the (h, GELU(h)) pairs.
 *
 * Used by web/worker.js (in the browser) and by web/tools/make-trace.js (in
 * Node, at build time, for the trace the page draws before the model loads),
 * so the shipped trace and the live page show the same numbers. Every array
 * returned is a fresh Float32Array/Int32Array (safe to transfer).
 */
import { stepReads, KIND } from './steps.js';
import { argmaxRows, counts, layout, pool, scoreGrid } from './lib/lesson-metrics.js';
import { idsOf } from './lib/ids.js';
import { keepWindow } from './lib/context-window.js';

/** The tab's memory target and what the page itself takes (issue 16: GPT-2 small at 1,024 tokens under 1.5 GB). */
export const TAB_BYTES = 1.5e9, PAGE_BYTES = 150e6;
/** Attention patterns up to this many tokens go to the page whole; longer ones as an overview + zoom. */
export const FULL_T = 96;
/** The overview's resolution (pixels per side, at most T), the zoom window's side, the arcs' last tokens. */
export const OV_PX = 512, OV_SMALL_PX = 150, ZOOM_T = 24, ARC_T = 48;

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const ivText = (list) => JSON.stringify(list.map((e) => [e.kind, e.layer, e.head ?? null, e.hook ?? null, e.pos ?? null]));

export class Session {
  /** @param {import('./glassbox.js').Glassbox} gb  with a model loaded */
  constructor(gb) {
    this.gb = gb;
    this.prompt = null;   // the prompt text applied
    this.promptIds = [];  // its tokens (cut to the context)
    this.gen = [];        // generated tokens applied
    this.iv = [];         // interventions applied
    this.seedValue = null;
    this.truncated = 0;
    this.pieceCache = new Map();
    this.cleanCache = null; // the clean run's sampling answer: {key, dist}
    this.baseBytes = gb.memoryBytes; // wasm memory after the load: the weights (a store that fits reuses later growth)
    this.keepAll = true;  // the engine's default store
    this.store = null;
  }

  /**
   * Makes the store the one that fits a run of T tokens (gb.chooseStore with
   * the tab's budget) and applies it when it changes; the engine then
   * recomputes the run in the new store on the next gb.runAll.
   */
  _chooseStore(T) {
    const budget = Math.max(0, TAB_BYTES - PAGE_BYTES - this.baseBytes);
    const n = Math.max(1, Math.min(T, this.config.n_positions));
    // The URL may ask for one store ('low', 'full'); 'auto' chooses by what fits.
    const mode = this.storeMode || 'auto';
    const c = mode === 'auto' ? this.gb.chooseStore(n, budget) : { keepAll: mode === 'full', bytes: this.gb.storeBytes(n, mode === 'full') };
    if (c.keepAll !== this.keepAll) { this.gb.setKeepAll(c.keepAll); this.keepAll = c.keepAll; }
    this.store = { keepAll: c.keepAll, bytes: c.bytes, budget, mode, fullBytes: c.keepAll ? c.bytes : this.gb.storeBytes(n, true) };
  }

  get config() { return this.gb.config; }
  get ids() { return [...this.promptIds, ...this.gen]; }
  get nPrompt() { return this.promptIds.length; }

  piece(id) {
    let p = this.pieceCache.get(id);
    // A checkpoint without tokenizer files shows ids ("#123").
    if (p === undefined) { p = this.gb.hasTokenizer ? this.gb.tokenText(id) : `#${id}`; this.pieceCache.set(id, p); }
    return p;
  }

  /** Tokenizes text without changing the run. */
  tokenize(text) {
    if (!this.gb.hasTokenizer) { const ids = idsOf(this.gb, text); return { ids, pieces: ids.map((id) => this.piece(id)), spans: null }; }
    const { ids, pieces, spans } = this.gb.tokenize(text);
    return { ids: Array.from(ids), pieces, spans };
  }

  /**
   * Makes the engine's run the described one, changing only what differs,
   * and runs what is stale. gen: ids appended after the prompt (a link
   * carries them; ids outside the vocabulary and past the context are dropped).
   * @param {{prompt: string, gen?: number[], interventions?: object[], seed?: number}} d
   */
  sync({ prompt, gen = [], interventions = [], seed = 0, src = null, keep = 'end', store = 'auto' }) {
    const gb = this.gb, c = this.config, max = c.n_positions;
    let reset = false;
    if (prompt !== this.prompt || keep !== this.keep) {
      let { ids, spans } = this.tokenize(prompt);
      if (!ids.length) ids = [50256 < c.vocab_size ? 50256 : 0]; // empty prompt: <|endoftext|>
      // Longer than the context: keep the last tokens (or the first, keep = 'start'); context-window.js.
      this.window = keepWindow(ids, spans, max, keep);
      this.truncated = this.window.truncated;
      this.prompt = prompt;
      this.keep = keep;
      this.promptIds = this.window.ids;
      reset = true;
    }
    const want = gen.filter((id) => Number.isInteger(id) && id >= 0 && id < c.vocab_size).slice(0, max - this.promptIds.length);
    const extends_ = !reset && want.length >= this.gen.length && same(want.slice(0, this.gen.length), this.gen);
    this.storeMode = store;
    this._chooseStore(this.promptIds.length + want.length);
    if (reset || !extends_) {
      gb.setTokens(this.promptIds);
      if (want.length) gb.appendTokens(want);
      this.iv = null; // re-applied below: a fresh run starts clean
    } else if (want.length > this.gen.length) {
      gb.appendTokens(want.slice(this.gen.length));
    }
    this.gen = want;
    // Patch entries copy from the clean prompt (src): set it first; a new source re-applies them.
    if (interventions.some((e) => e.kind === 'patch') && src !== this.src) { this._ensureSource(src); this.src = src; this.iv = null; }
    if (this.iv === null || ivText(interventions) !== ivText(this.iv)) this._setInterventions(interventions);
    if (seed !== this.seedValue) { gb.seed(seed); this.seedValue = seed; }
    const t0 = performance.now();
    gb.runAll();
    this.runMs = performance.now() - t0; // what this sync computed (a prefill, or nothing): bench/longtasks.js reads it
    return this.runInfo();
  }

  /** Patch entries need a patch source (interp-engine.js InterpSession sets it). */
  _ensureSource() { throw Object.assign(new Error('this run has patched activations, which need the interpretability tools (interp-engine.js)'), { code: 'state' }); }

  _setInterventions(list) {
    this.gb.clearInterventions();
    // Hooks are kept short in the URL (hook_resid_pre, attn.hook_z): the engine wants blocks.L.<hook>.
    for (const e of list) this.gb.addIntervention(e.hook && !e.hook.startsWith('blocks.') ? { ...e, hook: `blocks.${e.layer}.${e.hook}` } : e);
    this.iv = list.map((e) => ({ ...e }));
  }

  /** Puts the whole run back as last synced (after a measurement that borrowed the engine). */
  restore() {
    const gb = this.gb;
    gb.setTokens(this.promptIds);
    if (this.gen.length) gb.appendTokens(this.gen);
    this._setInterventions(this.iv || []);
    gb.seed(this.seedValue ?? 0);
    gb.runAll();
  }

  runInfo() {
    const ids = this.ids;
    return { ids, pieces: ids.map((id) => this.piece(id)), nPrompt: this.nPrompt, truncated: this.truncated, context: this.config.n_positions,
      keep: this.window?.keep || 'end', keptBytes: this.window?.keptBytes || null, store: this.store, runMs: this.runMs ?? null };
  }

  /** Appends n tokens drawn by the engine's sampler at the run's RNG position. */
  generate({ n = 1, sampling = {} }) {
    const gb = this.gb, max = this.config.n_positions;
    for (let i = 0; i < n && this.promptIds.length + this.gen.length < max; i++) {
      const { token } = gb.sample(sampling, 0, { arrays: false }); // the token only: no five [vocab] copies per token
      this._chooseStore(this.promptIds.length + this.gen.length + 1);
      gb.appendTokens([token]);
      gb.runAll(); // KV cache: only the new position is computed
      this.gen.push(token);
    }
    return { gen: this.gen.slice(), run: this.runInfo() };
  }

  /**
   * The sampling answer for the run as it stands: the last position's
   * distribution at every stage for the first k rows of the engine's order
   * (final probability descending, ties by logit, then id) with their running
   * total, the uniform number of the run's RNG position, and the draw: the
   * first row whose running total exceeds u (also when it lies below row k).
   */
  predict({ sampling = {}, k = 12 } = {}) {
    const gb = this.gb;
    const dist = gb.sampleDist(sampling, k, { arrays: false });
    const u = gb.nextUniform();
    const d = gb.draw(sampling, u);
    const row = (r) => ({ ...r, piece: this.piece(r.id) });
    let drawnRow = null;
    if (d.rank >= dist.rows.length) {
      // The drawn row lies below the rows shown: its values, read from the stages' arrays.
      const full = gb.sampleDist(sampling, 0, { arrays: true }), id = d.token;
      drawnRow = row({ id, logit: full.logits[id], scaled: full.scaled[id], prob: full.probs[id], topK: full.topK[id], topP: full.topP[id], cum: d.cumAfter, rank: d.rank });
    }
    return {
      token: d.token, piece: this.piece(d.token), rank: d.rank, uniform: u, cumBefore: d.cumBefore, cumAfter: d.cumAfter,
      position: this.gen.length, sampling: { ...sampling }, kept: dist.kept, rows: dist.rows.map(row), drawnRow,
    };
  }

  /**
   * The comparison view: the clean run (no interventions) and the intervened
   * one at the same sampling settings, each drawing with the same u. Rows:
   * the first k rows of each run's order, with both runs' final probability
   * (after temperature, top-k, top-p and renormalising). The clean answer is
   * kept for the same tokens, seed and settings, so toggling heads costs one
   * recomputation of the intervened run.
   */
  compare({ sampling = {}, k = 8 } = {}) {
    const side = () => {
      const dist = this.gb.sampleDist(sampling, k, { arrays: true });
      const u = this.gb.nextUniform();
      const d = this.gb.draw(sampling, u);
      return { final: dist.topP, ids: dist.rows.map((r) => r.id), token: d.token, piece: this.piece(d.token), rank: d.rank, uniform: u };
    };
    const run = side();
    const iv = this.iv || [];
    let clean = run;
    if (iv.length) {
      const key = JSON.stringify([this.ids, this.seedValue, sampling, k]);
      if (!this.cleanCache || this.cleanCache.key !== key) {
        this._setInterventions([]);
        this.gb.runAll();
        this.cleanCache = { key, clean: side() };
        this._setInterventions(iv);
        this.gb.runAll();
      }
      clean = this.cleanCache.clean;
    }
    const ids = [...clean.ids];
    for (const id of run.ids) if (!ids.includes(id)) ids.push(id);
    const strip = ({ final, ids: _, ...rest }) => rest;
    return {
      intervened: iv.length > 0, interventions: iv, sampling: { ...sampling },
      clean: strip(clean), run: strip(run),
      // rank: the row in each run's own order (the order its draw walks), when among its first k.
      rows: ids.map((id) => ({ id, piece: this.piece(id), clean: clean.final[id], run: run.final[id], cleanRank: clean.ids.indexOf(id) + 1 || null, runRank: run.ids.indexOf(id) + 1 || null })),
    };
  }

  /**
   * The payload one step of the walk draws: what steps.js STEPS[stage].reads
   * names. view: what the stage view shows of a head's pattern ({head,
   * allHeads, zoom: [r0, c0] or null}); the payload echoes it.
   */
  step(stage, layer, view = {}) {
    const gb = this.gb, c = this.config;
    if (!KIND[stage]) throw new Error(`unknown stage "${stage}"`);
    const reads = stepReads(stage, layer, c.n_layer);
    const L = Math.max(0, Math.min(c.n_layer - 1, layer | 0));
    const T = gb.numTokens;
    const head = Math.max(0, Math.min(c.n_head - 1, view.head | 0)), allHeads = !!view.allHeads;
    const fields = {};
    for (const [name, r] of Object.entries(reads)) {
      if (!r.fn) { const a = gb.activation(r.hook, { copy: true }); fields[name] = { data: a.data, shape: Array.from(a.shape) }; }
      else if (r.fn === 'attnScoresUnmasked') { const a = gb.attnScoresUnmasked(r.layer); fields[name] = { data: a.data, shape: a.shape }; }
      else if (r.fn === 'headPattern') fields[name] = this.headPattern(L, allHeads ? null : head, view.zoom || null);
      else if (r.fn === 'topNeurons') {
        const t = gb.topColumns(r.hook, { k: r.k });
        fields[name] = { ids: t.ids, values: t.values, k: r.k, T };
      } else if (r.fn === 'neuronColumns') fields[name] = this.neuronColumns(r.hooks, r.by, r.n);
      else if (r.fn === 'pairSample') {
        // Every stride-th (h, GELU(h)) pair, at most n of them: a choice of dots, not a model quantity.
        // Each hook is read and strided before the next read (a zero-copy view dies with the next call).
        const [x, y] = r.hooks.map((h) => {
          const a = gb.activation(h).data, stride = Math.max(1, Math.ceil(a.length / r.n)), out = new Float32Array(Math.ceil(a.length / stride));
          for (let i = 0, p = 0; p < out.length; i += stride, p++) out[p] = a[i];
          return out;
        });
        fields[name] = { x, y, of: T * c.d_mlp };
      } else if (r.fn === 'residNorms') {
        const out = new Float32Array((c.n_layer + 1) * T);
        out.set(gb.rowNorms('blocks.0.hook_resid_pre'), 0);
        for (let l = 0; l < c.n_layer; l++) out.set(gb.rowNorms(`blocks.${l}.hook_resid_post`), (l + 1) * T);
        fields[name] = { data: out, shape: [c.n_layer + 1, T] };
      } else if (r.fn === 'topTokens') {
        fields[name] = { rows: Array.from({ length: T }, (_, t) => gb.topTokens(t, r.k).map((x) => ({ ...x, piece: this.piece(x.id) }))) };
      } else if (r.fn === 'predict') {
        // The sampling step draws main.js's predict answer (the same as the sampling view's).
      } else throw new Error(`step ${stage}: unknown read ${JSON.stringify(r)}`);
    }
    const block = KIND[stage].group === 'attn' || KIND[stage].group === 'mlp';
    return { stage, layer: block ? L : -1, T, C: c.n_embd, H: c.n_head, D: c.d_head, M: c.d_mlp, fields, view: { head, allHeads } };
  }

  /**
   * What the stage view draws of block L's attention pattern, from the
   * engine's headPatternView: for one head (or every head, head null) the
   * whole T x T pattern when T <= FULL_T, else an overview (each pixel the
   * max of its cells) at screen resolution plus, for one head, the zoom
   * window at full resolution (rows and keys [r0, r0 + ZOOM_T) x [c0, ...),
   * default the last ones) and the arcs' square of the last ARC_T tokens.
   */
  headPattern(L, head, zoom) {
    const gb = this.gb, T = gb.numTokens, H = this.config.n_head;
    const heads = head == null ? Array.from({ length: H }, (_, h) => h) : [head];
    const out = { T, layer: L, heads: [] };
    for (const h of heads) {
      if (T <= FULL_T) { out.heads.push({ head: h, full: gb.headPatternView(L, h, { zoom: { rows: [0, T], keys: [0, T] } }).zoom }); continue; }
      const px = Math.min(T, head == null ? OV_SMALL_PX : OV_PX);
      const e = { head: h, overview: null, zoom: null };
      const z = Math.min(T, ZOOM_T);
      const r0 = zoom ? Math.max(0, Math.min(T - z, zoom[0] | 0)) : T - z, c0 = zoom ? Math.max(0, Math.min(T - z, zoom[1] | 0)) : T - z;
      const v = gb.headPatternView(L, h, { overview: { width: px, height: px, mode: 'max' }, zoom: head == null ? null : { rows: [r0, r0 + z], keys: [c0, c0 + z] } });
      e.overview = { data: v.overview, bh: px, bw: px, mode: 'max' };
      if (v.zoom) e.zoom = { r0, c0, rows: z, cols: z, data: v.zoom };
      out.heads.push(e);
    }
    if (head != null && T > FULL_T) {
      const a = Math.max(0, T - ARC_T);
      out.arcs = { from: a, n: T - a, data: gb.headPatternView(L, head, { zoom: { rows: [a, T], keys: [a, T] } }).zoom };
    }
    return out;
  }

  /** A zoom window of one head's pattern: rows [r0, r0 + rows) x keys [c0, c0 + cols). */
  patternZoom({ layer, head, r0, c0, rows, cols }) {
    return this.gb.headPatternView(layer, head, { zoom: { rows: [r0, r0 + rows], keys: [c0, c0 + cols] } }).zoom;
  }

  /**
   * The n neurons whose largest |value| of hook `by` at any position is
   * largest (the engine's ranking), in index order, and each hook's values
   * at those neurons for every position: {ids, T, [field]: [T * n]}.
   */
  neuronColumns(hooks, by, n) {
    const gb = this.gb, T = gb.numTokens;
    const ids = Int32Array.from(gb.topColumnsAbsMax(hooks[by], n).ids).sort();
    const out = { ids, T };
    for (const [field, name] of Object.entries(hooks)) {
      const a = gb.activation(name).data, M = a.length / T, v = new Float32Array(T * ids.length);
      for (let t = 0; t < T; t++) for (let j = 0; j < ids.length; j++) v[t * ids.length + j] = a[t * M + ids[j]];
      out[field] = v;
    }
    return out;
  }

  /**
   * Logit lens of the (intervened) run: for the residual before block 0
   * (layer -1) and after every block, at each of the last maxPos positions,
   * the top token and its probability.
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
   * head's attention pattern; for the run's interventions the same again;
   * and the lesson's main metric over `items` (the card's held-out sample)
   * without and with them. The run is put back afterwards.
   * @param {{lesson: string, grids?: string[], items?: {text: string, L?: number}[]|null,
   *   focus?: {layer: number, head: number}|null}} a
   */
  lessonMeasure({ lesson, grids = [], items = null, focus = null }) {
    const gb = this.gb, c = this.config, ids = this.ids, T = ids.length;
    const iv = this.iv || [];
    const lay = layout(lesson, ids);
    const read = () => {
      const preds = argmaxRows(gb.activation('logits').data, T, c.vocab_size);
      const patterns = Array.from({ length: c.n_layer }, (_, l) => gb.activation(`blocks.${l}.attn.hook_pattern`, { copy: true }).data);
      return { preds, counts: counts(lesson, ids, preds, lay), grids: grids.map((g) => scoreGrid(g, ids, patterns, c.n_head, lay)), patterns };
    };
    let ablated = null;
    if (iv.length) { ablated = read(); this._setInterventions([]); gb.runAll(); }
    const clean = read();
    let pattern = null;
    if (focus && focus.layer < c.n_layer && focus.head < c.n_head) {
      const P = clean.patterns[focus.layer];
      pattern = { layer: focus.layer, head: focus.head, T, data: P.slice(focus.head * T * T, (focus.head + 1) * T * T) };
    }
    let sample = null;
    if (items && items.length) {
      const key = `${lesson}|${items.length}|${items[0].text}`;
      if (!this.sampleCache || this.sampleCache.key !== key) this.sampleCache = { key, clean: this._lessonPool(lesson, items, []) };
      sample = { n: items.length, clean: this.sampleCache.clean, ablated: null };
      if (iv.length) sample.ablated = this.sampleCache[ivText(iv)] ??= this._lessonPool(lesson, items, iv);
    }
    this._setInterventions(iv);
    this.restore();
    const guess = (preds) => lay.groups.map((g, t) => (g ? this.piece(preds[t]) : null));
    const strip = (r) => r && { preds: r.preds, guesses: guess(r.preds), counts: r.counts };
    return {
      lesson, ids, T, L: lay.L, groups: lay.groups, note: lay.note, complete: lay.complete, interventions: iv,
      clean: strip(clean), ablated: strip(ablated),
      grids: grids.map((name, k) => ({ name, clean: clean.grids[k], ablated: ablated ? ablated.grids[k] : null })),
      pattern, sample,
    };
  }

  /** The lesson's pooled metrics over items with the interventions iv. */
  _lessonPool(lesson, items, iv) {
    const gb = this.gb, V = this.config.vocab_size;
    this._setInterventions(iv);
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

