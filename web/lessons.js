/* lessons.js — lesson mode's guided walks (issue 9; plan in
 * models/lessons/LESSONS.md): for each lesson model, its prepared prompts and
 * 3–6 steps. Each step says what to look for and what the page measures live
 * on the learner's prompt (web/lib/lesson-metrics.js computes it in the
 * worker). Pure data and pure functions, shared by the page and Node tests.
 *
 * A step:
 *   title     short name (the step list)
 *   look      what to look for (plain text; the measurement sits beside it)
 *   grids     scores of lesson-metrics.js SCORES to show as heads grids
 *   ablate    true: clicking a head in a grid ablates it (else it selects it)
 *   suggest   ablations offered as one-click buttons: [["L.H", ...], label]
 *   show      {stage, layer, head}: where the main walk goes (the attention
 *             pattern of the head to look at), or null
 *   adder     true: the "type a + b" helper (addition's last step)
 *   lens      true: points at the logit lens
 */

export const LESSON_NAMES = ['induction', 'addition', 'sort'];

/** Where a lesson's model directory is served. */
export const lessonModelUrl = (name) => `models/lessons/${name}/`;

/** The lesson a model URL belongs to, or ''. */
export function lessonOfModel(url) {
  const m = /(?:^|\/)models\/lessons\/([a-z]+)\/?$/.exec(url || '');
  return m && LESSON_NAMES.includes(m[1]) ? m[1] : '';
}

export const LESSONS = {
  induction: {
    title: 'Induction: how does a transformer copy what it saw?',
    short: 'Induction',
    task: 'A random string, then the same string again. The first half cannot be predicted (chance is about 1 in 95); the second half can, if the model finds where it saw the current character before and copies what came next. This model does it, but not with the textbook circuit: you will look for that first, not find it, and then find the one it really uses.',
    prompts: [
      { text: 'kQ7#vB2xLp9ZkQ7#vB2xLp9Z', label: 'random string, repeated' },
      { text: 'vx&*{tW_359 Yiw\\R@uvx&*{tW_359 Yiw\\R@u', label: 'held-out string (L = 19)' },
      { text: 'the cat sat on the mat. the cat sat on the mat.', label: 'English, repeated' },
      { text: 'abcdefghij0123456789', label: 'no repeat (control)' },
    ],
    random: true,
    steps: [
      { title: 'Look at the predictions', grids: [],
        look: 'Each character is marked ✓ when the model’s top guess for it (made one position earlier) is right. The repeated half is right everywhere, the first half wrong everywhere, and not randomly wrong: in the first half the model almost always guesses the string’s first character. It bets that the repeat starts next.' },
      { title: 'Look for the textbook circuit', grids: ['induction_score', 'prev_token_score'], show: { stage: 'softmax', layer: 1, head: 1 },
        look: 'The textbook circuit is a previous-token head in layer 1 feeding an induction head in layer 2 that attends to the token after the earlier occurrence. It would light one cell of each grid near 1. Here every cell is small: this model solves the task another way. Yet ablating L2 h2 breaks it (step 5): that head does the copying without looking at the answer’s position.' },
      { title: 'Layer 1 looks halfway back', grids: ['lookback_ratio'], show: { stage: 'softmax', layer: 0, head: 0 },
        look: 'The look-back ratio says where a head attends, as a fraction of the way back (1 = the previous token, 0.5 = halfway). On the card’s held-out strings L1 h1 and L1 h2 score 0.46 and 0.40: their patterns are sharp lines of slope ½, one position apart, whatever the characters (edit them: the lines stay). So each position now holds a pair of neighbouring earlier characters: a memory of which character followed which. Click L1 h2 to compare.' },
      { title: 'Layer 2 reads the pair', grids: ['virtual_match_score', 'virtual_induction_score'], show: { stage: 'softmax', layer: 1, head: 1 },
        look: 'Multiply a layer-2 pattern by a layer-1 pattern: how much the layer-2 head reads a character through the layer-1 head. Through L1 h2, head L2 h2 looks at the earlier occurrence of its own character (match ≈ 0.7: its key, K-composition); through L1 h1 it reads the character after it, the answer (≈ 0.66: its value, V-composition). Match the first of the pair, copy the second.' },
      { title: 'Break each part', grids: ['virtual_match_score', 'virtual_induction_score'], ablate: true,
        suggest: [[['0.0'], 'L1 h1 (value)'], [['0.1'], 'L1 h2 (key)'], [['1.1'], 'L2 h2 (copies)'], [['1.0'], 'L2 h1 (control)'], [['0.0', '0.1', '1.1'], 'all three']],
        look: 'Ablate one head at a time (its output becomes zeros) and watch the repeated-half accuracy and the grids, recomputed with the ablation on. L1 h1: accuracy collapses although L2 h2 still finds the pair (match stays high): the second character is gone. L1 h2: L2 h2 no longer finds it (match drops). L2 h2: the copying and the first-half bet both go. The control changes nothing.' },
      { title: 'Your turn', grids: ['virtual_match_score'], lens: true,
        look: 'Edit the prompt: English with repeated letters (the match finds two earlier occurrences), a prefix before the string, a third copy, or a new random string. Does the halfway-back memory still have each pair ready in time? The logit lens below shows how sure the model is at each position.' },
    ],
  },
  addition: {
    title: 'Addition: which digits does the model look at?',
    short: 'Addition',
    task: 'Three-digit addition with the sum written backwards: “045+123=8610” means 45 + 123 = 168 (read 8610 from the right: 0168). Positions are fixed: a at 0–2, “+” at 3, b at 4–6, “=” at 7; the answer digit k (units first) is predicted at position 7 + k.',
    prompts: [
      { text: '045+123=8610\n', label: 'no carry' },
      { text: '658+476=4311\n', label: 'a carry into every column' },
      { text: '999+001=0001\n', label: 'a carry through every column' },
      { text: '500+500=0001\n', label: 'a carry into the thousands' },
    ],
    steps: [
      { title: 'Why backwards?', grids: [],
        look: 'Written units first, each answer digit depends only on columns the model has already seen, as in column addition by hand. The strip marks each prediction from “=” on: ✓ when the model’s top guess is the next character. All five (four digits and the end mark ↵) are right: the model answers exactly.' },
      { title: 'Each digit looks at its own column', grids: ['operand_score'], show: { stage: 'softmax', layer: 0, head: 0 },
        look: 'The operand score of a head: how much the position writing digit k attends to aₖ and bₖ, the two digits of its column. Heads 1 and 3 of block 1 score about 0.95: each puts half its attention on each operand digit. Click a head to see its pattern: rows 7–9 light up a pair of diagonal stripes.' },
      { title: 'Where does the carry come from?', grids: ['carry_score'], show: { stage: 'softmax', layer: 0, head: 1 },
        look: 'The carry score: attention to the previous column’s digits, aₖ₋₁ and bₖ₋₁. Block 1 head 2 scores about 0.8. The previous answer digit is the token at that position already, so the model has what a column adder needs: this column, the last column, and the last answer digit.' },
      { title: 'Break it', grids: ['operand_score'], ablate: true,
        suggest: [[['0.0'], 'L1 h1 (column)'], [['0.2'], 'L1 h3 (column)'], [['0.1'], 'L1 h2 (carry)'], [['0.3'], 'L1 h4 (control)'], [['0.0', '0.1', '0.2'], 'all three']],
        look: 'Click a head to ablate it and compare exact-match accuracy on your prompt and on the card’s 200 held-out sums. A column head: 100% falls to a few percent, every digit but the thousands goes wrong. The carry head: units digits stay right (they need no carry), the rest fail where a carry matters; try 658+476 against 045+123. Any other head changes nothing.' },
      { title: 'Your turn', grids: [], adder: true, lens: true,
        look: 'Type two numbers: the page writes the prompt in the trained format with the true answer, and the strip shows whether the model agrees. Edit one digit of the answer: the strip goes red exactly there. Try an unpadded 45+123=: the model has learned positions, not numbers.' },
    ],
  },
  sort: {
    title: 'Sort: attention that compares',
    short: 'Sort',
    task: '2 to 12 distinct lowercase letters, “>”, the same letters in alphabetical order, then ↵. Unlike addition (by position) or induction (by matching a token), a head here picks its source by comparing letters, and the work is shared by several heads.',
    prompts: [
      { text: 'world>dlorw\n', label: 'world' },
      { text: 'jumpsovertl>ejlmoprstuv\n', label: '11 letters' },
      { text: 'zyxwvutsrqpo>opqrstuvwxyz\n', label: 'reversed input' },
      { text: 'hello>ehllo\n', label: 'a repeated letter (never seen)' },
    ],
    steps: [
      { title: 'The task', grids: [],
        look: 'After “>”, each position predicts the next letter of the sorted word, then ↵. The strip marks every prediction: all right. The model has to find, at each step, the smallest letter larger than the one it just wrote.' },
      { title: 'Who looks at the next letter?', grids: ['next_letter_score'], show: { stage: 'softmax', layer: 1, head: 3 },
        look: 'The next-letter score: attention from the position about to write a letter to where that letter sits in the input. On the card’s held-out words every block-2 head scores between 0.34 and 0.49, none near 1: no single head points at the answer. On one word it varies more: compare your prompt with the card.' },
      { title: 'What do they look at instead?', grids: ['remaining_score'], show: { stage: 'softmax', layer: 1, head: 3 },
        look: 'The remaining score: attention to all the input letters not written yet (the next one and every larger one). The layer-2 heads put most of their attention there and little on letters already written: they narrow the choice by comparing, and the MLP picks the winner.' },
      { title: 'Break it, one head at a time', grids: ['next_letter_score'], ablate: true,
        suggest: [[['1.3'], 'L2 h4'], [['1.2'], 'L2 h3'], [['0.1'], 'L1 h2'], [['1.0'], 'L2 h1 (control)'], [['0.1', '1.2', '1.3'], 'all three']],
        look: 'Ablate one head at a time: exact-match on the 100 held-out words drops from 100% to between about 50% and 80%, and L2 h1 changes nothing. Ablate the three together and it falls much further. The mechanism is spread over heads: redundancy.' },
      { title: 'Your turn', grids: ['remaining_score'], lens: true,
        look: 'Type a word with distinct letters, “>”, and its letters sorted. Then a word with a repeated letter (hello): never seen in training. Watch which output goes wrong.' },
    ],
  },
};

/** The step index clamped into the lesson's walk. */
export function clampStep(name, i) {
  const l = LESSONS[name];
  return l ? Math.max(0, Math.min(l.steps.length - 1, i | 0)) : 0;
}

/** The full text of a + b in the addition lesson's format ("045+123=8610\n"), or null. */
export function additionText(a, b) {
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0 || a > 999 || b > 999) return null;
  const pad = (n, w) => String(n).padStart(w, '0');
  return `${pad(a, 3)}+${pad(b, 3)}=${[...pad(a + b, 4)].reverse().join('')}\n`;
}

/** A random string of n distinct printable ASCII characters (no space), repeated once. */
export function randomRepeat(n, rand = Math.random) {
  const pool = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i));
  const out = [];
  for (let i = 0; i < n && pool.length; i++) out.push(pool.splice(Math.floor(rand() * pool.length), 1)[0]);
  return out.join('').repeat(2);
}
