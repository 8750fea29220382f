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
 * how many values are clipped.
 *
 * Long prompts. The attention pattern comes from the engine as the view
 * draws it (engine.js headPattern: whole up to 96 tokens, else an overview at
 * screen resolution plus the zoom window, which asks the engine again when it
 * moves); the per-position tables (top neurons, top next tokens) show a window
 * of ROWS positions with buttons to move it; the GELU dots are one canvas. */
import { KIND } from '../../steps.js';
import { sampleKey, runKey } from '../../state.js';
import { heatmap, legend, divLegend, arcs, lineChart, applyWidths, absMax, clipCount, dense, fmt, pct, tip } from '../../lib/charts.js';
import { css, probRGB, divRGB } from '../../lib/colors.js';
import { overviewBins, zoomWindow } from '../../lib/overview.js';
import { nextTask } from '../../lib/next-task.js';
import { renderError } from '../../lib/render-error.js';
import { showPiece } from '../tokens/tokens.js';
import { mountSamplingBars } from '../sampling/sampling.js';

const mat = (a, C) => dense(a, C);
const headOf = (a, H, D, h) => dense(a, H * D, h * D);
const attn = (a, T, h) => dense(a, T, h * T * T);

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

/** Whether a step reads one head's pattern (the request then carries the head). */
export const readsHeadPattern = (stage) => !!KIND[stage] && Object.values(KIND[stage].reads).some((r) => r && r.fn === 'headPattern');

/** The zoom window's key for block layer head h at T tokens (overview.js keeps where the learner put it). */
export const patternKey = (layer, head, T) => `pattern|${layer}|${head}|${T}`;

/** What the step request carries for the stage view (engine.js step's `view`). */
export function stepView(s) {
  if (!readsHeadPattern(s.stage)) return {};
  const T = s.run && s.run.ids ? s.run.ids.length : 0;
  return { head: s.head | 0, allHeads: !!s.allHeads, zoom: s.allHeads ? null : zoomWindow(patternKey(s.layer, s.head | 0, T)) };
}

/* A payload answers the view's head (steps that read a head's pattern only). */
function viewMatches(d, s) {
  if (!readsHeadPattern(d.stage) || !d.view) return true;
  return d.view.allHeads === !!s.allHeads && (s.allHeads || d.view.head === Math.min(s.head | 0, d.H - 1));
}

/** A slice of the stage's figures drawn in one task: past this many ms the next figure waits for
 * a task of its own (a figure of a 256-token step takes 10–25 ms, and layout follows each task). */
const SLICE_MS = 8;

export function stageView({ templates, actions }) {
  let focusRow = null;
  let drawing = 0; // the latest render: an older one's remaining slices stop

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
      const fresh = d && d.key === runKey(s) && d.stage === s.stage && (d.layer < 0 || d.layer === s.layer) && viewMatches(d, s);
      const isSample = s.stage === 'sample';
      const c = s.config;
      const html = templates.render('stage', 'main', {
        where: whereText(s.stage, s.layer, c), name: k.name, explain: k.explain, formula: k.formula,
        stage: s.stage, layer: s.layer, waiting: !fresh && !isSample, error: s.errors.stage,
        shapes: c ? `T = ${d ? d.T : '…'} tokens · width C = ${c.n_embd} · ${c.n_head} heads of d_head = ${c.d_head} · MLP width ${c.d_mlp}` : '',
      });
      const my = ++drawing; // a newer render stops an older one's slices
      if (isSample || !fresh) {
        el.innerHTML = html;
        if (!isSample) return;
        const box = el.querySelector('.charts');
        const p = s.predict && s.predict.key === sampleKey(s) ? s.predict : null;
        if (!p) { box.innerHTML = '<p class="dim waiting">computing…</p>'; return; }
        mountSamplingBars(box, templates, p);
        return;
      }
      // The step is drawn off the page (its text and its figures) and replaces what is on screen when
      // the last figure is done: until then the page keeps the previous step, and the frames between
      // slices have nothing to lay out (each cost 10-30 ms of a click at 1,024 tokens).
      const next = document.createElement('div');
      next.innerHTML = html;
      const box = next.querySelector('.charts');
      const live = el.querySelector('.charts');
      const width = Math.max(280, (live && live.clientWidth) || el.clientWidth - 40);
      const labels = Array.from({ length: d.T }, (_, i) => (s.run && s.run.pieces[i] != null ? showPiece(s.run.pieces[i]) : `#${i}`));
      // The figures are drawn in slices of about SLICE_MS, each slice its own task (a step of three
      // 256-row matrices was one 55 ms task); a hidden .waiting on the page stays until the step is in,
      // so whoever waits for the step (tests, the bench) waits for all of it.
      // The work is a queue of units: each shared colour limit, then each figure; a figure's unit may
      // return the rest of its work as a unit of its own (a matrix: its colour limit and clip count,
      // its overview's binning, its drawing), done next.
      const marker = document.createElement('p');
      marker.className = 'waiting'; marker.hidden = true;
      (live || el).append(marker);
      const shared = {};
      const queue = [
        ...k.figs.filter((f) => f.share).map((f) => ({ name: `share ${f.share}`, run: () => shareScale(shared, f, d) })),
        ...k.figs.map((f) => ({ name: f.chart, run: () => {
          const draw = CHARTS[f.chart];
          if (!draw) throw new Error(`no chart "${f.chart}"`);
          return draw({ box, d, s, width, labels, fig, actions, templates, shared, get: fieldsFor(d, f), focusRow: () => focusRow, setFocus: (j) => { focusRow = j; } }, f);
        } })),
      ];
      const show = () => { if (my === drawing) el.replaceChildren(...next.childNodes); marker.remove(); };
      // A slice runs outside main.js's render: its failure is shown here.
      const later = () => nextTask(() => { try { slice(); } catch (e) { show(); renderError(el.querySelector('.charts') || el, e, { title: 'The stage view failed' }); } });
      const slice = () => {
        if (my !== drawing || !el.isConnected) { marker.remove(); return; }
        const t0 = performance.now();
        while (queue.length) {
          if (performance.now() - t0 > SLICE_MS) { later(); return; }
          const unit = queue.shift(), tu = performance.now(), part = unit.part || 1;
          const rest = unit.run();
          performance.measure(`render:stage ${unit.name}${part > 1 ? ` (part ${part})` : ''}`, { start: tu }); // bench/longtasks.js lists the slow ones
          if (typeof rest === 'function') queue.unshift({ name: unit.name, part: part + 1, run: rest });
        }
        applyWidths(next);
        show();
      };
      // The first figure waits for a task of its own too: the render runs in the frame's task with
      // the other views' renders, and a 256-token figure is 10-25 ms.
      later();
    },
  };
}

/* The ±max of a scale group (figs with the same `share`) is the largest of the members' own: one member's into out. */
function shareScale(out, f, d) {
  const a = d.fields[f.of[0]].data, cols = a.length / d.T;
  out[f.share] = Math.max(out[f.share] || 0, absMax(mat(a, cols), d.T, cols));
}

/* ------------------------------------------------------------ renderers */

/**
 * Heatmap of a [rows, cols] getter with its legend, in a figure, in three parts: this call finds
 * the colour limit and the clip count and returns the binning of its overview (when it has one),
 * which returns the drawing; the stage's slices run each as a unit (at 1,024 tokens each part of
 * a T × C matrix is 10-25 ms).
 */
function matFig(ctx, title, get, cols, o = {}) {
  const { d, labels, width } = ctx;
  const max = o.max ?? absMax(get, d.T, cols);
  const { n, total } = clipCount(get, d.T, cols, max);
  const h = { rows: d.T, cols, get, rowLabels: labels, maxWidth: o.maxWidth ?? width - 24, max, scale: 'div',
    label: title, colLabels: o.colLabels, showValues: o.showValues, cell: o.cell,
    describe: o.describe || ((i, j, v) => `${labels[i]} · ${o.colName || 'dim'} ${o.colLabels ? o.colLabels[j] : j}: ${fmt(v)}`) };
  const draw = () => {
    const lg = divLegend(max, { clipped: n, total, why: o.why || '99th percentile of |values|', caption: 'blue < 0 < red' });
    ctx.fig(ctx.box, { title, shape: o.shape || `[${d.T} × ${cols}]`, note: o.note, wide: o.wide !== false }, [heatmap(h), lg]);
  };
  return () => { h.binned = overviewBins(h) || undefined; return draw; };
}

/** One head's colour limit for scores and masked scores: the keys each query may see. */
export function headScale(a, T, h) { return absMax(attn(a, T, h), T, T, 'lower'); }

function attnLegend(f, get, T, max, compact = false) {
  if (f.prob) return legend('prob', '0', '1', 'attention weight (a probability: its own 0–1 scale, not the scores’ — softmax turned scores into weights)');
  const { n, total } = clipCount(get, T, T, max);
  return divLegend(max, { clipped: n, total, compact, why: 'this head’s scores on the keys each query may see (99th percentile), the same in the scores and mask steps',
    caption: f.of[0] === 'masked' ? 'hatched = masked (−∞)' : 'future keys (upper triangle) on the same scale' });
}

/* Cells of an overview (bh x bw over T x T, core/run/views.c's cells) whose keys all lie after their queries: masked, drawn grey. */
export function maskedCells(T, bh, bw) {
  const lo = (i, n) => Math.floor((i * T) / n), hi = (i, n) => Math.min(T, Math.max(lo(i, n) + 1, Math.floor(((i + 1) * T) / n)));
  const out = new Uint8Array(bh * bw);
  for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) out[y * bw + x] = lo(x, bw) >= hi(y, bh) ? 1 : 0;
  return out;
}

/* The engine's overview of one head as heatmap options (overview.js draws it as given). */
const binnedOf = (e, T) => ({ data: e.overview.data, bh: e.overview.bh, bw: e.overview.bw, mode: e.overview.mode, empty: maskedCells(T, e.overview.bh, e.overview.bw), by: 'the engine' });

function headGrid(ctx, f, arr) {
  const { d, s } = ctx;
  const cell = Math.max(4, Math.min(14, Math.floor(150 / d.T)));
  const eng = arr.heads ? arr : null; // the engine's pattern view (every head), else a [H, T, T] array
  for (let h = 0; h < d.H; h++) {
    const e = eng && eng.heads.find((x) => x.head === h);
    const get = e ? (e.full ? (i, j) => e.full[i * d.T + j] : () => 0) : attn(arr, d.T, h);
    const max = f.prob ? 1 : headScale(arr, d.T, h);
    const hm = heatmap({ rows: d.T, cols: d.T, get, scale: f.prob ? 'prob' : 'div', cell, max, maxWidth: e && e.overview ? 200 : undefined,
      binned: e && e.overview ? binnedOf(e, d.T) : undefined,
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
      matFig(ctx, `${name} · head ${h + 1}`, headOf(ctx.get(name).data, d.H, d.D, h), d.D, { wide: false, maxWidth: Math.min(360, ctx.width / 3), shape: `[${d.T} × ${d.D}]` })()();
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
    return matFig(ctx, f.title, mat(a, cols), cols, o);
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
    const { d, s } = ctx;
    const arr = ctx.get(f.of[0]);
    const pat = arr.heads ? arr : null; // engine.js headPattern: what this view draws of the pattern
    if (s.allHeads) { headGrid(ctx, f, pat || arr.data); return; }
    const h = Math.min(s.head, d.H - 1);
    const e = pat ? pat.heads.find((x) => x.head === h) || pat.heads[0] : null;
    const get = e ? (e.full ? (i, j) => e.full[i * d.T + j] : null) : attn(arr.data, d.T, h);
    const max = f.prob ? 1 : headScale(arr.data, d.T, h);
    // The legend (for scores: a clip count over T × T) now, the drawing as the next unit.
    const lg = pat ? legend('prob', '0', '1', 'attention weight (a probability: its own 0–1 scale, not the scores’ — softmax turned scores into weights)') : attnLegend(f, get || (() => 0), d.T, max);
    return () => drawAttn(ctx, f, { h, e, get, max, lg });
  },
  arcs(ctx, f) {
    const { d, s, labels } = ctx;
    if (s.allHeads) return;
    const h = Math.min(s.head, d.H - 1);
    const hm = ctx.box.lastAttn;
    const pat = ctx.get(f.of[0]);
    const e = pat.heads ? pat.heads.find((x) => x.head === h) || pat.heads[0] : null;
    // The arcs read the last tokens' square: the whole head up to 96 tokens, else the engine's arcs region.
    const weight = !e ? attn(pat.data, d.T, h) : e.full ? (i, j) => e.full[i * d.T + j]
      : (i, j) => (i >= pat.arcs.from && j >= pat.arcs.from ? pat.arcs.data[(i - pat.arcs.from) * pat.arcs.n + j - pat.arcs.from] : 0);
    const svg = arcs({ pieces: labels, weight, focus: null, maxWidth: Math.min(ctx.width - 40, 720),
      onFocus: (i) => hm?.highlightRow(i) });
    ctx.fig(ctx.box, { title: f.title, note: f.note, wide: false }, svg);
  },
  headMatrix(ctx, f) {
    const { d, s } = ctx;
    if (s.allHeads) return;
    const h = Math.min(s.head, d.H - 1);
    return matFig(ctx, `${f.title} · head ${h + 1}`, headOf(ctx.get(f.of[0]).data, d.H, d.D, h), d.D, { wide: false, maxWidth: Math.min(360, ctx.width / 3) });
  },
  neurons(ctx, f) { neuronTable(ctx, ctx.get(f.of[0]), f); },
  neuronPair(ctx, f) {
    const { d } = ctx;
    const c = ctx.get(f.of[0]), n = c.ids.length; // engine.js neuronColumns: the engine's choice of neurons
    const labels = Array.from(c.ids, (m) => `n${m}`);
    const sub = (a) => dense(a, n);
    const max = Math.max(absMax(sub(c.pre), d.T, n), 1e-6);
    const w = Math.min(520, ctx.width / 2 - 20);
    const why = 'the pre-activations’ 99th percentile of |values|, shared by both';
    const post = matFig(ctx, f.titles[1], sub(c.post), n, { max, why, colLabels: labels, colName: 'neuron', wide: false, maxWidth: w, shape: 'same neurons' });
    const pre = matFig(ctx, f.titles[0], sub(c.pre), n, { max, why, colLabels: labels, colName: 'neuron', wide: false, maxWidth: w, shape: `${n} most active of ${d.M} neurons` });
    return () => { pre()(); post()(); };
  },
  geluPoints(ctx, f) { ctx.fig(ctx.box, { title: f.title, note: f.note, wide: false }, geluPoints(ctx.get(f.of[0]))); },
  neuronSubset(ctx, f) {
    const { d } = ctx;
    const c = ctx.get(f.of[0]), n = c.ids.length;
    return matFig(ctx, f.title, dense(c.post, n), n, { colLabels: Array.from(c.ids, (m) => `n${m}`), colName: 'neuron', shape: `${n} most active of ${d.M}` });
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
    const k = top[0]?.length || 5;
    rowWindow(ctx, f, 'logits', d.T, (from, to) => {
      const rows = [];
      for (let i = from; i < to; i++) {
        rows.push({ label: labels[i], last: i === d.T - 1,
          top: top[i].map((t) => ({ id: t.id, piece: showPiece(t.piece), p: pct(t.prob), raw: t.prob, bg: css(probRGB(t.prob)) })) });
      }
      const holder = document.createElement('div');
      holder.className = 'logits-wrap';
      holder.innerHTML = ctx.templates.render('stage', 'logits', { rows, k });
      for (const e of holder.querySelectorAll('.pred')) {
        const bg = e.dataset.bg; e.style.background = bg;
        const m = /rgb\((\d+),(\d+),(\d+)\)/.exec(bg);
        if (m && 0.299 * m[1] + 0.587 * m[2] + 0.114 * m[3] < 140) e.classList.add('dark');
        delete e.dataset.bg;
      }
      return holder;
    });
  },
  sample() { /* drawn from the sampling answer in render() */ },
};

/* The attention figure of one head (CHARTS.attn's drawing unit): the overview + zoom, or the whole matrix. */
function drawAttn(ctx, f, { h, e, get, max, lg }) {
  const { d, labels } = ctx;
  const cell = Math.max(12, Math.min(40, Math.floor((Math.min(ctx.width, 620) - 120) / d.T)));
  const o = { rows: d.T, cols: d.T, get, scale: f.prob ? 'prob' : 'div', cell, rowLabels: labels, colLabels: labels, showValues: true,
    max, label: `${f.title}, head ${h + 1}`, describe: (i, j, v) => `query ${labels[i]} → key ${labels[j]}: ${fmt(v)}` };
  if (e && e.overview) {
    // The engine's overview, and its zoom window: moving the window asks the engine for the new region.
    o.binned = binnedOf(e, d.T);
    o.zoom = { key: patternKey(d.layer, h, d.T), r0: e.zoom.r0, c0: e.zoom.c0, rows: e.zoom.rows, cols: e.zoom.cols, data: e.zoom.data,
      fetch: (r0, c0, rows, cols) => ctx.actions.patternZoom({ layer: d.layer, head: h, r0, c0, rows, cols }) };
  }
  const hm = heatmap(o);
  hm.querySelector('canvas').classList.add('attn-map');
  ctx.box.dataset.attnHead = String(h);
  ctx.fig(ctx.box, { title: `${f.title} · head ${h + 1}`, shape: `[${d.T} × ${d.T}] rows: queries, columns: keys`, note: f.note, wide: false }, [hm, lg]);
  ctx.box.lastAttn = hm;
}

/** Positions a per-position table shows at once; buttons move the window. */
export const ROWS = 32;
const rowStarts = new Map(); // table kind -> first position shown (default: the last ROWS)

/**
 * A table of one row per position, drawn for a window of ROWS positions
 * (a long prompt's 256 rows of DOM were most of a step's main-thread time),
 * with buttons to move the window. draw(from, to) returns the table element.
 */
function rowWindow(ctx, f, kind, T, draw, note = f.note) {
  const body = document.createElement('div');
  const holder = document.createElement('div');
  const fig = ctx.fig(ctx.box, { title: f.title, note }, body);
  const show = (from) => {
    from = Math.max(0, Math.min(T - Math.min(T, ROWS), from));
    rowStarts.set(kind, from);
    const to = Math.min(T, from + ROWS);
    body.replaceChildren();
    if (T > ROWS) {
      const nav = document.createElement('div');
      nav.className = 'row-window';
      nav.innerHTML = ctx.templates.render('stage', 'rowWindow', { from: from + 1, to, T, first: from === 0, last: to === T });
      nav.querySelector('[data-rows="prev"]').addEventListener('click', () => show(from - ROWS));
      nav.querySelector('[data-rows="next"]').addEventListener('click', () => show(from + ROWS));
      body.append(nav);
    }
    body.append(draw(from, to));
    fig.dataset.rowsFrom = String(from);
  };
  show(rowStarts.has(kind) ? rowStarts.get(kind) : T - ROWS);
}

function neuronTable(ctx, top, f) {
  const { labels } = ctx;
  const k = top.k;
  // Colour: ± the largest |value| in the table (the engine's top values at every position).
  let max = 1e-6; for (const v of top.values) max = Math.max(max, Math.abs(v));
  rowWindow(ctx, f, 'neurons', top.T, (from, to) => {
    const rows = [];
    for (let t = from; t < to; t++) {
      const cells = [];
      for (let i = 0; i < k; i++) { const m = top.ids[t * k + i], v = top.values[t * k + i]; cells.push({ n: m, v: v.toFixed(2), bg: css(divRGB(v, max)) }); }
      rows.push({ label: labels[t], cells });
    }
    const holder = document.createElement('div');
    holder.className = 'table-wrap';
    holder.innerHTML = ctx.templates.render('stage', 'neurons', { rows, cols: Array.from({ length: k }, (_, i) => i + 1) });
    for (const e of holder.querySelectorAll('.neuron[data-bg]')) { e.style.background = e.dataset.bg; delete e.dataset.bg; }
    return holder;
  });
}

/* Every (h, GELU(h)) pair of the prompt as a dot (a stride of them past
 * 4,000, engine.js pairSample): the curve the learner sees is the engine's
 * own output, not a formula drawn beside it. One canvas, not 4,000 SVG nodes. */
function geluPoints({ x: pre, y: post, of }) {
  const W = 300, H = 200, m = 26;
  let lo = -4, hi = 4, yhi = 0.5, ylo = -0.3;
  for (let i = 0; i < pre.length; i++) { lo = Math.min(lo, pre[i]); hi = Math.max(hi, pre[i]); }
  lo = Math.max(lo, -12); hi = Math.min(hi, 12);
  for (let i = 0; i < pre.length; i++) if (pre[i] >= lo && pre[i] <= hi) { yhi = Math.max(yhi, post[i]); ylo = Math.min(ylo, post[i]); }
  const X = (x) => m + ((x - lo) / (hi - lo)) * (W - 2 * m), Y = (y) => H - m - ((y - ylo) / (yhi - ylo)) * (H - 2 * m);
  const cv = document.createElement('canvas');
  const dpr = window.devicePixelRatio || 1;
  cv.width = Math.ceil(W * dpr); cv.height = Math.ceil(H * dpr);
  cv.style.width = `${W}px`; cv.style.height = `${H}px`;
  cv.className = 'gelu';
  cv.setAttribute('role', 'img');
  cv.setAttribute('aria-label', `GELU: each neuron’s input h against its output (${pre.length} of ${of} pairs)`);
  const g = cv.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.strokeStyle = '#ccc';
  g.beginPath(); g.moveTo(X(lo), Y(0)); g.lineTo(X(hi), Y(0)); g.moveTo(X(0), Y(ylo)); g.lineTo(X(0), Y(yhi)); g.stroke();
  g.fillStyle = 'rgba(33, 102, 172, 0.6)';
  const shown = [];
  for (let i = 0; i < pre.length; i++) {
    if (pre[i] < lo || pre[i] > hi) continue;
    shown.push(i);
    g.fillRect(X(pre[i]) - 1.5, Y(post[i]) - 1.5, 3, 3);
  }
  g.fillStyle = '#555';
  g.font = '11px system-ui, sans-serif';
  g.textAlign = 'end'; g.fillText('h', W - m, Y(0) + 14);
  g.textAlign = 'start'; g.fillText('GELU(h)', X(0) + 4, m - 8);
  cv.dataset.points = String(shown.length);
  cv.addEventListener('mousemove', (ev) => {
    const r = cv.getBoundingClientRect();
    const x = lo + ((ev.clientX - r.left - m) / (W - 2 * m)) * (hi - lo);
    let best = -1; for (const i of shown) if (best < 0 || Math.abs(pre[i] - x) < Math.abs(pre[best] - x)) best = i;
    if (best >= 0) tip(`h = ${fmt(pre[best])} → GELU(h) = ${fmt(post[best])}`, ev.clientX, ev.clientY);
  });
  cv.addEventListener('mouseleave', () => tip(null));
  return cv;
}
