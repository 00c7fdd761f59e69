// MNIST's own steps for a digit in the page, shared by the pad's recipe (pad_recipe.js) and
// the upload recipe (upload_digit.js): lenet/inputs/digit_steps.py is the reference
// (mnist_recipe), and each step repeats its arithmetic in the same order, in float64.
// Images are {width, height, ink: Float64Array} in row-major order, 1 = ink.

// Every number shared with Python is read from web/digit_recipe.json, which
// tools/recipe_constants.py writes from lenet/inputs (what each means: there).
export const RECIPE = await (await fetch(new URL("digit_recipe.json", import.meta.url))).json();
const { DIGIT_BOX, DIGIT_CANVAS, FINE, MNIST_STROKE, TARGET, INK, MIN_INK, SOLID, TIE } = RECIPE;

// Round half up, as lenet/inputs/digit_steps.py's nearest.
export const nearest = (x) => Math.floor(x + 0.5 + TIE);

// {width, height, ink} -> {pixels: Float32Array(784), empty, and the recipe's intermediates:
// box [top, left, bottom, right], stroke, adjusted, fitted, offset [row, column], placed},
// the fields of lenet/inputs/digit_steps.py's RecipeSteps. `rules` are a DigitRules:
// {thicken_below, thin_above, thin_to (multiples of MNIST_STROKE), grow_outwards, and
// fit(image, box, side) -> the box resampled so that its larger side is `side` pixels}.
export function mnistRecipe(image, rules) {
  const result = { pixels: new Float32Array(DIGIT_CANVAS * DIGIT_CANVAS), empty: true,
                   box: null, stroke: 0, adjusted: "kept", fitted: null, offset: null,
                   placed: null };
  const box = inkBox(image);
  if (box === null) return result;
  result.box = box;
  const side = DIGIT_BOX * FINE;
  let fine = rules.fit(image, box, side);
  const width = result.stroke = strokeWidth(fine) / FINE;
  if (width < rules.thicken_below * MNIST_STROKE) {
    const size = 2 * nearest((MNIST_STROKE - width) * FINE / 2) + 1;
    const grown = morph(rules.grow_outwards ? padded(fine, (size - 1) / 2) : fine, size, Math.max);
    fine = rules.fit(grown, inkBox(grown), side);
    result.adjusted = "thickened";
  } else if (width > rules.thin_above * MNIST_STROKE) {
    const size = 2 * nearest((width - rules.thin_to * MNIST_STROKE) * FINE / 2) + 1;
    const thinned = morph(fine, size, Math.min);
    const thinnedBox = inkBox(thinned);
    if (thinnedBox !== null) {     // a thinning that erases the digit is undone
      fine = rules.fit(thinned, thinnedBox, side);
      result.adjusted = "thinned";
    }
  }
  result.fitted = fine;
  result.offset = centreOffset(fine);
  if (result.offset === null) return result;   // a guard: fitting ink above INK leaves mass
  result.placed = place(fine, result.offset, DIGIT_CANVAS * FINE);
  result.pixels = boxAverage(result.placed, DIGIT_CANVAS * FINE, FINE);
  result.empty = false;
  return result;
}

// [top, left, bottom, right) of the ink above INK, or null when there is less than MIN_INK.
export function inkBox({ width, height, ink }) {
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

// [row, column] of the fitted digit's corner that puts its centre of mass on TARGET (null
// when it has no mass).
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
  if (mass === 0) return null;
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
