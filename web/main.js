/* main.js — boots the page: registers the views by name, keeps the one store
 * (state.js) in step with the URL and the engine worker, and re-renders each
 * view when the state fields it watches change.
 *
 * index.html mounts every view into its [data-view] element; embed.html
 * mounts one view, chosen by ?view=, into #embed-root. Both first draw the
 * precomputed trace (trace/default.json) when the state asks for the default
 * model and prompt, then switch to the live engine once the model has loaded.
 */
import { nextTask } from './lib/next-task.js';
import Mustache from './vendor/mustache.mjs';
import { createStore, decodeUrl, encodeUrl, initialState, clampToModel, DEFAULTS, runKey, sampleKey, runDesc, samplingOf, toggleHead } from './state.js';
import { moveStep, stepIndex, stepList, stepId } from './steps.js';
import { createTemplates } from './lib/templates.js';
import { createClient } from './lib/client.js';
import { renderError } from './lib/render-error.js';
import { renderBadge } from './lib/badge.js';
import { loaderView, readModelFiles } from './views/loader/loader.js';
import { tokensView } from './views/tokens/tokens.js';
import { stagemapView } from './views/stagemap/stagemap.js';
import { controlsView } from './views/controls/controls.js';
import { stageView, stepView, readsHeadPattern } from './views/stage/stage.js';
import { samplingView } from './views/sampling/sampling.js';
import { ablationView } from './views/ablation/ablation.js';
import { lensView } from './views/lens/lens.js';
import { lessonView } from './views/lesson/lesson.js';
import { introView } from './views/intro/intro.js';
import { plainView } from './views/plain/plain.js';
import { LESSONS, clampStep, lessonModelUrl } from './lessons.js';
import { createInterp, INTERP_VIEWS } from './lib/interp-client.js';
import { parseIdList } from './lib/ids.js';
import { renderIdsNotice } from './lib/ids-notice.js';
import { patchingView } from './views/patching/patching.js';
import { dlaView } from './views/dla/dla.js';
import { headsView } from './views/heads/heads.js';
import { sparsityView } from './views/sparsity/sparsity.js';
import { reagentView } from './views/reagent/reagent.js';
import { measureEmbed, measureState, reportMeasured } from './lib/embed-measure.js';

// ------------------------------------------------------------ view registry
const registry = new Map();
/** Registers a view factory under a name; a name can be registered once. */
export function registerView(name, factory) {
  if (registry.has(name)) throw new Error(`view "${name}" is registered twice`);
  registry.set(name, factory);
}
registerView('loader', loaderView);
registerView('tokens', tokensView);
registerView('stagemap', stagemapView);
registerView('controls', controlsView);
registerView('stage', stageView);
registerView('sampling', samplingView);
registerView('ablation', ablationView);
registerView('lens', lensView);
registerView('lesson', lessonView);
registerView('patching', patchingView);
registerView('dla', dlaView);
registerView('heads', headsView);
registerView('sparsity', sparsityView);
registerView('reagent', reagentView);
registerView('intro', introView);
registerView('plain', plainView);
/** Views that show the run's numbers: each carries the interventions badge. */
const BADGED = ['tokens', 'stage', 'sampling', 'ablation', 'lens', 'lesson', ...INTERP_VIEWS];
/** Views embed.html may show. */
const EMBEDDABLE = ['stage', 'tokens', 'sampling', 'ablation', 'lens', 'stagemap', 'lesson', ...INTERP_VIEWS];

// ------------------------------------------------------------ state
const isEmbed = document.body.classList.contains('embed');
const store = createStore(initialState(decodeUrl(location.search)));
const templates = createTemplates(Mustache, async (path) => {
  const res = await fetch(new URL(path, import.meta.url));
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.text();
});
const client = createClient(new URL('./worker.js', import.meta.url));

// ------------------------------------------------------------ engine requests
/* Latest-wins: each kind of request has a counter; a reply to an older
 * request than the newest is dropped. Every question carries the run's
 * description (runDesc), and every answer is stored with the key of the state
 * it answers (runKey / sampleKey): views show an answer only while its key is
 * the current state's, so nothing on screen answers another state. */
const latest = {};
async function request(kind, verb, args, opts) {
  const n = (latest[kind] = (latest[kind] || 0) + 1);
  const result = await client.call(verb, args, opts);
  return n === latest[kind] ? result : undefined;
}

function setError(view, err) {
  const s = store.get();
  const msg = err ? (err.message || String(err)) : undefined;
  if (s.errors[view] === msg) return; // no change, no re-render of every view that shows errors
  store.set({ errors: { ...s.errors, [view]: msg } });
}

async function guard(view, fn) {
  try { setError(view, null); await fn(); } catch (e) { setError(view, e); }
}

const measuring = isEmbed && !!measureState(); // embed-measure.js: draw a handed-over state, ask the engine nothing
const live = () => !measuring && store.get().status.phase === 'ready';

/** Keeps one performance mark per name, the latest: tests/e2e/timing.js reads click-to-update times from them. */
function markNow(name) { performance.clearMarks(name); performance.mark(name); }

/** Asks verb about the current state; stores the answer under field with its key, if still current. */
async function ask(field, verb, args, keyOf = runKey, extra = {}) {
  const s = store.get();
  const key = keyOf(s);
  const a = await request(field, verb, { state: runDesc(s), ...args });
  if (a && keyOf(store.get()) === key) {
    store.set({ [field]: { ...a, ...extra, key } });
    markNow(`glassbox:answer:${field}`);
  }
  return a;
}

/* What depends on what. The run (prompt, generated ids, interventions): every
 * answer. The seed and the sampling settings: only the sampling answers
 * (predict, compare). The step in focus: only its payload. */
async function refreshRun() {
  if (!live()) return;
  await guard('tokens', async () => {
    const s = store.get();
    // A new prompt's tokens first (fast), so the pieces update while the forward pass runs.
    if (store.get().run?.prompt !== s.prompt) {
      request('tokenize', 'tokenize', { text: s.prompt }).then((t) => {
        if (t && store.get().prompt === s.prompt && store.get().run?.prompt !== s.prompt) store.set({ run: { ids: t.ids, pieces: t.pieces, nPrompt: t.ids.length, prompt: s.prompt, key: null } });
      }, () => {});
    }
    const a = await ask('run', 'run', {}, runKey, { prompt: s.prompt });
    if (!a) return;
    performance.mark('glassbox:run', { detail: { runMs: a.runMs, tokens: a.ids.length, store: a.store } }); // bench/longtasks.js: the prefill's time in the engine
    await Promise.all([refreshStep(), refreshSampling(), refreshLens(), refreshLesson()]);
  });
}

async function refreshStep() {
  if (!live()) return;
  const s = store.get();
  // Steps that draw a head's pattern carry the head (and the zoom window): the engine sends what is drawn.
  await guard('stage', () => ask('stepData', 'step', { stage: s.stage, layer: s.layer, view: stepView(s) }));
}

async function refreshPredict() {
  if (!live()) return;
  await guard('sampling', () => ask('predict', 'predict', { sampling: samplingOf(store.get()), k: 12 }, sampleKey));
}

function refreshSampling() { return Promise.all([refreshPredict(), refreshCompare()]); }

/* The comparison and the logit lens cost whole extra passes (GPT-2 small:
 * about a second for the lens), and the worker answers in order, so they are
 * computed only while their view is on screen; a view that scrolls into
 * sight with stale data asks again. */
const visible = new Set();
const stale = new Set();
function onScreen(name) {
  if (visible.has(name)) return true;
  stale.add(name);
  return false;
}

async function refreshCompare() {
  if (!live() || !wants('ablation') || !onScreen('ablation')) return;
  await guard('ablation', () => ask('compare', 'compare', { sampling: samplingOf(store.get()), k: 8 }, sampleKey));
}

async function refreshLens() {
  if (!live() || !wants('lens') || !onScreen('lens')) return;
  await guard('lens', () => ask('lens', 'lens', { maxPos: 16 }));
}

/* Lesson mode: the card's numbers (lesson.json, fetched once per lesson) and
 * the live measurement of the current step on the current run. */
async function loadLessonJson() {
  const name = store.get().lesson;
  if (!name || (store.get().lessonJson && store.get().lessonJson.lesson === name)) return;
  store.set({ lessonJson: null, lessonData: null });
  await guard('lesson', async () => {
    const res = await fetch(new URL(`${lessonModelUrl(name)}lesson.json`, location.href));
    if (!res.ok) throw new Error(`${lessonModelUrl(name)}lesson.json: HTTP ${res.status}`);
    const json = await res.json();
    if (store.get().lesson === name) store.set({ lessonJson: json });
  });
  await refreshLesson();
}

async function refreshLesson() {
  const s = store.get();
  if (!live() || !s.lesson || !wants('lesson') || !s.lessonJson || s.lessonJson.lesson !== s.lesson) return;
  if (!s.status.modelName || !s.status.modelName.includes(lessonModelUrl(s.lesson))) return; // its model is still loading
  await guard('lesson', async () => {
    const step = LESSONS[s.lesson].steps[clampStep(s.lesson, s.lessonStep)];
    await ask('lessonData', 'lesson', { lesson: s.lesson, grids: step.grids || [], items: s.lessonJson.sample.items, focus: { layer: s.layer, head: s.head } });
  });
}

function debounce(fn, ms) {
  let t = 0;
  return () => { clearTimeout(t); t = setTimeout(fn, ms); };
}
const refreshRunSoon = debounce(refreshRun, 120);

async function loadModel(source) {
  const s = store.get();
  const progress = (p) => store.set({ status: { ...store.get().status, phase: 'loading', progress: p, error: null } });
  store.set({ status: { ...s.status, phase: 'loading', progress: { phase: 'download', fraction: 0 }, error: null } });
  try {
    const { config, name, threads } = source.files
      ? await client.call('loadFiles', { files: source.files, name: source.name }, { transfer: source.transfer, onProgress: progress })
      : await client.call('loadUrl', { url: source.url }, { onProgress: progress });
    store.set({ config, status: { phase: 'ready', live: true, progress: null, error: null, modelName: name, threads }, ...clampToModel(store.get(), config) });
    if (source.files) store.set({ model: `local:${source.name}`, gen: [] });
    // A checkpoint without a tokenizer runs on ids: a text prompt becomes a few ids to start from.
    if (config.hasTokenizer === false && !parseIdList(store.get().prompt)) store.set({ prompt: `ids: ${[0, 1, 2, 3].filter((i) => i < config.vocab_size).join(', ')}`, gen: [], interventions: [] });
    await refreshRun();
  } catch (e) {
    // A failed load keeps the previous model (the engine guarantees it): stay usable.
    const prev = store.get().status;
    const ok = prev.live || !!store.get().config;
    store.set({ status: { ...prev, phase: ok && prev.live ? 'ready' : 'error', progress: null, error: e.message } });
  }
}

// ------------------------------------------------------------ actions views may call
let playTimer = 0;
let beforeLesson = null; // the learner's prompt and place before a lesson, restored on leaving it
const actions = {
  set: (patch) => store.set(patch),
  step(delta) {
    const s = store.get();
    if (!s.config) return;
    // A layer picked on the Embeddings step is where Next goes (not block 1).
    if (s.stage === 'embed' && delta === 1 && s.layer > 0) { store.set({ stage: 'ln1' }); return; }
    store.set(moveStep(s.stage, s.layer, delta, s.config.n_layer));
  },
  goto(stage, layer) { store.set(layer == null || layer < 0 ? { stage } : { stage, layer }); },
  togglePlay() {
    if (playTimer) { clearInterval(playTimer); playTimer = 0; store.set({ playing: false }); return; }
    const s = store.get();
    if (!s.config) return;
    const list = stepList(s.config.n_layer);
    if (stepIndex(s.stage, s.layer, s.config.n_layer) >= list.length - 1) store.set({ stage: 'embed' });
    store.set({ playing: true });
    playTimer = setInterval(() => {
      const t = store.get();
      if (stepIndex(t.stage, t.layer, t.config.n_layer) >= list.length - 1) { actions.togglePlay(); return; }
      actions.step(1);
    }, 1100);
  },
  /** Appends n tokens drawn by the engine for the current state (its seed, settings and interventions). */
  async generate(n = 1) {
    if (!live()) return;
    store.set({ generating: true });
    try {
      for (let i = 0; i < n; i++) {
        const s = store.get();
        if (s.run && s.run.ids.length >= s.config.n_positions) break;
        const a = await client.call('generate', { state: runDesc(s), n: 1, sampling: samplingOf(s) });
        if (runKey(store.get()) !== runKey(s)) break; // the learner changed the run meanwhile
        store.set({ gen: a.gen });
        store.set({ run: { ...a.run, prompt: s.prompt, key: runKey(store.get()) } });
        await Promise.all([refreshStep(), refreshPredict()]);
      }
    } catch (e) { setError('sampling', e); } finally { store.set({ generating: false }); }
    await Promise.all([refreshCompare(), refreshLens(), refreshLesson()]);
  },
  resetGenerated() { store.set({ gen: [] }); },
  /** Starts lesson name (its model, first prompt and step), or leaves lesson mode (''). */
  pickLesson(name) {
    const s = store.get();
    if (name && !LESSONS[name]) return;
    if (name === s.lesson) return;
    // Entering a lesson keeps the learner's own prompt and place; leaving one gives them back.
    if (name && !s.lesson) beforeLesson = { prompt: s.prompt, gen: s.gen, model: s.model, stage: s.stage, layer: s.layer, head: s.head, interventions: s.interventions };
    const back = !name && beforeLesson && !beforeLesson.model.startsWith('local:') ? beforeLesson : null;
    if (!name) beforeLesson = null;
    const model = name ? lessonModelUrl(name) : back ? back.model : DEFAULTS.model;
    store.set({ lesson: name, lessonStep: 0, lessonData: null, interventions: [], gen: [], prompt: name ? LESSONS[name].prompts[0].text : DEFAULTS.prompt, model, stage: 'embed', layer: 0, head: 0, ...(back || {}) });
    if (name) loadLessonJson();
    if (model !== (s.status.modelName || '')) loadModel({ url: model });
  },
  /** Goes to step i of the lesson: its view (stage, layer, head), no intervention outside "break it" steps. */
  lessonGoto(i) {
    const s = store.get();
    if (!s.lesson) return;
    const k = clampStep(s.lesson, i), step = LESSONS[s.lesson].steps[k];
    store.set({ lessonStep: k, ...(step.show || {}), ...(step.ablate ? {} : { interventions: [] }) });
  },
  toggleAblate(layer, head, kind = 'ablate-zero') { store.set({ interventions: toggleHead(store.get().interventions, layer, head, kind) }); },
  clearInterventions() { store.set({ interventions: [] }); },
  loadFiles: async (fileList) => {
    try {
      if (store.get().lesson) store.set({ lesson: '', lessonStep: 0, lessonData: null, lessonJson: null });
      const { files, name, transfer } = await readModelFiles(fileList, (p) => store.set({ status: { ...store.get().status, phase: 'loading', progress: p, error: null } }));
      await loadModel({ files, name, transfer });
    } catch (e) {
      const st = store.get().status;
      store.set({ status: { ...st, phase: st.live ? 'ready' : 'error', progress: null, error: e.message } });
    }
  },
  loadUrl: (url) => { store.set({ model: url }); return loadModel({ url }); },
  /** A zoom window of one head's pattern from the engine (overview.js asks when the window moves); null if the run changed. */
  async patternZoom(a) {
    const s = store.get(), key = runKey(s);
    const z = await client.call('patternZoom', { state: runDesc(s), ...a });
    return runKey(store.get()) === key ? z : null;
  },
  /** CSS px embed.html needs to show view at width (drawn off-screen; lens and ablation data fetched first). */
  async embedHeight(view, width) {
    // Off-screen views have no current answer: ask for it first (the embed will show it).
    const refresh = { lens: refreshLens, ablation: refreshCompare }[view];
    if (refresh && !visible.has(view)) { visible.add(view); try { await refresh(); } finally { visible.delete(view); } }
    return measureEmbed({ url: actions.shareUrl(true, view), width, state: store.get() });
  },
  /** Link to this state: the main page, or embed.html showing one view. */
  shareUrl: (embed = false, view = 'stage') => {
    const s = store.get();
    const base = new URL(embed ? 'embed.html' : './', location.href);
    return base.href.replace(/[?#].*$/, '') + encodeUrl(embed ? { ...s, view } : s, { keepView: embed });
  },
};

// The interpretability views' requests (lib/interp-client.js) and their actions.
const interp = createInterp({ store, client, live, setError, markNow });
Object.assign(actions, interp.actions);

// ------------------------------------------------------------ reacting to state
store.subscribe((s, changed) => {
  const has = (...k) => k.some((x) => changed.includes(x));
  if (has('prompt', 'keep', 'store')) refreshRunSoon();
  // Generate sets gen itself and refreshes what it needs per token.
  else if (has('gen', 'interventions') && !s.generating) refreshRun();
  else if (has('seed', 'temperature', 'topK', 'topP')) refreshSampling();
  if (has('stage', 'layer') && !has('prompt')) {
    if (!live() && trace && trace.steps[stepId(s.stage, s.layer)] && runKey(s) === trace.key) store.set({ stepData: { ...trace.steps[stepId(s.stage, s.layer)], key: trace.key } });
    refreshStep();
  }
  else if (has('head', 'allHeads') && readsHeadPattern(s.stage) && !has('prompt', 'gen', 'interventions')) refreshStep();
  if (has('lessonStep', 'layer', 'head') && !has('prompt', 'gen', 'interventions')) refreshLesson();
  if (has(...URL_KEYS)) syncUrlSoon();
  scheduleRender(changed);
});
const URL_KEYS = ['model', 'prompt', 'stage', 'layer', 'head', 'allHeads', 'temperature', 'topK', 'topP', 'seed', 'gen', 'interventions', 'view', 'lesson', 'lessonStep',
  'keep', 'store', 'src', 'target', 'distractor', 'patchHook', 'dlaHead', 'headSort', 'headSeed', 'mlpLayer', 'reagentSeed'];
const syncUrlSoon = debounce(() => {
  const s = store.get();
  if (s.model.startsWith('local:')) return; // a link cannot carry files from this computer
  history.replaceState(null, '', location.pathname + encodeUrl(s, { keepView: isEmbed }) + location.hash);
}, 150);

// ------------------------------------------------------------ mounting and rendering
const mounted = []; // {name, card, el, badge, view, watch}
let pendingChanged = new Set(['*']);
let frame = 0;
function scheduleRender(changed) {
  for (const c of changed) pendingChanged.add(c);
  if (!frame) frame = requestAnimationFrame(renderAll);
}
/* Views render in slices: each in its own task once the frame's task has
 * spent SLICE_MS, so no main-thread task holds every view's render (at 256
 * tokens the tokens, stage, sampling and tool views together took 100-170 ms
 * in one task while generating). Each view renders the state as it is when
 * its turn comes. */
const SLICE_MS = 6; // a view past this waits for a task of its own: renders take up to ~25 ms, and the frame's layout and paint (10-20 ms) share the first task
const toRender = new Set(); // mounted entries waiting for their render
let draining = false;
function renderAll() {
  frame = 0;
  const s = store.get();
  const changed = pendingChanged;
  pendingChanged = new Set();
  for (const m of mounted) {
    if (m.badge && (changed.has('*') || changed.has('interventions') || changed.has('lesson'))) renderBadge(m.badge, s, actions, m.name === 'lesson' && !s.lesson);
    if (m.notice && (changed.has('*') || changed.has('config'))) renderIdsNotice(m.notice, s);
    if (changed.has('*') || m.watch.some((k) => changed.has(k))) toRender.add(m);
  }
  if (!draining) drain();
}
function drain() {
  draining = true;
  const start = performance.now();
  for (const m of mounted) {
    if (!toRender.has(m)) continue;
    if (performance.now() - start > SLICE_MS) { nextTask(drain); return; }
    toRender.delete(m);
    const t0 = performance.now(); // bench/longtasks.js reads these measures: which view a long task was
    try { m.view.render(m.el, store.get()); } catch (e) { renderError(m.el, e, { title: `The ${m.name} view failed` }); }
    performance.measure(`render:${m.name}`, { start: t0 });
  }
  draining = false;
  markNow('glassbox:render');
}
function wants(name) { return mounted.some((m) => m.name === name); }

async function mount() {
  const targets = [];
  if (isEmbed) {
    const want = store.get().view;
    const name = EMBEDDABLE.includes(want) ? want : 'stage';
    const root = document.getElementById('embed-root');
    root.dataset.view = name;
    targets.push([name, root]);
    for (const el of document.querySelectorAll('[data-view="loader"]')) targets.push(['loader', el]);
    document.getElementById('open-full').href = `./${encodeUrl(store.get())}`;
  } else {
    for (const el of document.querySelectorAll('[data-view]')) targets.push([el.dataset.view, el]);
  }
  const deps = { templates, actions, store, embed: isEmbed };
  await Promise.all(targets.map(async ([name, card]) => {
    const factory = registry.get(name);
    if (!factory) { renderError(card, new Error(`no view is registered as "${name}"`)); return; }
    try {
      await templates.preload(name);
      if (name === 'controls' || name === 'stage') await templates.preload('sampling'); // stage reuses the sampling bars
      const view = factory(deps);
      // Views that show numbers of the run get the interventions badge above
      // their own content, drawn by main.js so it is the same on every view.
      let el = card, badge = null;
      if (BADGED.includes(name)) {
        badge = document.createElement('div');
        el = document.createElement('div');
        el.className = 'view-body';
        card.replaceChildren(badge, el);
      }
      let notice = null; // the prompt's "this checkpoint has no tokenizer" note
      if (name === 'tokens') { notice = document.createElement('div'); card.insertBefore(notice, el); }
      mounted.push({ name, card, el, badge, notice, view, watch: view.watch || [] });
    } catch (e) { renderError(card, e, { title: `The ${name} view could not start` }); }
  }));
  mounted.sort((a, b) => targets.findIndex((t) => t[1] === a.card) - targets.findIndex((t) => t[1] === b.card));
  const io = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const name = e.target.dataset.view;
      if (!e.isIntersecting) { visible.delete(name); continue; }
      visible.add(name);
      if (stale.delete(name)) (name === 'lens' ? refreshLens : refreshCompare)();
    }
  }, { rootMargin: '300px' });
  for (const m of mounted) if (m.name === 'lens' || m.name === 'ablation') io.observe(m.card);
  interp.observe(mounted.filter((m) => INTERP_VIEWS.includes(m.name)).map((m) => [m.name, m.card]));
}

// ------------------------------------------------------------ keyboard
document.addEventListener('keydown', (ev) => {
  const t = ev.target;
  if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
  if (t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  if (ev.key === 'ArrowRight') { actions.step(1); ev.preventDefault(); }
  else if (ev.key === 'ArrowLeft') { actions.step(-1); ev.preventDefault(); }
  else if (ev.key === ' ' && !(t instanceof HTMLButtonElement) && !(t instanceof HTMLAnchorElement)) { actions.togglePlay(); ev.preventDefault(); }
});

// ------------------------------------------------------------ boot
let trace = null;
/* The trace answers one state: the default model and prompt, no generated
 * tokens, no interventions, its seed and settings. Its answers get that
 * state's keys, so a view shows them only when the URL asks for that state. */
async function loadTrace() {
  try {
    // Fetched even when unused, so the page's <link rel=preload> is always consumed.
    const res = await fetch(new URL('trace/default.json', import.meta.url));
    if (!res.ok) return;
    trace = await res.json();
  } catch { return; }
  const s = store.get();
  const ts = { ...s, model: DEFAULTS.model, prompt: trace.prompt, gen: [], interventions: [], seed: trace.seed, ...trace.sampling };
  trace.key = runKey(ts);
  trace.sampleKey = sampleKey(ts);
  if (live() || runKey(s) !== trace.key) return;
  store.set({
    config: trace.config, ...clampToModel(s, trace.config),
    run: { ...trace.run, prompt: trace.prompt, key: trace.key },
    predict: sampleKey(s) === trace.sampleKey ? { ...trace.predict, key: trace.sampleKey } : null,
    compare: sampleKey(s) === trace.sampleKey ? { ...trace.compare, key: trace.sampleKey } : null,
    lens: { ...trace.lens, key: trace.key },
  });
  const u = store.get();
  const st = trace.steps[stepId(u.stage, u.layer)];
  store.set({ stepData: st ? { ...st, key: trace.key } : null });
}

/* Measure mode (embed-measure.js): draw the measuring page's state once, report the height, load nothing. */
async function measureBoot(state) {
  store.set({ ...state, view: decodeUrl(location.search).view || 'stage' });
  await mount();
  pendingChanged.add('*');
  renderAll();
  // The views render in slices, and the stage draws its figures in tasks of their own (its hidden
  // .waiting marker stays until they are on the page): wait for both, up to 5 s.
  const until = performance.now() + 5000;
  while ((draining || document.querySelector('main .waiting')) && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
  await document.fonts?.ready;
  reportMeasured();
}

async function boot() {
  if (measuring) return measureBoot(measureState());
  const s = store.get();
  if (s.model.startsWith('local:')) {
    store.set({ model: DEFAULTS.model, status: { ...s.status, error: 'This link was made with a model loaded from files on another computer; showing the default model instead.' } });
  }
  // The engine starts loading at once; the trace and the templates meanwhile draw the first view.
  // When the trace covers the view, the engine starts after the first paint
  // (they would compete for the CPU); otherwise it starts at once.
  const traceDone = loadTrace();
  if (store.get().lesson) loadLessonJson();
  const model = store.get().model;
  let started = false;
  const start = () => { if (!started) { started = true; loadModel({ url: model }); } };
  traceDone.then(() => { if (!store.get().stepData) start(); });
  await mount();
  await traceDone;
  scheduleRender(['*']);
  requestAnimationFrame(() => {
    if (store.get().stepData) performance.mark('glassbox:first-view');
    setTimeout(start, 0);
  });
}

boot();
