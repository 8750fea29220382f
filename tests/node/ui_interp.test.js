/* ui_interp.test.js — the page's interpretability plumbing without a
 * browser: id prompts (lib/ids.js), a grid cell as a run entry and its URL
 * round trip (state.js iv=), the answer keys (a patching grid does not depend
 * on the run's own patch entries; everything else does), the head ranking
 * and its default column, and the patching view-model's applied marks.
 * Expected values are written out by hand here. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIdList, idsOf, NO_TOKENIZER } from '../../web/lib/ids.js';
import { decodeUrl, encodeUrl, initialState, runKey, runDesc } from '../../web/state.js';
import { patchKey, dlaKey } from '../../web/lib/interp-client.js';
import { cellEntry, resultModel } from '../../web/views/patching/patching.js';
import { rankHeads, sortKey } from '../../web/views/heads/heads.js';

test('id prompts: "ids: 12, 7, 93", "12 7 93", "#12 #7"; anything else is not ids', () => {
  assert.deepEqual(parseIdList('ids: 12, 7, 93'), [12, 7, 93]);
  assert.deepEqual(parseIdList(' 12 7   93 '), [12, 7, 93]);
  assert.deepEqual(parseIdList('#12 #7'), [12, 7]);
  assert.deepEqual(parseIdList('IDS:5'), [5]);
  for (const bad of ['', 'hello', '12, x', '1.5', '-3', 'ids:']) assert.equal(parseIdList(bad), null, bad);
  const gb = { hasTokenizer: false, config: { vocab_size: 100 } };
  assert.deepEqual(idsOf(gb, 'ids: 1, 99'), [1, 99]);
  assert.throws(() => idsOf(gb, 'ids: 100'), /token id 100 is outside the vocabulary \(0\.\.99\)/);
  assert.throws(() => idsOf(gb, 'some text'), (e) => e.message === NO_TOKENIZER);
  assert.match(NO_TOKENIZER, /ids: 12, 7, 93.*vocab\.json \+ merges\.txt \(or tokenizer\.json\)/);
});

test('a clicked cell is a patch entry that survives the URL', () => {
  assert.deepEqual(cellEntry('hook_resid_pre', 9, 11), { kind: 'patch', layer: 1, hook: 'hook_resid_pre', pos: 2 });
  assert.deepEqual(cellEntry('attn.hook_z', 4, 14), { kind: 'patch', layer: 3, hook: 'attn.hook_z', head: 2 });
  const s = { ...initialState(), interventions: [cellEntry('attn.hook_z', 4, 14), cellEntry('hook_mlp_out', 9, 2), { kind: 'ablate-zero', layer: 1, head: 0 }], src: 'clean text', target: 5, distractor: 9, patchHook: 'attn.hook_z' };
  const q = encodeUrl(s);
  assert.match(decodeURIComponent(q), /iv=p3\.2~attn\.hook_z,p0~hook_mlp_out@2,z1\.0/);
  const back = decodeUrl(q);
  assert.deepEqual(back.interventions, s.interventions);
  assert.equal(back.src, 'clean text');
  assert.equal(back.target, 5);
  assert.equal(back.distractor, 9);
  assert.equal(back.patchHook, 'attn.hook_z');
});

test('keys: src is part of the run only with a patch; a grid ignores the run\'s patches', () => {
  const a = { ...initialState(), src: 'one' };
  const b = { ...a, src: 'two' };
  assert.equal(runKey(a), runKey(b), 'no patch: the clean prompt does not change the run');
  assert.equal(runDesc(a).src, null);
  const pa = { ...a, interventions: [cellEntry('attn.hook_z', 4, 14)] };
  assert.notEqual(runKey(pa), runKey({ ...pa, src: 'two' }));
  assert.equal(runDesc(pa).src, 'one');
  assert.equal(patchKey(a), patchKey(pa), 'a patch entry leaves the grid as it was');
  assert.notEqual(patchKey(a), patchKey({ ...a, interventions: [{ kind: 'ablate-zero', layer: 0, head: 1 }] }), 'an ablation changes it');
  assert.notEqual(patchKey(a), patchKey(b));
  assert.notEqual(dlaKey(a), dlaKey(pa), 'DLA reads the patched run');
});

test('head ranking: descending, ties by earlier head; the induction lesson sorts by virtual induction', () => {
  const a = { nHead: 2, induction: Float32Array.of(0.1, 0.5, 0.5, 0.2) };
  assert.deepEqual(rankHeads(a, 'induction').map((x) => `${x.l}.${x.h}`), ['0.1', '1.0', '1.1', '0.0']);
  assert.equal(sortKey({ headSort: '', model: 'models/default/' }), 'induction');
  assert.equal(sortKey({ headSort: '', model: 'models/lessons/induction/' }), 'virtualInduction');
  assert.equal(sortKey({ headSort: 'sink', model: 'models/lessons/induction/' }), 'sink');
  assert.equal(sortKey({ headSort: 'nonsense', model: 'x' }), 'induction');
});

test('the patching grid marks the cells the run has applied, and clips past ±1', () => {
  const s = { ...initialState(), src: 'c', patchHook: 'attn.hook_z', interventions: [cellEntry('attn.hook_z', 2, 3)], errors: {} };
  const grid = { hook: 'attn.hook_z', rows: 2, cols: 2, values: Float32Array.of(0, 1.5, -0.25, 0.5), ldClean: 2, ldCorrupted: -1 };
  const toks = [{ id: 1, piece: 'a' }, { id: 2, piece: 'b' }];
  s.patch = { key: patchKey(s), sameLength: true, clean: toks, corrupted: toks, target: toks[0], distractor: toks[1], grid };
  const m = resultModel(s);
  assert.equal(m.stale, false);
  const cells = m.rows.flatMap((r) => r.cells);
  assert.deepEqual(cells.map((c) => c.applied), [false, false, false, true]);
  assert.deepEqual(cells.map((c) => c.raw), [0, 1.5, -0.25, 0.5]);
  assert.match(m.clipped, /^1 values lie past ±1/);
  const mis = resultModel({ ...s, patch: { ...s.patch, sameLength: false, clean: [toks[0]], grid: null } });
  assert.equal(mis.mismatch, true);
  assert.equal(mis.nClean, 1);
  assert.equal(mis.nCorrupted, 2);
});
