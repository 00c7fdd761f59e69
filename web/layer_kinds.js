// Each kind of layer, one object per kind, with its forward and backward over flat
// Float32Arrays, and the table of kinds (KINDS) the rest of the engine looks them up in.
// A kind knows its arithmetic only: which layers a network has is layer_table.js's.

import { elementwise, product } from "./arrays.js";

// ---------------------------------------------------------------------------- forward, per kind
// Each takes a layer's input and its stage (shapes, weights) and returns a new output.

// One output row's input patches, position-major; one buffer, grown as needed (one conv runs
// at a time), so that a conv allocates only its output, however large its image.
let patches = new Float32Array(0);

/** F.conv2d with zero padding, as one matrix product a row of outputs at a time: each output
 * is the dot product of its channel's weights, one per kernel tap (c, ky, kx), with the input
 * patch at its position. Both run along memory; the sums stay in registers (doubles), four
 * channels at a time, so that each patch value read serves four of them. `s`: a conv stage
 * (shapes [C, H, W] -> [O, OH, OW], kernel, stride, padding, weight [O, C, kh, kw], bias [O]). */
export function convolve(x, s) {
  const [C, H, W] = s.inShape, [O, OH, OW] = s.outShape, [kh, kw] = s.kernel, [sh, sw] = s.stride;
  const [ph, pw] = s.padding, {weight, bias} = s, K = C * kh * kw, P = OH * OW;
  if (patches.length < K * OW) patches = new Float32Array(K * OW);
  const patch = patches, out = new Float32Array(O * P);   // a local: read once, not every step
  for (let y = 0; y < OH; y++) {
    for (let c = 0, k = 0; c < C; c++) for (let ky = 0; ky < kh; ky++) {
      const iy = y * sh - ph + ky, rowInside = iy >= 0 && iy < H, row = (c * H + iy) * W;
      for (let kx = 0; kx < kw; kx++, k++) {
        for (let q = 0, ix = kx - pw; q < OW; q++, ix += sw) {
          patch[q * K + k] = rowInside && ix >= 0 && ix < W ? x[row + ix] : 0;
        }
      }
    }
    let o = 0;
    for (; o + 4 <= O; o += 4) {
      const w0 = o * K, w1 = w0 + K, w2 = w1 + K, w3 = w2 + K;
      for (let q = 0, at = o * P + y * OW; q < OW; q++, at++) {
        let s0 = bias[o], s1 = bias[o + 1], s2 = bias[o + 2], s3 = bias[o + 3];
        for (let k = 0, from = q * K; k < K; k++) {
          const v = patch[from + k];
          s0 += weight[w0 + k] * v;
          s1 += weight[w1 + k] * v;
          s2 += weight[w2 + k] * v;
          s3 += weight[w3 + k] * v;
        }
        out[at] = s0;
        out[at + P] = s1;
        out[at + 2 * P] = s2;
        out[at + 3 * P] = s3;
      }
    }
    for (; o < O; o++) {   // the channels left over when O is not a multiple of four
      for (let q = 0; q < OW; q++) {
        let sum = bias[o];
        for (let k = 0; k < K; k++) sum += weight[o * K + k] * patch[q * K + k];
        out[o * P + y * OW + q] = sum;
      }
    }
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

// One position's patch slopes and the output channels with a slope there (below); buffers
// grown as needed, as `patches` above.
let patchSlopes = new Float64Array(0), sloped = new Int32Array(0);

/** The transposed product, one output position at a time: the slope of each entry of the
 * patch that position read is the sum over the output channels of weight * that channel's
 * slope there, four channels at a time along memory (as convolve); the taps then add the
 * patch's slopes back onto the input values they were read from (the padding takes none).
 * Only the channels with a slope take part, and they are few: max pooling passes slope to
 * one value of each window, ReLU to the positive ones. The sums run in doubles. */
function convBackward(grad, s) {
  const [C, H, W] = s.inShape, [O, OH, OW] = s.outShape, [kh, kw] = s.kernel, [sh, sw] = s.stride;
  const [ph, pw] = s.padding, {weight} = s, K = C * kh * kw, P = OH * OW;
  if (patchSlopes.length < K) patchSlopes = new Float64Array(K);
  if (sloped.length < O) sloped = new Int32Array(O);
  const patch = patchSlopes, live = sloped, acc = new Float64Array(C * H * W);
  for (let y = 0, p = 0; y < OH; y++) for (let x = 0; x < OW; x++, p++) {
    let n = 0;
    for (let o = 0; o < O; o++) if (grad[o * P + p] !== 0) live[n++] = o;
    if (!n) continue;
    patch.fill(0, 0, K);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const w0 = live[j] * K, w1 = live[j + 1] * K, w2 = live[j + 2] * K, w3 = live[j + 3] * K;
      const g0 = grad[live[j] * P + p], g1 = grad[live[j + 1] * P + p];
      const g2 = grad[live[j + 2] * P + p], g3 = grad[live[j + 3] * P + p];
      for (let k = 0; k < K; k++) {
        patch[k] += weight[w0 + k] * g0 + weight[w1 + k] * g1 + weight[w2 + k] * g2 + weight[w3 + k] * g3;
      }
    }
    for (; j < n; j++) {   // the channels left over
      const w = live[j] * K, g = grad[live[j] * P + p];
      for (let k = 0; k < K; k++) patch[k] += weight[w + k] * g;
    }
    const top = y * sh - ph, left = x * sw - pw;
    const kx0 = Math.max(0, -left), kx1 = Math.min(kw, W - left);   // the columns inside the input
    for (let c = 0, k = 0; c < C; c++) for (let ky = 0; ky < kh; ky++, k += kw) {
      const iy = top + ky;
      if (iy < 0 || iy >= H) continue;
      for (let kx = kx0, at = (c * H + iy) * W + left; kx < kx1; kx++) acc[at + kx] += patch[k + kx];
    }
  }
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
export const KINDS = {
  conv: {forward: convolve, backward: convBackward},
  linear: {forward: linearForward, backward: linearBackward},
  maxpool: {forward: poolForward, backward: poolBackward},
  avgpool: {forward: poolForward, backward: poolBackward},
  flatten: {forward: (x) => x, backward: (grad) => grad},   // flat already: only shapes change
  relu: activation("ReLU", (v) => (v > 0 ? v : 0), (y) => (y > 0 ? 1 : 0)),
  tanh: activation("tanh", Math.tanh, (y) => 1 - y * y),
  sigmoid: activation("sigmoid", (v) => 1 / (1 + Math.exp(-v)), (y) => y * (1 - y)),
};
export const TRACEABLE = new Set(["conv", "linear", "maxpool", "avgpool"]);

export const isActivation = (kind) => Boolean(KINDS[kind]?.words);
