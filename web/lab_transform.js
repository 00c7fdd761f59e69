// The invariance lab's transforms in the page, the same arithmetic as transform() in
// lenet/inside/invariance.py (the reference; tests/test_lab_page.py holds the two equal):
// stroke thickening or thinning, then one affine warp (torch's affine_grid + grid_sample,
// bilinear, align_corners=false), then the erased square, then seeded noise (prng.js's Draws,
// as Python's). Pixels are flat Float32Arrays, channel-major, in [0, 1]; ``shape`` is
// [C, H, W]. Torch warps in float32, so the warp rounds to float32 where torch stores a
// float32 (Math.fround), which keeps the two within float32 rounding of each other.

import { Draws } from "./prng.js";

const f = Math.fround;

/** What the lab's sliders set, in transform()'s own terms, each defaulting to no change:
 * shifts in pixels (+x right, +y down), rotation in degrees counter-clockwise, scale (> 1
 * enlarges), stroke in whole pixels (digits only), noise (a std), erase {top, left, size} or
 * null, seed, digit (paper is 0 and the warp pads with it; a photo's warp repeats its border),
 * fill (the erased square's value). */
export const NO_CHANGE = Object.freeze({shiftX: 0, shiftY: 0, rotation: 0, scale: 1, stroke: 0,
  noise: 0, erase: null, seed: 0, digit: true, fill: 0});

/** ``pixels`` (C*H*W) through ``settings`` (see NO_CHANGE): a new Float32Array. */
export function transform(pixels, shape, settings) {
  const s = {...NO_CHANGE, ...settings};
  let x = Float32Array.from(pixels);
  if (s.stroke) x = morphEach(x, shape, 2 * Math.abs(s.stroke) + 1, s.stroke > 0);
  if (s.shiftX !== 0 || s.shiftY !== 0 || s.rotation !== 0 || s.scale !== 1) {
    x = warp(x, shape, s, s.digit ? "zeros" : "border");
  }
  if (s.erase) erase(x, shape, s.erase, s.fill);
  if (s.noise) addNoise(x, s.noise, s.seed);
  return x;
}

// ---------------------------------------------------------------------------- stroke
/** Grey dilation (``thicken``) or erosion with a square of side ``k``, each plane on its own,
 * separably (rows, then columns), past the edge paper for dilation and ink for erosion: as
 * lenet.inputs.preprocess.morph. Only maxima and minima, so the values are exact. */
function morphEach(x, [C, H, W], k, thicken) {
  const r = (k - 1) / 2, op = thicken ? Math.max : Math.min, outside = thicken ? 0 : 1;
  const out = new Float32Array(x.length), plane = H * W;
  for (let c = 0; c < C; c++) {
    const rows = new Float32Array(plane), src = x.subarray(c * plane, (c + 1) * plane);
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        let v = src[i * W + j];
        for (let d = -r; d <= r; d++) v = op(v, i + d >= 0 && i + d < H ? src[(i + d) * W + j] : outside);
        rows[i * W + j] = v;
      }
    }
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        let v = rows[i * W + j];
        for (let d = -r; d <= r; d++) v = op(v, j + d >= 0 && j + d < W ? rows[i * W + j + d] : outside);
        out[c * plane + i * W + j] = v;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------- the warp
/** The 2x3 matrix affine_grid takes: for each output point, where to read, in normalised
 * coordinates (-1 to 1 over the image). It inverts p_out = scale R(θ) p_in + shift about the
 * centre, in pixels (y down), computed in doubles and stored as float32, as Python does. */
export function warpMatrix({shiftX, shiftY, rotation, scale}, H, W) {
  const a = rotation * (Math.PI / 180);
  const cos = Math.cos(a) / scale, sin = Math.sin(a) / scale;
  const inverse = [[cos, -sin], [sin, cos]];
  const offset = [-(cos * shiftX - sin * shiftY), -(sin * shiftX + cos * shiftY)];
  const half = [W / 2, H / 2];   // one pixel is 2 / W across, 2 / H down
  return [0, 1].map((r) => [f(inverse[r][0] * half[0] / half[r]), f(inverse[r][1] * half[1] / half[r]),
    f(offset[r] / half[r])]);
}

/** affine_grid + grid_sample (bilinear, align_corners=false), padding "zeros" (outside
 * reads 0) or "border" (outside reads the nearest edge pixel). */
function warp(x, [C, H, W], settings, padding) {
  const [[t00, t01, t02], [t10, t11, t12]] = warpMatrix(settings, H, W);
  const out = new Float32Array(x.length), plane = H * W;
  for (let i = 0; i < H; i++) {
    const yn = f(f((2 * i + 1) / H) - 1);          // the output pixel's centre, normalised
    for (let j = 0; j < W; j++) {
      const xn = f(f((2 * j + 1) / W) - 1);
      const gx = f(f(f(t00 * xn) + f(t01 * yn)) + t02), gy = f(f(f(t10 * xn) + f(t11 * yn)) + t12);
      let ix = f(f(f(f(gx + 1) * W) - 1) / 2), iy = f(f(f(f(gy + 1) * H) - 1) / 2);
      if (padding === "border") {
        ix = Math.min(W - 1, Math.max(ix, 0));
        iy = Math.min(H - 1, Math.max(iy, 0));
      }
      const left = Math.floor(ix), top = Math.floor(iy);
      const wx = f(ix - left), wy = f(iy - top);
      const corners = [[top, left, f(f(1 - wx) * f(1 - wy))], [top, left + 1, f(wx * f(1 - wy))],
        [top + 1, left, f(f(1 - wx) * wy)], [top + 1, left + 1, f(wx * wy)]];
      for (let c = 0; c < C; c++) {
        let v = 0;
        for (const [r, q, w] of corners) {
          if (r >= 0 && r < H && q >= 0 && q < W) v += x[c * plane + r * W + q] * w;
        }
        out[c * plane + i * W + j] = v;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------- erase, noise
/** Every channel of the square at (top, left), ``size`` wide, set to ``fill``; the part of it
 * off the image is dropped. */
function erase(x, [C, H, W], {top, left, size}, fill) {
  for (let c = 0; c < C; c++) {
    for (let i = Math.max(top, 0); i < Math.min(top + size, H); i++) {
      for (let j = Math.max(left, 0); j < Math.min(left + size, W); j++) x[c * H * W + i * W + j] = fill;
    }
  }
}

/** ``std`` times Draws(seed).normal(n) added to each value (the same field as Python's),
 * then clipped to [0, 1]. */
function addNoise(x, std, seed) {
  const field = new Draws(seed).normal(x.length);
  for (let i = 0; i < x.length; i++) x[i] = Math.min(1, Math.max(0, f(x[i] + f(std * field[i]))));
}
