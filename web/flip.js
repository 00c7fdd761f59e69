// Flipping the answer, in the page: from the current input's pixels, a small change that
// makes the network answer a chosen class, and how large that change is. It is the search of
// lenet/inside/flip.py step for step (its docstring explains each step), on the page's own
// engine; tests/test_flip.py holds the two equal, and the numbers come from web/flip.json,
// written by `python -m lenet.inside.flip`.
//
//   const f = flip(net, pixels, 3);          // f.found, f.pixels, f.change, f.sizes, f.steps
//   const s = changeSizes(before, after);    // {changed, l2, largest}: a student's own try
//
// The search in short: while the answer is not the target (by a margin), step against the
// gradient of (largest other logit - target logit) far enough to end that gap on the
// gradient's straight line, at most `max_step` (L2) at a time, and clip the pixels to [0, 1].

import { argmax } from "./arrays.js";

export const SEARCH = await (await fetch(new URL("flip.json", import.meta.url))).json();

/** Search for a small change of `pixels` (C*H*W values in [0, 1], channel-major: the
 * network's input before normalisation) that makes `net` answer class `target`, with the
 * parts in `off` switched off. -> {found, pixels (the changed input, Float32Array in [0, 1];
 * the last tried when not found), change (changed - given), sizes (changeSizes), steps,
 * answer (the class the network gives the changed input), before (its answer before), ms}.
 * An input already answered with the target is found at step 0, unchanged. */
export function flip(net, pixels, target, {off = {}} = {}) {
  checkTarget(net, target);
  const started = performance.now(), given = Float32Array.from(pixels);
  let now = given, run = net.forward(net.normalize(now), {off}), steps = 0;
  const before = run.top;
  while (!reached(run.logits, target, steps) && steps < SEARCH.max_steps) {
    const next = step(net, run, now, target);
    if (!next) break;                                    // a zero gradient: nothing to follow
    now = next;
    steps++;
    run = net.forward(net.normalize(now), {off});
  }
  return {found: reached(run.logits, target, steps), pixels: now,
    change: Float32Array.from(now, (v, i) => v - given[i]),
    sizes: changeSizes(given, now, net.inputShape.channels), steps, answer: run.top, before,
    ms: performance.now() - started};
}

/** How much `after` differs from `before` (flat arrays of C*H*W values on the [0, 1] scale,
 * channel-major; `channels` = C): {changed: pixels (positions; a colour pixel is one) whose
 * largest |change| is at least one 8-bit level, l2: the change's L2 norm over every value,
 * largest: its largest |change|}. As lenet.inside.flip.change_sizes, in doubles. */
export function changeSizes(before, after, channels = 1) {
  if (before.length !== after.length || before.length % channels) {
    throw new Error(`cannot compare ${before.length} values with ${after.length}`);
  }
  const plane = before.length / channels, most = new Float64Array(plane);
  let squares = 0, largest = 0;
  for (let i = 0; i < before.length; i++) {
    const d = Math.abs(after[i] - before[i]), p = i % plane;
    squares += d * d;
    if (d > largest) largest = d;
    if (d > most[p]) most[p] = d;
  }
  const changed = most.reduce((n, d) => n + (d >= SEARCH.changed ? 1 : 0), 0);
  return {changed, l2: Math.sqrt(squares), largest};
}

function checkTarget(net, target) {
  const n = net.classes.length;
  if (!(Number.isInteger(target) && target >= 0 && target < n)) {
    throw new Error(`the target must be a class index 0-${n - 1}, not ${target}`);
  }
}

/** The class with the largest logit but the target's (the first of equals). */
function rivalOf(logits, target) {
  let best = -1;
  for (let i = 0; i < logits.length; i++) {
    if (i !== target && (best < 0 || logits[i] > logits[best])) best = i;
  }
  return best;
}

/** Done: the answer is the target, leading every other class by the margin once anything
 * has been changed. */
function reached(logits, target, steps) {
  if (argmax(logits) !== target) return false;
  return steps === 0 || logits[target] - logits[rivalOf(logits, target)] >= SEARCH.margin;
}

/** One step from `pixels` (whose run is `run`): against the gradient of the gap (rival's
 * logit - target's), (gap + aim) / |gradient| long, at most max_step; clipped to [0, 1].
 * null where the gradient is zero. */
function step(net, run, pixels, target) {
  const rival = rivalOf(run.logits, target), seed = new Float32Array(run.logits.length);
  seed[rival] = 1;
  seed[target] = -1;
  // d(gap)/d(normalised input) -> d(gap)/d(pixel): the input is (pixel - mean) / std.
  const grad = net.answerGradient(run, seed), plane = grad.length / net.inputShape.channels;
  const slope = Float64Array.from(grad, (g, i) => g / net.std[Math.floor(i / plane)]);
  const norm = Math.sqrt(slope.reduce((s, g) => s + g * g, 0));
  if (!(norm > 0)) return null;
  const gap = run.logits[rival] - run.logits[target];
  const scale = Math.min((gap + SEARCH.aim) / norm, SEARCH.max_step) / norm;
  return Float32Array.from(pixels, (p, i) => Math.min(Math.max(p - scale * slope[i], 0), 1));
}
