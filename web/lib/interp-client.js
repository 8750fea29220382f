/* interp-client.js — the page's side of the interpretability views: asks the
 * worker (interp-engine.js) for what a visible view needs, stores each answer
 * with the key of the state it answers, and runs the long jobs (patching
 * grids, ReAGent) with progress and cancel.
 *
 * Store fields it writes (each {key, ...answer} or null):
 *   patch     patchGrid's answer (setup + grid) for patchKey(s)
 *   dla       dla's answer for dlaKey(s)
 *   heads     the head finder for headsKey(s)
 *   sparsity  MLP sparsity for sparsityKey(s)
 *   reagent   ReAGent for reagentKey(s)
 *   jobs      {patch, reagent}: {key, done, total} while running,
 *             {key, cancelled: true} after a cancel (not restarted until asked)
 * and errors[view] as main.js does. Views call the actions it returns.
 */
import { runKey, runDesc, formatIv } from '../state.js';

export const INTERP_VIEWS = ['patching', 'dla', 'heads', 'sparsity', 'reagent'];

/** The run without its patch entries: what a patching grid is measured on. */
const unpatchedKey = (s) => JSON.stringify([s.model, s.prompt, s.gen, s.interventions.filter((e) => e.kind !== 'patch').map(formatIv)]);
export const patchKey = (s) => JSON.stringify([unpatchedKey(s), s.src, s.target, s.distractor, s.patchHook]);
export const dlaKey = (s) => JSON.stringify([runKey(s), s.target, s.distractor, s.target < 0 || s.distractor < 0 ? s.src : '']);
export const headsKey = (s) => JSON.stringify([runKey(s), s.headSeed]);
export const sparsityKey = (s) => JSON.stringify([runKey(s), s.mlpLayer]);
export const reagentKey = (s) => JSON.stringify([runKey(s), s.reagentSeed]);

/* view name -> [store field, key, worker verb, args, job name or null] */
const TOOLS = {
  patching: ['patch', patchKey, 'patchGrid', (s) => ({ src: s.src, hook: s.patchHook, target: s.target, distractor: s.distractor }), 'patch'],
  dla: ['dla', dlaKey, 'dla', (s) => ({ src: s.src, target: s.target, distractor: s.distractor }), null],
  heads: ['heads', headsKey, 'heads', (s) => ({ seed: s.headSeed, length: 20 }), null],
  sparsity: ['sparsity', sparsityKey, 'sparsity', (s) => ({ layer: s.mlpLayer }), null],
  reagent: ['reagent', reagentKey, 'reagent', (s) => ({ seed: s.reagentSeed, ratio: 0.3, maxSteps: 300 }), 'reagent'],
};

/**
 * @param {{store, client, live: () => boolean, setError: (view, err) => void, markNow: (name) => void}} deps
 */
export function createInterp({ store, client, live, setError, markNow }) {
  const visible = new Set();
  const inFlight = {}; // view -> key being computed
  const mountedViews = new Set();

  async function refresh(name) {
    const [field, keyOf, verb, argsOf, jobName] = TOOLS[name];
    const s = store.get();
    if (!live() || !mountedViews.has(name) || !visible.has(name)) return;
    // While Generate runs, the tools wait for its last token: each would recompute for every token in
    // the one engine worker, ahead of the next (at 1,014 tokens on GPT-2 small, 6 s a token).
    if (s.generating) return;
    if (name === 'patching' && !s.src) return; // nothing to patch from yet: the view asks for a clean prompt
    const key = keyOf(s);
    if (s[field]?.key === key || inFlight[name] === key) return;
    if (jobName && s.jobs?.[jobName]?.cancelled && s.jobs[jobName].key === key) return; // cancelled: wait for the learner
    if (jobName && inFlight[name]) await client.call('cancel', { job: jobName }); // an older state's job: stop it
    inFlight[name] = key;
    const onProgress = jobName ? (p) => {
      if (keyOf(store.get()) === key) store.set({ jobs: { ...store.get().jobs, [jobName]: { key, done: p.done, total: p.total } } });
    } : undefined;
    if (jobName) store.set({ jobs: { ...s.jobs, [jobName]: { key, done: 0, total: 0 } } });
    try {
      setError(name, null);
      const a = await client.call(verb, { state: runDesc(s), ...argsOf(s) }, { onProgress });
      if (keyOf(store.get()) === key) {
        store.set({ [field]: { ...a, key }, ...(jobName ? { jobs: { ...store.get().jobs, [jobName]: null } } : {}) });
        markNow(`glassbox:answer:${field}`);
      }
    } catch (e) {
      if (e.code === 'cancelled') {
        if (keyOf(store.get()) === key) store.set({ jobs: { ...store.get().jobs, [jobName]: { key, cancelled: true } } });
      } else if (keyOf(store.get()) === key) {
        setError(name, e);
        if (jobName) store.set({ jobs: { ...store.get().jobs, [jobName]: null } });
      }
    } finally {
      if (inFlight[name] === key) delete inFlight[name];
    }
    // The state may have moved on while this ran.
    if (keyOf(store.get()) !== key) refresh(name);
  }

  const refreshAll = () => Promise.all(INTERP_VIEWS.map((n) => refresh(n)));

  let timer = 0;
  store.subscribe(() => { clearTimeout(timer); timer = setTimeout(refreshAll, 60); });

  const actions = {
    /** Adds a clicked cell's patch to the run (an equal entry is not added twice). */
    applyPatch(entry) {
      const s = store.get();
      const same = (e) => e.kind === 'patch' && e.layer === entry.layer && (e.hook || '') === entry.hook && (e.head ?? -1) === (entry.head ?? -1) && (e.pos ?? -1) === (entry.pos ?? -1);
      if (s.interventions.some(same)) return;
      store.set({ interventions: [...s.interventions, entry] });
    },
    cancel(jobName) { return client.call('cancel', { job: jobName }); },
    /** The one token a picker's text names (#123, or a text that is one token). @returns {Promise<number>} */
    tokenId(text) { return client.call('token', { text }); },
    /** Computes a cancelled job again. */
    restart(name) {
      const jobName = TOOLS[name][4];
      store.set({ jobs: { ...store.get().jobs, [jobName]: null } });
      return refresh(name);
    },
    /** Opens a head's attention pattern (the walk's softmax step, that block and head). */
    openHead(layer, head) {
      store.set({ stage: 'softmax', layer, head, allHeads: false });
      document.querySelector('[data-view="stage"]')?.scrollIntoView({ block: 'start' });
    },
  };

  return {
    actions,
    refreshAll,
    /** Watches the cards of the interpretability views: each computes only while on screen. */
    observe(cards) {
      const io = new IntersectionObserver((entries) => {
        for (const e of entries) {
          const name = e.target.dataset.view;
          if (e.isIntersecting) { visible.add(name); refresh(name); } else visible.delete(name);
        }
      }, { rootMargin: '300px' });
      for (const [name, card] of cards) { mountedViews.add(name); io.observe(card); }
    },
  };
}
