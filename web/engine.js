// The course's networks in plain JavaScript, rebuilt from a checkpoint's own layer table and
// weights, so that the page can recompute (and explain) every number as the pointer moves.
// It mirrors the Python engine in lenet/ (models.py, inference.py, trace.py): the same layer
// names and the same numbers, held equal to torch by tests/test_engine_js.py.
//
// Shapes are [C, H, W] for maps and [N] for vectors; every array is a flat Float32Array in
// that order. Sums run in doubles and are stored as float32, within float32 rounding of
// torch. Every call returns new arrays, so a run the page keeps is never overwritten.
//
//   const net = await loadNetwork("/checkpoints/lenet5.safetensors");
//   const run = net.forward(net.normalize(pixels));   // run.outputs.C1.data, run.top, ...
//   const maps = net.attributions(run, run.top);       // maps.gradCam, maps.saliency
//   const t = net.trace(run, "C3", 5, 4, 6);           // as lenet.inside.trace.Trace.as_dict()

const TOP_TERMS = 10;                          // as trace.py: the largest terms a trace lists
const ACTIVATION_NAMES = {relu: "ReLU", tanh: "tanh"};
const TRACEABLE = new Set(["conv", "linear", "maxpool", "avgpool"]);

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

/** Each kind of layer: forward(input, stage), backward(gradient, stage, input, output). */
const KINDS = {
  conv: {forward: convForward, backward: convBackward},
  linear: {forward: linearForward, backward: linearBackward},
  maxpool: {forward: poolForward, backward: poolBackward},
  avgpool: {forward: poolForward, backward: poolBackward},
  relu: {forward: (x) => elementwise(x, (v) => (v > 0 ? v : 0)),
    backward: (grad, s, x, out) => elementwise(grad, (g, i) => (out[i] > 0 ? g : 0))},
  tanh: {forward: (x) => elementwise(x, Math.tanh),
    backward: (grad, s, x, out) => elementwise(grad, (g, i) => g * (1 - out[i] * out[i]))},
  flatten: {forward: (x) => x, backward: (grad) => grad},   // flat already: only shapes change
};

// ---------------------------------------------------------------------------- the answer and maps

/** Softmax, shifted by the largest logit so that exp never overflows. */
function softmax(logits) {
  const top = logits[argmax(logits)], e = Float64Array.from(logits, (v) => Math.exp(v - top));
  const total = e.reduce((a, b) => a + b, 0);
  return Float32Array.from(e, (v) => v / total);
}

/** Each row of each channel reversed: the image seen in a mirror. */
function mirrored(x, [C, H, W]) {
  const out = new Float32Array(x.length);
  for (let row = 0; row < C * H; row++) {
    for (let i = 0; i < W; i++) out[row * W + i] = x[row * W + W - 1 - i];
  }
  return out;
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

/** One weighted sum: inputs x weights = products, + bias = pre-activation, then the
 * activation; `where(j)` tells where input j sits in the source (null in the padding). */
function traceSum(kind, inputs, weights, shape, bias, activation, where) {
  const products = inputs.map((v, j) => v * weights[j]);      // float32 products, as numpy's
  const pre = products.reduce((a, b) => a + b, 0) + bias;
  const stored = Math.fround(pre);                // torch applies the activation in float32
  const value = activation === "relu" ? Math.max(stored, 0)
    : activation === "tanh" ? Math.fround(Math.tanh(stored)) : pre;
  const top = largestTerms(products, TOP_TERMS).map((j) => ({
    index: shape.length > 1 ? unravel(j, shape) : j, at: where(j),
    input: inputs[j], weight: weights[j], product: products[j]}));
  return {kind, inputs, shape, weights, products, bias, pre_activation: pre, value,
    activation: ACTIVATION_NAMES[activation] ?? null, top_contributions: top};
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

/** A window's top-left corner in the layer's source; negative inside the padding. */
function origin(s, y, x) {
  return [y * s.stride[0] - s.padding[0], x * s.stride[1] - s.padding[1]];
}

function clip([top, left, bottom, right], H, W) {
  return [Math.max(top, 0), Math.max(left, 0), Math.min(bottom, H - 1), Math.min(right, W - 1)];
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
  } else if (!(row.kind in ACTIVATION_NAMES)) {
    throw new Error(`checkpoint: layer ${row.name} is a ${row.kind}, unknown to engine.js`);
  }
  Object.freeze(s.outShape);        // shared by every run's outputs: nobody may change it
  return s;
}

// ---------------------------------------------------------------------------- the network

export class Network {
  #shape;           // the input's [C, H, W]
  #stages;          // the layer table's rows with shapes and weights, in forward order

  constructor({meta, tensors}) {
    if (!Array.isArray(meta.layers)) {
      throw new Error(`checkpoint ${meta.model} has no layer table; save it again with train.py`);
    }
    const [channels, height, width] = (this.#shape = meta.input_shape);
    Object.assign(this, {name: meta.model, title: meta.title, classes: meta.classes, meta,
      inputShape: {channels, height, width}, mean: meta.mean, std: meta.std,
      mirrorAverage: Boolean(meta.mirror_average)});
    let shape = this.#shape, source = {name: "input", shape};
    this.#stages = meta.layers.map((row) => {
      const stage = buildStage(row, shape, source, tensors);
      shape = stage.outShape;
      if (row.name) source = {name: row.name, shape};   // the flatten has none: not kept
      return stage;
    });
    this.layers = meta.layers.map((row, i) => ({...row, shape: this.#stages[i].outShape}));
    // Grad-CAM looks at the last conv whose maps are larger than 1x1 (LeNet's C5 is 1x1),
    // after its activation, as inference.py does; a model without convolutions has none.
    const conv = this.#stages.findLastIndex((s) => s.kind === "conv"
      && Math.max(s.outShape[1], s.outShape[2]) > 1);
    const next = this.#stages[conv + 1];
    this.camConv = conv < 0 ? null : this.#stages[conv].name;
    this.camLayer = conv >= 0 && next?.kind in ACTIVATION_NAMES ? next.name : this.camConv;
  }

  /** Pixels in [0, 1], C*H*W -> the network's input, (pixel - mean) / std per channel. */
  normalize(pixels) {
    this.#checkInput(pixels);
    const plane = this.#shape[1] * this.#shape[2];
    return Float32Array.from(pixels, (v, i) => {
      const c = Math.floor(i / plane);
      return (v - this.mean[c]) / this.std[c];
    });
  }

  /** One pass over a normalised input; every named layer's output, as lenet's layer_outputs. */
  forward(input) {
    this.#checkInput(input);
    input = Float32Array.from(input);           // the run keeps its own copy
    const values = this.#values(input), outputs = {};
    this.#stages.forEach((s, i) => {
      if (s.name) outputs[s.name] = {shape: s.outShape, data: values[i + 1]};
    });
    const ownLogits = values.at(-1);
    // The mirror image only lends its logits to the answer, as Classifier.answer does.
    const mirrorLogits = this.mirrorAverage ? this.#values(mirrored(input, this.#shape)).pop()
      : null;
    const logits = mirrorLogits ? ownLogits.map((v, i) => (v + mirrorLogits[i]) / 2) : ownLogits;
    const probabilities = softmax(logits);
    return {input, outputs, ownLogits, mirrorLogits, logits, probabilities,
      top: argmax(probabilities)};
  }

  /** Grad-CAM and saliency for `classIndex` in their own units, as lenet.inside.inference's
   * attribution_maps: gradients of this image's own logit (not the mirror image's). */
  attributions(run, classIndex) {
    const classes = this.classes.length;
    if (!(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < classes)) {
      throw new Error(`class index must be 0-${classes - 1}, not ${classIndex}`);
    }
    const values = this.#runValues(run);
    let grad = new Float32Array(classes), camGrad = null;
    grad[classIndex] = 1;
    for (let i = this.#stages.length - 1; i >= 0; i--) {
      const s = this.#stages[i];
      if (s.name && s.name === this.camLayer) camGrad = grad;   // d(logit)/d(its output)
      grad = KINDS[s.kind].backward(grad, s, values[i], values[i + 1]);
    }
    const saliency = saliencyMap(grad, this.#shape);
    let gradCam = null;
    if (this.camLayer) {
      const {data, shape} = run.outputs[this.camLayer];
      const cam = gradCamMap(data, camGrad, shape);
      gradCam = resizeBilinear(cam, shape.slice(1), this.#shape.slice(1));
    }
    return {gradCam, saliency, camLayer: this.camLayer,
      gradCamMax: gradCam && gradCam[argmax(gradCam)], saliencyMax: saliency[argmax(saliency)]};
  }

  /** The input pixels [top, left, bottom, right] (inclusive, clipped) that `layer` at (y, x)
   * depends on, as lenet.inside.trace.receptive_field; a linear layer sees the whole input. */
  receptiveField(layer, y = 0, x = 0) {
    const [, H, W] = this.#shape;
    let i = this.#stages.findIndex((s) => s.name && s.name === layer);
    if (i < 0) throw new Error(`no layer '${layer}' in ${this.name}`);
    let top = y, left = x, bottom = y, right = x;
    for (; i >= 0; i--) {
      const {kind, kernel, stride, padding} = this.#stages[i];
      if (kind === "linear") return [0, 0, H - 1, W - 1];
      if (!kernel) continue;
      top = top * stride[0] - padding[0];
      left = left * stride[1] - padding[1];
      bottom = bottom * stride[0] - padding[0] + kernel[0] - 1;
      right = right * stride[1] - padding[1] + kernel[1] - 1;
    }
    return clip([top, left, bottom, right], H, W);
  }

  /** What one unit reads in the layer before it: the source's channels, and its window in
   * the source's own coordinates (inclusive, clipped; null for a linear layer). */
  reads(layer, channel, y = 0, x = 0) {
    const s = this.#stages[this.#traceable(layer, channel, y, x)], source = s.source.name;
    const all = Array.from({length: s.source.shape[0]}, (_, c) => c);
    if (s.kind === "linear") return {source, channels: all, window: null};
    const [top, left] = origin(s, y, x), [, H, W] = s.inShape;
    return {source, channels: s.kind === "conv" ? all : [channel],
      window: clip([top, left, top + s.kernel[0] - 1, left + s.kernel[1] - 1], H, W)};
  }

  /** How `layer`'s value at (channel, y, x) was computed, with the fields of
   * lenet.inside.trace.Trace.as_dict(); inputs, weights and products are flat, of shape `shape`.
   * An activation layer is traced as the layer before it. */
  trace(run, layer, channel, y = 0, x = 0) {
    const i = this.#traceable(layer, channel, y, x), s = this.#stages[i];
    const before = this.#runValues(run)[i], [, OH, OW] = s.outShape;
    const at = s.kind === "linear" ? channel : (channel * OH + y) * OW + x;
    const common = {model: this.name, layer: s.name, channel, y, x, source: s.source.name,
      receptive_field: this.receptiveField(s.name, y, x),
      map_value_before: run.outputs[s.name].data[at], weights: null, products: null,
      bias: null, pre_activation: null, activation: null, origin: null, pool: null,
      winner: null, top_contributions: []};
    if (s.kind === "maxpool" || s.kind === "avgpool") {
      return {...common, ...tracePool(s, before, channel, origin(s, y, x))};
    }
    const next = this.#stages[i + 1]?.kind, activation = next in ACTIVATION_NAMES ? next : null;
    if (s.kind === "linear") {                 // where each flattened value sat in the source
      const n = before.length, weights = s.weight.slice(channel * n, (channel + 1) * n);
      return {...common, ...traceSum("linear", Float32Array.from(before), weights, [n],
        s.bias[channel], activation, (j) => unravel(j, s.source.shape))};
    }
    const P = OH * OW, n = s.taps.length / P;  // the kernel's taps at this position
    const reads = Int32Array.from({length: n}, (_, k) => s.taps[k * P + y * OW + x]);
    const inputs = Float32Array.from(reads, (j) => (j < 0 ? 0 : before[j]));  // 0: padding
    const weights = s.weight.slice(channel * n, (channel + 1) * n);
    return {...common, origin: origin(s, y, x), ...traceSum("conv", inputs, weights,
      [s.inShape[0], ...s.kernel], s.bias[channel], activation,
      (j) => (reads[j] < 0 ? null : unravel(reads[j], s.inShape)))};
  }

  // ------------------------------------------------------------------ private helpers

  #checkInput(x) {
    const n = product(this.#shape);
    const shape = this.#shape.join(" x "), got = x?.length;
    if (got !== n) throw new Error(`${this.name} takes ${n} values (${shape}), not ${got}`);
  }

  /** Every stage's input and output along one pass: values[i] feeds stage i. */
  #values(input) {
    const values = [input];
    for (const s of this.#stages) values.push(KINDS[s.kind].forward(values.at(-1), s));
    return values;
  }

  /** The same values, taken from a run (the flatten's output is its input's data). */
  #runValues(run) {
    const values = [run.input];
    for (const s of this.#stages) {
      values.push(s.name ? run.outputs[s.name].data : values.at(-1));
    }
    return values;
  }

  /** The stage of a traceable layer (an activation stands for the layer before it), once
   * the channel and position are checked; each error names the valid range, as trace.py. */
  #traceable(layer, channel, y, x) {
    let i = this.#stages.findIndex((s) => s.name && s.name === layer);
    if (i > 0 && this.#stages[i].kind in ACTIVATION_NAMES) i -= 1;
    const s = this.#stages[i];
    if (!TRACEABLE.has(s?.kind)) {
      const names = this.#stages.filter((t) => TRACEABLE.has(t.kind)).map((t) => t.name).join(", ");
      throw new Error(`no layer '${layer}' to trace in ${this.name}; choose one of ${names}`);
    }
    const [C, H, W] = s.outShape, inside = (v, n) => Number.isInteger(v) && v >= 0 && v < n;
    if (!inside(channel, C)) throw new Error(`${s.name} has channels 0-${C - 1}, not ${channel}`);
    if (!H && (y !== 0 || x !== 0)) {
      throw new Error(`${s.name} is a linear layer: its position is y = x = 0, not (${y}, ${x})`);
    }
    if (H && !(inside(y, H) && inside(x, W))) {
      throw new Error(`${s.name} positions are y 0-${H - 1}, x 0-${W - 1}, not (${y}, ${x})`);
    }
    return i;
  }
}
