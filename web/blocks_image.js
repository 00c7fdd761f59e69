// A picture as the building block takes it, the same steps and float64 arithmetic as
// lenet/inside/blocks.py image_to_tensor, in the same order, so that the same pixels give the
// same tensor here and in Python: transparent areas white, the longer side at most maxSide
// (each output pixel the area-weighted mean of the pixels it covers, rows first), and one
// channel, the mean of R, G and B, for a grey picture (R = G = B in every pixel) or when
// asked. Only decoding the file is the browser's own.

/** Pixels of any picture the page holds (canvas, ImageBitmap, image) as RGBA on white paper:
 * {rgba: Uint8ClampedArray, width, height}. */
export function opaquePixels(picture) {
  const width = picture.width, height = picture.height;
  const canvas = document.createElement("canvas");
  Object.assign(canvas, {width, height});
  const g = canvas.getContext("2d", {willReadFrequently: true});
  g.fillStyle = "#fff";
  g.fillRect(0, 0, width, height);
  g.drawImage(picture, 0, 0);
  return {rgba: g.getImageData(0, 0, width, height).data, width, height};
}

/** A picture -> {shape: [C, H, W], data: Float32Array} in [0, 1] (see the top of the file). */
export function pictureTensor(picture, {grey = false, maxSide = 512} = {}) {
  const {rgba, width, height} = opaquePixels(picture);
  return tensorFromRGBA(rgba, width, height, {grey, maxSide});
}

/** RGBA bytes (opaque) -> the block's input tensor, as image_to_tensor makes it. */
export function tensorFromRGBA(rgba, width, height, {grey = false, maxSide = 512} = {}) {
  const single = grey || isGrey(rgba);
  const [w, h] = fittedSize(width, height, maxSide);
  let planes = [0, 1, 2].map((c) => channel(rgba, c));   // Float64Array(height * width) each
  if (w !== width || h !== height) {
    planes = planes.map((p) => shrinkPlane(p, [height, width], [h, w]));
  }
  const n = w * h, data = new Float32Array(single ? n : 3 * n);
  if (single) {
    for (let i = 0; i < n; i++) data[i] = (planes[0][i] + planes[1][i] + planes[2][i]) / 3 / 255;
  } else {
    planes.forEach((p, c) => { for (let i = 0; i < n; i++) data[c * n + i] = p[i] / 255; });
  }
  return {shape: [single ? 1 : 3, h, w], data};
}

function channel(rgba, c) {
  const out = new Float64Array(rgba.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = rgba[4 * i + c];
  return out;
}

export function isGrey(rgba) {
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i] !== rgba[i + 1] || rgba[i + 1] !== rgba[i + 2]) return false;
  }
  return true;
}

/** [width, height] with the longer side maxSide (kept when no longer), rounded half up. */
export function fittedSize(width, height, maxSide) {
  if (Math.max(width, height) <= maxSide) return [width, height];
  const factor = maxSide / Math.max(width, height);
  return [Math.max(1, Math.floor(width * factor + 0.5)), Math.max(1, Math.floor(height * factor + 0.5))];
}

/** For each of nOut output pixels, [input pixel, weight] of the pixels its span
 * [i·s, (i+1)·s), s = nIn / nOut, covers: the share of the span each covers. */
export function areaWeights(nIn, nOut) {
  const step = nIn / nOut, weights = [];
  for (let i = 0; i < nOut; i++) {
    const low = i * step, high = Math.min((i + 1) * step, nIn), taps = [];
    for (let j = Math.floor(low); j < Math.min(Math.ceil(high), nIn); j++) {
      taps.push([j, (Math.min(high, j + 1) - Math.max(low, j)) / step]);
    }
    weights.push(taps);
  }
  return weights;
}

/** A plane [rows, columns] shrunk to [outRows, outColumns] by area averaging, rows first. */
export function shrinkPlane(plane, [rows, columns], [outRows, outColumns]) {
  return areaResize(areaResize(plane, [rows, columns], outColumns, 1), [rows, outColumns], outRows, 0);
}

/** A plane [rows, columns] (Float64Array) shrunk to nOut along axis 0 (rows) or 1 (columns),
 * summed tap by tap in input order, as Python sums. */
function areaResize(plane, [rows, columns], nOut, axis) {
  const weights = areaWeights(axis ? columns : rows, nOut);
  const first = Int32Array.from(weights, (taps) => taps[0][0]);   // taps are consecutive pixels
  const shares = weights.map((taps) => Float64Array.from(taps, ([, share]) => share));
  const outRows = axis ? rows : nOut, outColumns = axis ? nOut : columns;
  const out = new Float64Array(outRows * outColumns);
  for (let y = 0; y < outRows; y++) {
    for (let x = 0; x < outColumns; x++) {
      const i = axis ? x : y, share = shares[i];
      // along a row the next pixel is 1 further; down a column, a whole row further
      let at = axis ? y * columns + first[i] : first[i] * columns + x, sum = 0;
      const step = axis ? 1 : columns;
      for (let t = 0; t < share.length; t++, at += step) sum += share[t] * plane[at];
      out[y * outColumns + x] = sum;
    }
  }
  return out;
}
