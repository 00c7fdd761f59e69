// A forward run over a network's stages: every named output, the answer (with the mirror
// image's logits where the checkpoint asks), and the numbers the views write out (display
// pixels, the softmax's exponentials and denominator). Gradients are attributions.js's.

import { KINDS } from "./layer_kinds.js";
import { argmax } from "./arrays.js";

/** The softmax written out as a student computes it: each class's e^z (in doubles) and their
 * sum, the denominator. The probabilities are computed shifted by the largest logit, so they
 * stay exact where e^z itself would overflow (z > 709: then that e^z is Infinity). */
export function softmax(logits) {
  const top = logits[argmax(logits)], shifted = Float64Array.from(logits, (v) => Math.exp(v - top));
  const total = shifted.reduce((a, b) => a + b, 0);
  const exponentials = Float64Array.from(logits, (v) => Math.exp(v));
  return {probabilities: Float32Array.from(shifted, (v) => v / total), exponentials,
    denominator: exponentials.reduce((a, b) => a + b, 0)};
}

/** A normalised input back to the pixels a person sees: pixel * std + mean per channel,
 * clipped to [0, 1], channel-major (as Classifier.pixels). */
function displayPixels(input, [, H, W], mean, std) {
  const plane = H * W;
  return Float32Array.from(input, (v, i) => {
    const c = Math.floor(i / plane);
    return Math.min(Math.max(v * std[c] + mean[c], 0), 1);
  });
}

/** Zero the listed channels of a [C, H, W] output, or the listed units of an [N] one, in
 * place: what switching them off means (an activation or a pooling after it keeps the zeros,
 * since ReLU(0) = tanh(0) = 0). */
export function switchOff(values, shape, channels) {
  const size = shape.length === 3 ? shape[1] * shape[2] : 1;
  for (const c of channels) values.fill(0, c * size, (c + 1) * size);
}

/** Every stage's input and output along one pass: values[i] feeds stage i. `off`: {layer
 * name: [channel or unit, ...]}, the parts switched off (their outputs zeroed). */
function passValues(stages, input, off) {
  const values = [input];
  for (const s of stages) {
    const out = KINDS[s.kind].forward(values.at(-1), s);
    if (s.name && off[s.name]) switchOff(out, s.outShape, off[s.name]);
    values.push(out);
  }
  return values;
}

// ---------------------------------------------------------------------------- resuming a pass
// A pass of the same input with other parts off differs from an earlier one only from the
// first stage whose parts differ, and there, for a while, only in some channels: each stage
// recomputes what can differ and takes the rest from the earlier pass. A conv or linear
// stage whose input differs in a few channels adds what those channels' change contributes
// (its own arithmetic on the change alone, without bias: exact up to rounding), since it
// sums its input channels' contributions; after it every channel may differ.

export const MIXING = new Set(["conv", "linear"]);

/** The values of a [C, H, W] map or an [N] vector per channel (per unit: 1). */
export function planeOf(shape) {
  return shape.length === 3 ? shape[1] * shape[2] : 1;
}

/** The channels (or units) whose being off differs between two sets of parts off. */
function turned(before = [], now = []) {
  const was = new Set(before), is = new Set(now);
  return [...new Set([...before, ...now])].filter((c) => was.has(c) !== is.has(c));
}

// A conv or linear stage's weights for one of its input channels (its plane of `plane`
// values), without bias, kept per stage: computing a change's contribution is then the
// kind's own forward over that channel alone.
const inputChannelStages = new WeakMap();

function inputChannelStage(s, c, plane) {
  let kept = inputChannelStages.get(s);
  if (!kept) inputChannelStages.set(s, (kept = new Map()));
  if (kept.has(c)) return kept.get(c);
  // a conv's weights [O, C, kh, kw] hold kh * kw per input channel; a linear's, its plane
  const [O] = s.outShape, n = s.weight.length / O, per = s.kind === "conv" ? n / s.inShape[0] : plane;
  const weight = new Float32Array(O * per);
  for (let o = 0; o < O; o++) weight.set(s.weight.subarray(o * n + c * per, o * n + (c + 1) * per), o * per);
  const inShape = s.kind === "conv" ? [1, s.inShape[1], s.inShape[2]] : [plane];
  const stage = {...s, inShape, weight, bias: new Float32Array(O)};
  kept.set(c, stage);
  return stage;
}

/** Add to `out`, a conv's or linear stage's output, what a `change` of its input channel `c`
 * (a plane of `plane` values) contributes. */
export function addContribution(out, s, change, c, plane) {
  const part = KINDS[s.kind].forward(change, inputChannelStage(s, c, plane));
  for (let i = 0; i < out.length; i++) out[i] += part[i];
}

/** A conv's or linear stage's output channel (unit) `o` alone. */
function outputChannel(s, x, o) {
  const n = s.weight.length / s.outShape[0];
  return KINDS[s.kind].forward(x, {...s, outShape: [1, ...s.outShape.slice(1)],
    weight: s.weight.subarray(o * n, (o + 1) * n), bias: s.bias.subarray(o, o + 1)});
}

/** A channel-wise stage (pooling, an activation) over input channel `c` alone. */
export function channelAlone(s, x, c) {
  const inPlane = planeOf(s.inShape), plane = x.subarray(c * inPlane, (c + 1) * inPlane);
  const sub = {...s, inShape: [1, ...s.inShape.slice(1)], outShape: [1, ...s.outShape.slice(1)]};
  return KINDS[s.kind].forward(plane, sub);
}

/** Stage `s` on `x`, which differs from `oldX` (whose output was `oldOut`, with `oldOff`'s
 * parts off) in the input channels `changed` (planes of `plane` values; null: any). Returns
 * its output with `off`'s parts off, and the output channels that may differ (null: any). */
function resumeStage(s, x, oldX, oldOut, changed, plane, oldOff, off) {
  const flips = turned(oldOff[s.name], off[s.name]);
  // a change in more than half the input channels costs a conv or linear stage more than
  // computing it anew
  const many = changed && MIXING.has(s.kind) && 2 * changed.length * plane > x.length;
  if (changed === null || many) {
    const out = KINDS[s.kind].forward(x, s);
    if (s.name && off[s.name]) switchOff(out, s.outShape, off[s.name]);
    return {out, changed: null};
  }
  if (!changed.length && !flips.length) return {out: oldOut, changed: []};
  if (s.kind === "flatten") return {out: x, changed};
  const out = oldOut.slice(), outPlane = planeOf(s.outShape);
  const mixing = MIXING.has(s.kind);
  if (mixing) {
    for (const c of changed) {
      const from = c * plane, change = new Float32Array(plane);
      for (let i = 0; i < plane; i++) change[i] = x[from + i] - oldX[from + i];
      addContribution(out, s, change, c, plane);
    }
  }
  // Channel-wise: the channels that changed, recomputed; both kinds: those switched back on
  // (zeros in the earlier pass). Those switched off are zeroed below.
  const now = new Set(off[s.name] ?? []), back = flips.filter((c) => !now.has(c));
  const redo = mixing ? back : [...new Set([...changed, ...back])];
  for (const c of redo) {
    out.set(mixing ? outputChannel(s, x, c) : channelAlone(s, x, c), c * outPlane);
  }
  if (now.size) switchOff(out, s.outShape, [...now]);
  return {out, changed: mixing && changed.length ? null : [...new Set([...redo, ...flips])]};
}

/** The values of a pass over the same input as `old` (an earlier pass's values, with
 * `oldOff`'s parts off) with `off`'s parts off: as passValues gives, up to rounding. */
function resumedValues(stages, old, oldOff, off) {
  const values = [old[0]];
  let changed = [], plane = 1;
  stages.forEach((s, i) => {
    const step = resumeStage(s, values[i], old[i], old[i + 1], changed, plane, oldOff, off);
    values.push(step.out);
    changed = step.changed;
    if (s.kind !== "flatten") plane = planeOf(s.outShape);
  });
  return values;
}

/** The same values, taken from a run (the flatten's output is its input's data). */
export function runValues(stages, run) {
  const values = [run.input];
  for (const s of stages) values.push(s.name ? run.outputs[s.name].data : values.at(-1));
  return values;
}

/** Each row of each channel reversed: the image seen in a mirror. */
export function mirrored(x, [C, H, W]) {
  const out = new Float32Array(x.length);
  for (let row = 0; row < C * H; row++) {
    for (let i = 0; i < W; i++) out[row * W + i] = x[row * W + W - 1 - i];
  }
  return out;
}

/** One pass over a normalised input: every named output (as lenet's layer_outputs), the
 * answer (with the mirror image's logits where the checkpoint asks), and what the views
 * write out: the display pixels and the softmax's exponentials and denominator. `off`: the
 * parts switched off ({} for none), kept with the run; so is the mirror image's pass (its
 * values), for gradients of the answer. `reuse`: an earlier run of this same input (the
 * caller vouches for that), whose passes are resumed (resumedValues) rather than run anew.
 * `mirror`: false skips the mirror image's pass (see Network.forward). */
export function forwardRun({stages, shape, mean, std, mirrorAverage}, input, off = {}, reuse = null,
  mirror = true) {
  const fresh = (x) => passValues(stages, x, off);
  const resumed = (old) => resumedValues(stages, old, reuse.off, off);
  const values = reuse ? resumed(runValues(stages, reuse)) : fresh(input), outputs = {};
  stages.forEach((s, i) => {
    if (s.name) outputs[s.name] = {shape: s.outShape, data: values[i + 1]};
  });
  const ownLogits = values.at(-1);
  // The mirror image only lends its logits to the answer, as Classifier.answer does; a run
  // reused without its mirror pass gives none to resume.
  const mirrorPass = !(mirrorAverage && mirror) ? null
    : reuse?.mirrorPass ? resumed(reuse.mirrorPass) : fresh(mirrored(input, shape));
  const mirrorLogits = mirrorPass ? mirrorPass.at(-1) : null;
  const logits = mirrorLogits ? ownLogits.map((v, i) => (v + mirrorLogits[i]) / 2) : ownLogits;
  const {probabilities, exponentials, denominator} = softmax(logits);
  return {input, pixels: reuse ? reuse.pixels : displayPixels(input, shape, mean, std), outputs,
    ownLogits, mirrorLogits, logits, probabilities, exponentials, denominator,
    top: argmax(probabilities), off, mirrorPass};
}
