// The drawing pad's digit recipe in the page: canvas pixels -> LeNet-5's 28x28 input.
// lenet/inputs/pad.py is the reference (pad_ink, then digit_steps.mnist_recipe with pad.PAD's
// rules); every step here repeats its arithmetic in the same order, in float64, and
// tests/test_pad_recipe.py holds the two equal on real drawings. MNIST's steps themselves
// are digit_steps.js's, shared with the upload recipe.
// Images are {width, height, ink: Float64Array} in row-major order, 1 = ink.
import { RECIPE, mnistRecipe, nearest } from "./digit_steps.js";

const { SOLID } = RECIPE;
// The pad's rules (lenet/inputs/pad.py's PAD): its stroke limits from "pad" in
// web/digit_recipe.json, area-averaging, and strokes at the edges grown outwards.
const PAD = { ...RECIPE.pad, fit, grow_outwards: true };

// ImageData-like {width, height, data: RGBA bytes} -> {width, height, ink}.
// ink = alpha * (1 - red): black on white, transparent is paper; light ink on dark paper is
// flipped and grey paper taken down to 0, as pad_ink does (white paper is left unchanged).
export function padInk({ width, height, data }) {
  const ink = new Float64Array(width * height);
  for (let i = 0; i < ink.length; i++) {
    ink[i] = (data[4 * i + 3] / 255) * (1 - data[4 * i] / 255);
  }
  const border = borderOf({ width, height, ink });
  let dark = 0;
  for (const v of border) if (v > SOLID) dark++;
  let paper = Infinity;
  if (2 * dark > border.length) {
    for (let i = 0; i < ink.length; i++) ink[i] = 1 - ink[i];
    for (const v of border) paper = Math.min(paper, 1 - v);
  } else {
    for (const v of border) paper = Math.min(paper, v);
  }
  if (paper > 0) {
    for (let i = 0; i < ink.length; i++) ink[i] = Math.max(ink[i] - paper, 0) / (1 - paper);
  }
  return { width, height, ink };
}

// The first row, last row, first column, last column, in that order (corners twice).
function borderOf({ width, height, ink }) {
  const out = [];
  for (let x = 0; x < width; x++) out.push(ink[x]);
  for (let x = 0; x < width; x++) out.push(ink[(height - 1) * width + x]);
  for (let y = 0; y < height; y++) out.push(ink[y * width]);
  for (let y = 0; y < height; y++) out.push(ink[y * width + width - 1]);
  return out;
}

// {width, height, ink} from padInk -> digit_steps.js mnistRecipe's result with the pad's rules.
export function padDigit(image) {
  return mnistRecipe(image, PAD);
}

// Area-average the box of `image` so that its larger side is `side` pixels: rows first, then
// columns, as lenet/inputs/pad.py's _fit (Wy @ crop @ Wx.T).
function fit({ width, ink }, [top, left, bottom, right], side) {
  const h = bottom - top, w = right - left;
  const scale = side / Math.max(h, w);
  const outH = Math.max(1, nearest(h * scale)), outW = Math.max(1, nearest(w * scale));
  const rows = boxWeights(h, outH), cols = boxWeights(w, outW);
  const tall = new Float64Array(outH * w);          // Wy @ crop: (outH, w)
  for (let i = 0; i < outH; i++) {
    for (const [j, weight] of rows[i]) {
      const from = (top + j) * width + left;
      for (let x = 0; x < w; x++) tall[i * w + x] += weight * ink[from + x];
    }
  }
  const out = new Float64Array(outH * outW);        // (Wy @ crop) @ Wx.T: (outH, outW)
  for (let k = 0; k < outW; k++) {
    for (const [x, weight] of cols[k]) {
      for (let i = 0; i < outH; i++) out[i * outW + k] += tall[i * w + x] * weight;
    }
  }
  return { width: outW, height: outH, ink: out };
}

// For each of m output pixels, the [input pixel, weight] pairs it averages (lenet/inputs/resample.py's
// area_weights, without its zeros).
function boxWeights(n, m) {
  const span = n / m;
  const weights = [];
  for (let i = 0; i < m; i++) {
    const start = i * span, end = (i + 1) * span;
    const pairs = [];
    for (let j = Math.floor(start); j < Math.min(Math.ceil(end), n); j++) {
      const covered = Math.min(end, j + 1) - Math.max(start, j);
      if (covered > 0) pairs.push([j, covered / span]);
    }
    weights.push(pairs);
  }
  return weights;
}

