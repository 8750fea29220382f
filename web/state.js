/* state.js — the app's one state store, and its URL encoding.
 *
 * Nothing visual lives here (no pixels, colours or DOM): only what the learner
 * chose and what the engine computed for it. Views read it; only main.js (and
 * the actions it hands to views) write it, with set(patch).
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
 *     ablate       string[] ablated heads as "L.H"
 *     ablateMode   string   'zero' or 'mean' (the head's mean output over the run)
 *     view         string   embed.html only: which view to show
 *     lesson       string   lesson mode: '' (off) or a lessons.js LESSON_NAMES entry;
 *                           its model is models/lessons/<name>/ unless the URL names one
 *     lessonStep   number   the step of the lesson's walk (0-based)
 *     keep         string   a prompt longer than the context keeps its 'end' (last tokens) or 'start'
 *   what the engine returned (set by main.js from worker replies):
 *     status   {phase: 'boot'|'loading'|'ready'|'error', live: boolean, progress, error, modelName}
 *     config   model hyper-parameters (glassbox.js config) or null
 *     run      {ids: number[], pieces: string[], nPrompt: number} the tokens of the run
 *     stepData the payload of the current step (engine.js stepData) or null
 *     predict  the sampling trace summary (engine.js predict) or null
 *     ablation {before, after, heads} or null
 *     lens     logit-lens grid or null
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
  ablate: Object.freeze([]),
  ablateMode: 'zero',
  view: 'stage',
  lesson: '',
  lessonStep: 0,
  keep: 'end',
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
  ablate: ['ablate', 'list'],
  am: ['ablateMode', 'mode'],
  view: ['view', 'string'],
  lesson: ['lesson', 'lesson'],
  ls: ['lessonStep', 'int'],
  keep: ['keep', 'keep'],
});

const LIMITS = {
  layer: [0, 1023], head: [0, 1023], temperature: [0, 5], topK: [0, 1e6], topP: [0.01, 1],
  seed: [0, 2 ** 31 - 1], lessonStep: [0, 9],
};

const clamp = (v, [lo, hi]) => Math.min(hi, Math.max(lo, v));

/** One parameter's text -> value, or undefined when it does not parse. */
function parseValue(type, field, text) {
  if (type === 'string') return text;
  if (type === 'lesson') return LESSON_NAMES.includes(text) ? text : undefined;
  if (type === 'keep') return text === 'start' || text === 'end' ? text : undefined;
  if (type === 'mode') return text === 'zero' || text === 'mean' ? text : undefined;
  if (type === 'bool') return text === '1' || text === 'true' ? true : text === '0' || text === 'false' ? false : undefined;
  if (type === 'list') return text ? text.split(',').filter((s) => /^\d+\.\d+$/.test(s)) : [];
  if (type === 'ids') return text ? text.split(',').filter((s) => /^\d{1,7}$/.test(s)).map(Number).slice(0, 4096) : [];
  if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(text)) return undefined;
  const n = type === 'int' ? Math.trunc(Number(text)) : Number(text);
  if (!Number.isFinite(n)) return undefined;
  return LIMITS[field] ? clamp(n, LIMITS[field]) : n;
}

function formatValue(type, v) {
  if (type === 'bool') return v ? '1' : '0';
  if (type === 'list' || type === 'ids') return v.join(',');
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
    if (type === 'list' || type === 'ids' ? v.join(',') === def.join(',') : v === def) continue;
    q.set(param, formatValue(type, v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The engine-side parts of a state start empty. */
export function initialState(fromUrl = {}) {
  return {
    ...DEFAULTS,
    ablate: [...DEFAULTS.ablate],
    gen: [...DEFAULTS.gen],
    ...fromUrl,
    status: { phase: 'boot', live: false, progress: null, error: null, modelName: '' },
    config: null,
    run: null,
    stepData: null,
    predict: null,
    ablation: null,
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
  const ab = state.ablate.filter((s) => { const [l, h] = s.split('.').map(Number); return l < config.n_layer && h < config.n_head; });
  if (ab.length !== state.ablate.length) patch.ablate = ab;
  return patch;
}
