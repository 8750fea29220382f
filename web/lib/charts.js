/* charts.js — the drawing helpers views share: canvas heatmaps with hover
 * values, colour legends, SVG attention arcs and line charts, and a tooltip.
 * Values are read with get(i, j); null or -Infinity means "masked". */
import { css, divRGB, probRGB, seqRGB, ink, PALETTE_CSS } from './colors.js';
import { eachFinite, matrixOverview, needsOverview } from './overview.js';

export { dense } from './overview.js';

const SVG = 'http://www.w3.org/2000/svg';
const ARC_MAX = 48; // tokens the attention arcs show (the last ones)
const masked = (v) => v === null || v === -Infinity;

/* ------------------------------------------------------------ tooltip */
let tipEl = null;
export function tip(text, x, y) {
  if (!tipEl) {
    tipEl = document.createElement('div');
    tipEl.className = 'tip';
    tipEl.setAttribute('role', 'status');
    document.body.append(tipEl);
  }
  if (text == null) { tipEl.hidden = true; return; }
  tipEl.hidden = false;
  tipEl.textContent = text;
  const w = tipEl.offsetWidth, h = tipEl.offsetHeight;
  tipEl.style.left = `${Math.min(window.innerWidth - w - 4, x + 12)}px`;
  tipEl.style.top = `${y + h + 16 > window.innerHeight ? y - h - 8 : y + 14}px`;
}

export const fmt = (v) => (masked(v) ? '−∞' : v == null ? '–' : Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0) ? v.toExponential(2) : v.toFixed(Math.abs(v) >= 100 ? 1 : 3));
export const pct = (p) => (p == null ? '–' : p >= 0.1 ? `${(100 * p).toFixed(1)}%` : p >= 0.001 ? `${(100 * p).toFixed(2)}%` : p > 0 ? '<0.1%' : '0%');

let absScratch = new Float64Array(0); // reused: a 256 x 1,024 matrix's copy per figure was most of the page's garbage

/**
 * Colour-scale limit for |value| (ignoring masked): the 99th percentile, so
 * a few outlier dimensions (common in residual streams) do not wash out the
 * rest; larger values saturate. At least tiny. keep: (i, j) => bool, or
 * 'lower' for the cells with j <= i.
 */
export function absMax(get, rows, cols, keep = null) {
  if (get.dense && (!keep || keep === 'lower')) return denseAbsQuantile(get, rows, cols, keep === 'lower');
  if (absScratch.length < rows * cols) absScratch = new Float64Array(rows * cols);
  const a = absScratch;
  let n = 0, top = 0;
  const put = (v) => { const x = Math.abs(v); a[n++] = x; if (x > top) top = x; };
  if (keep === 'lower') eachFinite(get, rows, cols, put, true);
  else if (keep) { for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) { if (!keep(i, j)) continue; const v = get(i, j); if (!masked(v) && Number.isFinite(v)) put(v); } }
  else eachFinite(get, rows, cols, put);
  if (!n) return 1e-6;
  // The element a sort would put at floor(0.99 n), found by selection in O(n): sorting a
  // 256 x 1,024 activation took ~100 ms of the main thread.
  return select(a, n, Math.min(n - 1, Math.floor(0.99 * n))) || top || 1e-6;
}

/*
 * absMax over a dense getter without copying the matrix (a 1,024 x 3,072 MLP activation was a 25 MB
 * copy and a 100 ms task): count, histogram |v| into 4,096 bins of [0, max], then select within the
 * one bin that holds the element a sort would put at floor(0.99 n). Exact: the bin of |v| is monotone in |v|.
 */
function denseAbsQuantile({ dense: a, stride, offset }, rows, cols, lower) {
  const end = (i) => offset + i * stride + (lower ? Math.min(cols, i + 1) : cols);
  let n = 0, top = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = offset + i * stride, e = end(i); j < e; j++) {
      const x = Math.abs(a[j]);
      if (x < Infinity) { n++; if (x > top) top = x; } // false for NaN, ±Infinity (-Infinity: masked)
    }
  }
  if (!n || !top) return 1e-6;
  const B = 4096, hist = new Uint32Array(B), scale = B / top, bin = (x) => Math.min(B - 1, Math.floor(x * scale));
  for (let i = 0; i < rows; i++) {
    for (let j = offset + i * stride, e = end(i); j < e; j++) { const x = Math.abs(a[j]); if (x < Infinity) hist[bin(x)]++; }
  }
  let k = Math.min(n - 1, Math.floor(0.99 * n)), b = 0;
  while (k >= hist[b]) k -= hist[b++];
  if (absScratch.length < hist[b]) absScratch = new Float64Array(hist[b]);
  let m = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = offset + i * stride, e = end(i); j < e; j++) { const x = Math.abs(a[j]); if (x < Infinity && bin(x) === b) absScratch[m++] = x; }
  }
  return select(absScratch, m, k) || top;
}

/** The k-th smallest of a[0..n) (Hoare's quickselect, median-of-three pivots; reorders a). */
function select(a, n, k) {
  let lo = 0, hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    const p = Math.max(Math.min(a[lo], a[hi]), Math.min(Math.max(a[lo], a[hi]), a[mid]));
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < p) i++;
      while (a[j] > p) j--;
      if (i <= j) { const t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if (k <= j) hi = j; else if (k >= i) lo = i; else return a[k];
  }
  return a[k];
}

/** How many of the cells lie past ±max (drawn in the end colour), and how many there are. */
export function clipCount(get, rows, cols, max) {
  let n = 0, total = 0;
  eachFinite(get, rows, cols, (v) => { total++; if (Math.abs(v) > max) n++; });
  return { n, total };
}

/**
 * The legend of a signed colour scale: ±max, what sets max (the 99th
 * percentile of |value|, or a scale shared with other figures), and how many
 * values are clipped to the end colours.
 */
export function divLegend(max, { clipped = 0, total = 0, why = '99th percentile of |values|', caption = '', compact = false } = {}) {
  const clip = clipped ? ` · ${clipped} of ${total} values lie past ±${fmt(max)} and are clipped to the end colour` : ' · no value is clipped';
  const full = `${caption ? `${caption} · ` : ''}scale: ${why}${clip}`;
  // Small multiples: a short caption, the full one on hover.
  const lg = legend('div', `−${fmt(max)}`, `+${fmt(max)}`, compact ? (clipped ? `${clipped} clipped` : 'none clipped') : full);
  if (compact) lg.title = full;
  lg.dataset.max = String(max);
  lg.dataset.clipped = String(clipped);
  return lg;
}

/**
 * A heatmap on a canvas with row/column labels and hover values.
 * @param {{rows: number, cols: number, get: (i: number, j: number) => number|null,
 *   scale?: 'div'|'prob'|'seq', max?: number, rowLabels?: string[], colLabels?: string[],
 *   maxWidth?: number, cell?: number, label?: string, showValues?: boolean,
 *   describe?: (i: number, j: number, v: number) => string, onRow?: (i: number|null) => void}} o
 * @returns {HTMLElement & {highlightRow?: (i: number|null) => void}}
 */
export function heatmap(o) {
  // Too large to draw cell by cell (long prompts): an overview that fits plus a zoom window (overview.js).
  if (!o.noOverview && (o.binned || needsOverview(o))) return matrixOverview(o, heatmap);
  const { rows, cols, get, scale = 'div', rowLabels = [], colLabels = null } = o;
  const max = o.max ?? (scale === 'prob' ? 1 : absMax(get, rows, cols));
  const colorOf = scale === 'prob' ? (v) => probRGB(v) : scale === 'seq' ? (v) => seqRGB(v, max) : (v) => divRGB(v, max);
  const labelW = rowLabels.length ? Math.min(110, 12 + 7 * Math.max(...rowLabels.map((s) => s.length))) : 0;
  // Column labels are turned 60°: room above (up to 9 characters) and to the right of the last column, so none is clipped.
  const top = colLabels ? 58 : 4, padR = colLabels ? 30 : 0;
  const avail = Math.max(60, (o.maxWidth || 640) - labelW);
  const cw = o.cell ?? Math.max(1, Math.min(34, Math.floor(avail / cols)));
  const ch = Math.max(cw, Math.min(22, Math.max(14, cw)));
  const W = labelW + cols * cw + padR, H = top + rows * ch + 2;
  const wrap = document.createElement('div');
  wrap.className = 'heatmap';
  const cv = document.createElement('canvas');
  const dpr = window.devicePixelRatio || 1;
  cv.width = Math.ceil(W * dpr); cv.height = Math.ceil(H * dpr);
  cv.style.width = `${W}px`; cv.style.height = `${H}px`;
  cv.setAttribute('role', 'img');
  cv.setAttribute('aria-label', `${o.label || `heatmap ${rows} by ${cols}`}; arrow keys read the cells`);
  cv.tabIndex = 0;
  // Keyboard: a cell cursor the arrow keys move (Home/End: row start/end);
  // each cell's value is announced through a polite live region and the tooltip.
  const live = document.createElement('span');
  live.className = 'sr-only';
  live.setAttribute('aria-live', 'polite');
  cv.dataset.rows = rows; cv.dataset.cols = cols;
  wrap.append(cv, live);
  const ctx = cv.getContext('2d');
  let hl = null, cur = null, focused = false;
  // Cells are painted as one pixel each into an ImageData, then scaled up
  // without smoothing: one drawImage instead of rows × cols fillRects.
  const img = new ImageData(cols, rows);
  const hasMask = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = get(i, j), p = 4 * (i * cols + j);
      const rgb = masked(v) ? (hasMask.push([i, j]), [228, 228, 228]) : colorOf(v);
      img.data[p] = rgb[0]; img.data[p + 1] = rgb[1]; img.data[p + 2] = rgb[2]; img.data[p + 3] = 255;
    }
  }
  const cells = document.createElement('canvas');
  cells.width = cols; cells.height = rows;
  cells.getContext('2d').putImageData(img, 0, 0);
  const draw = () => {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(cells, labelW, top, cols * cw, rows * ch);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    for (let i = 0; i < rows; i++) {
      if (rowLabels[i] == null) continue;
      ctx.fillStyle = hl === i ? '#000' : '#444';
      ctx.fillText(clip(rowLabels[i], 16), labelW - 6, top + i * ch + ch / 2);
    }
    if (cw >= 6) {
      ctx.strokeStyle = '#c8c8c8';
      ctx.beginPath();
      for (const [i, j] of hasMask) { const x = labelW + j * cw, y = top + i * ch; ctx.moveTo(x, y + ch); ctx.lineTo(x + cw, y); }
      ctx.stroke();
    }
    if (o.showValues && cw >= 30) {
      ctx.textAlign = 'center';
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          const v = get(i, j);
          if (masked(v)) continue;
          const text = scale === 'prob' ? (v < 0.005 ? '' : v.toFixed(2).replace(/^0/, '')) : v.toFixed(1);
          if (!text) continue;
          ctx.fillStyle = ink(colorOf(v));
          ctx.fillText(text, labelW + j * cw + cw / 2, top + i * ch + ch / 2);
        }
      }
    }
    if (colLabels) {
      ctx.save();
      ctx.fillStyle = '#444'; ctx.textAlign = 'left';
      for (let j = 0; j < cols; j++) {
        ctx.save();
        ctx.translate(labelW + j * cw + cw / 2, top - 4);
        ctx.rotate(-Math.PI / 3);
        ctx.fillText(clip(colLabels[j], 9), 0, 0);
        ctx.restore();
      }
      ctx.restore();
    }
    if (hl != null) {
      ctx.strokeStyle = '#111'; ctx.lineWidth = 2;
      ctx.strokeRect(labelW + 1, top + hl * ch + 1, cols * cw - 2, ch - 2);
      ctx.lineWidth = 1;
    }
    if (focused && cur) {
      ctx.strokeStyle = '#e69f00'; ctx.lineWidth = 3;
      ctx.strokeRect(labelW + cur[1] * cw + 1.5, top + cur[0] * ch + 1.5, Math.max(3, cw - 3), Math.max(3, ch - 3));
      ctx.lineWidth = 1;
    }
  };
  draw();
  const cellAt = (ev) => {
    const r = cv.getBoundingClientRect();
    // CSS may scale the canvas to fit a narrow frame (embeds): map back to drawing units.
    const x = (ev.clientX - r.left) * (W / (r.width || W)), y = (ev.clientY - r.top) * (H / (r.height || H));
    const j = Math.floor((x - labelW) / cw), i = Math.floor((y - top) / ch);
    return i >= 0 && i < rows && j >= 0 && j < cols ? [i, j] : null;
  };
  cv.addEventListener('mousemove', (ev) => {
    const c = cellAt(ev);
    if (!c) { tip(null); return; }
    const [i, j] = c, v = get(i, j);
    tip(o.describe ? o.describe(i, j, v) : `${rowLabels[i] ?? i} · ${colLabels ? colLabels[j] : j}: ${fmt(v)}`, ev.clientX, ev.clientY);
    if (o.onRow) o.onRow(i);
  });
  cv.addEventListener('mouseleave', () => { tip(null); if (o.onRow) o.onRow(null); });
  const text = (i, j) => (o.describe ? o.describe(i, j, get(i, j)) : `${rowLabels[i] ?? i} · ${colLabels ? colLabels[j] : j}: ${fmt(get(i, j))}`);
  const announce = () => {
    const [i, j] = cur;
    const t = `${text(i, j)} (row ${i + 1} of ${rows}, column ${j + 1} of ${cols})`;
    live.textContent = t;
    const r = cv.getBoundingClientRect();
    tip(t, r.left + labelW + (j + 1) * cw, r.top + top + i * ch);
    draw();
    if (o.onRow) o.onRow(i);
  };
  // Said in place while the chart has the arrow keys (the page's ← → step otherwise); Esc gives them back.
  const hint = document.createElement('p');
  hint.className = 'kbd-hint on';
  hint.hidden = true;
  hint.textContent = 'The arrow keys now move through the cells (Home / End: row start / end). Esc gives them back to stepping.';
  wrap.append(hint);
  cv.addEventListener('focus', () => { focused = true; hint.hidden = false; cur ??= [0, 0]; announce(); });
  cv.addEventListener('blur', () => { focused = false; hint.hidden = true; tip(null); draw(); if (o.onRow) o.onRow(null); });
  const MOVES = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  cv.addEventListener('keydown', (ev) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.key === 'Escape') { ev.preventDefault(); cv.blur(); return; }
    let [i, j] = cur || [0, 0];
    if (MOVES[ev.key]) { i += MOVES[ev.key][0]; j += MOVES[ev.key][1]; }
    else if (ev.key === 'Home') j = 0;
    else if (ev.key === 'End') j = cols - 1;
    else return;
    ev.preventDefault();
    ev.stopPropagation(); // the page's ← → step through the model; here they move the cursor
    cur = [Math.max(0, Math.min(rows - 1, i)), Math.max(0, Math.min(cols - 1, j))];
    announce();
  });
  wrap.highlightRow = (i) => { hl = i; draw(); };
  return wrap;
}

function clip(s, n) { s = String(s); return s.length > n ? `${s.slice(0, n - 1)}…` : s; }

/** A gradient legend: "min [gradient] max" with a caption. */
export function legend(scale, lo, hi, caption) {
  const d = document.createElement('div');
  d.className = 'legend';
  const a = document.createElement('span'); a.textContent = lo;
  const g = document.createElement('span'); g.className = 'legend-bar'; g.style.background = PALETTE_CSS[scale];
  const b = document.createElement('span'); b.textContent = hi;
  const c = document.createElement('span'); c.className = 'legend-cap'; c.textContent = caption || '';
  d.append(a, g, b, c);
  return d;
}

/* ------------------------------------------------------------ SVG */
export function svgEl(name, attrs = {}, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.append(e);
  return e;
}

/**
 * Attention arcs: tokens in a row; from the focused query token (or all when
 * none is focused), an arc to each key it attends to, thickness = weight.
 * @param {{pieces: string[], weight: (i: number, j: number) => number, focus: number|null,
 *   onFocus: (i: number|null) => void, maxWidth?: number}} o
 */
export function arcs(o) {
  const { weight } = o;
  // Long prompts: the arcs among the last ARC_MAX tokens only (the heatmap's overview shows every position);
  // 256 tokens of arcs were a 3,000 px SVG of thousands of paths.
  const from = Math.max(0, o.pieces.length - ARC_MAX);
  const pieces = o.pieces.slice(from);
  const T = pieces.length;
  // Narrow screens (a phone, or a long prompt): steps down to 12 px with the
  // labels turned upright, so the arcs fit the width instead of scrolling.
  const step = Math.max(12, Math.min(90, Math.floor(((o.maxWidth || 640) - 10) / T)));
  const turned = step < 38;
  const W = step * T + 10, H = turned ? 190 : 150, base = turned ? 128 : H - 30;
  const svg = svgEl('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'arcs', role: 'img', 'aria-label': from ? `attention arcs among the last ${T} tokens` : 'attention arcs' });
  if (from) { const note = svgEl('text', { x: 6, y: 12, class: 'arc-note' }, svg); note.textContent = `the last ${T} of ${o.pieces.length} tokens`; }
  const cx = (i) => 5 + step * i + step / 2;
  const g = svgEl('g', {}, svg);
  const drawArcs = (focus) => {
    g.replaceChildren();
    for (let i = 0; i < T; i++) {
      if (focus != null && i !== focus) continue;
      for (let j = 0; j <= i; j++) {
        const w = weight(from + i, from + j);
        if (!(w > 0.02)) continue;
        const x1 = cx(i), x2 = cx(j), h = Math.min(base - 8, 14 + Math.abs(x1 - x2) * 0.45);
        const d = i === j ? `M${x1 - 5},${base} C${x1 - 12},${base - 26} ${x1 + 12},${base - 26} ${x1 + 5},${base}`
          : `M${x1},${base} C${x1},${base - h} ${x2},${base - h} ${x2},${base}`;
        svgEl('path', { d, fill: 'none', stroke: focus == null ? '#2166ac' : '#b2182b', 'stroke-opacity': Math.min(1, 0.15 + w), 'stroke-width': (focus == null ? 0.5 : 1) + w * (focus == null ? 4 : 7) }, g);
      }
    }
  };
  for (let i = 0; i < T; i++) {
    const t = turned
      ? svgEl('text', { x: cx(i) + 4, y: base + 10, 'text-anchor': 'end', transform: `rotate(-70 ${cx(i) + 4} ${base + 10})`, class: 'arc-tok', tabindex: 0, 'data-pos': from + i }, svg)
      : svgEl('text', { x: cx(i), y: base + 18, 'text-anchor': 'middle', class: 'arc-tok', tabindex: 0, 'data-pos': from + i }, svg);
    t.textContent = clip(pieces[i].replace(/ /g, '·'), turned ? 7 : 9);
    const on = () => { drawArcs(i); svg.querySelectorAll('.arc-tok').forEach((n) => n.classList.toggle('on', n === t)); o.onFocus?.(from + i); };
    const off = () => { drawArcs(o.focus == null ? null : o.focus - from); svg.querySelectorAll('.arc-tok').forEach((n) => n.classList.remove('on')); o.onFocus?.(null); };
    t.addEventListener('mouseenter', on); t.addEventListener('focus', on);
    t.addEventListener('mouseleave', off); t.addEventListener('blur', off);
  }
  drawArcs(o.focus == null ? null : o.focus - from);
  return svg;
}

/**
 * Lines over x = 0..nx-1, one per series, with axes and hover values.
 * @param {{series: {label: string, values: number[]}[], xLabels: string[], yLabel: string, width?: number, height?: number}} o
 */
export function lineChart(o) {
  const W = o.width || 560, H = o.height || 200, m = { l: 44, r: 90, t: 10, b: 32 };
  const nx = o.xLabels.length;
  let ymax = 0; for (const s of o.series) for (const v of s.values) ymax = Math.max(ymax, v);
  ymax = ymax * 1.08 || 1;
  const X = (i) => m.l + (nx > 1 ? (i * (W - m.l - m.r)) / (nx - 1) : 0);
  const Y = (v) => H - m.b - (v / ymax) * (H - m.t - m.b);
  const svg = svgEl('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'linechart', role: 'img', 'aria-label': o.yLabel });
  for (const f of [0, 0.5, 1]) {
    svgEl('line', { x1: m.l, x2: W - m.r, y1: Y(f * ymax / 1.08), y2: Y(f * ymax / 1.08), class: 'grid' }, svg);
    svgEl('text', { x: m.l - 6, y: Y(f * ymax / 1.08) + 4, 'text-anchor': 'end', class: 'axis' }, svg).textContent = (f * ymax / 1.08).toFixed(1);
  }
  o.xLabels.forEach((l, i) => { svgEl('text', { x: X(i), y: H - m.b + 16, 'text-anchor': 'middle', class: 'axis' }, svg).textContent = l; });
  svgEl('text', { x: m.l, y: H - 2, class: 'axis' }, svg).textContent = o.xTitle || '';
  // End labels, nudged apart so they do not overlap (at least 11 px).
  const ends = o.series.map((s, k) => ({ k, y: Y(s.values[s.values.length - 1]) + 4 })).sort((a, b) => a.y - b.y);
  for (let i = 1; i < ends.length; i++) ends[i].y = Math.max(ends[i].y, ends[i - 1].y + 11);
  const labelY = new Map(ends.map((e) => [e.k, e.y]));
  o.series.forEach((s, k) => {
    const col = css(seqRGB(k, Math.max(1, o.series.length - 1) * 1.15));
    svgEl('polyline', { points: s.values.map((v, i) => `${X(i)},${Y(v)}`).join(' '), fill: 'none', stroke: col, 'stroke-width': 2 }, svg);
    s.values.forEach((v, i) => {
      const c = svgEl('circle', { cx: X(i), cy: Y(v), r: 3, fill: col }, svg);
      c.addEventListener('mousemove', (ev) => tip(`${s.label} · ${o.xLabels[i]}: ${fmt(v)}`, ev.clientX, ev.clientY));
      c.addEventListener('mouseleave', () => tip(null));
    });
    svgEl('text', { x: X(nx - 1) + 6, y: labelY.get(k), class: 'series', fill: col }, svg).textContent = clip(s.label, 12);
  });
  return svg;
}

/** Sets el's HTML unless it is already exactly that, and says whether it did.
 * A view with buttons must not rebuild them when nothing changed: a click
 * whose mousedown and mouseup land on two different (rebuilt) buttons is
 * lost, and loading fires many state changes a user can click through. */
export function replaceHtml(el, html) {
  if (el.dataset.html === html) return false;
  el.innerHTML = html;
  el.dataset.html = html;
  return true;
}

/** Sets style.width / style.left of every [data-w] / [data-l] descendant to its value in percent (CSP-safe bars). */
export function applyWidths(root) {
  for (const e of root.querySelectorAll('[data-w]')) e.style.width = `${Math.max(0, Math.min(100, Number(e.dataset.w)))}%`;
  for (const e of root.querySelectorAll('[data-l]')) e.style.left = `${Math.max(0, Math.min(100, Number(e.dataset.l)))}%`;
  for (const e of root.querySelectorAll('[data-bg]')) e.style.background = e.dataset.bg;
}
