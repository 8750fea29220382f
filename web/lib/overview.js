/* overview.js — a matrix too large to draw cell by cell (attention at 256 or
 * 1,024 tokens, T × C activations) as an overview that fits the view's width
 * plus a zoom window onto a region at full resolution with token labels.
 *
 * The overview is honest about what it drops: every cell is read, and each
 * pixel shows one summary of the cells it covers, said in the caption: for
 * probabilities (attention weights) the MAXIMUM, so one strong weight is never
 * averaged away; for signed values the value of LARGEST MAGNITUDE, sign kept.
 * A pixel whose cells are all masked is grey. Click or drag on it (or focus
 * it and use the arrow keys; Esc gives them back to stepping) to move the zoom
 * window, drawn below by charts.js's heatmap at full resolution.
 *
 * Cost: one pass over the cells (binning) and an O(n) colour limit (a
 * histogram, no sort), drawn at screen resolution: a few ms at 256 × 256.
 *
 * From the engine: o.binned is an overview the engine already downsampled
 * (an attention head's max per pixel: gb_head_pattern_view), drawn as given,
 * and o.zoom is the engine's zoom window ({key, r0, c0, rows, cols, data,
 * fetch(r0, c0, rows, cols) -> Promise<Float32Array>}): moving the window asks
 * the engine for the new region (one request at a time; the latest window
 * wins), so the page never holds the whole T × T matrix. */
import { divRGB, probRGB, seqRGB } from './colors.js';

const masked = (v) => v === null || v === -Infinity || v === undefined || Number.isNaN(v);
/**
 * A getter over a row-major array: get(i, j) = a[offset + i * stride + j]. The
 * layout rides on the function (get.dense, .stride, .offset), so the passes that
 * read every cell (binning, colour limits, clip counts) loop over the array
 * itself: through a closure, a 256 × 1,024 matrix cost ~10 ms a pass.
 */
export function dense(a, stride, offset = 0) {
  return Object.assign((i, j) => a[offset + i * stride + j], { dense: a, stride, offset });
}

/**
 * Calls f(v) for every finite cell of get over rows × cols (masked and non-finite cells
 * skipped); lower: only cells with j <= i (the keys a query may see).
 */
export function eachFinite(get, rows, cols, f, lower = false) {
  if (get.dense) {
    const { dense: a, stride, offset } = get;
    for (let i = 0; i < rows; i++) {
      const r = offset + i * stride, n = lower ? Math.min(cols, i + 1) : cols;
      for (let j = 0; j < n; j++) { const v = a[r + j]; if (Number.isFinite(v)) f(v); }
    }
    return;
  }
  for (let i = 0; i < rows; i++) {
    const n = lower ? Math.min(cols, i + 1) : cols;
    for (let j = 0; j < n; j++) { const v = get(i, j); if (!masked(v) && Number.isFinite(v)) f(v); }
  }
}

/** Above these natural sizes (CSS px) a heatmap becomes an overview + zoom. */
export const OVERVIEW_MAX_W = 1100, OVERVIEW_MAX_H = 1100;
const ZOOM = 24; // rows (and columns, when they do not all fit) in the zoom window
const windows = new Map(); // figure label|rows|cols -> [r0, c0] of its zoom window

/** Where the learner put the zoom window of the figure with this key ([r0, c0]), or null (the default: the last rows). */
export const zoomWindow = (key) => windows.get(key) || null;

/** The natural size heatmap() would draw (the same arithmetic as charts.js). */
export function naturalSize(o) {
  const rowLabels = o.rowLabels || [];
  const labelW = rowLabels.length ? Math.min(110, 12 + 7 * Math.max(...rowLabels.map((s) => String(s).length))) : 0;
  const top = o.colLabels ? 58 : 4;
  const avail = Math.max(60, (o.maxWidth || 640) - labelW);
  const cw = o.cell ?? Math.max(1, Math.min(34, Math.floor(avail / o.cols)));
  const ch = Math.max(cw, Math.min(22, Math.max(14, cw)));
  return { labelW, top, cw, ch, W: labelW + o.cols * cw + (o.colLabels ? 30 : 0), H: top + o.rows * ch + 2, avail };
}

/** Whether heatmap(o) should draw an overview instead. */
export function needsOverview(o) {
  const n = naturalSize(o);
  return n.W > Math.max(OVERVIEW_MAX_W, o.maxWidth || 0) || n.H > OVERVIEW_MAX_H;
}

/**
 * Bins a rows × cols matrix into bh × bw pixels (pure; tested in Node).
 * Pixel (y, x) covers rows [⌊y·rows/bh⌋, ⌊(y+1)·rows/bh⌋) and the same for columns.
 * mode 'max': the largest value; 'absmax': the value of largest |value|.
 * @returns {{data: Float32Array, empty: Uint8Array}} empty[p] = 1 when every cell of p is masked
 */
export function binMatrix(get, rows, cols, bh, bw, mode = 'max') {
  const data = new Float32Array(bh * bw), empty = new Uint8Array(bh * bw).fill(1);
  const r0 = new Int32Array(bh + 1), c0 = new Int32Array(bw + 1);
  for (let y = 0; y <= bh; y++) r0[y] = Math.floor((y * rows) / bh);
  for (let x = 0; x <= bw; x++) c0[x] = Math.floor((x * cols) / bw);
  if (get.dense) { binDense(get, r0, c0, bh, bw, mode, data, empty); return { data, empty }; }
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      let best = 0, has = false;
      for (let i = r0[y]; i < r0[y + 1]; i++) {
        for (let j = c0[x]; j < c0[x + 1]; j++) {
          const v = get(i, j);
          if (masked(v) || !Number.isFinite(v)) continue;
          if (!has || (mode === 'absmax' ? Math.abs(v) > Math.abs(best) : v > best)) best = v;
          has = true;
        }
      }
      if (has) { data[y * bw + x] = best; empty[y * bw + x] = 0; }
    }
  }
  return { data, empty };
}

/* binMatrix over a dense getter, row by row (the same result, read in memory order). */
function binDense({ dense: a, stride, offset }, r0, c0, bh, bw, mode, data, empty) {
  const abs = mode === 'absmax';
  for (let y = 0; y < bh; y++) {
    const o = y * bw;
    for (let i = r0[y]; i < r0[y + 1]; i++) {
      const r = offset + i * stride;
      for (let x = 0; x < bw; x++) {
        let best = data[o + x], has = !empty[o + x];
        for (let j = c0[x]; j < c0[x + 1]; j++) {
          const v = a[r + j];
          if (!Number.isFinite(v)) continue;
          if (!has || (abs ? Math.abs(v) > Math.abs(best) : v > best)) best = v;
          has = true;
        }
        if (has) { data[o + x] = best; empty[o + x] = 0; }
      }
    }
  }
}

/**
 * The q-quantile of |value| over the unmasked cells, in O(n) with a 2,048-bin
 * histogram (within 1/2,048 of the largest |value| of the exact quantile).
 */
export function quantileAbs(get, rows, cols, q = 0.99) {
  let top = 0, n = 0;
  eachFinite(get, rows, cols, (v) => { n++; if (Math.abs(v) > top) top = Math.abs(v); });
  if (!n || top === 0) return 1e-6;
  const B = 2048, hist = new Uint32Array(B);
  eachFinite(get, rows, cols, (v) => { hist[Math.min(B - 1, Math.floor((Math.abs(v) / top) * B))]++; });
  const want = Math.floor(q * n);
  let acc = 0;
  for (let b = 0; b < B; b++) { acc += hist[b]; if (acc > want) return ((b + 1) / B) * top; }
  return top;
}

/** The zoom window's size and cell for o (rows × cols at full resolution). */
export function zoomShape(o, n = naturalSize(o)) {
  const zr = Math.min(o.rows, ZOOM);
  const allCols = o.cols * Math.max(1, n.cw) <= n.avail;
  const zc = allCols ? o.cols : Math.min(o.cols, ZOOM);
  const cell = allCols ? n.cw : Math.max(12, Math.min(30, Math.floor(n.avail / zc)));
  return { zr, zc, cell };
}

/** The overview's summary, drawn size (CSS px) and pixels (bw × bh) for heatmap options o. */
export function overviewShape(o, n = naturalSize(o)) {
  const { rows, cols, scale = 'div' } = o;
  const mode = scale === 'prob' || scale === 'seq' ? 'max' : 'absmax';
  const avail = Math.max(120, (o.maxWidth || 640) - 8);
  const square = rows === cols;
  const pw = Math.min(avail, square ? 560 : Math.max(cols * n.cw, 240));
  const ph = Math.min(square ? pw : 420, Math.max(rows, 120));
  const bw = o.binned ? o.binned.bw : Math.min(cols, Math.round(pw)), bh = o.binned ? o.binned.bh : Math.min(rows, Math.round(ph));
  return { mode, square, pw, ph, bw, bh };
}

/**
 * The overview heatmap(o) would draw, binned now (o.binned for a later heatmap call: a caller
 * can bin in one task and draw in the next), or null when o is drawn cell by cell.
 */
export function overviewBins(o) {
  if (o.noOverview || o.binned || !needsOverview(o)) return null;
  const { mode, bw, bh } = overviewShape(o);
  return { ...binMatrix(o.get, o.rows, o.cols, bh, bw, mode), bw, bh, mode };
}

/**
 * The overview + zoom element (used by charts.js heatmap when needsOverview).
 * @param {object} o  heatmap's options
 * @param {(o: object) => HTMLElement} heatmap  charts.js heatmap, to draw the zoom window
 */
export function matrixOverview(o, heatmap) {
  const { rows, cols, get, scale = 'div' } = o;
  const n = naturalSize(o);
  const { mode, square, pw, ph, bw, bh } = overviewShape(o, n);
  const max = o.max ?? (scale === 'prob' ? 1 : quantileAbs(get, rows, cols));
  const colorOf = scale === 'prob' ? (v) => probRGB(v) : scale === 'seq' ? (v) => seqRGB(v, max) : (v) => divRGB(v, max);
  // o.binned: an overview already downsampled ({data, empty?, bh, bw, mode, by?}: a head pattern view
  // computed in C, or overviewBins's), drawn as given; otherwise every cell is read and binned here.
  const { data, empty } = o.binned
    ? { data: o.binned.data, empty: o.binned.empty || new Uint8Array(bh * bw) } : binMatrix(get, rows, cols, bh, bw, mode);
  const small = (o.maxWidth || 640) < 300; // a small multiple (all heads): overview only

  const wrap = document.createElement('div');
  wrap.className = 'heatmap overview';
  const cap = document.createElement('p');
  cap.className = 'ov-caption small dim';
  const per = `${(rows / bh).toFixed(rows % bh ? 1 : 0)} × ${(cols / bw).toFixed(cols % bw ? 1 : 0)}`;
  const how = (bh === rows && bw === cols ? 'one pixel per cell'
    : `each pixel shows the ${mode === 'max' ? 'largest value' : 'value of largest magnitude (sign kept)'} of the ${per} cells it covers`)
    + (o.binned && o.binned.by ? ` (computed by ${o.binned.by})` : '') + (empty.includes(1) ? '; grey: every cell masked' : '');
  cap.textContent = `Overview of all ${rows} × ${cols} cells: ${how}${small ? '' : '. Click, tap or drag on it to zoom; the window below shows that region cell by cell'}.`;
  const cv = document.createElement('canvas');
  cv.className = 'ov-canvas';
  cv.width = bw; cv.height = bh;
  cv.style.width = `${Math.round(pw)}px`; cv.style.height = `${Math.round(ph)}px`;
  cv.setAttribute('role', 'img');
  cv.setAttribute('aria-label', `${o.label || 'matrix'}: overview of ${rows} by ${cols}${small ? '' : '; arrow keys move the zoom window'}`);
  const img = new ImageData(bw, bh);
  for (let p = 0; p < bw * bh; p++) {
    const rgb = empty[p] ? [228, 228, 228] : colorOf(data[p]);
    img.data[4 * p] = rgb[0]; img.data[4 * p + 1] = rgb[1]; img.data[4 * p + 2] = rgb[2]; img.data[4 * p + 3] = 255;
  }
  const base = document.createElement('canvas');
  base.width = bw; base.height = bh;
  base.getContext('2d').putImageData(img, 0, 0);
  const frame = document.createElement('div');
  frame.className = 'ov-frame';
  frame.append(cv);
  wrap.append(cap, frame);
  wrap.dataset.rows = rows; wrap.dataset.cols = cols;
  if (small) { cv.getContext('2d').drawImage(base, 0, 0); wrap.values = data; return wrap; }

  // ---- the zoom window
  const shape = zoomShape(o, n);
  const ez = o.zoom || null; // the engine's window (its size is the engine's)
  const zr = ez ? ez.rows : shape.zr, zc = ez ? ez.cols : shape.zc, cell = ez ? Math.max(12, Math.min(30, Math.floor(n.avail / zc))) : shape.cell;
  // Default: the last rows (the latest tokens, whose prediction the page shows); for T × T their last keys too.
  // A re-render of the same figure (new data, another view's change) keeps the window where the learner put it.
  const key = ez ? ez.key : `${o.label || ''}|${rows}|${cols}`, kept = windows.get(key);
  let r0 = ez ? ez.r0 : kept ? Math.min(kept[0], rows - zr) : rows - zr;
  let c0 = ez ? ez.c0 : kept ? Math.min(kept[1], cols - zc) : zc === cols ? 0 : square ? cols - zc : 0;
  let have = ez ? { r0, c0, data: ez.data } : null; // the engine's region on screen
  let asking = false;
  const hint = document.createElement('p');
  hint.className = 'kbd-hint small';
  hint.setAttribute('aria-live', 'polite');
  const zoomTitle = document.createElement('p');
  zoomTitle.className = 'ov-zoom-title small';
  const zoomBox = document.createElement('div');
  zoomBox.className = 'ov-zoom';
  wrap.append(hint, zoomTitle, zoomBox);
  let zoomEl = null, hl = null;
  const ctx = cv.getContext('2d');
  const drawOverview = () => {
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(base, 0, 0);
    // The window, in bin units.
    const x = (c0 * bw) / cols, y = (r0 * bh) / rows, w = Math.max(1, (zc * bw) / cols), h = Math.max(1, (zr * bh) / rows);
    ctx.lineWidth = Math.max(1, bw / pw);
    ctx.strokeStyle = '#e69f00';
    ctx.strokeRect(x + 0.5, y + 0.5, Math.max(1, w - 1), Math.max(1, h - 1));
  };
  const drawZoom = () => {
    if (ez && (have.r0 !== r0 || have.c0 !== c0)) { askZoom(); return; }
    const rl = o.rowLabels ? o.rowLabels.slice(r0, r0 + zr) : [];
    const zget = ez ? ((d) => (i, j) => d[i * zc + j])(have.data) : (i, j) => get(r0 + i, c0 + j);
    const cl = o.colLabels ? o.colLabels.slice(c0, c0 + zc) : null;
    zoomEl = heatmap({
      ...o, noOverview: true, rows: zr, cols: zc, cell, max, rowLabels: rl, colLabels: cl,
      get: zget,
      describe: o.describe ? (i, j, v) => o.describe(r0 + i, c0 + j, v) : (i, j, v) => `row ${r0 + i} · column ${c0 + j}: ${v}`,
      onRow: o.onRow ? (i) => o.onRow(i == null ? null : r0 + i) : undefined,
      label: `${o.label || 'matrix'}, rows ${r0 + 1}–${r0 + zr}, columns ${c0 + 1}–${c0 + zc}`,
    });
    zoomEl.classList.add('ov-zoomed');
    zoomBox.replaceChildren(zoomEl);
    zoomTitle.textContent = `Zoom: rows ${r0 + 1}–${r0 + zr}${zc === cols ? ', every column' : `, columns ${c0 + 1}–${c0 + zc}`}, one cell per value`;
    if (hl != null && hl >= r0 && hl < r0 + zr) zoomEl.highlightRow?.(hl - r0);
    wrap.dataset.zoom = `${r0},${c0}`;
  };
  // One engine request at a time; when it lands, draw it, or ask again if the window moved meanwhile.
  const askZoom = () => {
    if (asking) return;
    asking = true;
    const want = [r0, c0];
    ez.fetch(want[0], want[1], zr, zc).then((d) => {
      asking = false;
      if (!d || !wrap.isConnected) return;
      have = { r0: want[0], c0: want[1], data: d };
      drawZoom();
    }, () => { asking = false; });
  };
  const moveTo = (r, c) => {
    const nr = Math.max(0, Math.min(rows - zr, r)), nc = Math.max(0, Math.min(cols - zc, c));
    if (nr === r0 && nc === c0) return;
    r0 = nr; c0 = nc;
    windows.set(key, [r0, c0]);
    drawOverview();
    drawZoom();
  };
  // Pointer: centre the window on the pointer (mouse, pen or touch); dragging follows.
  const at = (ev) => {
    const r = cv.getBoundingClientRect();
    const i = Math.floor(((ev.clientY - r.top) / r.height) * rows), j = Math.floor(((ev.clientX - r.left) / r.width) * cols);
    moveTo(i - (zr >> 1), j - (zc >> 1));
  };
  let dragging = false, pending = null;
  cv.addEventListener('pointerdown', (ev) => { dragging = true; cv.setPointerCapture?.(ev.pointerId); at(ev); ev.preventDefault(); });
  cv.addEventListener('pointermove', (ev) => {
    if (!dragging) return;
    // At most one redraw per frame while dragging (each redraw is a whole zoom heatmap).
    if (!pending) requestAnimationFrame(() => { const e = pending; pending = null; if (e) at(e); });
    pending = ev;
  });
  const stop = () => { dragging = false; };
  cv.addEventListener('pointerup', stop);
  cv.addEventListener('pointercancel', stop);
  cv.style.touchAction = 'none';
  // Keyboard: the overview takes the arrow keys while focused, and says so; Esc gives them back.
  cv.tabIndex = 0;
  const idleHint = 'Focus the overview (Tab) to move the zoom window with the arrow keys.';
  hint.textContent = idleHint;
  cv.addEventListener('focus', () => { hint.textContent = 'The arrow keys now move the zoom window (Shift: a whole window). Esc gives them back to stepping through the model.'; hint.classList.add('on'); });
  cv.addEventListener('blur', () => { hint.textContent = idleHint; hint.classList.remove('on'); });
  cv.addEventListener('keydown', (ev) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.key === 'Escape') { cv.blur(); ev.preventDefault(); return; }
    const step = ev.shiftKey ? 1 : 0.25;
    const dr = Math.max(1, Math.round(zr * step)), dc = Math.max(1, Math.round(zc * step));
    const d = { ArrowUp: [-dr, 0], ArrowDown: [dr, 0], ArrowLeft: [0, -dc], ArrowRight: [0, dc] }[ev.key];
    if (!d) return;
    ev.preventDefault();
    ev.stopPropagation(); // the page's ← → step through the model; here they move the window
    moveTo(r0 + d[0], c0 + d[1]);
  });
  drawOverview();
  drawZoom();
  /** Highlights row i (absolute): in the zoom when inside the window. */
  wrap.highlightRow = (i) => { hl = i; zoomEl?.highlightRow?.(i != null && i >= r0 && i < r0 + zr ? i - r0 : null); };
  /** What the page drew, for tests: the overview's values and the engine's zoom region on screen. */
  wrap.values = data;
  wrap.engineZoom = () => have && { r0: have.r0, c0: have.c0, rows: zr, cols: zc, data: have.data };
  /** Moves the window so that it starts at (r, c) (tests, links). */
  wrap.zoomTo = (r, c) => moveTo(r, c);
  return wrap;
}
