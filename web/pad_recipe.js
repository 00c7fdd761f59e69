// The drawing pad's digit recipe in the page: canvas pixels -> LeNet-5's 28x28 input.
// lenet/inputs/pad.py is the reference (pad_ink, then preprocess.mnist_recipe with pad.PAD's
// rules); every step here repeats its arithmetic in the same order, in float64, and
// tests/test_pad_recipe.py holds the two equal on real drawings.
// Images are {width, height, ink: Float64Array} in row-major order, 1 = ink.

// Every number the recipe shares with Python is read from web/digit_recipe.json, which
// tools/recipe_constants.py writes from lenet/inputs/preprocess.py and pad.py (what each
// means: there). Top level: the recipe's constants; "pad": the pad's stroke limits, as
// multiples of MNIST_STROKE.
const RECIPE = await (await fetch(new URL("digit_recipe.json", import.meta.url))).json();
const { DIGIT_BOX, DIGIT_CANVAS, FINE, MNIST_STROKE, TARGET, INK, MIN_INK, SOLID, TIE } = RECIPE;
const { thicken_below: THICKEN_BELOW, thin_above: THIN_ABOVE, thin_to: THIN_TO } = RECIPE.pad;

// Round half up, as lenet/inputs/pad.py's _nearest.
const nearest = (x) => Math.floor(x + 0.5 + TIE);

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

// {width, height, ink} from padInk -> {pixels: Float32Array(784), empty, and the recipe's
// intermediates: box [top, left, bottom, right], stroke, adjusted, fitted, offset [row,
// column], placed}, the fields of lenet/inputs/preprocess.py's RecipeSteps.
export function padDigit(image) {
  const result = { pixels: new Float32Array(DIGIT_CANVAS * DIGIT_CANVAS), empty: true,
                   box: null, stroke: 0, adjusted: "kept", fitted: null, offset: null,
                   placed: null };
  const box = inkBox(image);
  if (box === null) return result;
  result.box = box;
  const side = DIGIT_BOX * FINE;
  let fine = fit(image, box, side);
  const width = result.stroke = strokeWidth(fine) / FINE;
  if (width < THICKEN_BELOW * MNIST_STROKE) {
    const size = 2 * nearest((MNIST_STROKE - width) * FINE / 2) + 1;
    const grown = morph(padded(fine, (size - 1) / 2), size, Math.max);
    fine = fit(grown, inkBox(grown), side);
    result.adjusted = "thickened";
  } else if (width > THIN_ABOVE * MNIST_STROKE) {
    const size = 2 * nearest((width - THIN_TO * MNIST_STROKE) * FINE / 2) + 1;
    const thinned = morph(fine, size, Math.min);
    const thinnedBox = inkBox(thinned);
    if (thinnedBox !== null) {
      fine = fit(thinned, thinnedBox, side);
      result.adjusted = "thinned";
    }
  }
  result.fitted = fine;
  result.offset = centreOffset(fine);
  result.placed = place(fine, result.offset, DIGIT_CANVAS * FINE);
  result.pixels = boxAverage(result.placed, DIGIT_CANVAS * FINE, FINE);
  result.empty = false;
  return result;
}

// [top, left, bottom, right) of the ink above INK, or null when there is less than MIN_INK.
function inkBox({ width, height, ink }) {
  let top = height, left = width, bottom = -1, right = -1, count = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (ink[row + x] > INK) {
        count++;
        if (x < left) left = x;
        if (x > right) right = x;
        if (y < top) top = y;
        bottom = y;
      }
    }
  }
  return count < MIN_INK ? null : [top, left, bottom + 1, right + 1];
}

// Area-average the box of `image` so that its larger side is `side` pixels: rows first, then
// columns, as lenet/inputs/pad.py's Wy @ crop @ Wx.T.
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

// For each of m output pixels, the [input pixel, weight] pairs it averages (lenet/inputs/pad.py's
// _box_weights, without its zeros).
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

// Mean stroke width, 2 * area / boundary of the ink above SOLID (lenet.inputs.preprocess.stroke_width).
function strokeWidth({ width, height, ink }) {
  const solid = (y, x) => y >= 0 && y < height && x >= 0 && x < width && ink[y * width + x] > SOLID;
  let area = 0, boundary = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!solid(y, x)) continue;
      area++;
      if (!(solid(y - 1, x) && solid(y + 1, x) && solid(y, x - 1) && solid(y, x + 1))) boundary++;
    }
  }
  return area === 0 ? 0 : 2 * area / Math.max(boundary, 1);
}

function padded({ width, height, ink }, r) {
  const w = width + 2 * r, out = new Float64Array(w * (height + 2 * r));
  for (let y = 0; y < height; y++) {
    out.set(ink.subarray(y * width, (y + 1) * width), (y + r) * w + r);
  }
  return { width: w, height: height + 2 * r, ink: out };
}

// Separable square max (dilation) or min (erosion) filter of odd `size`, columns of each row
// first, then rows; outside the image counts as paper for max and as ink for min.
function morph({ width, height, ink }, size, op) {
  const r = (size - 1) / 2, outside = op === Math.max ? 0 : 1;
  const across = new Float64Array(ink.length), out = new Float64Array(ink.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = ink[y * width + x];
      for (let d = -r; d <= r; d++) {
        const xx = x + d;
        v = op(v, xx < 0 || xx >= width ? outside : ink[y * width + xx]);
      }
      across[y * width + x] = v;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = across[y * width + x];
      for (let d = -r; d <= r; d++) {
        const yy = y + d;
        v = op(v, yy < 0 || yy >= height ? outside : across[yy * width + x]);
      }
      out[y * width + x] = v;
    }
  }
  return { width, height, ink: out };
}

// [row, column] of the fitted digit's corner that puts its centre of mass on TARGET.
function centreOffset({ width, height, ink }) {
  let mass = 0, sumY = 0, sumX = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = ink[y * width + x];
      mass += v;
      sumY += y * v;
      sumX += x * v;
    }
  }
  return [nearest(TARGET - sumY / mass), nearest(TARGET - sumX / mass)];
}

// `fine` on an n x n canvas with its corner at `offset`; parts pushed over the edge are cut.
function place({ width, height, ink }, [y0, x0], n) {
  const out = new Float64Array(n * n);
  for (let y = Math.max(y0, 0); y < Math.min(y0 + height, n); y++) {
    for (let x = Math.max(x0, 0); x < Math.min(x0 + width, n); x++) {
      out[y * n + x] = ink[(y - y0) * width + (x - x0)];
    }
  }
  return { width: n, height: n, ink: out };
}

// n x n -> (n / k) x (n / k), each pixel the mean of a k x k cell, capped at 1.
function boxAverage({ ink }, n, k) {
  const m = n / k, out = new Float32Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      let sum = 0;
      for (let dy = 0; dy < k; dy++) {
        for (let dx = 0; dx < k; dx++) sum += ink[(i * k + dy) * n + j * k + dx];
      }
      out[i * m + j] = Math.min(sum / (k * k), 1);
    }
  }
  return out;
}
