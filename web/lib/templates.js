/* templates.js — loads views' .mustache files and renders them.
 *
 * One file per view may hold several templates: the text before the first
 * `{{!section:NAME}}` line is section "main", each marker starts section NAME.
 * Mustache is injected (the page passes vendor/mustache.mjs, Node tests pass
 * the npm package), so this module has no DOM or network dependency itself. */

/** Splits a .mustache file into {main, ...sections}. */
export function splitSections(text) {
  const out = {};
  let name = 'main';
  let buf = [];
  for (const line of text.split('\n')) {
    const m = /^\{\{!section:([\w-]+)\}\}\s*$/.exec(line);
    if (m) { out[name] = buf.join('\n'); name = m[1]; buf = []; } else buf.push(line);
  }
  out[name] = buf.join('\n');
  return out;
}

/**
 * @param {{render: (tpl: string, view: object) => string}} Mustache
 * @param {(path: string) => Promise<string>} load  text of a template file
 */
export function createTemplates(Mustache, load) {
  const files = new Map();   // name -> sections
  const pending = new Map(); // name -> Promise of the load (one fetch per file)
  const config = { escape: escapeHtml };
  return {
    /** Loads views/<name>/<name>.mustache once. */
    async preload(name) {
      if (!pending.has(name)) pending.set(name, load(`views/${name}/${name}.mustache`).then((t) => { files.set(name, splitSections(t)); }));
      await pending.get(name);
      return files.get(name);
    },
    /** Renders section of view name (must be preloaded). */
    render(name, section, view) {
      const f = files.get(name);
      if (!f || !(section in f)) throw new Error(`template ${name}#${section} is not loaded`);
      return Mustache.render(f[section], view, {}, config);
    },
    renderText(tpl, view) { return Mustache.render(tpl, view, {}, config); },
  };
}

/* Escapes what HTML text and double- or single-quoted attributes need, and
 * nothing more: Mustache's default also escapes / = and `, which makes the
 * embed snippet's URL unreadable (src="http:&#x2F;&#x2F;..."). */
const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(s) { return String(s).replace(/[&<>"']/g, (c) => ESC[c]); }
