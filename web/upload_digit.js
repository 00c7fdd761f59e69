// The digit recipe for uploads in the page, as lenet/inputs/upload_digit.py computes it in
// float64: grey levels box-reduced to at most INK_SIDE a side, polarity from the border, an
// uneven background followed on a coarse grid, paper noise put below a floor; then MNIST's
// steps (digit_steps.js) with the upload rules (Lanczos fit, "uploads" in digit_recipe.json).
import { RECIPE, mnistRecipe, nearest } from "./digit_steps.js";
import { premultiplied } from "./upload_photo.js";
import { readBands } from "./upload_picture.js";
import { UPLOAD, downColumns, reduceFactor, resize, weighted, weights } from "./upload_resample.js";

const { LEVELS, BAND, INK_SIDE, CONTRAST, PEAK, NOISE_SIGMAS, MAD_TO_SIGMA, FLOOR_RANGE, CELLS,
        CELL_MIN, PAPER, FLAT, LUMA: [R, G, B] } = UPLOAD;

// PIL's RGB -> "L" in 16-bit fixed point (ITU-R 601 luma, rounded): whole levels.
const luma = (r, g, b) => (r * R + g * G + b * B + 2 ** 15) >> 16;

// An ImageBitmap or canvas -> the recipe's steps (digit_steps.js mnistRecipe's result, with
// `ink` the ink map and `darkInk` its polarity), as upload_digit.py's digit_recipe.
export function digitRecipe(image) {
  const { ink, darkInk } = inkAndPolarity(reducedGrey(image));
  return { ...mnistRecipe(ink, UPLOADS), ink, darkInk };
}

// Float32Array(28 * 28) in [0, 1] (ink = 1), or null when no digit is found.
export function digitPixels(image) {
  const steps = digitRecipe(image);
  return steps.empty ? null : steps.pixels;
}

// Grey levels box-reduced by a whole factor (upload_digit.py's reduced_grey, resample.py's
// box_reduce): each cell sums its columns down, then across; transparent areas are filled
// with the level that contrasts with the opaque pixels: the grey of the premultiplied
// colour plus the fill's share.
function reducedGrey(image) {
  const { width, height } = image;
  const factor = reduceFactor(height, width, INK_SIDE);
  const w = Math.ceil(width / factor), h = Math.ceil(height / factor);
  const sums = { grey: new Float64Array(w * h), alpha: new Float64Array(w * h),
                 laid: new Float64Array(w * h) };
  const columns = { grey: new Float64Array(width), alpha: new Float64Array(width),
                    laid: new Float64Array(width) };
  const { grey: greys, alpha: alphas, laid: laids } = columns;
  let minAlpha = LEVELS;
  const band = factor * Math.max(1, Math.floor(BAND / factor));   // bands never split a cell
  readBands(image, [0, 0, width, height], (rgba, top, rows) => {
    for (let r = 0; r < rows; r += factor) {
      for (const column of Object.values(columns)) column.fill(0);
      for (let y = r; y < Math.min(r + factor, rows); y++) {
        for (let x = 0, i = 4 * y * width; x < width; x++, i += 4) {
          const red = rgba[i], green = rgba[i + 1], blue = rgba[i + 2], alpha = rgba[i + 3];
          greys[x] += luma(red, green, blue);
          alphas[x] += alpha;
          laids[x] += luma(premultiplied(red, alpha), premultiplied(green, alpha),
                           premultiplied(blue, alpha));
          if (alpha < minAlpha) minAlpha = alpha;
        }
      }
      const row = (top + r) / factor, countY = Math.min(factor, height - top - r);
      for (const [name, column] of Object.entries(columns)) {
        for (let k = 0; k < w; k++) {
          let sum = 0;
          for (let x = k * factor; x < Math.min((k + 1) * factor, width); x++) sum += column[x];
          sums[name][row * w + k] = sum / (countY * Math.min(factor, width - k * factor));
        }
      }
    }
  }, band);
  if (minAlpha === LEVELS) return { width: w, height: h, ink: sums.grey };
  let opaqueSum = 0, opaqueCount = 0;
  for (let i = 0; i < w * h; i++) {
    if (sums.alpha[i] / LEVELS > 0.5) { opaqueSum += sums.grey[i]; opaqueCount++; }
  }
  const fill = opaqueCount > 0 && opaqueSum / opaqueCount > LEVELS / 2 ? 0 : LEVELS;
  const out = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) out[i] = sums.laid[i] + fill * (1 - sums.alpha[i] / LEVELS);
  return { width: w, height: h, ink: out };
}

// Grey levels -> {ink: {width, height, ink} in [0, 1], darkInk} (ink_and_polarity).
function inkAndPolarity({ width, height, ink: levels }) {
  let grey = levels.map((v) => v / LEVELS);
  const border = [];
  for (let x = 0; x < width; x++) border.push(grey[x]);
  for (let x = 0; x < width; x++) border.push(grey[(height - 1) * width + x]);
  for (let y = 0; y < height; y++) border.push(grey[y * width]);
  for (let y = 0; y < height; y++) border.push(grey[y * width + width - 1]);
  const darkInk = median(Float64Array.from(border).sort()) > 0.5;
  if (darkInk) grey = grey.map((v) => 1 - v);
  const background = backgroundOf({ width, height, ink: grey });
  const ink = grey.map((v, i) => v - background[i]);
  const ordered = ink.slice().sort();
  const peak = percentile(ordered, PEAK);
  if (peak < CONTRAST) return { ink: { width, height, ink: new Float64Array(ink.length) }, darkInk };
  const paper = median(ordered);
  const noise = MAD_TO_SIGMA * median(ink.map((v) => Math.abs(v - paper)).sort());
  const floor = Math.min(Math.max(paper + NOISE_SIGMAS * noise, FLOOR_RANGE[0] * peak),
                         FLOOR_RANGE[1] * peak);
  const scaled = ink.map((v) => Math.min(Math.max((v - floor) / (peak - floor), 0), 1));
  return { ink: { width, height, ink: scaled }, darkInk };
}

// The background level under every pixel (upload_digit.py's _background): the PAPER
// percentile of each cell of a coarse grid, a 3x3 median over the grid, a tent upscale.
function backgroundOf({ width, height, ink: grey }) {
  const cells = Math.min(CELLS, Math.floor(Math.min(height, width) / CELL_MIN));
  if (cells < 3) return new Float64Array(grey.length).fill(percentile(grey.slice().sort(), PAPER));
  const bh = Math.floor(height / cells), bw = Math.floor(width / cells);
  const grid = new Float64Array(cells * cells);
  const block = new Float64Array(bh * bw);
  for (let i = 0; i < cells; i++) {
    for (let j = 0; j < cells; j++) {
      for (let y = 0; y < bh; y++) {
        block.set(grey.subarray((i * bh + y) * width + j * bw, (i * bh + y) * width + (j + 1) * bw), y * bw);
      }
      grid[i * cells + j] = percentile(block.slice().sort(), PAPER);
    }
  }
  const clamp = (v) => Math.min(Math.max(v, 0), cells - 1);
  const smooth = new Float64Array(cells * cells);
  for (let i = 0; i < cells; i++) {
    for (let j = 0; j < cells; j++) {
      const around = new Float64Array(9);
      let n = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) around[n++] = grid[clamp(i + dy) * cells + clamp(j + dx)];
      }
      smooth[i * cells + j] = around.sort()[4];            // the median of nine
    }
  }
  let low = Infinity, high = -Infinity, sum = 0;
  for (const v of smooth) { low = Math.min(low, v); high = Math.max(high, v); sum += v; }
  if (high - low < FLAT) return new Float64Array(grey.length).fill(sum / smooth.length);
  return resize({ width: cells, height: cells, ink: smooth }, height, width, "tent").ink;
}

// The q-th percentile of values sorted ascending, linear between the nearest ranks.
function percentile(ordered, q) {
  const rank = q / 100 * (ordered.length - 1);
  const low = Math.floor(rank), high = Math.min(low + 1, ordered.length - 1);
  return ordered[low] + (ordered[high] - ordered[low]) * (rank - low);
}

// The median of values sorted ascending.
function median(ordered) {
  const middle = ordered.length >> 1;
  return ordered.length % 2 ? ordered[middle] : (ordered[middle - 1] + ordered[middle]) / 2;
}

// The box of `image` resampled so that its larger side is `side` pixels, keeping the aspect
// (upload_digit.py's lanczos_fit: Wy @ crop @ Wx.T), clipped to [0, 1].
function lanczosFit({ width, ink }, [top, left, bottom, right], side) {
  const h = bottom - top, w = right - left;
  const scale = side / Math.max(h, w);
  const outH = Math.max(1, nearest(h * scale)), outW = Math.max(1, nearest(w * scale));
  const crop = new Float64Array(h * w);
  for (let y = 0; y < h; y++) crop.set(ink.subarray((top + y) * width + left, (top + y) * width + right), y * w);
  const tall = downColumns(crop, w, weights(h, outH), outH);          // Wy @ crop: (outH, w)
  const across = weights(w, outW);
  const out = new Float64Array(outH * outW);
  for (let i = 0; i < outH; i++) {
    for (let k = 0; k < outW; k++) {
      out[i * outW + k] = Math.min(Math.max(weighted(across[k], tall, i * w, 1), 0), 1);
    }
  }
  return { width: outW, height: outH, ink: out };
}

const UPLOADS = { ...RECIPE.uploads, fit: lanczosFit, grow_outwards: false };
