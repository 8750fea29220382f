/* patching view — activation patching grids (denoising) from the engine:
 * layers × positions for hook_resid_pre / hook_attn_out / hook_mlp_out and
 * layers × heads for attn.hook_z, each cell the normalised logit difference
 * the engine measured (interp-engine.js patchGrid; core/run/patch.c). A click
 * (or Enter on a focused cell) adds that patch to the run's interventions. */
import { divCell, headName, jobModel, num, parts, piece, put, tlName, wire, wirePickers } from '../../lib/interp-ui.js';
import { pct } from '../../lib/charts.js';
import { patchKey } from '../../lib/interp-client.js';
import { DEFAULTS } from '../../state.js';

export const HOOKS = [
  ['hook_resid_pre', 'residual stream (hook_resid_pre)'],
  ['hook_attn_out', 'attention output (hook_attn_out)'],
  ['hook_mlp_out', 'MLP output (hook_mlp_out)'],
  ['attn.hook_z', 'each head (hook_z)'],
];
/* README's worked example on the default model. */
export const EXAMPLE = { clean: 'said Stubb. "Aye," said', corrupted: 'said Queequeg. "Aye," said', target: ' Stubb', distractor: ' Queequeg' };

const tokList = (toks) => toks.map((t) => `[${piece(t.piece)}]`).join('');

/** The cell as a run entry (what a click adds). */
export function cellEntry(hook, cols, cell) {
  const layer = Math.floor(cell / cols), col = cell % cols;
  return hook === 'attn.hook_z' ? { kind: 'patch', layer, hook, head: col } : { kind: 'patch', layer, hook, pos: col };
}

/** The form's view-model. */
export function formModel(s, pickError) {
  const a = s.patch;
  const t = (field, tk) => (s[field] < 0 ? '' : tk && tk.id === s[field] ? tk.piece : `#${s[field]}`);
  const chips = (list) => (list || []).map((x) => ({ id: x.id, piece: piece(x.piece), p: pct(x.prob) }));
  return {
    src: s.src, corrupted: s.prompt,
    example: s.model === DEFAULTS.model,
    targetText: t('target', a?.target), distractorText: t('distractor', a?.distractor),
    targetAuto: a?.target ? `auto: ${piece(a.target.piece)}` : 'auto', distractorAuto: a?.distractor ? `auto: ${piece(a.distractor.piece)}` : 'auto',
    hasChips: !!a?.corruptedTop, cleanTop: chips(a?.cleanTop), corruptedTop: chips(a?.corruptedTop),
    hooks: HOOKS.map(([hook, label]) => ({ hook, label, on: hook === s.patchHook })),
    pickError,
  };
}

/** The result's view-model (pure). */
export function resultModel(s) {
  const key = patchKey(s);
  const a = s.patch && s.patch.grid !== undefined ? s.patch : null;
  const fresh = a && a.key === key;
  const job = jobModel(s.jobs?.patch, key);
  const m = { noSrc: !s.src, job, error: s.errors.patching, grid: null, mismatch: null };
  if (!a || !s.src) return m;
  if (fresh && !a.sameLength) {
    return { ...m, mismatch: true, nClean: a.clean.length, nCorrupted: a.corrupted.length, cleanToks: tokList(a.clean), corruptedToks: tokList(a.corrupted) };
  }
  const g = a.grid;
  if (!g || g.hook !== s.patchHook) return m;
  const z = g.hook === 'attn.hook_z';
  const pieces = a.corrupted.map((x) => piece(x.piece));
  const applied = new Set(s.interventions.filter((e) => e.kind === 'patch' && e.hook === g.hook).map((e) => e.layer * g.cols + (z ? e.head : e.pos)));
  let clipped = 0;
  const rows = Array.from({ length: g.rows }, (_, l) => ({
    n: l + 1,
    cells: Array.from({ length: g.cols }, (_, c) => {
      const cell = l * g.cols + c, v = g.values[cell];
      if (Math.abs(v) > 1) clipped++;
      const { bg, ink } = divCell(v, 1);
      const where = z ? `${headName(l, c)} (${tlName(l, c)})` : `block ${l + 1}, position ${c} “${pieces[c]}”`;
      return { cell, raw: v, text: num(v, 2), bg, ink, applied: applied.has(cell), title: `${where}: ${num(v, 4)} of the clean LD restored; press to patch it into the run` };
    }),
  }));
  return {
    ...m, grid: true, stale: !fresh, hook: g.hook,
    target: piece(a.target.piece), targetId: a.target.id, distractor: piece(a.distractor.piece), distractorId: a.distractor.id,
    ldClean: num(g.ldClean, 4), ldCorrupted: num(g.ldCorrupted, 4), ldCleanRaw: g.ldClean, ldCorruptedRaw: g.ldCorrupted,
    colName: z ? 'head' : 'position',
    cols: Array.from({ length: g.cols }, (_, c) => (z ? { label: `h${c + 1}`, title: `head ${c + 1}` } : { label: pieces[c], title: `position ${c}` })),
    rows,
    caption: `${HOOKS.find((h) => h[0] === g.hook)[1]}: ${g.rows} blocks × ${g.cols} ${z ? 'heads' : 'positions'} (numbered from 1 as elsewhere on the page; TransformerLens counts from 0: L4 h3 is blocks.3.attn head 2)`,
    clipped: clipped ? `${clipped} values lie past ±1 and are clipped to the end colour` : 'no value is clipped',
  };
}

export function patchingView({ templates, actions, store }) {
  let pickError = null;
  return {
    watch: ['patch', 'jobs', 'src', 'prompt', 'target', 'distractor', 'patchHook', 'interventions', 'errors', 'gen', 'model'],
    render(el, s) {
      const { form, result } = parts(el);
      const typing = form.contains(document.activeElement) && document.activeElement.matches('textarea, input');
      if (!typing && put(form, templates.render('patching', 'main', formModel(s, pickError)))) {
        const src = form.querySelector('[data-field="src"]');
        src.addEventListener('change', () => actions.set({ src: src.value }));
        src.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); actions.set({ src: src.value }); } });
        wire(form, {
          swap: () => { const t = store.get(); actions.set({ src: t.prompt, prompt: t.src, gen: [], interventions: [] }); },
          example: async () => {
            const [target, distractor] = await Promise.all([actions.tokenId(EXAMPLE.target), actions.tokenId(EXAMPLE.distractor)]);
            actions.set({ src: EXAMPLE.clean, prompt: EXAMPLE.corrupted, gen: [], interventions: [], target, distractor });
          },
          hook: (b) => actions.set({ patchHook: b.dataset.hook }),
        });
        wirePickers(form, { actions, onError: (msg) => { pickError = msg; delete form.dataset.html; this.render(el, store.get()); } });
      }
      const vm = resultModel(s);
      if (put(result, templates.render('patching', 'result', vm))) {
        wire(result, { cancel: () => actions.cancel('patch'), restart: () => actions.restart('patching') });
        const g = s.patch?.grid;
        for (const b of result.querySelectorAll('.pt-cell')) {
          b.addEventListener('click', () => actions.applyPatch(cellEntry(g.hook, g.cols, Number(b.dataset.cell))));
        }
      }
    },
  };
}
