/* stage view — the current step of the forward pass: where it is, a plain
 * explanation, the formula, and the real numbers of this prompt as charts
 * (vectors as colour strips, matrices as heatmaps with hover values, the
 * attention pattern also as arcs). The charts for each step come from
 * charts.js; stepData is engine.js's payload for (stage, layer). */
import { KIND } from '../../steps.js';
import { heatmap, legend, arcs, lineChart, applyWidths, absMax, fmt, pct, svgEl, tip } from '../../lib/charts.js';
import { css, probRGB, divRGB } from '../../lib/colors.js';
import { showPiece } from '../tokens/tokens.js';
import { mountSamplingBars } from '../sampling/sampling.js';

const mat = (a, C) => (i, j) => a[i * C + j];
const headOf = (a, H, D, h) => (i, j) => a[(i * H + h) * D + j];
const attn = (a, T, h) => (i, j) => a[(h * T + i) * T + j];

/** Where a step sits, in words. */
export function whereText(stage, layer, config) {
  const k = KIND[stage];
  if (!k) return '';
  if (k.group === 'attn') return `Block ${layer + 1} of ${config ? config.n_layer : '?'} · attention`;
  if (k.group === 'mlp') return `Block ${layer + 1} of ${config ? config.n_layer : '?'} · MLP`;
  return k.group === 'embed' ? 'Input' : 'Output';
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
    watch: ['stage', 'layer', 'head', 'allHeads', 'stepData', 'run', 'config', 'errors', 'predict'],
    render(el, s) {
      const k = KIND[s.stage] || KIND.embed;
      const d = s.stepData;
      const fresh = d && d.stage === s.stage && (d.layer < 0 || d.layer === s.layer);
      const c = s.config;
      el.innerHTML = templates.render('stage', 'main', {
        where: whereText(s.stage, s.layer, c), name: k.name, explain: k.explain, formula: k.formula,
        stage: s.stage, layer: s.layer, waiting: !fresh && s.stage !== 'sample', error: s.errors.stage,
        shapes: c ? `T = ${d ? d.T : '…'} tokens · width C = ${c.n_embd} · ${c.n_head} heads of d_head = ${c.d_head} · MLP width ${c.d_mlp}` : '',
      });
      const box = el.querySelector('.charts');
      if (s.stage === 'sample') { renderSample(box, s); return; }
      if (!fresh) return;
      const width = Math.max(280, box.clientWidth || el.clientWidth - 40);
      const labels = Array.from({ length: d.T }, (_, i) => (s.run && s.run.pieces[i] != null ? showPiece(s.run.pieces[i]) : `#${i}`));
      const ctx = { box, d, s, width, labels, fig, actions, templates, focusRow: () => focusRow, setFocus: (i) => { focusRow = i; } };
      (RENDER[s.stage] || (() => {}))(ctx);
      applyWidths(box);
    },
  };

  function renderSample(box, s) {
    if (!s.predict) { box.innerHTML = '<p class="dim waiting">computing…</p>'; return; }
    mountSamplingBars(box, templates, s.predict);
  }
}

/* ------------------------------------------------------------ per step */

/** Heatmap of a [rows, cols] getter with a legend, in a figure. */
function matFig(ctx, title, get, cols, o = {}) {
  const { d, labels, width } = ctx;
  const max = o.max ?? absMax(get, d.T, cols);
  const hm = heatmap({ rows: d.T, cols, get, rowLabels: labels, maxWidth: o.maxWidth ?? width - 24, max, scale: o.scale || 'div',
    label: title, colLabels: o.colLabels, showValues: o.showValues, cell: o.cell,
    describe: o.describe || ((i, j, v) => `${labels[i]} · ${o.colName || 'dim'} ${o.colLabels ? o.colLabels[j] : j}: ${fmt(v)}`) });
  const lg = o.scale === 'prob' ? legend('prob', '0', '1', 'probability') : legend('div', `−${fmt(max)}`, `+${fmt(max)}`, 'negative · 0 · positive');
  return ctx.fig(ctx.box, { title, shape: o.shape || `[${d.T} × ${cols}]`, note: o.note, wide: o.wide !== false }, [hm, lg]);
}

function headGrid(ctx, title, arr, scale) {
  const { d, s } = ctx;
  const cell = Math.max(4, Math.min(14, Math.floor(150 / d.T)));
  for (let h = 0; h < d.H; h++) {
    const get = attn(arr, d.T, h);
    const hm = heatmap({ rows: d.T, cols: d.T, get, scale, cell, max: scale === 'prob' ? 1 : undefined,
      label: `${title} head ${h + 1}`, describe: (i, j, v) => `head ${h + 1} · ${ctx.labels[i]} → ${ctx.labels[j]}: ${fmt(v)}` });
    const f = ctx.fig(ctx.box, { title: `head ${h + 1}`, small: true, wide: false, selected: h === s.head, head: String(h) }, hm);
    f.tabIndex = 0;
    f.setAttribute('role', 'button');
    f.setAttribute('aria-label', `select head ${h + 1}`);
    f.addEventListener('click', () => ctx.actions.set({ head: h }));
    f.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') ctx.actions.set({ head: h }); });
  }
}

function attnFig(ctx, title, arr, scale, note) {
  const { d, s, labels } = ctx;
  if (s.allHeads) { headGrid(ctx, title, arr, scale); return null; }
  const h = Math.min(s.head, d.H - 1);
  const get = attn(arr, d.T, h);
  const cell = Math.max(12, Math.min(40, Math.floor((Math.min(ctx.width, 620) - 120) / d.T)));
  const hm = heatmap({ rows: d.T, cols: d.T, get, scale, cell, rowLabels: labels, colLabels: labels, showValues: true,
    max: scale === 'prob' ? 1 : undefined, label: `${title}, head ${h + 1}`,
    describe: (i, j, v) => `query ${labels[i]} → key ${labels[j]}: ${fmt(v)}` });
  hm.querySelector('canvas').classList.add('attn-map');
  const lg = scale === 'prob' ? legend('prob', '0', '1', 'attention weight') : legend('div', `−${fmt(absMax(get, d.T, d.T))}`, `+${fmt(absMax(get, d.T, d.T))}`, 'hatched = masked (−∞)');
  ctx.fig(ctx.box, { title: `${title} · head ${h + 1}`, shape: `[${d.T} × ${d.T}] rows: queries, columns: keys`, note, wide: false }, [hm, lg]);
  return hm;
}

const RENDER = {
  embed(ctx) {
    const { d } = ctx;
    const max = Math.max(absMax(mat(d.tok, d.C), d.T, d.C), absMax(mat(d.pos, d.C), d.T, d.C), absMax(mat(d.sum, d.C), d.T, d.C));
    matFig(ctx, 'Token embedding W_E[token]', mat(d.tok, d.C), d.C, { max, note: 'one row per token, one column per dimension' });
    matFig(ctx, '+ Position embedding W_P[t]', mat(d.pos, d.C), d.C, { max });
    matFig(ctx, '= Input to block 1', mat(d.sum, d.C), d.C, { max });
  },
  ln1: (ctx) => lnFigs(ctx, 'Residual stream in', 'Normalised'),
  ln2: (ctx) => lnFigs(ctx, 'Residual stream (after attention)', 'Normalised'),
  lnf: (ctx) => lnFigs(ctx, 'Residual stream after the last block', 'Normalised'),
  qkv(ctx) {
    const { d, s } = ctx;
    const hs = s.allHeads ? Array.from({ length: d.H }, (_, h) => h) : [Math.min(s.head, d.H - 1)];
    for (const h of hs) {
      for (const [name, arr] of [['q', d.q], ['k', d.k], ['v', d.v]]) {
        matFig(ctx, `${name} · head ${h + 1}`, headOf(arr, d.H, d.D, h), d.D, { wide: false, maxWidth: Math.min(360, ctx.width / 3), shape: `[${d.T} × ${d.D}]` });
      }
    }
  },
  scores: (ctx) => attnFig(ctx, 'Scores q·k/√d', ctx.d.scores, 'div', 'upper triangle: future keys'),
  mask: (ctx) => attnFig(ctx, 'Masked scores', ctx.d.scores, 'div', 'hatched cells are −∞'),
  softmax(ctx) {
    const { d, s, labels } = ctx;
    const hm = attnFig(ctx, 'Attention pattern', d.pattern, 'prob', 'each row sums to 1');
    if (!hm) return;
    const h = Math.min(s.head, d.H - 1);
    const svg = arcs({ pieces: labels, weight: attn(d.pattern, d.T, h), focus: null, maxWidth: Math.min(ctx.width - 40, 720),
      onFocus: (i) => hm.highlightRow(i) });
    ctx.fig(ctx.box, { title: 'Where each token looks', note: 'hover or tab to a token to see its row', wide: false }, svg);
  },
  mix(ctx) {
    const { d, s } = ctx;
    const h = Math.min(s.head, d.H - 1);
    const sw = Math.min(360, ctx.width / 3);
    attnFig(ctx, 'Pattern A', d.pattern, 'prob');
    if (s.allHeads) return;
    matFig(ctx, `Values v · head ${h + 1}`, headOf(d.v, d.H, d.D, h), d.D, { wide: false, maxWidth: sw });
    matFig(ctx, `Output z = A·v · head ${h + 1}`, headOf(d.z, d.H, d.D, h), d.D, { wide: false, maxWidth: sw });
  },
  concat(ctx) {
    const { d } = ctx;
    matFig(ctx, 'All heads side by side', mat(d.z, d.C), d.C, { note: `${d.H} bands of ${d.D} columns, head 1 first`,
      describe: (i, j, v) => `${ctx.labels[i]} · head ${Math.floor(j / d.D) + 1}, dim ${j % d.D}: ${fmt(v)}` });
  },
  proj(ctx) {
    const { d } = ctx;
    matFig(ctx, 'Concatenated heads z', mat(d.x, d.C), d.C);
    matFig(ctx, 'Attention output z·W_O + b_O', mat(d.out, d.C), d.C);
  },
  resid1: (ctx) => residFigs(ctx, 'Block input x', '+ attention output', '= x_mid'),
  resid2(ctx) {
    residFigs(ctx, 'x_mid', '+ MLP output', '= block output');
    normsFig(ctx);
  },
  up(ctx) {
    const { d } = ctx;
    matFig(ctx, 'Normalised input', mat(d.x, d.C), d.C);
    matFig(ctx, 'MLP pre-activations h', mat(d.pre, d.M), d.M, { colName: 'neuron' });
    neuronTable(ctx, d.pre, 'largest pre-activations');
  },
  gelu(ctx) {
    const { d } = ctx;
    const top = topNeurons(d.post, d.T, d.M, 24);
    const labels = top.map((n) => `n${n}`);
    const max = Math.max(absMax((i, j) => d.pre[i * d.M + top[j]], d.T, top.length), 1e-6);
    const sub = (a) => (i, j) => a[i * d.M + top[j]];
    const w = Math.min(520, ctx.width / 2 - 20);
    matFig(ctx, 'Before GELU (h)', sub(d.pre), top.length, { max, colLabels: labels, colName: 'neuron', wide: false, maxWidth: w, shape: `24 most active of ${d.M} neurons` });
    matFig(ctx, 'After GELU', sub(d.post), top.length, { max, colLabels: labels, colName: 'neuron', wide: false, maxWidth: w, shape: 'same neurons' });
    ctx.fig(ctx.box, { title: 'GELU(h) for every neuron and position', note: 'dots: this prompt’s values', wide: false }, geluCurve(d));
  },
  down(ctx) {
    const { d } = ctx;
    const top = topNeurons(d.post, d.T, d.M, 32);
    matFig(ctx, 'Active neurons GELU(h)', (i, j) => d.post[i * d.M + top[j]], top.length, { colLabels: top.map((n) => `n${n}`), colName: 'neuron', shape: `32 most active of ${d.M}` });
    matFig(ctx, 'MLP output', mat(d.out, d.C), d.C);
  },
  logits(ctx) {
    const { d, labels } = ctx;
    const rows = d.top.map((top, i) => ({
      label: labels[i], last: i === d.T - 1,
      top: top.map((t) => ({ id: t.id, piece: showPiece(t.piece), p: pct(t.prob), logit: fmt(t.logit), bg: css(probRGB(t.prob)).replace('rgb', 'rgb') })),
    }));
    const holder = document.createElement('div');
    holder.className = 'logits-wrap';
    holder.innerHTML = ctx.templates.render('stage', 'logits', { rows, k: d.top[0]?.length || 5 });
    ctx.fig(ctx.box, { title: 'Top next-token guesses at every position', note: 'the last row is what gets sampled' }, holder);
    for (const e of holder.querySelectorAll('.pred')) {
      const bg = e.dataset.bg; e.style.background = bg;
      const m = /rgb\((\d+),(\d+),(\d+)\)/.exec(bg);
      if (m && 0.299 * m[1] + 0.587 * m[2] + 0.114 * m[3] < 140) e.classList.add('dark');
      delete e.dataset.bg;
    }
  },
};

function lnFigs(ctx, inTitle, outTitle) {
  const { d, labels } = ctx;
  matFig(ctx, inTitle, mat(d.x, d.C), d.C);
  const sc = heatmap({ rows: d.T, cols: 1, get: (i) => d.scale[i], scale: 'seq', max: Math.max(...d.scale), rowLabels: labels, cell: 22,
    label: 'layer norm scale', describe: (i, j, v) => `${labels[i]}: std ${fmt(v)}` });
  ctx.fig(ctx.box, { title: 'Scale √(var + ε)', shape: `[${d.T}]`, wide: false }, [sc, legend('seq', '0', fmt(Math.max(...d.scale)), 'std')]);
  matFig(ctx, outTitle, mat(d.out, d.C), d.C);
}

function residFigs(ctx, a, b, c) {
  const { d } = ctx;
  const max = Math.max(absMax(mat(d.x, d.C), d.T, d.C), absMax(mat(d.out, d.C), d.T, d.C));
  matFig(ctx, a, mat(d.x, d.C), d.C, { max });
  matFig(ctx, b, mat(d.d, d.C), d.C, { max });
  matFig(ctx, c, mat(d.out, d.C), d.C, { max });
}

function normsFig(ctx) {
  const { d, labels } = ctx;
  const nL = d.norms.length / d.T - 1;
  const from = Math.max(0, d.T - 8);
  const series = [];
  for (let t = from; t < d.T; t++) series.push({ label: labels[t], values: Array.from({ length: nL + 1 }, (_, l) => d.norms[l * d.T + t]) });
  const xl = ['emb', ...Array.from({ length: nL }, (_, l) => `${l + 1}`)];
  const chart = lineChart({ series, xLabels: xl, yLabel: 'residual norm', xTitle: 'after block', width: Math.min(ctx.width - 30, 640), height: 210 });
  ctx.fig(ctx.box, { title: '‖residual stream‖ layer by layer', note: from ? `last ${d.T - from} positions` : '', wide: false }, chart);
}

function topNeurons(a, T, M, n) {
  const score = new Float32Array(M);
  for (let t = 0; t < T; t++) for (let m = 0; m < M; m++) score[m] = Math.max(score[m], Math.abs(a[t * M + m]));
  return Array.from(score.keys()).sort((x, y) => score[y] - score[x]).slice(0, n).sort((x, y) => x - y);
}

function neuronTable(ctx, a, note) {
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
  ctx.fig(ctx.box, { title: 'Top neurons per position', note }, holder);
}

function geluCurve(d) {
  const W = 300, H = 200, m = 26;
  let lo = -4, hi = 4;
  for (const v of d.pre) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  lo = Math.max(lo, -12); hi = Math.min(hi, 12);
  const gelu = (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  const ylo = -0.3, yhi = gelu(hi);
  const X = (x) => m + ((x - lo) / (hi - lo)) * (W - 2 * m), Y = (y) => H - m - ((y - ylo) / (yhi - ylo)) * (H - 2 * m);
  const svg = svgEl('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'gelu', role: 'img', 'aria-label': 'GELU curve' });
  svgEl('line', { x1: X(lo), x2: X(hi), y1: Y(0), y2: Y(0), class: 'grid' }, svg);
  svgEl('line', { x1: X(0), x2: X(0), y1: Y(ylo), y2: Y(yhi), class: 'grid' }, svg);
  const n = Math.min(d.pre.length, 4000), stride = Math.max(1, Math.floor(d.pre.length / n));
  for (let i = 0; i < d.pre.length; i += stride) {
    const x = d.pre[i];
    if (x < lo || x > hi) continue;
    svgEl('circle', { cx: X(x), cy: Y(d.post[i]), r: 1.6, class: 'gelu-pt' }, svg);
  }
  const pts = Array.from({ length: 121 }, (_, i) => lo + ((hi - lo) * i) / 120).map((x) => `${X(x)},${Y(gelu(x))}`).join(' ');
  svgEl('polyline', { points: pts, class: 'gelu-line' }, svg);
  svgEl('text', { x: W - m, y: Y(0) + 14, 'text-anchor': 'end', class: 'axis' }, svg).textContent = 'h';
  svgEl('text', { x: X(0) + 4, y: m - 8, class: 'axis' }, svg).textContent = 'GELU(h)';
  svg.addEventListener('mousemove', (ev) => {
    const r = svg.getBoundingClientRect();
    const x = lo + ((ev.clientX - r.left - m) / (W - 2 * m)) * (hi - lo);
    tip(`h = ${x.toFixed(2)} → GELU = ${gelu(x).toFixed(3)}`, ev.clientX, ev.clientY);
  });
  svg.addEventListener('mouseleave', () => tip(null));
  return svg;
}
