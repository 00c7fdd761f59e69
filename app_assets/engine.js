// The course's networks in plain JavaScript, rebuilt from a checkpoint's own layer table and
// weights, so that the page can recompute (and explain) every number as the pointer moves.
//
// It mirrors the Python engine in lenet/ (models.py, inference.py, trace.py): the same layer
// names, the same numbers; tests/test_engine_js.py holds the two equal against torch.
// Shapes are [C, H, W] for maps and [N] for vectors; every array is a flat Float32Array in
// that order. Sums run in doubles and are stored as float32, which keeps them within float32
// rounding of torch's. No drawing here: the page draws what these functions return.
//
//   const net = await loadNetwork("/checkpoints/lenet5.safetensors");
//   const run = net.forward(net.normalize(pixels));     // run.outputs.C1.data, run.top, ...
//   const maps = net.attributions(run, run.top);         // maps.gradCam, maps.saliency
//   const t = net.trace(run, "C3", 5, 4, 6);             // as lenet.trace.Trace.as_dict()

const TOP_TERMS = 10;                            // as trace.py: the largest terms a trace lists
const ACTIVATION_NAMES = {relu: "ReLU", tanh: "tanh"};
const TRACEABLE = new Set(["conv", "linear", "maxpool", "avgpool"]);

// ---------------------------------------------------------------------------- reading a checkpoint

/** A safetensors file -> {meta: the "lenet" metadata, tensors: name -> {shape, data}}. */
export function parseSafetensors(buffer) {
  const fail = (why) => {
    throw new Error(`not a lenet checkpoint (${why}); choose a .safetensors file saved by train.py`);
  };
  if (ArrayBuffer.isView(buffer)) {
    buffer = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
  }
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < 8) fail("too short for a safetensors header");
  const view = new DataView(buffer);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;  // u64, little-endian
  if (headerLength > buffer.byteLength - 8) fail("its header runs past the end of the file");
  let header, meta;
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, headerLength)));
  } catch {
    fail("its header is not JSON");
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) fail("its header is not a table of tensors");
  try {
    meta = JSON.parse(header.__metadata__.lenet);
  } catch {
    fail("it has no lenet metadata");
  }
  const tensors = {};
  const start = 8 + headerLength;
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (entry?.dtype !== "F32") fail(`tensor ${name} is ${entry?.dtype}, not F32`);
    const [begin, end] = entry.data_offsets, count = product(entry.shape);
    if (end - begin !== 4 * count || start + end > buffer.byteLength) fail(`tensor ${name} does not fit the file`);
    // A view needs 4-byte alignment; otherwise copy. Browsers are little-endian, like the file.
    const data = (start + begin) % 4 === 0 ? new Float32Array(buffer, start + begin, count)
      : new Float32Array(buffer.slice(start + begin, start + end));
    tensors[name] = {shape: entry.shape, data};
  }
  return {meta, tensors};
}

/** Fetch a checkpoint and build its network. */
export async function loadNetwork(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url} (HTTP ${response.status}); is the checkpoint there?`);
  return networkFromBuffer(await response.arrayBuffer());
}

export function networkFromBuffer(buffer) {
  return new Network(parseSafetensors(buffer));
}

// ---------------------------------------------------------------------------- forward, per kind
// Each takes the layer's input and its stage (shapes, weights) and returns a new output.

/** A conv as one matrix product: the kernel's (C_in*kh*kw) rows of weights times the input
 * patches gathered through the stage's taps, one column per output position. */
function convForward(x, s) {
  const {taps, weight, bias} = s, [O, OH, OW] = s.outShape, P = OH * OW, K = taps.length / P;
  const patches = new Float32Array(taps.length);
  for (let j = 0; j < taps.length; j++) patches[j] = taps[j] < 0 ? 0 : x[taps[j]];
  const out = new Float32Array(O * P), acc = new Float64Array(P);
  for (let o = 0; o < O; o++) {
    acc.fill(bias[o]);
    for (let k = 0; k < K; k++) {
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

/** Max or mean of each window; `winners` (optional) receives each max's flat input index. */
function poolForward(x, s, winners = null) {
  const [, H, W] = s.inShape, [C, OH, OW] = s.outShape, [kh, kw] = s.kernel, [sh, sw] = s.stride;
  const out = new Float32Array(C * OH * OW), isMax = s.kind === "maxpool";
  for (let c = 0, o = 0; c < C; c++) for (let y = 0; y < OH; y++) for (let x0 = 0; x0 < OW; x0++, o++) {
    let best = -Infinity, at = -1, sum = 0;
    for (let r = 0; r < kh; r++) for (let q = 0; q < kw; q++) {
      const i = (c * H + y * sh + r) * W + x0 * sw + q, v = x[i];
      sum += v;
      if (v > best || at < 0) { best = v; at = i; }  // strict: the first maximum wins, as in torch
    }
    out[o] = isMax ? best : sum / (kh * kw);
    if (winners) winners[o] = at;
  }
  return out;
}

const FORWARD = {
  conv: convForward,
  linear: linearForward,
  maxpool: poolForward,
  avgpool: poolForward,
  relu: (x) => elementwise(x, (v) => (v > 0 ? v : 0)),
  tanh: (x) => elementwise(x, Math.tanh),
  flatten: (x) => x,                 // the data is already flat; only the shape changes
};

// ---------------------------------------------------------------------------- backward, per kind
// Each takes d(logit)/d(output) and returns d(logit)/d(input). Only input gradients are needed:
// the weights are fixed.

/** The transposed product gives each patch entry's gradient; the taps add them back onto
 * the input values they were read from (nothing for the padding). */
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
  const n = s.inputs, acc = new Float64Array(n);
  for (let o = 0; o < grad.length; o++) {
    const g = grad[o];
    if (g === 0) continue;
    for (let i = 0, row = o * n; i < n; i++) acc[i] += g * s.weight[row + i];
  }
  return Float32Array.from(acc);
}

function poolBackward(grad, s, input) {
  const out = new Float32Array(product(s.inShape));
  if (s.kind === "maxpool") {                       // all of it to the window's winner
    const winners = new Int32Array(grad.length);
    poolForward(input, s, winners);
    for (let o = 0; o < grad.length; o++) out[winners[o]] += grad[o];
    return out;
  }
  const [, H, W] = s.inShape, [C, OH, OW] = s.outShape, [kh, kw] = s.kernel, [sh, sw] = s.stride;
  for (let c = 0, o = 0; c < C; c++) for (let y = 0; y < OH; y++) for (let x0 = 0; x0 < OW; x0++, o++) {
    const share = grad[o] / (kh * kw);
    for (let r = 0; r < kh; r++) for (let q = 0; q < kw; q++) out[(c * H + y * sh + r) * W + x0 * sw + q] += share;
  }
  return out;
}

const BACKWARD = {                   // (grad, stage, the layer's input, its output)
  conv: convBackward,
  linear: linearBackward,
  maxpool: poolBackward,
  avgpool: poolBackward,
  relu: (grad, s, input, output) => elementwise(grad, (g, i) => (output[i] > 0 ? g : 0)),
  tanh: (grad, s, input, output) => elementwise(grad, (g, i) => g * (1 - output[i] * output[i])),
  flatten: (grad) => grad,
};

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

function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function maxOf(values) {
  return values.length ? values[argmax(values)] : 0;
}

/** Softmax, shifted by the largest logit so that exp never overflows. */
function softmax(logits) {
  const top = maxOf(logits), e = Float64Array.from(logits, (v) => Math.exp(v - top));
  const total = e.reduce((a, b) => a + b, 0);
  return Float32Array.from(e, (v) => v / total);
}

/** Each row of each channel reversed: the image seen in a mirror. */
function mirrored(x, [C, H, W]) {
  const out = new Float32Array(x.length);
  for (let row = 0; row < C * H; row++) for (let i = 0; i < W; i++) out[row * W + i] = x[row * W + W - 1 - i];
  return out;
}

/** For each kernel tap k = (c, ky, kx) and output position p = (y, x), the flat index of the
 * input value that tap reads there (at k * P + p), or -1 where it reads the zero padding. */
function convTaps([C, H, W], [OH, OW], [kh, kw], [sh, sw], [ph, pw]) {
  const P = OH * OW, taps = new Int32Array(C * kh * kw * P);
  for (let k = 0; k < C * kh * kw; k++) {
    const [c, ky, kx] = unravel(k, [C, kh, kw]);
    for (let y = 0; y < OH; y++) for (let x = 0; x < OW; x++) {
      const iy = y * sh - ph + ky, ix = x * sw - pw + kx;
      taps[k * P + y * OW + x] = iy >= 0 && iy < H && ix >= 0 && ix < W ? (c * H + iy) * W + ix : -1;
    }
  }
  return taps;
}

/** For each of `n` outputs, the two source indices and the weight of the second, as torch's
 * bilinear interpolate with align_corners=False (source clamped at 0 on the low side). */
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

function resizeBilinear(map, h, w, H, W) {
  const ys = bilinearTaps(h, H), xs = bilinearTaps(w, W), out = new Float32Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const a = ys.low[y] * w, b = ys.high[y] * w, l = xs.low[x], r = xs.high[x], fy = ys.frac[y], fx = xs.frac[x];
    out[y * W + x] = (1 - fy) * ((1 - fx) * map[a + l] + fx * map[a + r]) + fy * ((1 - fx) * map[b + l] + fx * map[b + r]);
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

/** |gradient| at each pixel, the largest over the channels. */
function saliencyMap(grad, [C, H, W]) {
  const out = new Float32Array(H * W);
  for (let c = 0; c < C; c++) for (let p = 0; p < H * W; p++) out[p] = Math.max(out[p], Math.abs(grad[c * H * W + p]));
  return out;
}

/** Indices of the `k` largest |terms|, largest first; equal sizes keep their index order. */
function largestTerms(terms, k) {
  const best = [];
  for (let j = 0; j < terms.length; j++) {
    const size = Math.abs(terms[j]);
    if (best.length === k && size <= Math.abs(terms[best[k - 1]])) continue;
    let at = best.length;
    while (at > 0 && Math.abs(terms[best[at - 1]]) < size) at--;
    best.splice(at, 0, j);
    if (best.length > k) best.pop();
  }
  return best;
}

function unravel(index, shape) {
  const out = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) { out[d] = index % shape[d]; index = Math.floor(index / shape[d]); }
  return out;
}

function clip([top, left, bottom, right], H, W) {
  return [Math.max(top, 0), Math.max(left, 0), Math.min(bottom, H - 1), Math.min(right, W - 1)];
}

/** One row of the layer table with what computing it needs: shapes, weights, kernel spans. */
function buildStage(row, inShape, tensors) {
  const s = {...row, inShape, outShape: inShape};
  const param = (name, size) => {
    const t = tensors[name];
    if (!t || t.data.length !== size) throw new Error(`checkpoint: ${name} is missing or the wrong size for layer ${row.name}`);
    return t.data;
  };
  if (row.kind === "conv" || row.kind === "maxpool" || row.kind === "avgpool") {
    const [C, H, W] = inShape, [kh, kw] = row.kernel, [sh, sw] = row.stride, [ph, pw] = row.padding ?? [0, 0];
    const OH = Math.floor((H + 2 * ph - kh) / sh) + 1, OW = Math.floor((W + 2 * pw - kw) / sw) + 1;
    s.padding = [ph, pw];
    s.outShape = [row.kind === "conv" ? row.outputs : C, OH, OW];
    if (row.kind === "conv") {
      if (C !== row.inputs) throw new Error(`layer ${row.name} reads ${row.inputs} channels but gets ${C}`);
      s.weight = param(row.weight, row.outputs * C * kh * kw);
      s.bias = param(row.bias, row.outputs);
      s.taps = convTaps(inShape, [OH, OW], row.kernel, row.stride, s.padding);
    }
  } else if (row.kind === "linear") {
    if (product(inShape) !== row.inputs) throw new Error(`layer ${row.name} reads ${row.inputs} values but gets ${product(inShape)}`);
    s.outShape = [row.outputs];
    s.weight = param(row.weight, row.outputs * row.inputs);
    s.bias = param(row.bias, row.outputs);
  } else if (row.kind === "flatten") {
    s.outShape = [product(inShape)];
  } else if (!(row.kind in ACTIVATION_NAMES)) {
    throw new Error(`layer ${row.name}: kind ${row.kind} is unknown to engine.js`);
  }
  return s;
}

// ---------------------------------------------------------------------------- the network

export class Network {
  #stages;      // the layer table's rows with shapes and weights, in forward order

  constructor({meta, tensors}) {
    if (!Array.isArray(meta.layers)) {
      throw new Error(`checkpoint ${meta.model} has no layer table; re-save it with this project's train.py`);
    }
    const [channels, height, width] = meta.input_shape;
    Object.assign(this, {name: meta.model, title: meta.title, classes: meta.classes, meta,
      inputShape: {channels, height, width}, mean: meta.mean, std: meta.std,
      mirrorAverage: Boolean(meta.mirror_average)});
    let shape = [channels, height, width];
    this.#stages = meta.layers.map((row) => {
      const stage = buildStage(row, shape, tensors);
      shape = stage.outShape;
      return stage;
    });
    this.layers = meta.layers.map((row, i) => ({...row, shape: this.#stages[i].outShape}));
    // Grad-CAM looks at the last conv whose maps are larger than 1x1 (LeNet's C5 is 1x1),
    // after its activation, as inference.py does; a model without convolutions has none.
    const convs = this.#stages.filter((s) => s.kind === "conv" && Math.max(s.outShape[1], s.outShape[2]) > 1);
    const conv = convs.length ? this.#stages.indexOf(convs[convs.length - 1]) : -1;
    const next = this.#stages[conv + 1];
    this.camConv = conv < 0 ? null : this.#stages[conv].name;
    this.camLayer = conv < 0 ? null : next && next.kind in ACTIVATION_NAMES ? next.name : this.camConv;
  }

  /** Pixels in [0, 1], C*H*W -> the network's input, (pixel - mean) / std per channel. */
  normalize(pixels) {
    const {channels, height, width} = this.inputShape, plane = height * width;
    this.#checkInput(pixels);
    const out = new Float32Array(channels * plane);
    for (let c = 0; c < channels; c++) {
      for (let p = c * plane; p < (c + 1) * plane; p++) out[p] = (pixels[p] - this.mean[c]) / this.std[c];
    }
    return out;
  }

  /** One pass over a normalised input; every named layer's output, as lenet's layer_outputs. */
  forward(input) {
    this.#checkInput(input);
    input = Float32Array.from(input);   // the run keeps its own copy
    const values = this.#values(input), outputs = {};
    this.#stages.forEach((s, i) => {
      if (s.name) outputs[s.name] = {shape: s.outShape, data: values[i + 1]};
    });
    const ownLogits = values[values.length - 1];
    // The mirror image only lends its logits to the answer, as Classifier.answer does.
    const mirrorLogits = this.mirrorAverage ? this.#values(mirrored(input, this.#inShape())).pop() : null;
    const logits = mirrorLogits ? ownLogits.map((v, i) => (v + mirrorLogits[i]) / 2) : ownLogits;
    const probabilities = softmax(logits);
    return {input, outputs, ownLogits, mirrorLogits, logits, probabilities, top: argmax(probabilities)};
  }

  /** Grad-CAM and saliency for `classIndex`, in their own units, as lenet.inference's
   * attribution_maps: gradients of this image's own logit (not the mirror's). */
  attributions(run, classIndex) {
    if (!(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < this.classes.length)) {
      throw new Error(`class index must be 0-${this.classes.length - 1}, not ${classIndex}`);
    }
    const values = this.#runValues(run);
    let grad = new Float32Array(this.classes.length), camGrad = null;
    grad[classIndex] = 1;
    for (let i = this.#stages.length - 1; i >= 0; i--) {
      const s = this.#stages[i];
      if (s.name && s.name === this.camLayer) camGrad = grad;
      grad = BACKWARD[s.kind](grad, s, values[i], values[i + 1]);
    }
    const {height, width} = this.inputShape;
    const saliency = saliencyMap(grad, this.#inShape());
    let gradCam = null;
    if (this.camLayer) {
      const cam = run.outputs[this.camLayer];
      gradCam = resizeBilinear(gradCamMap(cam.data, camGrad, cam.shape), cam.shape[1], cam.shape[2], height, width);
    }
    return {gradCam, saliency, camLayer: this.camLayer, gradCamMax: gradCam && maxOf(gradCam), saliencyMax: maxOf(saliency)};
  }

  /** The input pixels [top, left, bottom, right] (inclusive, clipped) `layer` at (y, x)
   * depends on, as lenet.trace.receptive_field; linear layers see the whole input. */
  receptiveField(layer, y = 0, x = 0) {
    const {height, width} = this.inputShape;
    let rows = [y, y], cols = [x, x];
    for (let i = this.#indexOf(layer); i >= 0; i--) {
      const s = this.#stages[i];
      if (s.kind === "linear") return [0, 0, height - 1, width - 1];
      if (!s.kernel) continue;
      rows = [rows[0] * s.stride[0] - s.padding[0], rows[1] * s.stride[0] - s.padding[0] + s.kernel[0] - 1];
      cols = [cols[0] * s.stride[1] - s.padding[1], cols[1] * s.stride[1] - s.padding[1] + s.kernel[1] - 1];
    }
    return clip([rows[0], cols[0], rows[1], cols[1]], height, width);
  }

  /** What one unit reads in the layer before it: the source's channels and window (in the
   * source's own coordinates, inclusive and clipped; null for a linear layer). */
  reads(layer, channel, y = 0, x = 0) {
    const i = this.#traceable(layer, channel, y, x), s = this.#stages[i], source = this.#source(i);
    const all = Array.from({length: source.shape[0]}, (_, c) => c);
    if (s.kind === "linear") return {source: source.name, channels: all, window: null};
    const [top, left] = this.#origin(s, y, x);
    const window = clip([top, left, top + s.kernel[0] - 1, left + s.kernel[1] - 1], s.inShape[1], s.inShape[2]);
    return {source: source.name, channels: s.kind === "conv" ? all : [channel], window};
  }

  /** How `layer`'s value at (channel, y, x) was computed, with the fields of
   * lenet.trace.Trace.as_dict(); inputs, weights and products are flat, of shape `shape`.
   * An activation layer is traced as the layer before it. */
  trace(run, layer, channel, y = 0, x = 0) {
    const i = this.#traceable(layer, channel, y, x), s = this.#stages[i], source = this.#source(i);
    const before = this.#runValues(run)[i], own = run.outputs[s.name].data;
    const common = {model: this.name, layer: s.name, channel, y, x, source: source.name,
      receptive_field: this.receptiveField(s.name, y, x),
      map_value_before: own[s.kind === "linear" ? channel : (channel * s.outShape[1] + y) * s.outShape[2] + x]};
    const none = {weights: null, products: null, bias: null, pre_activation: null, activation: null,
      origin: null, pool: null, winner: null, top_contributions: []};
    if (s.kind === "maxpool" || s.kind === "avgpool") {
      const [kh, kw] = s.kernel, [top, left] = this.#origin(s, y, x), W = s.inShape[2];
      const inputs = new Float32Array(kh * kw);
      for (let r = 0; r < kh; r++) for (let q = 0; q < kw; q++) inputs[r * kw + q] = before[(channel * s.inShape[1] + top + r) * W + left + q];
      const isMax = s.kind === "maxpool", win = argmax(inputs);
      return {...common, ...none, kind: "pool", inputs, shape: [1, kh, kw], origin: [top, left],
        value: isMax ? inputs[win] : inputs.reduce((a, b) => a + b, 0) / inputs.length,
        pool: isMax ? "max" : "average", winner: isMax ? [Math.floor(win / kw), win % kw] : null};
    }
    let inputs, weights, shape, origin = null, at;
    if (s.kind === "conv") {
      const P = s.outShape[1] * s.outShape[2], n = s.taps.length / P;
      const reads = Int32Array.from({length: n}, (_, k) => s.taps[k * P + y * s.outShape[2] + x]);
      inputs = Float32Array.from(reads, (j) => (j < 0 ? 0 : before[j]));   // zero in the padding
      weights = s.weight.slice(channel * n, (channel + 1) * n);
      shape = [s.inShape[0], ...s.kernel];
      origin = this.#origin(s, y, x);
      at = (j) => (reads[j] < 0 ? null : unravel(reads[j], s.inShape));
    } else {
      inputs = Float32Array.from(before);
      shape = [inputs.length];
      weights = s.weight.slice(channel * inputs.length, (channel + 1) * inputs.length);
      at = (j) => unravel(j, source.shape);        // where the flattened value sat
    }
    const products = inputs.map((v, j) => v * weights[j]);   // float32 products, as numpy's
    const bias = s.bias[channel];
    const pre = products.reduce((a, b) => a + b, 0) + bias;
    const next = this.#stages[i + 1], act = next && next.kind in ACTIVATION_NAMES ? next.kind : null;
    const stored = Math.fround(pre);                // torch applies the activation in float32
    const value = act === "relu" ? Math.max(stored, 0) : act === "tanh" ? Math.fround(Math.tanh(stored)) : pre;
    const top_contributions = largestTerms(products, Math.min(TOP_TERMS, products.length)).map((j) => ({
      index: shape.length > 1 ? unravel(j, shape) : j, at: at(j),
      input: inputs[j], weight: weights[j], product: products[j]}));
    return {...common, ...none, kind: s.kind, inputs, shape, weights, products, bias,
      pre_activation: pre, activation: act && ACTIVATION_NAMES[act], value, origin, top_contributions};
  }

  // ------------------------------------------------------------------ private helpers

  #inShape() {
    const {channels, height, width} = this.inputShape;
    return [channels, height, width];
  }

  #checkInput(x) {
    const n = product(this.#inShape());
    if (!x || x.length !== n) throw new Error(`${this.name} takes ${n} values (${this.#inShape().join(" x ")}), not ${x?.length}`);
  }

  /** Every stage's input and output along one pass: values[i] feeds stage i. */
  #values(input) {
    const values = [input];
    for (const s of this.#stages) values.push(FORWARD[s.kind](values[values.length - 1], s));
    return values;
  }

  /** The same values rebuilt from a run's outputs (the flatten's is its input's data). */
  #runValues(run) {
    const values = [run.input];
    this.#stages.forEach((s) => values.push(s.name ? run.outputs[s.name].data : values[values.length - 1]));
    return values;
  }

  #indexOf(layer) {
    const i = layer ? this.#stages.findIndex((s) => s.name === layer) : -1;
    if (i < 0) throw new Error(`no layer '${layer}' in ${this.name}; choose one of ${this.#stages.filter((s) => s.name).map((s) => s.name).join(", ")}`);
    return i;
  }

  /** The named output stage `i` reads: {name, shape}; "input" for the first. */
  #source(i) {
    for (let j = i - 1; j >= 0; j--) if (this.#stages[j].name) return {name: this.#stages[j].name, shape: this.#stages[j].outShape};
    return {name: "input", shape: this.#inShape()};
  }

  /** The window's top-left in the source; negative inside the padding. */
  #origin(s, y, x) {
    return [y * s.stride[0] - s.padding[0], x * s.stride[1] - s.padding[1]];
  }

  /** The stage index of a traceable layer (an activation stands for the layer before it),
   * after checking the channel and position; the errors name the valid range. */
  #traceable(layer, channel, y, x) {
    let i = this.#stages.findIndex((s) => s.name && s.name === layer);
    if (i > 0 && this.#stages[i].kind in ACTIVATION_NAMES) i -= 1;
    const s = this.#stages[i];
    if (!s || !TRACEABLE.has(s.kind)) {
      const valid = this.#stages.filter((t) => TRACEABLE.has(t.kind)).map((t) => t.name);
      throw new Error(`no layer '${layer}' to trace in ${this.name}; choose one of ${valid.join(", ")}`);
    }
    const [C, H, W] = s.outShape, inside = (v, n) => Number.isInteger(v) && v >= 0 && v < n;
    if (!inside(channel, C)) throw new Error(`${s.name} has channels 0-${C - 1}, not ${channel}`);
    if (s.outShape.length === 1 && (y !== 0 || x !== 0)) {
      throw new Error(`${s.name} is a linear layer: its position is y = x = 0, not (${y}, ${x})`);
    }
    if (s.outShape.length === 3 && !(inside(y, H) && inside(x, W))) {
      throw new Error(`${s.name} positions are y 0-${H - 1}, x 0-${W - 1}, not (${y}, ${x})`);
    }
    return i;
  }
}
