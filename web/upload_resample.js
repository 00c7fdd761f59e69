// Resampling for uploads in the page, as lenet/inputs/resample.py computes it in float64:
// separable filters given as, for each output pixel, the [input pixel, weight] pairs it reads
// (an antialiased Lanczos-3, a tent), and box reduction by a whole factor. Images are
// {width, height, ink: Float64Array} in row-major order, as in digit_steps.js.

// Every number shared with Python is read from web/upload_recipe.json, which
// tools/recipe_constants.py writes from lenet/inputs (what each means: there).
export const UPLOAD = await (await fetch(new URL("upload_recipe.json", import.meta.url))).json();
const { LANCZOS_SUPPORT, TENT_SUPPORT } = UPLOAD;

function lanczos(x) {
  x = Math.abs(x);
  if (x < 1e-12) return 1;
  if (x >= LANCZOS_SUPPORT) return 0;
  const pix = Math.PI * x, third = Math.PI * x / LANCZOS_SUPPORT;
  return Math.sin(pix) * Math.sin(third) / (pix * third);
}

const tent = (x) => Math.max(1 - Math.abs(x), 0);
const KERNELS = { lanczos: [lanczos, LANCZOS_SUPPORT], tent: [tent, TENT_SUPPORT] };

// For each of m output pixels, {start, values}: it reads input pixels start, start + 1, ...
// with these weights, when n input pixels are resampled to m (resample.py's weights): pixel
// centres at half-integers, the kernel stretched by the shrink factor, the weights normalised
// over the input pixels inside [0, n).
export function weights(n, m, kernel = "lanczos") {
  const [filter, support] = KERNELS[kernel];
  const scale = n / m, stretch = Math.max(scale, 1), reach = support * stretch;
  const rows = [];
  for (let i = 0; i < m; i++) {
    const centre = (i + 0.5) * scale;
    const start = Math.max(0, Math.floor(centre - reach - 0.5));
    const end = Math.min(n, Math.ceil(centre + reach - 0.5) + 1);
    const values = new Float64Array(end - start);
    let sum = 0;
    for (let j = start; j < end; j++) sum += values[j - start] = filter((j + 0.5 - centre) / stretch);
    for (let j = 0; j < values.length; j++) values[j] /= sum;
    rows.push({ start, values });
  }
  return rows;
}

// sum over j of values[j] * a[offset + (start + j) * stride]: one output pixel.
export function weighted({ start, values }, a, offset, stride) {
  let sum = 0;
  for (let j = 0, i = offset + start * stride; j < values.length; j++, i += stride) sum += values[j] * a[i];
  return sum;
}

// A (height, width) grid resampled to (outHeight, outWidth): down the columns, then across
// the rows (resample.py's resize: Wy @ a @ Wx.T).
export function resize({ width, height, ink }, outHeight, outWidth, kernel) {
  const down = weights(height, outHeight, kernel), across = weights(width, outWidth, kernel);
  const columns = downColumns(ink, width, down, outHeight);          // (outHeight, width)
  const out = new Float64Array(outHeight * outWidth);
  for (let k = 0; k < outHeight; k++) {
    for (let j = 0; j < outWidth; j++) out[k * outWidth + j] = weighted(across[j], columns, k * width, 1);
  }
  return { width: outWidth, height: outHeight, ink: out };
}

// out[k, x] = the weights of down[k] applied to column x of rows (rows: (*, width)).
export function downColumns(rows, width, down, outHeight) {
  const out = new Float64Array(outHeight * width);
  for (let k = 0; k < outHeight; k++) {
    for (let x = 0; x < width; x++) out[k * width + x] = weighted(down[k], rows, x, width);
  }
  return out;
}

// The smallest whole factor that brings the larger side to at most `side` (reduce_factor).
export const reduceFactor = (height, width, side) => Math.max(1, Math.ceil(Math.max(height, width) / side));
