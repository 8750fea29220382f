/* lesson view — lesson mode (issue 9): pick a lesson model, walk its steps
 * (lessons.js), and see each step's mechanism measured live on the prompt in
 * the box: a correctness strip (✓/✗ per predicted character), accuracy on the
 * prompt and on the card's held-out sample with and without the ablated
 * heads, a per-head score grid, and the focused head's attention pattern.
 * The numbers come from the worker (engine.js lessonMeasure); the card's own
 * numbers (lesson.json) sit beside them. Without a lesson it is a short bar
 * that offers the lessons. */
import { LESSONS, LESSON_NAMES, additionText, randomRepeat } from '../../lessons.js';
import { SCORES, cardFor, parseHeads } from '../../lib/lesson-metrics.js';
import { heatmap, legend, pct, replaceHtml } from '../../lib/charts.js';
import { css, ink, probRGB } from '../../lib/colors.js';
import { showPiece } from '../tokens/tokens.js';
import { ablatedHeads, ablationMode, ivNames, runKey } from '../../state.js';
import { unpaddedHelp } from './unpadded.js';

const headName = (l, h) => `L${l + 1} h${h + 1}`;
const frac = (c, n) => `${c}/${n}`;

/** The metric line of one measurement (prompt counts or pooled sample). */
function metricText(lesson, m, isPool) {
  if (!m) return { text: '–', value: null };
  if (lesson === 'induction') {
    if (isPool) return { text: `${pct(m.acc_repeat)} repeated · ${pct(m.acc_first)} first half (guessed the first character: ${pct(m.x0_first)})`, value: m.acc_repeat };
    const [cr, nr] = m.repeat, [cf, nf] = m.first;
    return { text: `${nr ? frac(cr, nr) : '–'} repeated · ${frac(cf, nf)} first half (guessed the first character: ${frac(m.x0, nf)})`, value: nr ? cr / nr : null };
  }
  if (isPool) {
    const digits = lesson === 'addition' ? ` · digits ${[0, 1, 2, 3].map((k) => pct(m[`digit_${k}`])).join(' ')}` : '';
    return { text: `${pct(m.exact)} exact (${m.correct}/${m.n})${digits}`, value: m.exact };
  }
  const [c, n] = m.answer;
  return { text: n ? `${frac(c, n)} right${m.exact ? ' · exact' : ''}` : '–', value: n ? m.exact : null };
}

/** Cells of a score grid (null grid: nothing to score on this prompt). */
function gridRows(name, grid, s) {
  const virtual = SCORES[name].grid === 'virtual';
  const ab = new Set(ablatedHeads(s.interventions));
  return grid.map((row, r) => ({
    label: virtual ? headName(0, r) : `L${r + 1}`,
    cells: row.map((v, c) => {
      const [l, h] = virtual ? [1, c] : [r, c];
      const rgb = probRGB(Math.max(0, Math.min(1, v)));
      return { v: v.toFixed(2), raw: v, bg: css(rgb), ink: ink(rgb), layer: l, head: h, g: virtual ? r : '',
        on: l === s.layer && h === s.head, off: ab.has(`${l}.${h}`),
        title: virtual ? `${headName(1, c)} through ${headName(0, r)}: ${v.toFixed(4)}` : `${headName(r, c)}: ${v.toFixed(4)}` };
    }),
  }));
}

/** The view-model (pure; tested in Node). */
export function lessonModel(s) {
  const name = s.lesson;
  if (!name || !LESSONS[name]) {
    return { off: true, lessons: LESSON_NAMES.map((n) => ({ name: n, short: LESSONS[n].short, title: LESSONS[n].title })) };
  }
  const L = LESSONS[name];
  const i = Math.max(0, Math.min(L.steps.length - 1, s.lessonStep | 0));
  const step = L.steps[i];
  const d = s.lessonData && s.lessonData.lesson === name && s.run ? s.lessonData : null;
  const heads = ablatedHeads(s.interventions), mode = ablationMode(s.interventions);
  const ablated = s.interventions.length > 0;
  const fresh = d && d.key === runKey(s);
  // The card reports ablations of one kind only; a mixed list (or a patch) has no card number.
  const card = mode === 'mixed' || heads.length !== s.interventions.length ? null : cardFor(s.lessonJson, parseHeads(heads), mode);
  const main = s.lessonJson ? s.lessonJson.main_metric : null;
  const vm = {
    on: true, name, title: L.title, task: L.task, stepNo: i + 1, stepCount: L.steps.length,
    lessons: LESSON_NAMES.map((n) => ({ name: n, short: LESSONS[n].short, sel: n === name })),
    steps: L.steps.map((st, k) => ({ k, n: k + 1, title: st.title, on: k === i, done: k < i })),
    step: { ...step, look: step.look }, atStart: i === 0, atEnd: i === L.steps.length - 1,
    prompts: L.prompts.map((p, k) => ({ k, label: p.label, on: p.text === s.prompt })),
    random: !!L.random, adder: !!step.adder, lens: !!step.lens,
    waiting: !fresh && !s.errors.lesson, error: s.errors.lesson,
    ablatedText: ablated ? ivNames(s.interventions) : '',
    suggest: (step.suggest || []).map(([hs, label]) => ({ heads: hs.join(' '), label, on: mode === 'zero' && hs.slice().sort().join() === heads.slice().sort().join() })),
    ablateStep: !!step.ablate,
  };
  vm.unpadded = unpaddedHelp(name, s.prompt, s.run && s.run.ids.length === s.run.nPrompt ? s.predict : null);
  if (!fresh) return vm;
  // The strip: each character, marked under it when its prediction (made at t - 1) is scored.
  const pieces = s.run.pieces;
  const mark = (r, t) => {
    const g = t > 0 ? d.groups[t - 1] : null;
    if (!g || !r) return null;
    const ok = r.preds[t - 1] === d.ids[t];
    return { ok, guess: ok ? '' : showPiece(r.guesses[t - 1]) };
  };
  vm.strip = d.ids.map((id, t) => {
    const a = mark(d.clean, t), b = d.ablated ? mark(d.ablated, t) : null;
    return { t, ch: showPiece(pieces[t] ?? '?'), group: t > 0 ? (d.groups[t - 1] || '') : '', split: name === 'induction' && d.L && t === d.L,
      a, b, hasB: !!d.ablated };
  });
  vm.stripRows = d.ablated ? ['all heads', `${vm.ablatedText} ablated`] : ['model'];
  vm.note = d.note;
  vm.repeatText = name === 'induction' ? (d.L ? `Repeat distance L = ${d.L}` : 'No repeat found') : '';
  // Accuracy: this prompt and the held-out sample, before and after; the card's number beside.
  const rows = [{ label: 'your prompt', clean: metricText(name, d.clean.counts, false), after: d.ablated ? metricText(name, d.ablated.counts, false) : null, kind: 'prompt' }];
  if (d.sample) {
    rows.push({ label: `held-out sample (${d.sample.n})`, kind: 'sample',
      clean: metricText(name, d.sample.clean, true), after: d.sample.ablated ? metricText(name, d.sample.ablated, true) : null });
  }
  const cardVal = card && card.sample ? card.sample[main] : null;
  const liveVal = d.sample ? (d.sample.ablated || d.sample.clean)[main] : null;
  vm.acc = {
    rows: rows.map((r) => ({ ...r, after: r.after || { text: '' }, worse: !!r.after && r.after.value != null && r.clean.value != null && r.after.value < r.clean.value - 1e-9 })), hasAfter: !!d.ablated, main,
    card: cardVal == null ? '' : pct(cardVal), cardRaw: cardVal, liveRaw: liveVal,
    claim: card && card.claim ? `the card claims ${main} ${card.claim.op === '<=' ? '≤' : '≥'} ${pct(card.claim.bound)}` : '',
    agree: cardVal != null && liveVal != null && Math.abs(cardVal - liveVal) <= 1 / d.sample.n + 1e-9,
    silent: !card || !card.sample,
  };
  vm.grids = d.grids.map((g) => {
    const info = SCORES[g.name], first = g.clean || g.ablated;
    const panels = [{ title: g.ablated ? 'all heads' : '', rows: g.clean ? gridRows(g.name, g.clean, s) : [] }];
    if (g.ablated) panels.push({ title: `${vm.ablatedText} ablated`, rows: gridRows(g.name, g.ablated, s) });
    const card = s.lessonJson && s.lessonJson.heldout && s.lessonJson.heldout[g.name];
    if (card && !g.ablated) {
      panels[0].title = 'your prompt';
      panels.push({ title: `model card: mean over ${s.lessonJson.heldout.scores_over || 'held-out'} held-out prompts`, rows: gridRows(g.name, card, s), card: true });
    }
    return {
      name: g.name, label: info.label, what: info.what, virtual: info.grid === 'virtual', empty: !g.clean,
      cols: first ? first[0].map((_, h) => (info.grid === 'virtual' ? headName(1, h) : `h${h + 1}`)) : [],
      panels,
    };
  });
  vm.hasPattern = !!(d.pattern && !step.ablate);
  vm.patternTitle = d.pattern ? `Attention pattern · ${headName(d.pattern.layer, d.pattern.head)}` : '';
  return vm;
}

export function lessonView({ templates, actions, embed }) {
  return {
    watch: ['lesson', 'lessonStep', 'lessonData', 'lessonJson', 'run', 'prompt', 'gen', 'interventions', 'layer', 'head', 'errors', 'status', 'predict'],
    render(el, s) {
      const vm = lessonModel(s);
      (el.closest('[data-view]') || el).classList.toggle('lesson-off', !!vm.off);
      // What the learner is typing into the adder survives a re-render (answers arrive while they type).
      const typed = [...el.querySelectorAll('.adder input')].map((i) => [i.name, i.value]);
      if (!replaceHtml(el, templates.render('lesson', 'main', { ...vm, embed }))) return;
      for (const [n, v] of typed) { const i = el.querySelector(`.adder input[name="${n}"]`); if (i) i.value = v; }
      for (const e of el.querySelectorAll('[data-bg]')) { e.style.background = e.dataset.bg; if (e.dataset.ink) e.style.color = e.dataset.ink; }
      const on = (sel, ev, fn) => { for (const e of el.querySelectorAll(sel)) e.addEventListener(ev, (x) => fn(e, x)); };
      on('[data-lesson]', 'click', (e) => actions.pickLesson(e.dataset.lesson));
      on('select[data-field="lesson"]', 'change', (e) => actions.pickLesson(e.value));
      on('[data-act="leave"]', 'click', () => actions.pickLesson(''));
      on('[data-step]', 'click', (e) => actions.lessonGoto(Number(e.dataset.step)));
      on('[data-act="lprev"]', 'click', () => actions.lessonGoto(s.lessonStep - 1));
      on('[data-act="lnext"]', 'click', () => actions.lessonGoto(s.lessonStep + 1));
      on('[data-prompt]', 'click', (e) => actions.set({ prompt: LESSONS[s.lesson].prompts[Number(e.dataset.prompt)].text, gen: [] }));
      on('[data-act="random"]', 'click', () => actions.set({ prompt: randomRepeat(8 + Math.floor(Math.random() * 17)), gen: [] }));
      on('[data-act="heldout"]', 'click', () => {
        const items = s.lessonJson?.sample?.items || [];
        if (!items.length) return;
        const k = (items.findIndex((it) => it.text === s.prompt) + 1) % items.length;
        actions.set({ prompt: items[k].text, gen: [] });
      });
      on('[data-suggest]', 'click', (e) => actions.set({ interventions: e.dataset.suggest.split(' ').map((k) => { const [layer, head] = k.split('.').map(Number); return { kind: 'ablate-zero', layer, head }; }) }));
      on('[data-act="restore"]', 'click', () => actions.clearInterventions());
      on('button.lg-cell', 'click', (e) => {
        const l = Number(e.dataset.layer), h = Number(e.dataset.head);
        if (vm.ablateStep) actions.toggleAblate(l, h); else actions.set({ layer: l, head: h, stage: 'softmax' });
      });
      on('form.adder', 'submit', (f, ev) => {
        ev.preventDefault();
        const t = additionText(Number(f.elements.a.value), Number(f.elements.b.value));
        if (t) actions.set({ prompt: t, gen: [] });
      });
      on('[data-act="pad"]', 'click', (e) => actions.set({ prompt: e.dataset.prompt, gen: [] }));
      on('[data-act="goto-lens"]', 'click', () => document.querySelector('[data-view="lens"]')?.scrollIntoView({ behavior: 'smooth', block: 'start' }));
      const box = el.querySelector('.lesson-pattern');
      const d = s.lessonData;
      if (box && d && d.pattern && s.run) {
        const T = d.pattern.T, P = d.pattern.data;
        const labels = s.run.pieces.map((p) => showPiece(p));
        const cell = Math.max(9, Math.min(26, Math.floor(Math.min(460, (el.clientWidth || 600) - 80) / T)));
        const hm = heatmap({ rows: T, cols: T, get: (i, j) => (j > i ? null : P[i * T + j]), scale: 'prob', max: 1, cell,
          rowLabels: labels, colLabels: labels, showValues: cell >= 30, label: vm.patternTitle,
          describe: (i, j, v) => `query ${labels[i]} (${i}) → key ${labels[j]} (${j}): ${v == null ? 'masked' : v.toFixed(3)}` });
        box.append(hm, legend('prob', '0', '1', 'attention weight (rows: queries, columns: keys)'));
      }
    },
  };
}
