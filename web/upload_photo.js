// The photo recipe in the page, as lenet/inputs/photo.py makes it: transparency laid on
// white, the largest centred square cut, resampled to size x size with an antialiased
// Lanczos-3 in float64 (down the columns, then across the rows), rounded to 8-bit levels.
import { readBands } from "./upload_picture.js";
import { UPLOAD, weighted, weights } from "./upload_resample.js";

const { LEVELS } = UPLOAD;

// (left, top, right, bottom) of the largest centred square (photo.py's centre_square).
export function centreSquare(width, height) {
  const side = Math.min(width, height);
  const left = Math.floor((width - side) / 2), top = Math.floor((height - side) / 2);
  return [left, top, left + side, top + side];
}

// An ImageBitmap or canvas -> Float32Array(3 * size * size), channels first, in [0, 1].
export function photoPixels(image, size = 32) {
  const box = centreSquare(image.width, image.height);
  const side = box[2] - box[0];
  const down = weights(side, size), across = weights(side, size);
  // The square's rows weighted down into size rows as they are read (Wy @ square): (size,
  // side * 3), channels last; `readers[y]`: the output rows whose weights reach row y.
  const columns = new Float64Array(size * side * 3);
  const readers = Array.from({ length: side }, () => []);
  down.forEach(({ start, values }, k) => values.forEach((_, j) => readers[start + j].push(k)));
  const levels = new Float64Array(side * 3);                 // one row laid on white: (side, 3)
  readBands(image, box, (rgba, top, count) => {
    for (let r = 0; r < count; r++) {
      for (let x = 0; x < side; x++) {
        for (let c = 0; c < 3; c++) levels[3 * x + c] = onWhite(rgba, 4 * (r * side + x), c);
      }
      const y = top - box[1] + r;
      for (const k of readers[y]) {
        const weight = down[k].values[y - down[k].start], row = k * side * 3;
        for (let i = 0; i < side * 3; i++) columns[row + i] += weight * levels[i];
      }
    }
  });
  // ... then across (@ Wx.T), rounded to whole levels.
  const out = new Float32Array(3 * size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        const value = weighted(across[x], columns, y * side * 3 + c, 3);
        const level = Math.min(Math.max(Math.floor(value + 0.5), 0), LEVELS);
        out[c * size * size + y * size + x] = level / LEVELS;
      }
    }
  }
  return out;
}

// Channel c of the pixel at `i` laid on white, in whole levels (photo.py's on_white).
function onWhite(rgba, i, c) {
  const alpha = rgba[i + 3];
  return premultiplied(rgba[i + c], alpha) + LEVELS - alpha;
}

// colour * alpha / 255 in whole levels, as the canvas stores it (photo.py's premultiplied).
// getImageData divides that by alpha again, rounded; multiplying back and rounding gives it
// exactly, since the division's error times alpha / 255 stays under half a level.
export const premultiplied = (colour, alpha) => Math.round(colour * alpha / LEVELS);
