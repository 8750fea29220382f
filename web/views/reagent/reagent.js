/* reagent view — ReAGent token attribution of the run's prediction
 * (interp-engine.js reagent; core/run/reagent.c), run in the worker in
 * chunks with a progress bar and cancel, its choices stated on screen. */
import { jobModel, num, parts, piece, put, wire } from '../../lib/interp-ui.js';
import { reagentKey } from '../../lib/interp-client.js';

export const RATIO = 0.3;
export const MAX_STEPS = 300;

/** The result's view-model (pure). */
export function reagentModel(s) {
  const key = reagentKey(s);
  const a = s.reagent && s.reagent.key === key ? s.reagent : null;
  const job = jobModel(s.jobs?.reagent, key);
  if (!a) return { job, waiting: !job.running && !job.cancelled && !s.errors.reagent, error: s.errors.reagent, has: false };
  let m = 1e-12;
  for (const v of a.scores) m = Math.max(m, Math.abs(v));
  return {
    job, has: true, error: s.errors.reagent, target: piece(a.target.piece), targetId: a.target.id, steps: a.steps,
    stopped: a.steps < a.maxSteps ? 'stopped: the ranking explains the prediction' : `stopped at the limit of ${a.maxSteps} steps`,
    cells: Array.from(a.scores, (v, t) => ({ pos: t, piece: piece(a.pieces[t]), raw: v, v: num(v, 4), w: (100 * Math.abs(v)) / m, neg: v < 0 })),
  };
}

export function reagentView({ templates, actions }) {
  return {
    watch: ['reagent', 'jobs', 'reagentSeed', 'errors', 'prompt', 'gen', 'interventions'],
    render(el, s) {
      const { form, result } = parts(el);
      const typing = form.contains(document.activeElement) && document.activeElement.matches('input');
      if (!typing && put(form, templates.render('reagent', 'main', { seed: s.reagentSeed, ratioPct: `${RATIO * 100}%`, maxSteps: MAX_STEPS }))) {
        const inp = form.querySelector('[data-field="reagentSeed"]');
        inp.addEventListener('change', () => { const v = Math.trunc(Number(inp.value)); if (Number.isFinite(v) && v >= 0) actions.set({ reagentSeed: v }); });
      }
      if (put(result, templates.render('reagent', 'result', reagentModel(s)))) {
        wire(result, { cancel: () => actions.cancel('reagent'), restart: () => actions.restart('reagent') });
      }
    },
  };
}
