/* ui_state.test.js — the page's state, URL encoding and step walk (no browser). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULTS, ablatedHeads, ablationMode, clampToModel, createStore, decodeUrl, encodeUrl, initialState, ivSummary, parseIv, formatIv, runKey, sampleKey, toggleHead } from '../../web/state.js';
import { BLOCK_KEYS, KIND, STEPS, moveStep, stepId, stepIndex, stepList } from '../../web/steps.js';

test('the default state encodes to an empty query', () => {
  assert.equal(encodeUrl(initialState()), '');
});

test('URL round trip keeps every field that differs from the defaults', () => {
  const s = { ...initialState(), prompt: 'Hello, wörld & co?', stage: 'softmax', layer: 3, head: 2, allHeads: true,
    temperature: 0.5, topK: 7, topP: 0.8, seed: 1234, gen: [446, 3010, 11], model: 'models/gpt2/',
    interventions: [{ kind: 'ablate-mean', layer: 0, head: 1 }, { kind: 'ablate-zero', layer: 2, head: 3 }, { kind: 'patch', layer: 1, hook: 'hook_resid_pre', pos: 4 }] };
  const q = encodeUrl(s);
  const back = decodeUrl(q);
  for (const k of ['prompt', 'stage', 'layer', 'head', 'allHeads', 'temperature', 'topK', 'topP', 'seed', 'gen', 'interventions', 'model']) {
    assert.deepEqual(back[k], s[k], k);
  }
  assert.equal(back.view, undefined, 'view is only carried for embeds');
  assert.equal(decodeUrl(encodeUrl({ ...s, view: 'lens' }, { keepView: true })).view, 'lens');
});

test('bad URL values are ignored or clamped, unknown parameters dropped', () => {
  const d = decodeUrl('?layer=abc&head=-3&t=99&p=0&seed=1e12&iv=z1.2,x,3,q1.1,z2,m0.1~x@&heads=maybe&zzz=1&gen=5,x,-2,7');
  assert.equal(d.layer, undefined);
  assert.equal(d.head, 0);
  assert.equal(d.temperature, 5);
  assert.equal(d.topP, 0.01);
  assert.equal(d.seed, 2 ** 31 - 1);
  assert.deepEqual(d.interventions, [{ kind: 'ablate-zero', layer: 1, head: 2 }]);
  assert.deepEqual(d.gen, [5, 7]);
  assert.equal(d.allHeads, undefined);
  assert.equal('zzz' in d, false);
});

test('the store reports which fields changed, and only real changes', () => {
  const store = createStore({ a: 1, b: [1] });
  const seen = [];
  store.subscribe((s, changed) => seen.push(changed));
  assert.deepEqual(store.set({ a: 1 }), []);
  assert.deepEqual(store.set({ a: 2, b: store.get().b }), ['a']);
  assert.deepEqual(seen, [['a']]);
  assert.equal(store.get().a, 2);
});

test('state holds no visual fields', () => {
  const visual = /color|colour|px|width|height|font|style|pixel/i;
  for (const k of Object.keys(initialState())) assert.doesNotMatch(k, visual, k);
});

test('clampToModel keeps layer, head and ablations inside the model', () => {
  const cfg = { n_layer: 2, n_head: 4 };
  const iv = (l, h) => ({ kind: 'ablate-zero', layer: l, head: h });
  assert.deepEqual(clampToModel({ ...DEFAULTS, layer: 5, head: 9, interventions: [iv(0, 1), iv(3, 0), iv(1, 7)] }, cfg), { layer: 1, head: 3, interventions: [iv(0, 1)] });
  assert.deepEqual(clampToModel({ ...DEFAULTS }, cfg), {});
});

test('the walk covers embeddings, every block step per layer, and the output', () => {
  const list = stepList(3);
  assert.equal(list.length, 1 + 3 * BLOCK_KEYS.length + 3);
  assert.equal(list[0].key, 'embed');
  assert.deepEqual(list.slice(-3).map((s) => s.key), ['lnf', 'logits', 'sample']);
  assert.deepEqual(BLOCK_KEYS, ['ln1', 'qkv', 'scores', 'mask', 'softmax', 'mix', 'concat', 'proj', 'resid1', 'ln2', 'up', 'gelu', 'down', 'resid2']);
  list.forEach((s, i) => assert.equal(stepIndex(s.key, s.layer, 3), i));
  // Engine stages follow core/glassbox.h: 0 embed, 1+2L attention, 2+2L MLP, 1+2n final.
  assert.equal(list.find((s) => s.id === 'b1.softmax').engineStage, 3);
  assert.equal(list.find((s) => s.id === 'b1.gelu').engineStage, 4);
  assert.equal(list.find((s) => s.key === 'logits').engineStage, 7);
  for (const k of STEPS) {
    assert.ok(k.explain.split(/[.!?](\s|$)/).filter((x) => x && x.trim()).length >= 2, `${k.key} explanation has 2+ sentences`);
    assert.ok(k.formula.length > 3, `${k.key} has a formula`);
  }
  assert.equal(KIND.mask.group, 'attn');
});

test('moving steps crosses block boundaries and stops at the ends', () => {
  assert.deepEqual(moveStep('embed', 0, -1, 2), { stage: 'embed', layer: 0 });
  assert.deepEqual(moveStep('embed', 0, 1, 2), { stage: 'ln1', layer: 0 });
  assert.deepEqual(moveStep('resid2', 0, 1, 2), { stage: 'ln1', layer: 1 });
  assert.deepEqual(moveStep('ln1', 1, -1, 2), { stage: 'resid2', layer: 0 });
  assert.deepEqual(moveStep('resid2', 1, 1, 2), { stage: 'lnf', layer: 1 });
  assert.deepEqual(moveStep('sample', 1, 1, 2), { stage: 'sample', layer: 1 });
  assert.equal(stepId('softmax', 2), 'b2.softmax');
  assert.equal(stepId('logits', 2), 'logits');
});

test('old ?ablate= links load as an intervention list; links write iv=', () => {
  const d = decodeUrl('?ablate=1.2,0.3&am=mean');
  assert.deepEqual(d.interventions, [{ kind: 'ablate-mean', layer: 1, head: 2 }, { kind: 'ablate-mean', layer: 0, head: 3 }]);
  assert.deepEqual(decodeUrl('?ablate=0.1').interventions, [{ kind: 'ablate-zero', layer: 0, head: 1 }]);
  const q = encodeUrl({ ...initialState(), ...d });
  assert.equal(new URLSearchParams(q).get('iv'), 'm1.2,m0.3');
  assert.equal(new URLSearchParams(q).has('ablate'), false);
  assert.deepEqual(decodeUrl(q).interventions, d.interventions);
  // iv wins over a stale ablate in the same link.
  assert.deepEqual(decodeUrl('?iv=z0.0&ablate=1.1').interventions, [{ kind: 'ablate-zero', layer: 0, head: 0 }]);
});

test('an intervention entry: each kind one letter, a patch is one more entry of the same list', () => {
  for (const e of [{ kind: 'ablate-zero', layer: 3, head: 11 }, { kind: 'ablate-mean', layer: 0, head: 0 },
    { kind: 'patch', layer: 2, head: 1, hook: 'attn.hook_z', pos: 7 }, { kind: 'patch', layer: 5, hook: 'hook_resid_pre' }]) {
    assert.deepEqual(parseIv(formatIv(e)), e, formatIv(e));
  }
  assert.equal(parseIv('z1'), null, 'an ablation names its head');
  assert.equal(parseIv('y1.2'), null, 'unknown kind');
  const on = toggleHead([], 1, 2, 'ablate-mean');
  assert.deepEqual(on, [{ kind: 'ablate-mean', layer: 1, head: 2 }]);
  assert.deepEqual(toggleHead(on, 1, 2), []);
  const two = toggleHead(toggleHead([], 0, 1), 0, 2);
  assert.equal(ivSummary(two), '2 heads ablated');
  assert.deepEqual(ablatedHeads(two), ['0.1', '0.2']);
  assert.equal(ablationMode(two), 'zero');
  assert.equal(ablationMode([...two, { kind: 'ablate-mean', layer: 1, head: 0 }]), 'mixed');
  assert.equal(ivSummary([{ kind: 'ablate-mean', layer: 1, head: 0 }, { kind: 'patch', layer: 1 }]), '1 head mean-ablated · 1 activation patched');
});

test('answer keys: the run key ignores seed and sampling, the sample key does not', () => {
  const s = initialState();
  assert.equal(runKey({ ...s, seed: 7 }), runKey(s));
  assert.notEqual(sampleKey({ ...s, seed: 7 }), sampleKey(s));
  assert.notEqual(sampleKey({ ...s, topP: 0.5 }), sampleKey(s));
  assert.notEqual(runKey({ ...s, interventions: [{ kind: 'ablate-zero', layer: 0, head: 0 }] }), runKey(s));
  assert.notEqual(runKey({ ...s, gen: [5] }), runKey(s));
});
