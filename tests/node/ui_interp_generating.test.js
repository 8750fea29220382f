/* ui_interp_generating.test.js — the interpretability views wait while Generate
 * runs: each would otherwise recompute for every generated token in the one
 * engine worker, ahead of the next token (6 s a token at 1,014 tokens on GPT-2
 * small). Checked with interp-client.js's own refresh logic, a real store, a
 * recording client and an IntersectionObserver stand-in that shows every card. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createInterp } from '../../web/lib/interp-client.js';
import { createStore, initialState } from '../../web/state.js';

test('no tool computes while generating; each computes once Generate ends', async () => {
  globalThis.IntersectionObserver = class {
    constructor(cb) { this.cb = cb; }
    observe(el) { this.cb([{ target: el, isIntersecting: true }]); }
  };
  try {
    const store = createStore({ ...initialState(), generating: true, errors: {} });
    const calls = [];
    const client = { call: async (verb) => { calls.push(verb); return {}; } };
    const interp = createInterp({ store, client, live: () => true, setError: () => {}, markNow: () => {} });
    interp.observe(['dla', 'heads', 'sparsity'].map((name) => [name, { dataset: { view: name } }]));
    store.set({ gen: [5] });
    store.set({ gen: [5, 7] });
    await new Promise((r) => setTimeout(r, 150)); // past the 60 ms debounce
    assert.deepEqual(calls, []);
    store.set({ generating: false });
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(calls.sort(), ['dla', 'heads', 'sparsity']);
  } finally {
    delete globalThis.IntersectionObserver;
  }
});
