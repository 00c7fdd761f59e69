// Tracing one unit of a run to its inputs, weights and bias (as lenet/inside/trace.py), the
// checks that name a traceable unit's valid range, what a unit reads, and receptive fields.
// It reads a run's values; it computes no run of its own.

import { KINDS, TRACEABLE } from "./layer_kinds.js";
import { plainName, stageNamed } from "./layer_table.js";
import { runValues } from "./forward_run.js";
import { argmax, unravel } from "./arrays.js";

const TOP_TERMS = 10;                          // as trace.py: the largest terms a trace lists

/** One pooled value: its window (1, kh, kw) in the source, the max's winner or the mean. */
function tracePool(s, source, channel, [top, left]) {
  const [, H, W] = s.inShape, [kh, kw] = s.kernel, inputs = new Float32Array(kh * kw);
  for (let r = 0; r < kh; r++) {
    const row = (channel * H + top + r) * W + left;
    for (let q = 0; q < kw; q++) inputs[r * kw + q] = source[row + q];
  }
  const isMax = s.kind === "maxpool", win = argmax(inputs);
  return {kind: "pool", inputs, shape: [1, kh, kw], origin: [top, left],
    value: isMax ? inputs[win] : inputs.reduce((a, b) => a + b, 0) / inputs.length,
    pool: isMax ? "max" : "average", winner: isMax ? [Math.floor(win / kw), win % kw] : null};
}

/** One weighted sum: inputs x weights = products, their sum + bias = pre-activation, then
 * the activation of kind `then` (null: none); `where(j)` tells where input j sits in the
 * source (null in the padding). */
function traceSum(kind, inputs, weights, shape, bias, then, where) {
  const products = inputs.map((v, j) => v * weights[j]);      // float32 products, as numpy's
  const sum = products.reduce((a, b) => a + b, 0);             // in doubles, as trace.py's
  const pre = sum + bias;
  // torch applies the activation to the float32 pre-activation; so does the kind's forward.
  const value = then ? KINDS[then].forward(Float32Array.of(pre))[0] : pre;
  const top = largestTerms(products, TOP_TERMS).map((j) => ({
    index: shape.length > 1 ? unravel(j, shape) : j, at: where(j),
    input: inputs[j], weight: weights[j], product: products[j]}));
  return {kind, inputs, shape, weights, products, bias, sum_of_products: sum,
    pre_activation: pre, value, activation: then ? KINDS[then].words : null,
    top_contributions: top};
}

/** Indices of the `k` largest |terms|, largest first; equal sizes keep their index order. */
function largestTerms(terms, k) {
  const best = [], size = (j) => Math.abs(terms[j]);
  for (let j = 0; j < terms.length; j++) {
    if (best.length === k && size(j) <= size(best[k - 1])) continue;
    let at = best.length;
    while (at > 0 && size(best[at - 1]) < size(j)) at--;
    best.splice(at, 0, j);
    if (best.length > k) best.pop();
  }
  return best;
}

/** How one unit's value was computed, with the fields of lenet.inside.trace.Trace.as_dict()
 * and, for a reader, plain names: `layer_words` ("C3 after ReLU": what the value shown is)
 * with `layer_shape`, and `source_words` with `source_shape` (what the inputs were read from). */
export function traceUnit(parts, run, layer, channel, y, x) {
  const {stages} = parts, i = traceableIndex(parts, layer, channel, y, x), s = stages[i];
  const before = runValues(stages, run)[i], [, OH, OW] = s.outShape;
  const at = s.kind === "linear" ? channel : (channel * OH + y) * OW + x;
  const common = {model: parts.name, layer: s.name, channel, y, x, source: s.source.name,
    receptive_field: receptiveField(parts, s.name, y, x),
    map_value_before: run.outputs[s.name].data[at], weights: null, products: null,
    bias: null, sum_of_products: null, pre_activation: null, activation: null, origin: null,
    pool: null, winner: null, top_contributions: [],
    layer_words: plainName(stages, s.after_activation), layer_shape: s.outShape,
    source_words: plainName(stages, s.source.name), source_shape: s.source.shape};
  if (s.kind === "maxpool" || s.kind === "avgpool") {
    return {...common, ...tracePool(s, before, channel, origin(s, y, x))};
  }
  const then = s.after_activation === s.name ? null : stageNamed(stages, s.after_activation).kind;
  if (s.kind === "linear") {                 // where each flattened value sat in the source
    const n = before.length, weights = s.weight.slice(channel * n, (channel + 1) * n);
    return {...common, ...traceSum("linear", Float32Array.from(before), weights, [n],
      s.bias[channel], then, (j) => unravel(j, s.source.shape))};
  }
  const P = OH * OW, n = s.taps.length / P;  // the kernel's taps at this position
  const reads = Int32Array.from({length: n}, (_, k) => s.taps[k * P + y * OW + x]);
  const inputs = Float32Array.from(reads, (j) => (j < 0 ? 0 : before[j]));  // 0: padding
  const weights = s.weight.slice(channel * n, (channel + 1) * n);
  return {...common, origin: origin(s, y, x), ...traceSum("conv", inputs, weights,
    [s.inShape[0], ...s.kernel], s.bias[channel], then,
    (j) => (reads[j] < 0 ? null : unravel(reads[j], s.inShape)))};
}

/** The stage of a traceable layer (an activation stands for the layer its table row follows),
 * once the channel and position are checked; each error names the valid range, as trace.py. */
function traceableIndex({stages, name}, layer, channel, y, x) {
  const i = stages.findIndex((t) => TRACEABLE.has(t.kind)
    && (t.name === layer || t.after_activation === layer));
  if (i < 0) {
    const names = stages.filter((t) => TRACEABLE.has(t.kind)).map((t) => t.name).join(", ");
    throw new Error(`no layer '${layer}' to trace in ${name}; choose one of ${names}`);
  }
  const s = stages[i], [C, H, W] = s.outShape;
  const inside = (v, n) => Number.isInteger(v) && v >= 0 && v < n;
  if (!inside(channel, C)) throw new Error(`${s.name} has channels 0-${C - 1}, not ${channel}`);
  if (!H && (y !== 0 || x !== 0)) {
    throw new Error(`${s.name} is a linear layer: its position is y = x = 0, not (${y}, ${x})`);
  }
  if (H && !(inside(y, H) && inside(x, W))) {
    throw new Error(`${s.name} positions are y 0-${H - 1}, x 0-${W - 1}, not (${y}, ${x})`);
  }
  return i;
}

/** The input pixels [top, left, bottom, right] (inclusive, clipped) that `layer` at (y, x)
 * depends on, as lenet.inside.trace.receptive_field; a linear layer sees the whole input. */
export function receptiveField({stages, shape, name}, layer, y, x) {
  const [, H, W] = shape;
  let i = stages.findIndex((s) => s.name && s.name === layer);
  if (i < 0) throw new Error(`no layer '${layer}' in ${name}`);
  let top = y, left = x, bottom = y, right = x;
  for (; i >= 0; i--) {
    const {kind, kernel, stride, padding} = stages[i];
    if (kind === "linear") return [0, 0, H - 1, W - 1];
    if (!kernel) continue;
    top = top * stride[0] - padding[0];
    left = left * stride[1] - padding[1];
    bottom = bottom * stride[0] - padding[0] + kernel[0] - 1;
    right = right * stride[1] - padding[1] + kernel[1] - 1;
  }
  return clip([top, left, bottom, right], H, W);
}

/** What one unit reads in the layer before it: the source's channels, and its window in the
 * source's own coordinates (inclusive, clipped; null for a linear layer). */
export function unitReads(parts, layer, channel, y, x) {
  const s = parts.stages[traceableIndex(parts, layer, channel, y, x)], source = s.source.name;
  const all = Array.from({length: s.source.shape[0]}, (_, c) => c);
  if (s.kind === "linear") return {source, channels: all, window: null};
  const [top, left] = origin(s, y, x), [, H, W] = s.inShape;
  return {source, channels: s.kind === "conv" ? all : [channel],
    window: clip([top, left, top + s.kernel[0] - 1, left + s.kernel[1] - 1], H, W)};
}

/** A window's top-left corner in the layer's source; negative inside the padding. */
function origin(s, y, x) {
  return [y * s.stride[0] - s.padding[0], x * s.stride[1] - s.padding[1]];
}

function clip([top, left, bottom, right], H, W) {
  return [Math.max(top, 0), Math.max(left, 0), Math.min(bottom, H - 1), Math.min(right, W - 1)];
}
