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
 * values), for gradients of the answer. */
export function forwardRun({stages, shape, mean, std, mirrorAverage}, input, off = {}) {
  const values = passValues(stages, input, off), outputs = {};
  stages.forEach((s, i) => {
    if (s.name) outputs[s.name] = {shape: s.outShape, data: values[i + 1]};
  });
  const ownLogits = values.at(-1);
  // The mirror image only lends its logits to the answer, as Classifier.answer does.
  const mirrorPass = mirrorAverage ? passValues(stages, mirrored(input, shape), off) : null;
  const mirrorLogits = mirrorPass ? mirrorPass.at(-1) : null;
  const logits = mirrorLogits ? ownLogits.map((v, i) => (v + mirrorLogits[i]) / 2) : ownLogits;
  const {probabilities, exponentials, denominator} = softmax(logits);
  return {input, pixels: displayPixels(input, shape, mean, std), outputs,
    ownLogits, mirrorLogits, logits, probabilities, exponentials, denominator,
    top: argmax(probabilities), off, mirrorPass};
}
