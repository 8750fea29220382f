/* colors.js — colour scales readable with colour-blind vision.
 * Diverging (signed values): ColorBrewer RdBu reversed, blue < 0 < red, white at 0.
 * Sequential (probabilities, norms): viridis. Both are listed as colour-blind
 * safe by their authors; neither relies on red-vs-green. */

const RDBU = ['#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b'];
const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];
/* Light sequential ramp for probabilities on white backgrounds (white -> viridis blue). */
const PROB = ['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'];

const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
const RGB = { div: RDBU.map(hex), seq: VIRIDIS.map(hex), prob: PROB.map(hex) };

/** [r, g, b] for t in [0, 1] along a palette. */
export function ramp(name, t) {
  const stops = RGB[name];
  if (!Number.isFinite(t)) t = 0;
  t = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t)), f = t - i;
  const a = stops[i], b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** Colour of a signed value v with |v| <= max mapped onto the diverging scale. */
export const divRGB = (v, max) => ramp('div', 0.5 + (max > 0 ? v / (2 * max) : 0));
export const seqRGB = (v, max) => ramp('seq', max > 0 ? v / max : 0);
export const probRGB = (p) => ramp('prob', Math.sqrt(Math.max(0, p)));

export const css = ([r, g, b]) => `rgb(${r | 0},${g | 0},${b | 0})`;

/** Black or white text, whichever reads better on [r, g, b]. */
export const ink = ([r, g, b]) => (0.299 * r + 0.587 * g + 0.114 * b > 140 ? '#111' : '#fff');

/* Okabe–Ito, lightened: token chips (qualitative, colour-blind safe). */
export const TOKEN_TINTS = ['#fde2b3', '#cfe8f7', '#c4eadf', '#fbf3b0', '#c9daf0', '#f7d3bd', '#ecd4e4'];

export const PALETTE_CSS = {
  div: `linear-gradient(90deg, ${RDBU.join(',')})`,
  seq: `linear-gradient(90deg, ${VIRIDIS.join(',')})`,
  prob: `linear-gradient(90deg, ${PROB.join(',')})`,
};
