/* ui_unpadded.test.js — the addition lesson explains an unpadded prompt
 * (45+123=), shows the model's own prediction there, and offers the padded
 * form; trained-format prompts and other lessons get nothing. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unpaddedHelp } from '../../web/views/lesson/unpadded.js';

test('45+123= is explained, with the prediction and the padded form', () => {
  const h = unpaddedHelp('addition', '45+123=', { rows: [{ piece: '7', prob: 0.41 }] });
  assert.match(h.why, /cannot answer 45\+123=/);
  assert.match(h.why, /position 2 instead of 3/);
  assert.match(h.why, /sum 168 \(written backwards: 8610\)/);
  assert.equal(h.guess, 'Its most likely next character after “123=” is “7” (41.0%).');
  assert.equal(h.padded, '045+123=8610\n');
  assert.equal(unpaddedHelp('addition', '45+123=', null).guess, '');
});

test('the trained format and other lessons get no note', () => {
  assert.equal(unpaddedHelp('addition', '045+123=8610\n', null), null);
  assert.equal(unpaddedHelp('addition', 'hello', null), null);
  assert.equal(unpaddedHelp('sort', '45+123=', null), null);
});
