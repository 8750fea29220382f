/* next-task.js — run a function in a task of its own, soon: a MessageChannel
 * message, which (unlike setTimeout) is not held back for a rendering frame or
 * clamped after nesting, so work split into slices for the Long Tasks budget
 * finishes as soon as the slices allow. Callbacks run in the order given. */
const queue = [];
let channel = null;

/** Calls f in a new task. */
export function nextTask(f) {
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => { const g = queue.shift(); g?.(); };
  }
  queue.push(f);
  channel.port2.postMessage(0);
}
