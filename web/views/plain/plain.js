/* plain view — one line above the current step for a newcomer: what the step
 * shows, in words (lib/plain.js), with the hook names only as small
 * secondary labels. */
import { plainFor } from '../../lib/plain.js';

export function plainView({ templates }) {
  return {
    watch: ['stage', 'layer'],
    render(el, s) { el.innerHTML = templates.render('plain', 'main', plainFor(s.stage, s.layer)); },
  };
}
