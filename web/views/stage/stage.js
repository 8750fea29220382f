/* stage view — the current step of the forward pass: where it is, a plain
 * explanation, the formula, and the real numbers of this prompt as charts
 * (vectors as colour strips, matrices as heatmaps with hover values, the
 * attention pattern also as arcs).
 *
 * What a step draws is steps.js STEPS[stage].figs: each fig names a renderer
 * of CHARTS and the fields it reads. A renderer gets those fields only (get()
 * throws for any other), and the fields are what STEPS[stage].reads asks the
 * engine for: no number on a step comes from anywhere else.
 *
 * Colour scales: a signed matrix uses ±(99th percentile of |values|), shared
 * where a step compares matrices (embeddings, residual adds); an attention
 * head's scores and masked scores share one scale, set by the scores a query
 * may see (keys up to itself), so a cell keeps its colour from one step to
 * the next; the pattern is a probability and uses the 0–1 scale. Legends say
 * how many values are clipped. */
import { KIND } from '../../steps.js';
import { sampleKey, runKey } from '../../state.js';
import { heatmap, legend, divLegend, arcs, lineChart, applyWidths, absMax, clipCount, fmt, pct, svgEl, tip } from '../../lib/charts.js';
import { css, probRGB, divRGB } from '../../lib/colors.js';
import { showPiece } from '../tokens/tokens.js';
import { mountSamplingBars } from '../sampling/sampling.js';

const mat = (a, C) => (i, j) => a[i * C + j];
const headOf = (a, H, D, h) => (i, j) => a[(i * H + h) * D + j];
const attn = (a, T, h) => (i, j) => a[(h * T + i) * T + j];
const causal = (i, j) => j <= i;

/** Where a step sits, in words. */
export function whereText(stage, layer, config) {
  const k = KIND[stage];
  if (!k) return '';
  if (k.group === 'attn') return `Block ${layer + 1} of ${config ? config.n_layer : '?'} · attention`;
  if (k.group === 'mlp') return `Block ${layer + 1} of ${config ? config.n_layer : '?'} · MLP`;
  return k.group === 'embed' ? 'Input' : 'Output';
}

/**
 * The fields a fig may read, from the step payload: get(name) throws for a
 * field the fig does not list (so a renderer cannot draw an unlisted number).
 */
export function fieldsFor(payload, fig) {
  return (name) => {
    if (!fig.of.includes(name)) throw new Error(`chart "${fig.chart}" read "${name}", which its fig does not list`);
    const f = payload.fields[name];
    if (!f) throw new Error(`the engine's payload has no "${name}"`);
    return f;
  };
}

export function stageView({ templates, actions }) {
  let focusRow = null;

  function fig(box, o, chart) {
    const holder = document.createElement('div');
    holder.innerHTML = templates.render('stage', 'figure', o);
    const f = holder.firstElementChild;
    if (chart) f.querySelector('.fig-body').append(...[].concat(chart));
    box.append(f);
    return f;
  }

  return {
    watch: ['stage', 'layer', 'head', 'allHeads', 'stepData', 'run', 'config', 'errors', 'predict', 'prompt', 'gen', 'interventions', 'seed', 'temperature', 'topK', 'topP'],
    render(el, s) {
      const k = KIND[s.stage] || KIND.embed;
      const d = s.stepData;
      const fresh = d && d.key === runKey(s) && d.stage === s.stage && (d.layer < 0 || d.layer === s.layer);
      const isSample = s.stage === 'sample';
      const c = s.config;
      el.innerHTML = templates.render('stage', 'main', {
        where: whereText(s.stage, s.layer, c), name: k.name, explain: k.explain, formula: k.formula,
        stage: s.stage, layer: s.layer, waiting: !fresh && !isSample, error: s.errors.stage,
        shapes: c ? `T = ${d ? d.T : '…'} tokens · width C = ${c.n_embd} · ${c.n_head} heads of d_head = ${c.d_head} · MLP width ${c.d_mlp}` : '',
      });
      const box = el.querySelector('.charts');
      if (isSample) {
        const p = s.predict && s.predict.key === sampleKey(s) ? s.predict : null;
        if (!p) { box.innerHTML = '<p class="dim waiting">computing…</p>'; return; }
        mountSamplingBars(box, templates, p);
        return;
      }
      if (!fresh) return;
      const width = Math.max(280, box.clientWidth || el.clientWidth - 40);
      const labels = Array.from({ length: d.T }, (_, i) => (s.run && s.run.pieces[i] != null ? showPiece(s.run.pieces[i]) : `#${i}`));
      const shared = sharedScales(k, d);
      for (const f of k.figs) {
        const ctx = { box, d, s, width, labels, fig, actions, templates, shared, get: fieldsFor(d, f), focusRow: () => focusRow, setFocus: (i) => { focusRow = i; } };
        const draw = CHARTS[f.chart];
        if (!draw) throw new Error(`no chart "${f.chart}"`);
        draw(ctx, f);
      }
      applyWidths(box);
    },
  };
}

/* The ±max of each scale group (figs with the same `share`): the largest of the members' own. */
function sharedScales(step, d) {
  const out = {};
  for (const f of step.figs) {
    if (!f.share) continue;
    const a = d.fields[f.of[0]].data, cols = a.length / d.T;
    out[f.share] = Math.max(out[f.share] || 0, absMax(mat(a, cols), d.T, cols));
  }
  return out;
}

/* ------------------------------------------------------------ renderers */

/** Heatmap of a [rows, cols] getter with its legend, in a figure. */
function matFig(ctx, title, get, cols, o = {}) {
  const { d, labels, width } = ctx;
  const max = o.max ?? absMax(get, d.T, cols);
  const hm = heatmap({ rows: d.T, cols, get, rowLabels: labels, maxWidth: o.maxWidth ?? width - 24, max, scale: 'div',
    label: title, colLabels: o.colLabels, showValues: o.showValues, cell: o.cell,
    describe: o.describe || ((i, j, v) => `${labels[i]} · ${o.colName || 'dim'} ${o.colLabels ? o.colLabels[j] : j}: ${fmt(v)}`) });
  const { n, total } = clipCount(get, d.T, cols, max);
  const lg = divLegend(max, { clipped: n, total, why: o.why || '99th percentile of |values|', caption: 'blue < 0 < red' });
  return ctx.fig(ctx.box, { title, shape: o.shape || `[${d.T} × ${cols}]`, note: o.note, wide: o.wide !== false }, [hm, lg]);
}

/** One head's colour limit for scores and masked scores: the keys each query may see. */
export function headScale(a, T, h) { return absMax(attn(a, T, h), T, T, causal); }

function attnLegend(f, get, T, max, compact = false) {
  if (f.prob) return legend('prob', '0', '1', 'attention weight (a probability: its own 0–1 scale, not the scores’ — softmax turned scores into weights)');
  const { n, total } = clipCount(get, T, T, max);
  return divLegend(max, { clipped: n, total, compact, why: 'this head’s scores on the keys each query may see (99th percentile), the same in the scores and mask steps',
    caption: f.of[0] === 'masked' ? 'hatched = masked (−∞)' : 'future keys (upper triangle) on the same scale' });
}

function headGrid(ctx, f, arr) {
  const { d, s } = ctx;
  const cell = Math.max(4, Math.min(14, Math.floor(150 / d.T)));
  for (let h = 0; h < d.H; h++) {
    const get = attn(arr, d.T, h);
    const max = f.prob ? 1 : headScale(arr, d.T, h);
    const hm = heatmap({ rows: d.T, cols: d.T, get, scale: f.prob ? 'prob' : 'div', cell, max,
      label: `${f.title} head ${h + 1}`, describe: (i, j, v) => `head ${h + 1} · ${ctx.labels[i]} → ${ctx.labels[j]}: ${fmt(v)}` });
    const parts = f.prob ? [hm] : [hm, attnLegend(f, get, d.T, max, true)];
    const fg = ctx.fig(ctx.box, { title: `head ${h + 1}`, small: true, wide: false, selected: h === s.head, head: String(h) }, parts);
    fg.tabIndex = 0;
    fg.setAttribute('role', 'button');
    fg.setAttribute('aria-label', `select head ${h + 1}`);
    fg.addEventListener('click', () => ctx.actions.set({ head: h }));
    fg.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') ctx.actions.set({ head: h }); });
  }
}

const qkvFigs = (ctx, f) => {
  const { d, s } = ctx;
  const hs = s.allHeads ? Array.from({ length: d.H }, (_, h) => h) : [Math.min(s.head, d.H - 1)];
  for (const h of hs) {
    for (const name of f.of) {
      matFig(ctx, `${name} · head ${h + 1}`, headOf(ctx.get(name).data, d.H, d.D, h), d.D, { wide: false, maxWidth: Math.min(360, ctx.width / 3), shape: `[${d.T} × ${d.D}]` });
    }
  }
};

/** The stage view's renderers by name (steps.js figs[].chart). */
export const CHARTS = {
  matrix(ctx, f) {
    const { d } = ctx;
    const a = ctx.get(f.of[0]).data, cols = a.length / d.T;
    const o = { note: f.note, colName: f.colName };
    if (f.share) { o.max = ctx.shared[f.share]; o.why = 'shared by the matrices of this step (the largest of their 99th percentiles of |values|)'; }
    if (f.bands) {
      o.note = `${d.H} bands of ${d.D} columns, head 1 first`;
      o.describe = (i, j, v) => `${ctx.labels[i]} · head ${Math.floor(j / d.D) + 1}, dim ${j % d.D}: ${fmt(v)}`;
    }
    matFig(ctx, f.title, mat(a, cols), cols, o);
  },
  lnScale(ctx, f) {
    const { d, labels } = ctx;
    const sc = ctx.get(f.of[0]).data;
    let max = 0; for (const v of sc) max = Math.max(max, v);
    const hm = heatmap({ rows: d.T, cols: 1, get: (i) => sc[i], scale: 'seq', max, rowLabels: labels, cell: 22,
      label: 'layer norm scale', describe: (i, j, v) => `${labels[i]}: std ${fmt(v)}` });
    ctx.fig(ctx.box, { title: f.title, shape: `[${d.T}]`, wide: false }, [hm, legend('seq', '0', fmt(max), 'std (scale: 0 to the largest; nothing clipped)')]);
  },
  qkv: qkvFigs,
  attn(ctx, f) {
    const { d, s, labels } = ctx;
    const arr = ctx.get(f.of[0]).data;
    if (s.allHeads) { headGrid(ctx, f, arr); return; }
    const h = Math.min(s.head, d.H - 1);
    const get = attn(arr, d.T, h);
    const max = f.prob ? 1 : headScale(arr, d.T, h);
    const cell = Math.max(12, Math.min(40, Math.floor((Math.min(ctx.width, 620) - 120) / d.T)));
    const hm = heatmap({ rows: d.T, cols: d.T, get, scale: f.prob ? 'prob' : 'div', cell, rowLabels: labels, colLabels: labels, showValues: true,
      max, label: `${f.title}, head ${h + 1}`, describe: (i, j, v) => `query ${labels[i]} → key ${labels[j]}: ${fmt(v)}` });
    hm.querySelector('canvas').classList.add('attn-map');
    ctx.box.dataset.attnHead = String(h);
    ctx.fig(ctx.box, { title: `${f.title} · head ${h + 1}`, shape: `[${d.T} × ${d.T}] rows: queries, columns: keys`, note: f.note, wide: false }, [hm, attnLegend(f, get, d.T, max)]);
    ctx.box.lastAttn = hm;
  },
  arcs(ctx, f) {
    const { d, s, labels } = ctx;
    if (s.allHeads) return;
    const h = Math.min(s.head, d.H - 1);
    const hm = ctx.box.lastAttn;
    const svg = arcs({ pieces: labels, weight: attn(ctx.get(f.of[0]).data, d.T, h), focus: null, maxWidth: Math.min(ctx.width - 40, 720),
      onFocus: (i) => hm?.highlightRow(i) });
    ctx.fig(ctx.box, { title: f.title, note: f.note, wide: false }, svg);
  },
  headMatrix(ctx, f) {
    const { d, s } = ctx;
    if (s.allHeads) return;
    const h = Math.min(s.head, d.H - 1);
    matFig(ctx, `${f.title} · head ${h + 1}`, headOf(ctx.get(f.of[0]).data, d.H, d.D, h), d.D, { wide: false, maxWidth: Math.min(360, ctx.width / 3) });
  },
  neurons(ctx, f) { neuronTable(ctx, ctx.get(f.of[0]).data, f); },
  neuronPair(ctx, f) {
    const { d } = ctx;
    const pre = ctx.get(f.of[0]).data, post = ctx.get(f.of[1]).data;
    const top = topNeurons(post, d.T, d.M, f.n);
    const labels = top.map((n) => `n${n}`);
    const sub = (a) => (i, j) => a[i * d.M + top[j]];
    const max = Math.max(absMax(sub(pre), d.T, top.length), 1e-6);
    const w = Math.min(520, ctx.width / 2 - 20);
    const why = 'the pre-activations’ 99th percentile of |values|, shared by both';
    matFig(ctx, f.titles[0], sub(pre), top.length, { max, why, colLabels: labels, colName: 'neuron', wide: false, maxWidth: w, shape: `${top.length} most active of ${d.M} neurons` });
    matFig(ctx, f.titles[1], sub(post), top.length, { max, why, colLabels: labels, colName: 'neuron', wide: false, maxWidth: w, shape: 'same neurons' });
  },
  geluPoints(ctx, f) { ctx.fig(ctx.box, { title: f.title, note: f.note, wide: false }, geluPoints(ctx.get(f.of[0]).data, ctx.get(f.of[1]).data)); },
  neuronSubset(ctx, f) {
    const { d } = ctx;
    const post = ctx.get(f.of[0]).data;
    const top = topNeurons(post, d.T, d.M, f.n);
    matFig(ctx, f.title, (i, j) => post[i * d.M + top[j]], top.length, { colLabels: top.map((n) => `n${n}`), colName: 'neuron', shape: `${top.length} most active of ${d.M}` });
  },
  norms(ctx, f) {
    const { d, labels } = ctx;
    const norms = ctx.get(f.of[0]).data;
    const nL = norms.length / d.T - 1;
    const from = Math.max(0, d.T - 8);
    const series = [];
    for (let t = from; t < d.T; t++) series.push({ label: labels[t], values: Array.from({ length: nL + 1 }, (_, l) => norms[l * d.T + t]) });
    const xl = ['emb', ...Array.from({ length: nL }, (_, l) => `${l + 1}`)];
    const chart = lineChart({ series, xLabels: xl, yLabel: 'residual norm', xTitle: 'after block', width: Math.min(ctx.width - 30, 640), height: 210 });
    ctx.fig(ctx.box, { title: f.title, note: from ? `last ${d.T - from} positions` : '', wide: false }, chart);
  },
  logits(ctx, f) {
    const { d, labels } = ctx;
    const top = ctx.get(f.of[0]).rows;
    const rows = top.map((list, i) => ({
      label: labels[i], last: i === d.T - 1,
      top: list.map((t) => ({ id: t.id, piece: showPiece(t.piece), p: pct(t.prob), raw: t.prob, bg: css(probRGB(t.prob)) })),
    }));
    const holder = document.createElement('div');
    holder.className = 'logits-wrap';
    holder.innerHTML = ctx.templates.render('stage', 'logits', { rows, k: top[0]?.length || 5 });
    ctx.fig(ctx.box, { title: f.title, note: f.note }, holder);
    for (const e of holder.querySelectorAll('.pred')) {
      const bg = e.dataset.bg; e.style.background = bg;
      const m = /rgb\((\d+),(\d+),(\d+)\)/.exec(bg);
      if (m && 0.299 * m[1] + 0.587 * m[2] + 0.114 * m[3] < 140) e.classList.add('dark');
      delete e.dataset.bg;
    }
  },
  sample() { /* drawn from the sampling answer in render() */ },
};

/* Neurons with the largest |value| at any position, in index order (a choice of columns, not a model quantity). */
function topNeurons(a, T, M, n) {
  const score = new Float32Array(M);
  for (let t = 0; t < T; t++) for (let m = 0; m < M; m++) score[m] = Math.max(score[m], Math.abs(a[t * M + m]));
  return Array.from(score.keys()).sort((x, y) => score[y] - score[x]).slice(0, n).sort((x, y) => x - y);
}

function neuronTable(ctx, a, f) {
  const { d, labels } = ctx;
  const k = 5;
  let max = 0; for (const v of a) max = Math.max(max, Math.abs(v));
  const rows = labels.map((label, t) => {
    const row = Array.from({ length: d.M }, (_, m) => m).sort((x, y) => a[t * d.M + y] - a[t * d.M + x]).slice(0, k);
    return { label, cells: row.map((m) => ({ n: m, v: a[t * d.M + m].toFixed(2), bg: css(divRGB(a[t * d.M + m], max)) })) };
  });
  const holder = document.createElement('div');
  holder.className = 'table-wrap';
  holder.innerHTML = ctx.templates.render('stage', 'neurons', { rows, cols: Array.from({ length: k }, (_, i) => i + 1) });
  ctx.fig(ctx.box, { title: f.title, note: f.note }, holder);
}

/* Every (h, GELU(h)) pair of the prompt as a dot: the curve the learner sees
 * is the engine's own output, not a formula drawn beside it. */
function geluPoints(pre, post) {
  const W = 300, H = 200, m = 26;
  let lo = -4, hi = 4, yhi = 0.5, ylo = -0.3;
  for (let i = 0; i < pre.length; i++) { lo = Math.min(lo, pre[i]); hi = Math.max(hi, pre[i]); }
  lo = Math.max(lo, -12); hi = Math.min(hi, 12);
  for (let i = 0; i < pre.length; i++) if (pre[i] >= lo && pre[i] <= hi) { yhi = Math.max(yhi, post[i]); ylo = Math.min(ylo, post[i]); }
  const X = (x) => m + ((x - lo) / (hi - lo)) * (W - 2 * m), Y = (y) => H - m - ((y - ylo) / (yhi - ylo)) * (H - 2 * m);
  const svg = svgEl('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'gelu', role: 'img', 'aria-label': 'GELU: each neuron’s input h against its output' });
  svgEl('line', { x1: X(lo), x2: X(hi), y1: Y(0), y2: Y(0), class: 'grid' }, svg);
  svgEl('line', { x1: X(0), x2: X(0), y1: Y(ylo), y2: Y(yhi), class: 'grid' }, svg);
  const n = Math.min(pre.length, 4000), stride = Math.max(1, Math.floor(pre.length / n));
  const shown = [];
  for (let i = 0; i < pre.length; i += stride) {
    const x = pre[i];
    if (x < lo || x > hi) continue;
    shown.push(i);
    svgEl('circle', { cx: X(x), cy: Y(post[i]), r: 1.6, class: 'gelu-pt' }, svg);
  }
  svgEl('text', { x: W - m, y: Y(0) + 14, 'text-anchor': 'end', class: 'axis' }, svg).textContent = 'h';
  svgEl('text', { x: X(0) + 4, y: m - 8, class: 'axis' }, svg).textContent = 'GELU(h)';
  svg.addEventListener('mousemove', (ev) => {
    const r = svg.getBoundingClientRect();
    const x = lo + ((ev.clientX - r.left - m) / (W - 2 * m)) * (hi - lo);
    let best = -1; for (const i of shown) if (best < 0 || Math.abs(pre[i] - x) < Math.abs(pre[best] - x)) best = i;
    if (best >= 0) tip(`h = ${fmt(pre[best])} → GELU(h) = ${fmt(post[best])}`, ev.clientX, ev.clientY);
  });
  svg.addEventListener('mouseleave', () => tip(null));
  return svg;
}
