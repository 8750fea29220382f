/* ui_context_window.test.js — context-window.js: which tokens a prompt longer
 * than the context keeps, the kept text's byte range, and byte -> string
 * offsets (expected values written out by hand from the UTF-8 encoding). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keepWindow, charOffset } from '../../web/lib/context-window.js';
import { keepNote, keptRanges } from '../../web/views/tokens/tokens.js';

// "ab cd ef" as three tokens with byte spans.
const ids = [10, 11, 12], spans = [[0, 2], [2, 5], [5, 8]];

test('a prompt within the context is kept whole', () => {
  assert.deepEqual(keepWindow(ids, spans, 3), { ids, truncated: 0, keep: 'end', keptBytes: null });
});

test('by default the most recent tokens are kept; keep=start keeps the first', () => {
  assert.deepEqual(keepWindow(ids, spans, 2), { ids: [11, 12], truncated: 1, keep: 'end', keptBytes: [2, 8] });
  assert.deepEqual(keepWindow(ids, spans, 2, 'start'), { ids: [10, 11], truncated: 1, keep: 'start', keptBytes: [0, 5] });
  assert.deepEqual(keepWindow(ids, spans, 1, 'bogus').ids, [12]);
  assert.equal(keepWindow(ids, null, 2).keptBytes, null, 'no spans: no range, the ids still cut');
});

test('byte offsets map to string offsets through multi-byte characters', () => {
  const t = 'aé€😀b'; // bytes: a 1, é 2, € 3, 😀 4, b 1 -> starts at 0, 1, 3, 6, 10
  assert.deepEqual([0, 1, 3, 6, 10, 11].map((b) => charOffset(t, b)), [0, 1, 2, 3, 5, 6]);
  assert.equal(charOffset(t, 2), 1, 'inside é: the start of é');
  assert.equal(charOffset(t, 8), 3, 'inside the emoji: its start (UTF-16 index 3)');
  assert.equal(charOffset(t, 99), t.length);
});

test('the tokens view marks the kept text and offers the other end', () => {
  const prompt = 'ab cd ef';
  const run = { ids: [11, 12], nPrompt: 2, truncated: 1, context: 2, keep: 'end', keptBytes: [2, 8] };
  assert.deepEqual(keptRanges(prompt, run), { before: 'ab', kept: ' cd ef', after: '' });
  assert.deepEqual(keptRanges(prompt, { ...run, keep: 'start', keptBytes: [0, 5] }), { before: '', kept: 'ab cd', after: ' ef' });
  const note = keepNote(run);
  assert.match(note.truncated, /prompt is 3 tokens; this model reads 2\. It keeps the last 2/);
  assert.equal(note.switchTo, 'start');
  assert.equal(keepNote({ ...run, truncated: 0 }).truncated, '');
});
