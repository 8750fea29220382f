/* loader view — which model is loaded, load progress, and "bring your own
 * GPT-2": a file picker, a folder picker and a drop zone for a Hugging Face
 * checkpoint. Missing or wrong files are named before anything is sent to the
 * engine; the engine's own errors (a truncated safetensors, a bad config)
 * come back with C's message and are shown here, while the previous model
 * keeps working. */
import { applyWidths } from '../../lib/charts.js';

const WANTED = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt', 'tokenizer.json'];
const PHASES = { read: 'Reading files', download: 'Downloading weights', copy: 'Loading weights into the engine', parse: 'Checking the weights, reading the tokenizer' };

/**
 * Picks the checkpoint's files out of a FileList/array of File.
 * @returns {Promise<{files: {config: File, safetensors: File, vocab?: File, merges?: File, tokenizerJson?: File}, name: string, transfer: []}>}
 * @throws Error naming what is missing
 */
export async function readModelFiles(list, onProgress = () => {}) {
  const byName = new Map();
  for (const f of list) {
    const base = f.name.split('/').pop();
    if (WANTED.includes(base) && !byName.has(base)) byName.set(base, f);
  }
  const missing = [];
  if (!byName.has('config.json')) missing.push('config.json');
  if (!byName.has('model.safetensors')) missing.push('model.safetensors');
  const pair = byName.has('vocab.json') && byName.has('merges.txt');
  // No tokenizer files at all is a valid checkpoint (it runs on ids); half a pair is a mistake.
  if (!pair && !byName.has('tokenizer.json') && (byName.has('vocab.json') || byName.has('merges.txt'))) missing.push(byName.has('vocab.json') ? 'merges.txt (vocab.json needs it)' : 'vocab.json (merges.txt needs it)');
  if (missing.length) {
    const got = [...list].map((f) => f.name).slice(0, 8).join(', ') || 'nothing';
    throw new Error(`missing ${missing.join(' and ')}. A GPT-2 checkpoint folder has config.json, model.safetensors and vocab.json + merges.txt or tokenizer.json; got ${got}.`);
  }
  const st = byName.get('model.safetensors');
  if (st.size < 8) throw new Error(`model.safetensors is only ${st.size} bytes: it is empty or truncated.`);
  const pick = pair ? ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'] : byName.has('tokenizer.json') ? ['config.json', 'model.safetensors', 'tokenizer.json'] : ['config.json', 'model.safetensors'];
  let named = '';
  try { named = String(JSON.parse(await byName.get('config.json').text())._name_or_path || '').split('/').pop(); } catch { /* the engine reports bad JSON */ }
  // The File objects themselves go to the worker (structured clone shares
  // their data, nothing is read here), so a 500 MB checkpoint never sits in
  // the page's memory; the worker reads them (phase 'read').
  const files = { config: byName.get('config.json'), safetensors: st };
  if (pair) { files.vocab = byName.get('vocab.json'); files.merges = byName.get('merges.txt'); } else if (byName.has('tokenizer.json')) files.tokenizerJson = byName.get('tokenizer.json');
  onProgress({ phase: 'read', fraction: 0 });
  const dir = (st.webkitRelativePath || '').split('/')[0];
  return { files, name: dir || named || 'your model', transfer: [], pick };
}

/* Files from a drop: plain files, or the contents of dropped folders. */
async function droppedFiles(dt) {
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) return [...dt.files];
  const out = [];
  const walk = async (e, depth) => {
    if (e.isFile) out.push(await new Promise((res, rej) => e.file(res, rej)));
    else if (e.isDirectory && depth < 2) {
      const r = e.createReader();
      for (;;) {
        const batch = await new Promise((res, rej) => r.readEntries(res, rej));
        if (!batch.length) break;
        for (const c of batch) await walk(c, depth + 1);
      }
    }
  };
  for (const e of entries) await walk(e, 0);
  return out;
}

const fmtParams = (c) => {
  const n = c.vocab_size * c.n_embd + c.n_positions * c.n_embd + c.n_layer * (12 * c.n_embd * c.n_embd + 13 * c.n_embd);
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${(n / 1e3).toFixed(0)}K`;
};

export function loaderView({ templates, actions, embed }) {
  return {
    watch: ['status', 'config', 'model'],
    render(el, s) {
      const st = s.status, c = s.config;
      const p = st.progress;
      const name = s.model.startsWith('local:') ? s.model.slice(6) : s.model.replace(/\/$/, '').split('/').pop();
      const vm = {
        embed,
        phase: st.phase,
        modelLabel: name === 'default' ? 'Glassbox default model' : name,
        modelTitle: s.model,
        configText: c ? `${fmtParams(c)} params · ${c.n_layer} layers · ${c.n_head} heads · width ${c.n_embd} · context ${c.n_positions}` : '',
        badge: st.phase === 'ready' ? 'live' : st.phase === 'error' ? 'error' : 'wait',
        statusText: st.phase === 'ready' ? 'live' : st.phase === 'error' ? 'not loaded' : c ? 'precomputed · loading engine…' : 'loading…',
        progress: p ? { percent: Math.round(100 * (p.fraction || 0)), label: PHASES[p.phase] || p.phase } : null,
        error: st.error,
        // An embed's footer stays one line whatever the host's headers: the thread count and
        // why live on the full page (the embed's height is measured there, isolated).
        threadsText: st.threads && !embed ? `${st.threads.count} thread${st.threads.count === 1 ? '' : 's'}` : '',
        threadsCount: st.threads?.count,
        threadsNote: st.threads?.note && !embed ? `The engine runs on ${st.threads.note}. The numbers are the same on any number of threads, only slower to come.` : '',
        // After loading one's own model (or a lesson's), one click returns to the default model.
        notDefault: !embed && !s.lesson && s.model !== 'models/default/' && st.phase !== 'loading',
      };
      el.innerHTML = templates.render('loader', 'main', vm);
      applyWidths(el);
      if (embed) return;
      el.querySelector('[data-act="default-model"]')?.addEventListener('click', () => actions.loadUrl('models/default/'));
      const go = (files) => { if (files && files.length) actions.loadFiles(files); };
      for (const inp of el.querySelectorAll('input[type=file]')) inp.addEventListener('change', () => go([...inp.files]));
      const dz = el.querySelector('.dropzone');
      dz.addEventListener('dragover', (ev) => { ev.preventDefault(); dz.classList.add('over'); });
      dz.addEventListener('dragleave', () => dz.classList.remove('over'));
      dz.addEventListener('drop', async (ev) => { ev.preventDefault(); dz.classList.remove('over'); go(await droppedFiles(ev.dataTransfer)); });
      dz.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); el.querySelector('.file-input').click(); } });
    },
  };
}
