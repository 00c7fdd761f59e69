// What the invariance lab measures, in the page, with the page's engine (engine.js): the
// probabilities of an input, every class against rotation or horizontal shift (the other
// sliders as set), and the occlusion map (Zeiler & Fergus), as rotation_curve, shift_curve
// and occlusion_map in lenet/inside/invariance.py compute them. The engine's answer includes
// the ConvNet's mirror average, as the Python Classifier's does.
//
// The curves and the map are dozens of forward passes (a ConvNet pass costs tens of ms), so
// each is a generator that yields after every pass: the tab runs them a slice at a time and
// drops them when a slider moves again. finish() runs one to its end (the tests do).

import { transform } from "./lab_transform.js";

/** Every class's probability for ``pixels`` (C*H*W in [0, 1]): the engine's answer. */
export function probabilities(net, pixels) {
  return net.forward(net.normalize(pixels)).probabilities;
}

const shapeOf = (net) => [net.inputShape.channels, net.inputShape.height, net.inputShape.width];

/** The values a curve sweeps: -limit to limit by ``step``. */
export function sweepValues(limit, step = 1) {
  return Array.from({length: Math.floor((2 * limit) / step) + 1}, (_, k) => -limit + k * step);
}

/** {values, probabilities: one Float32Array per value}: ``settings`` with ``name`` (a
 * transform setting, e.g. "rotation") at each of ``values``; yields after each pass. */
export function* sweep(net, pixels, name, values, settings) {
  const shape = shapeOf(net), rows = [];
  for (const v of values) {
    rows.push(probabilities(net, transform(pixels, shape, {...settings, [name]: v})));
    yield;
  }
  return {values: [...values], probabilities: rows};
}

/** The occlusion map of ``pixels`` as shown: a ``size`` square of ``fill`` slid by
 * ``stride``; drop (rows x cols, row-major): the top class's probability unhidden minus hidden;
 * heat (H x W): the mean drop of the squares over each pixel, 0 where none is. Yields after
 * each pass. */
export function* occlusion(net, pixels, {size, stride, fill}) {
  const [C, H, W] = shapeOf(net), plane = H * W;
  const plain = probabilities(net, pixels);
  let classIndex = 0;
  plain.forEach((p, k) => { if (p > plain[classIndex]) classIndex = k; });
  const tops = sweepPlaces(H, size, stride), lefts = sweepPlaces(W, size, stride);
  const drop = new Float32Array(tops.length * lefts.length);
  const total = new Float64Array(plane), count = new Float64Array(plane);
  yield;
  for (const [r, top] of tops.entries()) {
    for (const [q, left] of lefts.entries()) {
      const hidden = Float32Array.from(pixels);
      for (let c = 0; c < C; c++) {
        for (let i = top; i < top + size; i++) hidden.fill(fill, c * plane + i * W + left, c * plane + i * W + left + size);
      }
      const d = Math.fround(plain[classIndex] - probabilities(net, hidden)[classIndex]);
      drop[r * lefts.length + q] = d;
      for (let i = top; i < top + size; i++) {
        for (let j = left; j < left + size; j++) { total[i * W + j] += d; count[i * W + j] += 1; }
      }
      yield;
    }
  }
  const heat = Float32Array.from(total, (t, i) => (count[i] ? t / count[i] : 0));
  return {drop, rows: tops.length, cols: lefts.length, heat, classIndex,
    probability: plain[classIndex], size, stride, fill};
}

/** Where a square of ``size`` starts, every ``stride`` pixels, wholly inside ``side``. */
function sweepPlaces(side, size, stride) {
  return Array.from({length: Math.floor((side - size) / stride) + 1}, (_, k) => k * stride);
}

/** Run a generator above to its end; its result. */
export function finish(steps) {
  for (;;) {
    const {done, value} = steps.next();
    if (done) return value;
  }
}
