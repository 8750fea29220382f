/* state.js — the app's one state store, and its URL encoding.
 *
 * Nothing visual lives here (no pixels, colours or DOM): only what the learner
 * chose (the URL state: a description of the engine's run and of what is in
 * focus) and the engine's answers for it. Views read it; only main.js (and
 * the actions it hands to views) write it, with set(patch). Every answer
 * carries the key of the state it answers (runKey / sampleKey), so a view
 * shows an answer only while it still answers the state on screen.
 *
 * The state, by field:
 *   what the learner chose (carried in the URL, see URL_FIELDS):
 *     model        string   model directory URL ('models/default/')
 *     prompt       string   the text typed
 *     stage        string   current step, one of steps.js STEP_KEYS
 *     layer, head  number   block and attention head in focus (0-based)
 *     allHeads     boolean  show every head as small multiples
 *     temperature, topK, topP, seed   sampling settings
 *     gen          number[] ids of the tokens generated after the prompt
 *     interventions {kind, layer, head?, hook?, pos?}[]  part of the run: every view
 *                  shows the intervened run. kind: 'ablate-zero' | 'ablate-mean'
 *                  (a head's hook_z replaced by zeros or its mean over the
 *                  positions) | 'patch' (next issue: an activation from another
 *                  prompt). URL: iv=z1.2,m0.3 (IV_KINDS); old ?ablate=1.2&am=mean links still load.
 *     view         string   embed.html only: which view to show
 *     lesson       string   lesson mode: '' (off) or a lessons.js LESSON_NAMES entry;
 *                           its model is models/lessons/<name>/ unless the URL names one
 *     lessonStep   number   the step of the lesson's walk (0-based)
 *   interpretability views (views/patching, dla, heads, sparsity, reagent; interp-engine.js):
 *     src          string   the CLEAN prompt of activation patching (the run's prompt is the
 *                           corrupted one); patch entries in the run copy from it
 *     target, distractor  number  token ids of the logit difference (-1: the engine's default)
 *     patchHook    string   the grid shown: hook_resid_pre | hook_attn_out | hook_mlp_out | attn.hook_z
 *     dlaHead      string   "L.H": the head whose attribution by source position is open ('' none)
 *     headSort     string   head finder column the table is sorted by (interp.js HEAD_SCORES; '' = induction,
 *                           or the lesson card's measure on a lesson model)
 *     headSeed     number   the head finder's repeated-sequence seed
 *     mlpLayer     number   the block whose most active neurons are listed
 *     reagentSeed  number   ReAGent's replacement seed
 *     keep         string   a prompt longer than the context keeps its 'end' (last tokens) or 'start'
 *     store        string   the activation store: 'auto' (by what fits the tab), 'low' (low-memory:
 *                           views recompute what they show) or 'full' (every activation kept)
 *   what the engine returned (set by main.js from worker replies):
 *     status   {phase: 'boot'|'loading'|'ready'|'error', live: boolean, progress, error, modelName,
 *               threads: {count, note}: the engine's threads, note saying why one when the cores are more}
 *     config   model hyper-parameters (glassbox.js config) or null
 *     run      {key, ids, pieces, nPrompt, ...} the tokens of the run (key: runKey)
 *     stepData {key, stage, layer, fields} the current step (engine.js step) or null
 *     predict  {key, ...} the sampling answer (engine.js predict; key: sampleKey) or null
 *     compare  {key, clean, run} clean vs intervened at the same sampling settings or null
 *     lens     {key, ...} the logit-lens grid of the (intervened) run or null
 *     lessonJson  the lesson's lesson.json (claims, sample, card numbers) or null
 *     lessonData  the live lesson measurement (engine.js lessonMeasure) or null
 *     errors   {[viewName]: message} errors to show inside a view
 *   what main.js is doing:
 *     playing     boolean  Play is stepping through the walk
 *     generating  boolean  Generate is appending tokens
 */

import { LESSON_NAMES, LESSONS, lessonModelUrl } from './lessons.js';

/** Defaults; a URL field equal to its default is left out of the URL. */
export const DEFAULTS = Object.freeze({
  model: 'models/default/',
  prompt: 'The cat sat on the mat because it was',
  stage: 'embed',
  layer: 0,
  head: 0,
  allHeads: false,
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  seed: 42,
  gen: Object.freeze([]),
  interventions: Object.freeze([]),
  view: 'stage',
  lesson: '',
  lessonStep: 0,
  // interpretability views (views/patching, dla, heads, sparsity, reagent)
  src: '',
  target: -1,
  distractor: -1,
  patchHook: 'hook_resid_pre',
  dlaHead: '',
  headSort: '',
  headSeed: 1,
  mlpLayer: 0,
  reagentSeed: 1,
  keep: 'end',
  store: 'auto',
});

/** URL parameter name -> [state field, type]. Short names keep links short. */
export const URL_FIELDS = Object.freeze({
  model: ['model', 'string'],
  prompt: ['prompt', 'string'],
  stage: ['stage', 'string'],
  layer: ['layer', 'int'],
  head: ['head', 'int'],
  heads: ['allHeads', 'bool'],
  t: ['temperature', 'float'],
  k: ['topK', 'int'],
  p: ['topP', 'float'],
  seed: ['seed', 'int'],
  gen: ['gen', 'ids'],
  iv: ['interventions', 'iv'],
  view: ['view', 'string'],
  lesson: ['lesson', 'lesson'],
  ls: ['lessonStep', 'int'],
  src: ['src', 'string'],
  tgt: ['target', 'int'],
  dis: ['distractor', 'int'],
  ph: ['patchHook', 'string'],
  dh: ['dlaHead', 'string'],
  hs: ['headSort', 'string'],
  hseed: ['headSeed', 'int'],
  ml: ['mlpLayer', 'int'],
  rseed: ['reagentSeed', 'int'],
  keep: ['keep', 'keep'],
  store: ['store', 'store'],
});

const LIMITS = {
  layer: [0, 1023], head: [0, 1023], temperature: [0, 5], topK: [0, 1e6], topP: [0.01, 1],
  seed: [0, 2 ** 31 - 1], lessonStep: [0, 9],
  target: [-1, 1e7], distractor: [-1, 1e7], headSeed: [0, 2 ** 31 - 1], mlpLayer: [0, 1023], reagentSeed: [0, 2 ** 31 - 1],
};

const clamp = (v, [lo, hi]) => Math.min(hi, Math.max(lo, v));

/** One parameter's text -> value, or undefined when it does not parse. */
function parseValue(type, field, text) {
  if (type === 'string') return text;
  if (type === 'lesson') return LESSON_NAMES.includes(text) ? text : undefined;
  if (type === 'keep') return text === 'start' || text === 'end' ? text : undefined;
  if (type === 'store') return ['auto', 'low', 'full'].includes(text) ? text : undefined;
  if (type === 'iv') return text ? text.split(',').map(parseIv).filter(Boolean).slice(0, 256) : [];
  if (type === 'bool') return text === '1' || text === 'true' ? true : text === '0' || text === 'false' ? false : undefined;
  if (type === 'ids') return text ? text.split(',').filter((s) => /^\d{1,7}$/.test(s)).map(Number).slice(0, 4096) : [];
  if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(text)) return undefined;
  const n = type === 'int' ? Math.trunc(Number(text)) : Number(text);
  if (!Number.isFinite(n)) return undefined;
  return LIMITS[field] ? clamp(n, LIMITS[field]) : n;
}

function formatValue(type, v) {
  if (type === 'bool') return v ? '1' : '0';
  if (type === 'iv') return v.map(formatIv).join(',');
  if (type === 'ids') return v.join(',');
  return String(v);
}

/**
 * Query string (with or without '?') -> a partial state of the URL fields that
 * are present and valid. Unknown parameters and bad values are ignored.
 */
export function decodeUrl(search) {
  const q = new URLSearchParams(search);
  const out = {};
  for (const [param, [field, type]] of Object.entries(URL_FIELDS)) {
    if (!q.has(param)) continue;
    const v = parseValue(type, field, q.get(param));
    if (v !== undefined) out[field] = v;
  }
  // Links from before interventions were a list: ?ablate=1.2,0.3&am=mean.
  if (out.interventions === undefined && q.has('ablate')) {
    const kind = q.get('am') === 'mean' ? 'ablate-mean' : 'ablate-zero';
    out.interventions = q.get('ablate').split(',').filter((x) => /^\d+\.\d+$/.test(x))
      .map((x) => { const [layer, head] = x.split('.').map(Number); return { kind, layer, head }; });
  }
  if (out.lesson && out.model === undefined) out.model = lessonModelUrl(out.lesson);
  if (out.lesson && out.prompt === undefined) out.prompt = LESSONS[out.lesson].prompts[0].text;
  return out;
}

/** State -> query string ('' or '?a=b&...') holding the fields that differ from DEFAULTS. */
export function encodeUrl(state, { keepView = false } = {}) {
  const q = new URLSearchParams();
  for (const [param, [field, type]] of Object.entries(URL_FIELDS)) {
    const v = state[field];
    if (v === undefined || (field === 'view' && !keepView)) continue;
    const def = field === 'model' && state.lesson ? lessonModelUrl(state.lesson)
      : field === 'prompt' && state.lesson ? LESSONS[state.lesson].prompts[0].text : DEFAULTS[field];
    if (type === 'ids' || type === 'iv' ? formatValue(type, v) === formatValue(type, def) : v === def) continue;
    q.set(param, formatValue(type, v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The engine-side parts of a state start empty. */
export function initialState(fromUrl = {}) {
  return {
    ...DEFAULTS,
    interventions: [],
    gen: [...DEFAULTS.gen],
    ...fromUrl,
    status: { phase: 'boot', live: false, progress: null, error: null, modelName: '' },
    config: null,
    run: null,
    stepData: null,
    predict: null,
    compare: null,
    lens: null,
    lessonJson: null,
    lessonData: null,
    errors: {},
  };
}

/**
 * A tiny store: get() the current state, set(patch) merges a patch and tells
 * subscribers which top-level fields changed (by identity).
 */
export function createStore(initial) {
  let state = initial;
  const subs = new Set();
  return {
    get: () => state,
    set(patch) {
      const changed = Object.keys(patch).filter((k) => !Object.is(state[k], patch[k]));
      if (!changed.length) return changed;
      state = { ...state, ...patch };
      for (const fn of subs) fn(state, changed);
      return changed;
    },
    subscribe(fn) { subs.add(fn); return () => subs.delete(fn); },
  };
}

/** Keeps layer/head inside the loaded model's range. */
export function clampToModel(state, config) {
  if (!config) return {};
  const patch = {};
  if (state.layer >= config.n_layer) patch.layer = config.n_layer - 1;
  if (state.head >= config.n_head) patch.head = config.n_head - 1;
  const iv = state.interventions.filter((e) => e.layer < config.n_layer && (e.head == null || e.head < config.n_head) && (e.pos == null || e.pos < config.n_positions));
  if (iv.length !== state.interventions.length) patch.interventions = iv;
  return patch;
}

/* ------------------------------------------------------------ interventions */

/** URL letter -> intervention kind. A new kind (patching, next issue) is one more row. */
export const IV_KINDS = Object.freeze({ z: 'ablate-zero', m: 'ablate-mean', p: 'patch' });
const IV_LETTER = Object.fromEntries(Object.entries(IV_KINDS).map(([k, v]) => [v, k]));

/** "z1.2" | "m0.3" | "p1.2~attn.hook_z@5" (layer, .head, ~hook, @pos) -> entry, or null. */
export function parseIv(text) {
  const m = /^([a-z])(\d{1,4})(?:\.(\d{1,4}))?(?:~([A-Za-z0-9_.]{1,64}))?(?:@(\d{1,6}))?$/.exec(text);
  if (!m || !IV_KINDS[m[1]]) return null;
  const e = { kind: IV_KINDS[m[1]], layer: Number(m[2]) };
  if (m[3] !== undefined) e.head = Number(m[3]);
  if (m[4] !== undefined) e.hook = m[4];
  if (m[5] !== undefined) e.pos = Number(m[5]);
  if (e.kind !== 'patch' && e.head === undefined) return null; // an ablation names its head
  return e;
}

export function formatIv(e) {
  return `${IV_LETTER[e.kind]}${e.layer}${e.head != null ? `.${e.head}` : ''}${e.hook ? `~${e.hook}` : ''}${e.pos != null ? `@${e.pos}` : ''}`;
}

/** The heads a list ablates, as "L.H" (the lesson cards and metrics name them so). */
export const ablatedHeads = (list) => list.filter((e) => e.kind.startsWith('ablate-')).map((e) => `${e.layer}.${e.head}`);

/** 'zero' | 'mean' when every ablation in the list is of that kind, else 'mixed' ('zero' for none). */
export function ablationMode(list) {
  const kinds = new Set(list.filter((e) => e.kind.startsWith('ablate-')).map((e) => e.kind.slice(7)));
  return kinds.size === 0 ? 'zero' : kinds.size === 1 ? [...kinds][0] : 'mixed';
}

/** The list with head (layer, head) ablated by kind added, or removed when it is there. */
export function toggleHead(list, layer, head, kind = 'ablate-zero') {
  const i = list.findIndex((e) => e.kind.startsWith('ablate-') && e.layer === layer && e.head === head);
  return i >= 0 ? list.filter((_, k) => k !== i) : [...list, { kind, layer, head }];
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** The badge's words: "2 heads ablated", "1 head mean-ablated · 1 activation patched", or ''. */
export function ivSummary(list) {
  const n = (k) => list.filter((e) => e.kind === k).length;
  const parts = [];
  if (n('ablate-zero')) parts.push(`${plural(n('ablate-zero'), 'head', 'heads')} ablated`);
  if (n('ablate-mean')) parts.push(`${plural(n('ablate-mean'), 'head', 'heads')} mean-ablated`);
  if (n('patch')) parts.push(`${plural(n('patch'), 'activation', 'activations')} patched`);
  return parts.join(' · ');
}

/** Names of the intervened heads, "L2 h1, L2 h3 (mean)". */
export function ivNames(list) {
  return list.map((e) => `L${e.layer + 1}${e.head != null ? ` h${e.head + 1}` : ''}${e.hook ? ` ${e.hook}` : ''}${e.pos != null ? ` @${e.pos}` : ''}${e.kind === 'ablate-mean' ? ' (mean)' : e.kind === 'patch' ? ' (patched)' : ''}`).join(', ');
}

/* ------------------------------------------------------------ answer keys */

/** What the run depends on: model, prompt, generated ids, interventions. */
export const runKey = (s) => JSON.stringify([s.model, s.prompt, s.keep, s.gen, s.interventions.map(formatIv), hasPatch(s) ? s.src : null]);
/** Patch entries read the clean prompt (src), so only then is it part of the run. */
const hasPatch = (s) => s.interventions.some((e) => e.kind === 'patch');
/** What the sampling answers depend on: the run plus seed and settings. */
export const sampleKey = (s) => JSON.stringify([runKey(s), s.seed, s.temperature, s.topK, s.topP]);
/** The run's description the worker applies before it answers. */
export const runDesc = (s) => ({ store: s.store, prompt: s.prompt, keep: s.keep, gen: s.gen, interventions: s.interventions, seed: s.seed, src: hasPatch(s) ? s.src : null });
export const samplingOf = (s) => ({ temperature: s.temperature, topK: s.topK, topP: s.topP });
