/* badge.js — the one interventions badge ("2 heads ablated · clear"): main.js
 * draws it above every view that shows the run's numbers, in the page and in
 * embeds, so nobody reads an intervened number as the model's own. Hidden
 * when the run has no interventions. */
import { ivNames, ivSummary } from '../state.js';

/** Draws the badge for state s into slot; "clear" calls actions.clearInterventions. off: the view shows no numbers now. */
export function renderBadge(slot, s, actions, off = false) {
  const list = s.interventions;
  slot.className = 'iv-badge';
  slot.hidden = !list.length || off;
  if (slot.hidden) { slot.replaceChildren(); return; }
  const text = document.createElement('span');
  text.className = 'iv-badge-text';
  text.textContent = ivSummary(list);
  text.title = `Every number here is of the intervened run: ${ivNames(list)}`;
  const names = document.createElement('span');
  names.className = 'iv-badge-names';
  names.textContent = ivNames(list);
  const clear = document.createElement('button');
  clear.type = 'button';
  clear.className = 'iv-clear';
  clear.textContent = 'clear';
  clear.setAttribute('aria-label', 'clear the interventions: back to the model’s own run');
  clear.addEventListener('click', () => actions.clearInterventions());
  slot.setAttribute('role', 'status');
  slot.replaceChildren(text, names, document.createTextNode(' · '), clear);
}
