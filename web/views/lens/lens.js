/* lens view — the logit-lens grid: rows are "after the embeddings" and
 * "after block L", columns are positions; each cell is the top token the
 * final norm + unembedding would give there, coloured by its probability. */
import { pct } from '../../lib/charts.js';
import { css, ink, probRGB } from '../../lib/colors.js';
import { showPiece } from '../tokens/tokens.js';
import { runKey } from '../../state.js';

/** The view-model (pure; tested in Node). */
export function lensModel(s) {
  const g = s.lens && s.lens.key === runKey(s) ? s.lens : null;
  if (!g) return { waiting: !s.errors.lens, error: s.errors.lens, hasRows: false, partial: false };
  const pieces = s.run ? s.run.pieces : [];
  const cols = g.rows[0].cells.map((c) => ({ pos: c.pos, label: showPiece(pieces[c.pos] ?? `#${c.pos}`) }));
  return {
    hasRows: true, cols, error: s.errors.lens, partial: g.from > 0, n: g.T - g.from,
    rows: g.rows.slice().reverse().map((r) => ({
      layer: r.layer, label: r.layer < 0 ? 'embeddings' : `block ${r.layer + 1}`,
      cells: r.cells.map((c) => {
        const rgb = probRGB(c.prob);
        return { id: c.id, pos: c.pos, raw: c.prob, piece: showPiece(c.piece), p: pct(c.prob), bg: css(rgb), ink: ink(rgb), title: `after ${r.layer < 0 ? 'embeddings' : `block ${r.layer + 1}`}, position ${c.pos}: “${c.piece}” id ${c.id}, p = ${pct(c.prob)}` };
      }),
    })),
  };
}

export function lensView({ templates }) {
  return {
    watch: ['lens', 'run', 'errors', 'prompt', 'gen', 'interventions'],
    render(el, s) {
      el.innerHTML = templates.render('lens', 'main', lensModel(s));
      for (const td of el.querySelectorAll('[data-bg]')) { td.style.background = td.dataset.bg; td.style.color = td.dataset.ink; }
    },
  };
}
