// Small helpers over the engine's flat arrays and their shapes ([C, H, W] row-major), shared
// by the engine's modules. Nothing here knows about layers or checkpoints.

/** f(value, index) of every element, into a new Float32Array. */
export function elementwise(x, f) {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i], i);
  return out;
}

export function product(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

/** Whether two arrays hold the same values (false when either is missing); two views of the
 * same stretch of one buffer do, without reading it. */
export function sameValues(a, b) {
  if (!a || !b || a.length !== b.length) return false;
  if (a.buffer && a.buffer === b.buffer && a.byteOffset === b.byteOffset) return true;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The first index of the largest value, as numpy's argmax. */
export function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** A flat row-major index -> its position in `shape`. */
export function unravel(index, shape) {
  const out = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = index % shape[d];
    index = Math.floor(index / shape[d]);
  }
  return out;
}
