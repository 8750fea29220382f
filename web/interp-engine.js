/* interp-engine.js — the worker's side of the interpretability views:
 * activation patching, direct logit attribution, the head finder, MLP
 * sparsity and ReAGent token attribution, each a reading of the Session's run
 * (engine.js) through wasm/interp.js. Nothing here computes a model quantity:
 * it picks tokens, calls the engine and labels what comes back.
 *
 * The run (the prompt above, its generated tokens and interventions) is the
 * CORRUPTED prompt of patching; `src` (the view's second box) is the CLEAN
 * prompt, the patch source ("denoising", as TransformerLens and the engine
 * define it). Patching grids are computed on the run without its own patch
 * entries (a grid cell is itself a patch; ablations stay applied), so a cell
 * clicked into the run leaves the grid as it was.
 *
 * Long jobs (grids, ReAGent) take an AbortSignal and report progress; the
 * worker cancels them by job name (worker.js 'cancel').
 */
import * as interp from './interp.js';
import { Session } from './engine.js';
import { idsOf as idsOfGb } from './lib/ids.js';

const err = (code, message) => Object.assign(new Error(message), { code });
const idsOf = (session, text) => idsOfGb(session.gb, text);

/** The worker's Session: engine.js's, plus the patch source its patch entries copy from. */
export class InterpSession extends Session {
  _ensureSource(src) { ensurePatchSource(this, src); }
}

/** One token for a picker: "#123", "123" or a text that is exactly one token. */
export function tokenOf(session, text) {
  const s = String(text);
  const m = /^\s*#?(\d{1,7})\s*$/.exec(s);
  if (m && (!session.gb.hasTokenizer || s.trim().startsWith('#'))) {
    const id = Number(m[1]);
    if (id >= session.config.vocab_size) throw err('arg', `token id ${id} is outside the vocabulary (0..${session.config.vocab_size - 1})`);
    return id;
  }
  const ids = idsOf(session, s);
  if (ids.length !== 1) throw err('arg', `“${s}” is ${ids.length} tokens (${ids.map((i) => session.piece(i)).join(' | ')}): a target or distractor must be one token; type its id as #123 to be exact`);
  return ids[0];
}

const tok = (session, id) => ({ id, piece: session.piece(id) });

/** Sets the patch source to ids unless it already is. */
function ensureSource(session, ids) {
  const have = interp.patchSourceTokens(session.gb);
  if (have.length === ids.length && have.every((x, i) => x === ids[i])) return;
  interp.setPatchSource(session.gb, ids);
}

/**
 * Runs fn with the run's patch entries lifted (ablations stay), then puts them back.
 * A grid measures patches against the corrupted run itself.
 */
async function withoutPatches(session, fn) {
  const iv = session.iv || [];
  const patches = iv.filter((e) => e.kind === 'patch');
  if (!patches.length) return fn();
  session._setInterventions(iv.filter((e) => e.kind !== 'patch'));
  try { return await fn(); } finally { session._setInterventions(iv); session.gb.runAll(); }
}

/**
 * The patching setup: both prompts' tokens, whether they line up, the target
 * and distractor (given, or by default the clean run's top next token and the
 * corrupted run's top token other than it), and the two baselines.
 */
export function patchSetup(session, { src, target = -1, distractor = -1 }) {
  const corrupted = session.ids;
  const clean = idsOf(session, src);
  if (!clean.length) throw err('arg', 'type a clean prompt: the patching grids copy its activations into the run');
  if (clean.length > session.config.n_positions) throw err('arg', `the clean prompt is ${clean.length} tokens, past the context of ${session.config.n_positions}`);
  const out = {
    clean: clean.map((id) => tok(session, id)), corrupted: corrupted.map((id) => tok(session, id)),
    sameLength: clean.length === corrupted.length,
  };
  Object.assign(out, resolvePair(session, { clean, target, distractor }));
  return out;
}

/**
 * The target and distractor: as given, or by default (patching, when a clean
 * prompt is there) the clean run's top next token and the corrupted run's top
 * token other than it, (else) the run's two most likely next tokens. Reads
 * the engine's own predictions; the run is put back.
 */
export function resolvePair(session, { clean = null, target = -1, distractor = -1 }) {
  const gb = session.gb, T = gb.numTokens;
  let t = target, d = distractor;
  const out = { auto: { target: target < 0, distractor: distractor < 0 } };
  // The candidates the pickers offer: both runs' most likely next tokens.
  const corrTop = gb.topTokens(T - 1, 5);
  let cleanTop = corrTop;
  if (clean) {
    gb.setTokens(clean);
    gb.clearInterventions();
    gb.runAll();
    cleanTop = gb.topTokens(clean.length - 1, 5);
    session.restore();
    out.cleanTop = cleanTop.map((x) => ({ ...x, piece: session.piece(x.id) }));
  }
  if (t < 0) t = cleanTop[0].id;
  if (d < 0) d = (corrTop.find((x) => x.id !== t) || cleanTop.find((x) => x.id !== t)).id;
  out.corruptedTop = corrTop.map((x) => ({ ...x, piece: session.piece(x.id) }));
  out.target = tok(session, t);
  out.distractor = tok(session, d);
  return out;
}

/** A whole grid for hook on the run (corrupted) with src (clean) as the source. */
export async function patchGrid(session, { src, hook, target, distractor }, { signal, onProgress } = {}) {
  const setup = patchSetup(session, { src, target, distractor });
  if (!setup.sameLength) {
    return { ...setup, grid: null };
  }
  ensureSource(session, setup.clean.map((x) => x.id));
  const grid = await withoutPatches(session, () => interp.patchGridAll(session.gb, hook, setup.target.id, setup.distractor.id, { signal, onProgress }));
  return { ...setup, grid };
}

/** Makes the run's patch entries read src (called by Session.sync before it applies them). */
export function ensurePatchSource(session, src) {
  if (src == null || src === '') throw err('state', 'the run has a patched activation but no clean prompt to copy it from (the patching view\'s clean prompt, src= in the link)');
  ensureSource(session, idsOf(session, src));
}

/** Direct logit attribution at the last position, with each head's split by source position. */
export function dla(session, { src = '', target = -1, distractor = -1 }) {
  const gb = session.gb;
  let clean = null;
  if ((target < 0 || distractor < 0) && src) { try { clean = idsOf(session, src); } catch { clean = null; } }
  const pair = resolvePair(session, { clean: clean && clean.length ? clean : null, target, distractor });
  const t = pair.target.id, d = pair.distractor.id;
  const r = interp.dla(gb, t, d);
  const bySource = interp.dlaBySource(gb, t, d);
  return { ...r, bySource, T: gb.numTokens, target: pair.target, distractor: pair.distractor, auto: pair.auto, pieces: session.ids.map((id) => session.piece(id)) };
}

/** The head finder's scores on its seeded repeated sequence, and the run's outlier dimensions. */
export function heads(session, { seed = 1, length = 20 }) {
  const gb = session.gb, V = session.config.vocab_size;
  // A byte-level vocabulary (256 ids or fewer, as the lesson models) draws
  // printable ASCII, what such models are trained on; else the whole vocabulary.
  const [lo, hi] = V <= 256 && V >= 127 ? [32, 127] : [0, V];
  const len = Math.max(2, Math.min(length, Math.floor(session.config.n_positions / 2), hi - lo));
  const r = interp.headFinder(gb, { seed, length: len, lo, hi });
  session.restore();
  const outlier = interp.outlierDims(gb, 6);
  return { ...r, seed, length: len, lo, hi, runOutlier: outlier };
}

/** MLP sparsity of the run, and the most active neurons of one block with the tokens each promotes. */
export function sparsity(session, { layer = 0, k = 8, kTokens = 5 }) {
  const gb = session.gb;
  const L = Math.max(0, Math.min(session.config.n_layer - 1, layer | 0));
  const r = interp.mlpSparsity(gb);
  const top = interp.mlpTopNeurons(gb, L, -1, k);
  const neurons = Array.from(top.ids, (n, i) => {
    const tt = interp.neuronTopTokens(gb, L, n, kTokens);
    return { neuron: n, act: top.acts[i], tokens: Array.from(tt.ids, (id, j) => ({ id, piece: session.piece(id), value: tt.values[j] })) };
  });
  return { ...r, layer: L, neurons, pieces: session.ids.map((id) => session.piece(id)) };
}

/** ReAGent on the run (its prediction at the last position), in chunks with progress and cancel. */
export async function reagent(session, { seed = 1, ratio = 0.3, maxSteps = 300 }, { signal, onProgress } = {}) {
  const r = await interp.reagent(session.gb, { seed, ratio, maxSteps, onProgress, signal });
  return { scores: r.scores, steps: r.steps, maxSteps, ratio, seed, target: tok(session, r.target), pieces: session.ids.map((id) => session.piece(id)) };
}
