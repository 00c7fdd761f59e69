// The building block's arithmetic, as lenet/inside/blocks.py computes it (the reference;
// tests/test_blocks_page.py holds the two equal): the kernels (named, a seeded random bank,
// typed by hand, a model's learned filters), the channel rule, one convolution with bias,
// ReLU and pooling, and the output-size formulas written with their numbers. Errors a
// visitor can cause are BlockError, one line, in Python's words. No page, no drawing here.
//
// Tensors are {shape, data: Float32Array}: an image [C, H, W], a kernel [O, I, kh, kw].
// Sums run in doubles and are stored as float32 (the engine's convolution: layer_kinds.js).

import { Draws } from "./prng.js";
import { product } from "./arrays.js";
import { convolve as convolveStage } from "./layer_kinds.js";

export class BlockError extends Error {}

const tensor = (shape, data) => ({shape, data: data ?? new Float32Array(product(shape))});

// ---------------------------------------------------------------------------- kernels

/** A named kernel for an image of `channels`: `fixed` (name -> rows) and `pair` (the
 * derivative pair's columns) come from web/blocks_tab.json; "random" is `count` filters of
 * size x size x channels from N(0, 1) with `seed` (prng.js Draws, in [O, I, kh, kw] order). */
export function makeKernel(name, channels, {fixed, pair}, {count = 10, size = 5, seed = 0} = {}) {
  if (name === "random") {
    if (count < 1 || size < 1) {
      throw new BlockError(`a random bank needs count >= 1 and size >= 1, got ${count} and ${size}`);
    }
    const shape = [count, channels, size, size];
    return tensor(shape, Float32Array.from(new Draws(seed).normal(product(shape))));
  }
  if (name === "derivative_pair") {
    return matchChannels(tensor([2, 1, 3, 1], Float32Array.from(pair.flat(2))), channels);
  }
  if (!(name in fixed)) throw new BlockError(`unknown kernel '${name}'`);
  return matchChannels(tensor([1, 1, 3, 3], Float32Array.from(fixed[name].flat())), channels);
}

/** One filter [1, I, kh, kw] of a first convolution's weight {shape: [O, I, kh, kw], data}. */
export function learnedFilter(weight, k) {
  const [, i, kh, kw] = weight.shape, n = i * kh * kw;
  return tensor([1, i, kh, kw], weight.data.slice(k * n, (k + 1) * n));
}

// A number as typed: decimal, with an optional exponent (what Python's float() reads).
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const NOT_FINITE = /^[+-]?(inf|infinity|nan)$/i;

/** Rows of text typed into the custom table -> [1, 1, kh, kw]; a cell that is not a finite
 * number is a BlockError naming it, in Python's words (user_kernel). */
export function userKernel(rows, [kh, kw] = [3, 3]) {
  if (!Array.isArray(rows) || rows.length !== kh) {
    throw new BlockError(`the kernel must have ${kh} rows of ${kw} numbers`);
  }
  const values = [];
  rows.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== kw) {
      throw new BlockError(`row ${r + 1} of the kernel must hold ${kw} numbers`);
    }
    row.forEach((cell, c) => values.push(cellNumber(cell, r + 1, c + 1)));
  });
  return tensor([1, 1, kh, kw], Float32Array.from(values));
}

function cellNumber(cell, row, column) {
  const where = `row ${row}, column ${column}`, text = String(cell).trim();
  if (NOT_FINITE.test(text)) {
    throw new BlockError(`${where} of the kernel must be a finite number, not ${pyRepr(cell)}`);
  }
  if (!NUMBER.test(text)) throw new BlockError(`${where} of the kernel is ${pyRepr(cell)}, not a number`);
  return Number(text);
}

/** A string as Python's repr writes it (quotes; no escapes needed for typed text). */
const pyRepr = (text) => (String(text).includes("'") && !String(text).includes('"')
  ? `"${text}"` : `'${String(text).replaceAll("'", "\\'")}'`);

/** [O, I, kh, kw] -> [O, channels, kh, kw]: one channel spread over `channels` (each a
 * `channels`-th: the grey mean), or channels summed for a grey image (R = G = B). */
export function matchChannels(kernel, channels) {
  const [o, i, kh, kw] = kernel.shape, plane = kh * kw;
  if (i === channels) return kernel;
  const out = tensor([o, channels, kh, kw]);
  if (i === 1) {
    for (let f = 0; f < o; f++) for (let c = 0; c < channels; c++) for (let p = 0; p < plane; p++) {
      out.data[(f * channels + c) * plane + p] = kernel.data[f * plane + p] / channels;
    }
  } else if (channels === 1) {
    for (let f = 0; f < o; f++) for (let p = 0; p < plane; p++) {
      let sum = 0;   // float32 after each addition, as torch sums float32 channels
      for (let c = 0; c < i; c++) sum = Math.fround(sum + kernel.data[(f * i + c) * plane + p]);
      out.data[f * plane + p] = sum;
    }
  } else {
    throw new BlockError(`a kernel for ${i} channels cannot run on a ${channels}-channel image`);
  }
  return out;
}

// ---------------------------------------------------------------------------- formulas

/** ⌊(n − k + 2p)/s⌋ + 1 and the formula with its numbers (lenet/net/layers.py output_size):
 * brackets only when the division is not exact, no padding term when padding is null. */
export function outputSize(n, k, stride, padding = null) {
  const span = n - k + 2 * (padding ?? 0), out = Math.floor(span / stride) + 1;
  let inner = `(${n} − ${k}` + (padding === null ? "" : ` + 2·${padding}`) + `)/${stride}`;
  if (((span % stride) + stride) % stride) inner = `⌊${inner}⌋`;
  return [out, `${inner} + 1 = ${out}`];
}

/** [[h, w], "formula → O×h×w"] for a window k [kh, kw] over n [h, w]; too large a window
 * is a BlockError, as in Python's _formula. */
function formula(what, n, k, stride, padding, channels) {
  const [[h, fh], [w, fw]] = [0, 1].map((d) => outputSize(n[d], k[d], stride, padding));
  if (Math.min(n[0] - k[0], n[1] - k[1]) + 2 * (padding ?? 0) < 0) {
    const padded = padding !== null;
    throw new BlockError(`the ${k[0]}x${k[1]} ${what} is larger than its ${n[0]}x${n[1]} input`
      + (padded ? ` with padding ${padding}` : "") + "; choose a smaller one" + (padded ? " or pad more" : ""));
  }
  const left = (f) => f.slice(0, f.lastIndexOf("="));
  const text = left(fh) === left(fw) ? fh : `height ${fh}, width ${fw}`;
  return [[h, w], `${text} → ${channels}×${h}×${w}`];
}

// ---------------------------------------------------------------------------- one block

/** Convolve `image` [C, H, W] with `kernel` (made to match C), add `bias`, then optionally
 * ReLU and pool ("none", "max", "avg"): {kernel as applied, conv, activated, pooled, shapes
 * ("input", "conv", then "relu", "pool" when run), formulas ("conv", "pool")}, as run_block. */
export function runBlock(image, kernel, {bias = 0, stride = 1, padding = 0, relu = false,
  pool = "none", poolSize = 2, poolStride = 2} = {}) {
  if (stride < 1 || poolStride < 1 || poolSize < 1 || padding < 0) {
    throw new BlockError("stride, pool size and pool stride must be at least 1, padding at least 0");
  }
  if (!["none", "max", "avg"].includes(pool)) {
    throw new BlockError(`pool must be 'none', 'max' or 'avg', not '${pool}'`);
  }
  const weight = matchChannels(kernel, image.shape[0]);
  const [o, , kh, kw] = weight.shape, shapes = {input: image.shape}, formulas = {};
  let size;
  [size, formulas.conv] = formula("kernel", image.shape.slice(1), [kh, kw], stride, padding, o);
  const conv = convolve(image, weight, Math.fround(bias), stride, padding, size);
  shapes.conv = conv.shape;
  const activated = relu ? tensor(conv.shape, conv.data.map((v) => Math.max(v, 0))) : conv;
  if (relu) shapes.relu = conv.shape;
  let pooled = activated;
  if (pool !== "none") {
    formulas.pool = formula("pooling window", size, [poolSize, poolSize], poolStride, null, o)[1];
    pooled = pooling(activated, pool, poolSize, poolStride);
    shapes.pool = pooled.shape;
  }
  return {kernel: weight, conv, activated, pooled, shapes, formulas};
}

/** F.conv2d with zero padding, one bias for every channel; [OH, OW] already worked out. The
 * engine's own convolution (layer_kinds.js), given this block as a conv stage. */
function convolve(image, weight, bias, stride, padding, [oh, ow]) {
  const [o, , kh, kw] = weight.shape, outShape = [o, oh, ow];
  return tensor(outShape, convolveStage(image.data, {inShape: image.shape, outShape, kernel: [kh, kw],
    stride: [stride, stride], padding: [padding, padding], weight: weight.data,
    bias: new Float32Array(o).fill(bias)}));
}

/** Max or average pooling, window k, stride s, no padding, the last partial window dropped. */
function pooling(maps, kind, k, s) {
  const [c, h, w] = maps.shape, oh = Math.floor((h - k) / s) + 1, ow = Math.floor((w - k) / s) + 1;
  const out = tensor([c, oh, ow]), x = maps.data;
  for (let ch = 0; ch < c; ch++) for (let y = 0; y < oh; y++) for (let col = 0; col < ow; col++) {
    let best = -Infinity, sum = 0;
    for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) {
      const v = x[(ch * h + y * s + dy) * w + col * s + dx];
      best = Math.max(best, v);
      sum += v;
    }
    out.data[(ch * oh + y) * ow + col] = kind === "max" ? best : sum / (k * k);
  }
  return out;
}
