// The course's networks in plain JavaScript, rebuilt from a checkpoint's own layer table and
// weights, so that the page can recompute (and explain) every number of the draw and photo
// views as the pointer moves. The views show these numbers and compute none of their own.
// It mirrors the Python engine in lenet/ (models.py, inference.py, trace.py): the same layer
// names and the same numbers, held equal to torch by tests/test_engine_js.py. What the
// Python side decides (which activation follows which layer, Grad-CAM's layer) is read from
// the checkpoint, never decided again here.
//
// Shapes are [C, H, W] for maps and [N] for vectors; every array is a flat Float32Array in
// that order. Sums run in doubles and are stored as float32, within float32 rounding of
// torch. Every call returns new arrays, so a run the page keeps is never overwritten.
//
//   const net = await loadNetwork("/checkpoints/lenet5.safetensors");
//   const run = net.forward(net.normalize(pixels));   // run.outputs.C1.data, run.top, ...
//   const maps = net.attributions(run, run.top);       // maps.gradCam, maps.saliency
//   const t = net.trace(run, "C3", 5, 4, 6);           // as lenet.inside.trace.Trace.as_dict()
//
// The file, top to bottom: reading a checkpoint; each layer kind's forward and backward, and
// the table of kinds; a forward run; attributions; tracing; building a network from the
// table; the Network class, which only ties these together.

const TOP_TERMS = 10;                          // as trace.py: the largest terms a trace lists

// ---------------------------------------------------------------------------- reading a file

/** A safetensors file -> {meta: its "lenet" metadata, tensors: name -> {shape, data}}. */
export function parseSafetensors(buffer) {
  const fail = (why) => {
    throw new Error(`not a lenet checkpoint (${why}); choose a .safetensors file from train.py`);
  };
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < 8) fail("too short for a header");
  const view = new DataView(buffer);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;  // u64 LE
  if (headerLength > buffer.byteLength - 8) fail("its header runs past the end of the file");
  let header, meta;
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, headerLength)));
  } catch {
    fail("its header is not JSON");
  }
  if (header?.constructor !== Object) fail("its header is not a table of tensors");
  try {
    meta = JSON.parse(header.__metadata__.lenet);
  } catch {
    fail("it has no lenet metadata");
  }
  if (meta?.constructor !== Object) fail("its lenet metadata is not a table");
  const tensors = {}, start = 8 + headerLength;
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (entry?.dtype !== "F32") fail(`tensor ${name} is ${entry?.dtype}, not F32`);
    const [begin, end] = entry.data_offsets ?? [], count = product(entry.shape ?? [NaN]);
    if (end - begin !== 4 * count || start + end > buffer.byteLength) fail(`${name} is cut short`);
    // A view needs 4-byte alignment, else a copy. Browsers are little-endian, like the file.
    const data = (start + begin) % 4 === 0 ? new Float32Array(buffer, start + begin, count)
      : new Float32Array(buffer.slice(start + begin, start + end));
    tensors[name] = {shape: entry.shape, data};
  }
  return {meta, tensors};
}

/** Fetch a checkpoint and build its network. */
export async function loadNetwork(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url} (HTTP ${response.status})`);
  return networkFromBuffer(await response.arrayBuffer());
}

export function networkFromBuffer(buffer) {
  return new Network(parseSafetensors(buffer));
}

// ---------------------------------------------------------------------------- forward, per kind
// Each takes a layer's input and its stage (shapes, weights) and returns a new output.

/** A conv as one matrix product: each output channel's weights, one per kernel tap
 * (c, ky, kx), times the input patches gathered through the stage's taps. */
function convForward(x, s) {
  const {taps, weight, bias} = s, [O, OH, OW] = s.outShape, P = OH * OW, K = taps.length / P;
  const patches = new Float32Array(taps.length);
  for (let j = 0; j < taps.length; j++) patches[j] = taps[j] < 0 ? 0 : x[taps[j]];
  const out = new Float32Array(O * P), acc = new Float64Array(P);
  for (let o = 0; o < O; o++) {
    acc.fill(bias[o]);
    for (let k = 0; k < K; k++) {   // one weight over all positions: long, simple inner loops
      const w = weight[o * K + k];
      for (let p = 0, row = k * P; p < P; p++) acc[p] += w * patches[row + p];
    }
    out.set(acc, o * P);
  }
  return out;
}

function linearForward(x, s) {
  const n = x.length, out = new Float32Array(s.outShape[0]);
  for (let o = 0; o < out.length; o++) {
    let sum = s.bias[o];
    for (let i = 0, row = o * n; i < n; i++) sum += s.weight[row + i] * x[i];
    out[o] = sum;
  }
  return out;
}

/** Max or mean of each window; `winners`, when given, receives each max's input index. */
function poolForward(x, s, winners = null) {
  const [, H, W] = s.inShape, [C, OH, OW] = s.outShape, [kh, kw] = s.kernel, [sh, sw] = s.stride;
  const out = new Float32Array(C * OH * OW), isMax = s.kind === "maxpool";
  for (let c = 0, o = 0; c < C; c++) for (let y = 0; y < OH; y++) for (let x0 = 0; x0 < OW; x0++) {
    let best = -Infinity, at = -1, sum = 0;
    for (let r = 0; r < kh; r++) for (let q = 0; q < kw; q++) {
      const i = (c * H + y * sh + r) * W + x0 * sw + q;
      sum += x[i];
      if (x[i] > best || at < 0) {   // strictly greater: the first max wins, as in torch
        best = x[i];
        at = i;
      }
    }
    out[o] = isMax ? best : sum / (kh * kw);
    if (winners) winners[o] = at;
    o++;
  }
  return out;
}

// ---------------------------------------------------------------------------- backward, per kind
// Each takes d(logit)/d(output) and returns d(logit)/d(input). The weights are fixed, so
// their gradients are never needed.

/** The transposed product gives each patch entry's gradient; the taps add those back onto
 * the input values they were read from (the padding takes none). */
function convBackward(grad, s) {
  const {taps, weight} = s, [O, OH, OW] = s.outShape, P = OH * OW, K = taps.length / P;
  const patches = new Float64Array(taps.length);
  for (let o = 0; o < O; o++) {
    for (let k = 0; k < K; k++) {
      const w = weight[o * K + k];
      for (let p = 0, row = k * P, from = o * P; p < P; p++) patches[row + p] += w * grad[from + p];
    }
  }
  const acc = new Float64Array(product(s.inShape));
  for (let j = 0; j < taps.length; j++) if (taps[j] >= 0) acc[taps[j]] += patches[j];
  return Float32Array.from(acc);
}

function linearBackward(grad, s) {
  const n = product(s.inShape), acc = new Float64Array(n);
  for (let o = 0; o < grad.length; o++) {
    if (grad[o] === 0) continue;
    for (let i = 0, row = o * n; i < n; i++) acc[i] += grad[o] * s.weight[row + i];
  }
  return Float32Array.from(acc);
}

function poolBackward(grad, s, input) {
  const out = new Float32Array(product(s.inShape));
  if (s.kind === "maxpool") {                       // all of it to each window's winner
    const winners = new Int32Array(grad.length);
    poolForward(input, s, winners);
    for (let o = 0; o < grad.length; o++) out[winners[o]] += grad[o];
    return out;
  }
  const [, H, W] = s.inShape, [C, OH, OW] = s.outShape, [kh, kw] = s.kernel, [sh, sw] = s.stride;
  for (let c = 0, o = 0; c < C; c++) for (let y = 0; y < OH; y++) for (let x0 = 0; x0 < OW; x0++) {
    const share = grad[o++] / (kh * kw);
    for (let r = 0; r < kh; r++) {
      for (let q = 0; q < kw; q++) out[(c * H + y * sh + r) * W + x0 * sw + q] += share;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------- the table of kinds

/** An activation: its name in words (as lenet/net/layers.py's ACTIVATIONS), f applied to each
 * value, and its slope written with f's output y. */
function activation(words, f, slope) {
  return {words, forward: (x) => elementwise(x, f),
    backward: (grad, s, x, out) => elementwise(grad, (g, i) => g * slope(out[i]))};
}

/** Each kind of layer: forward(input, stage), backward(gradient, stage, input, output). The
 * activations are the entries with `words`: the only list of them in the page (the trace
 * applies their forward too), so a new one is one line here and one in layers.py. */
const KINDS = {
  conv: {forward: convForward, backward: convBackward},
  linear: {forward: linearForward, backward: linearBackward},
  maxpool: {forward: poolForward, backward: poolBackward},
  avgpool: {forward: poolForward, backward: poolBackward},
  flatten: {forward: (x) => x, backward: (grad) => grad},   // flat already: only shapes change
  relu: activation("ReLU", (v) => (v > 0 ? v : 0), (y) => (y > 0 ? 1 : 0)),
  tanh: activation("tanh", Math.tanh, (y) => 1 - y * y),
  sigmoid: activation("sigmoid", (v) => 1 / (1 + Math.exp(-v)), (y) => y * (1 - y)),
};
const TRACEABLE = new Set(["conv", "linear", "maxpool", "avgpool"]);

const isActivation = (kind) => Boolean(KINDS[kind]?.words);

// ---------------------------------------------------------------------------- a forward run

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

/** Every stage's input and output along one pass: values[i] feeds stage i. */
function passValues(stages, input) {
  const values = [input];
  for (const s of stages) values.push(KINDS[s.kind].forward(values.at(-1), s));
  return values;
}

/** The same values, taken from a run (the flatten's output is its input's data). */
function runValues(stages, run) {
  const values = [run.input];
  for (const s of stages) values.push(s.name ? run.outputs[s.name].data : values.at(-1));
  return values;
}

/** Each row of each channel reversed: the image seen in a mirror. */
function mirrored(x, [C, H, W]) {
  const out = new Float32Array(x.length);
  for (let row = 0; row < C * H; row++) {
    for (let i = 0; i < W; i++) out[row * W + i] = x[row * W + W - 1 - i];
  }
  return out;
}

/** One pass over a normalised input: every named output (as lenet's layer_outputs), the
 * answer (with the mirror image's logits where the checkpoint asks), and what the views
 * write out: the display pixels and the softmax's exponentials and denominator. */
function forwardRun({stages, shape, mean, std, mirrorAverage}, input) {
  const values = passValues(stages, input), outputs = {};
  stages.forEach((s, i) => {
    if (s.name) outputs[s.name] = {shape: s.outShape, data: values[i + 1]};
  });
  const ownLogits = values.at(-1);
  // The mirror image only lends its logits to the answer, as Classifier.answer does.
  const mirrorLogits = mirrorAverage ? passValues(stages, mirrored(input, shape)).pop() : null;
  const logits = mirrorLogits ? ownLogits.map((v, i) => (v + mirrorLogits[i]) / 2) : ownLogits;
  const {probabilities, exponentials, denominator} = softmax(logits);
  return {input, pixels: displayPixels(input, shape, mean, std), outputs,
    ownLogits, mirrorLogits, logits, probabilities, exponentials, denominator,
    top: argmax(probabilities)};
}

// ---------------------------------------------------------------------------- attributions

/** Grad-CAM on `camOutput` and saliency for `classIndex`, in their own units, as
 * lenet.inside.inference's attribution_maps: gradients of this image's own logit (not the
 * mirror image's), carried back through every stage's backward. */
function attributionMaps({stages, shape, camOutput}, run, classIndex) {
  const values = runValues(stages, run);
  let grad = new Float32Array(run.ownLogits.length), camGrad = null;
  grad[classIndex] = 1;
  for (let i = stages.length - 1; i >= 0; i--) {
    const s = stages[i];
    if (s.name && s.name === camOutput) camGrad = grad;   // d(logit)/d(its output)
    grad = KINDS[s.kind].backward(grad, s, values[i], values[i + 1]);
  }
  const saliency = saliencyMap(grad, shape);
  let gradCam = null;
  if (camOutput) {
    const {data, shape: camShape} = run.outputs[camOutput];
    gradCam = resizeBilinear(gradCamMap(data, camGrad, camShape), camShape.slice(1), shape.slice(1));
  }
  return {gradCam, saliency, gradCamMax: gradCam && gradCam[argmax(gradCam)],
    saliencyMax: saliency[argmax(saliency)]};
}

/** Grad-CAM (Selvaraju et al.): ReLU(sum_c mean(dy/dA_c) * A_c), at the maps' own size. */
function gradCamMap(activation, grad, [C, h, w]) {
  const plane = h * w, cam = new Float64Array(plane);
  for (let c = 0; c < C; c++) {
    let mean = 0;
    for (let p = 0; p < plane; p++) mean += grad[c * plane + p];
    mean /= plane;
    for (let p = 0; p < plane; p++) cam[p] += mean * activation[c * plane + p];
  }
  return Float32Array.from(cam, (v) => Math.max(v, 0));
}

/** For each of `n` outputs, the two source indices and the weight of the second, as torch's
 * bilinear interpolate with align_corners=False (which clamps the source at 0). */
function bilinearTaps(size, n) {
  const low = new Int32Array(n), high = new Int32Array(n), frac = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const at = Math.max((i + 0.5) * (size / n) - 0.5, 0);
    low[i] = Math.floor(at);
    high[i] = Math.min(low[i] + 1, size - 1);
    frac[i] = at - low[i];
  }
  return {low, high, frac};
}

function resizeBilinear(map, [h, w], [H, W]) {
  const ys = bilinearTaps(h, H), xs = bilinearTaps(w, W), out = new Float32Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const a = ys.low[y] * w, b = ys.high[y] * w, l = xs.low[x], r = xs.high[x];
    const fy = ys.frac[y], fx = xs.frac[x];
    out[y * W + x] = (1 - fy) * ((1 - fx) * map[a + l] + fx * map[a + r])
      + fy * ((1 - fx) * map[b + l] + fx * map[b + r]);
  }
  return out;
}

/** |gradient| at each pixel, the largest over the channels. */
function saliencyMap(grad, [C, H, W]) {
  const plane = H * W, out = new Float32Array(plane);
  for (let c = 0; c < C; c++) {
    for (let p = 0; p < plane; p++) out[p] = Math.max(out[p], Math.abs(grad[c * plane + p]));
  }
  return out;
}


// ---------------------------------------------------------------------------- tracing

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
function traceUnit(parts, run, layer, channel, y, x) {
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
function receptiveField({stages, shape, name}, layer, y, x) {
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
function unitReads(parts, layer, channel, y, x) {
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

// ---------------------------------------------------------------------------- names in words

function stageNamed(stages, name) {
  return stages.find((s) => s.name && s.name === name);
}

/** A named output as a reader says it: "C3 after ReLU" for the activation the table puts
 * after C3; any other name as it is ("C3", "S2", "input"). */
function plainName(stages, name) {
  const layer = stages.find((s) => s.name && s.name !== name && s.after_activation === name);
  return layer ? `${layer.name} after ${KINDS[stageNamed(stages, name).kind].words}` : name;
}

// ---------------------------------------------------------------------------- building a network

/** For each kernel tap k = (c, ky, kx) and output position p = (y, x), the flat index of the
 * input value the tap reads there (at k * P + p), or -1 where it reads the zero padding. */
function convTaps([C, H, W], [OH, OW], [kh, kw], [sh, sw], [ph, pw]) {
  const P = OH * OW, taps = new Int32Array(C * kh * kw * P);
  for (let k = 0; k < C * kh * kw; k++) {
    const [c, ky, kx] = unravel(k, [C, kh, kw]);
    for (let y = 0; y < OH; y++) for (let x = 0; x < OW; x++) {
      const iy = y * sh - ph + ky, ix = x * sw - pw + kx;
      const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
      taps[k * P + y * OW + x] = inside ? (c * H + iy) * W + ix : -1;
    }
  }
  return taps;
}

/** A row of the layer table with what computing it needs: shapes, weights, taps, and the
 * named output it reads (`source`: {name, shape}). Weights that do not fit are refused. */
function buildStage(row, inShape, source, tensors) {
  const s = {...row, inShape, outShape: inShape, source};
  const param = (name, size) => {
    if (tensors[name]?.data.length === size) return tensors[name].data;
    throw new Error(`checkpoint: ${name} is missing or does not fit layer ${row.name}`);
  };
  if (row.kind === "conv" || row.kind === "maxpool" || row.kind === "avgpool") {
    const [C, H, W] = inShape, [kh, kw] = row.kernel, [sh, sw] = row.stride;
    const [ph, pw] = (s.padding = row.padding ?? [0, 0]);
    const OH = Math.floor((H + 2 * ph - kh) / sh) + 1, OW = Math.floor((W + 2 * pw - kw) / sw) + 1;
    s.outShape = [row.kind === "conv" ? row.outputs : C, OH, OW];
    if (row.kind === "conv") {
      s.weight = param(row.weight, row.outputs * C * kh * kw);
      s.bias = param(row.bias, row.outputs);
      s.taps = convTaps(inShape, [OH, OW], row.kernel, row.stride, s.padding);
    }
  } else if (row.kind === "linear") {
    s.outShape = [row.outputs];
    s.weight = param(row.weight, row.outputs * product(inShape));
    s.bias = param(row.bias, row.outputs);
  } else if (row.kind === "flatten") {
    s.outShape = [product(inShape)];
  } else if (!isActivation(row.kind)) {
    throw new Error(`checkpoint: layer ${row.name} is a ${row.kind}, unknown to engine.js`);
  }
  Object.freeze(s.outShape);        // shared by every run's outputs: nobody may change it
  return s;
}

/** A checkpoint written before the page could read it says so in one line. */
function checkDescription(meta) {
  const again = "write it again with train.py (or python tools/checkpoint_meta.py)";
  if (!Array.isArray(meta.layers)) {
    throw new Error(`checkpoint ${meta.model} has no layer table; ${again}`);
  }
  if (!("cam_layer" in meta) || meta.layers.some((row) => row.name && !row.after_activation)) {
    throw new Error(`checkpoint ${meta.model} does not say which activation follows which `
      + `layer or which layer Grad-CAM reads; ${again}`);
  }
}

/** What computing needs, from the checkpoint's description: the stages in forward order,
 * the input's shape and normalisation, the test-time rule, and the layer Grad-CAM reads
 * (`camLayer`, from the model's spec) with the output it weighs (`camOutput`, that layer
 * after its activation, as the table states). */
function buildParts(meta, tensors) {
  checkDescription(meta);
  const shape = Object.freeze([...meta.input_shape]);
  let inShape = shape, source = {name: "input", shape};
  const stages = meta.layers.map((row) => {
    const stage = buildStage(row, inShape, source, tensors);
    inShape = stage.outShape;
    if (row.name) source = {name: row.name, shape: inShape};   // the flatten has none: not kept
    return stage;
  });
  const cam = meta.cam_layer === null ? null : stageNamed(stages, meta.cam_layer);
  if (cam === undefined) {
    throw new Error(`checkpoint ${meta.model}: its Grad-CAM layer ${meta.cam_layer} is not one of its layers`);
  }
  return {name: meta.model, stages, shape, mean: meta.mean, std: meta.std,
    mirrorAverage: Boolean(meta.mirror_average), camLayer: cam && cam.name,
    camOutput: cam && cam.after_activation};
}

// ---------------------------------------------------------------------------- the network

/** A checkpoint's network: its description as fields, and the calls the views make. Each
 * call checks its arguments and hands over to the functions above. */
export class Network {
  #parts;           // what computing needs (buildParts): stages, shape, normalisation, ...

  constructor({meta, tensors}) {
    const parts = (this.#parts = buildParts(meta, tensors));
    const [channels, height, width] = parts.shape;
    Object.assign(this, {name: meta.model, title: meta.title, classes: meta.classes, meta,
      inputShape: {channels, height, width}, mean: meta.mean, std: meta.std,
      mirrorAverage: parts.mirrorAverage, camLayer: parts.camLayer, camOutput: parts.camOutput});
    // The layer table's rows with their output shapes; `after_activation` on every named row.
    this.layers = meta.layers.map((row, i) => ({...row, shape: parts.stages[i].outShape}));
  }

  /** Pixels in [0, 1], C*H*W -> the network's input, (pixel - mean) / std per channel. */
  normalize(pixels) {
    this.#checkInput(pixels);
    const plane = this.inputShape.height * this.inputShape.width;
    return Float32Array.from(pixels, (v, i) => {
      const c = Math.floor(i / plane);
      return (v - this.mean[c]) / this.std[c];
    });
  }

  /** One pass over a normalised input (forwardRun: every output, the answer, and the
   * numbers the views write out). The run keeps its own copy of the input. */
  forward(input) {
    this.#checkInput(input);
    return forwardRun(this.#parts, Float32Array.from(input));
  }

  /** Grad-CAM (on `camOutput`) and saliency for `classIndex`, in their own units. */
  attributions(run, classIndex) {
    const classes = this.classes.length;
    if (!(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < classes)) {
      throw new Error(`class index must be 0-${classes - 1}, not ${classIndex}`);
    }
    const maps = attributionMaps(this.#parts, run, classIndex);
    return {...maps, camLayer: this.camLayer, camOutput: this.camOutput};
  }

  /** The output whose values are `name`'s after its activation, as the checkpoint's layer
   * table states it: "C1" -> "C1_relu"; a layer no activation follows -> itself. */
  shownAfter(name) {
    const row = this.layers.find((l) => l.name && l.name === name);
    if (!row) throw new Error(`no layer '${name}' in ${this.name}`);
    return row.after_activation;
  }

  /** A named output as a reader says it: "C3_relu" -> "C3 after ReLU"; "S2" -> "S2". */
  plainName(name) {
    return plainName(this.#parts.stages, name);
  }

  receptiveField(layer, y = 0, x = 0) {
    return receptiveField(this.#parts, layer, y, x);
  }

  reads(layer, channel, y = 0, x = 0) {
    return unitReads(this.#parts, layer, channel, y, x);
  }

  /** How `layer`'s value at (channel, y, x) in `run` was computed (traceUnit); an
   * activation is traced as the layer it follows. */
  trace(run, layer, channel, y = 0, x = 0) {
    return traceUnit(this.#parts, run, layer, channel, y, x);
  }

  #checkInput(x) {
    const n = product(this.#parts.shape), shape = this.#parts.shape.join(" x "), got = x?.length;
    if (got !== n) throw new Error(`${this.name} takes ${n} values (${shape}), not ${got}`);
  }
}

// ---------------------------------------------------------------------------- small helpers

/** f(value, index) of every element, into a new Float32Array. */
function elementwise(x, f) {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i], i);
  return out;
}

function product(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

/** The first index of the largest value, as numpy's argmax. */
function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** A flat row-major index -> its position in `shape`. */
function unravel(index, shape) {
  const out = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = index % shape[d];
    index = Math.floor(index / shape[d]);
  }
  return out;
}
