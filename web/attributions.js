// Gradients carried back through each layer kind's backward: to the input, for any named
// output (what a unit wants, flipping the answer), and Grad-CAM and saliency for one class.
// The run itself comes from forward_run.js; parts it switched off pass no gradient back.

import { KINDS } from "./layer_kinds.js";
import { mirrored, runValues, switchOff } from "./forward_run.js";
import { argmax } from "./arrays.js";

/** Carry `seed`, d(objective)/d(stage `end`'s output), back to the input along one pass's
 * `values` (values[i] feeds stage i); `visit(stage, grad)` sees each named stage's output
 * gradient on the way. */
function backward(stages, values, end, seed, off, visit = () => {}) {
  let grad = Float32Array.from(seed);
  for (let i = end; i >= 0; i--) {
    const s = stages[i];
    if (s.name && off[s.name]) switchOff(grad, s.outShape, off[s.name]);   // zeroed: no slope
    if (s.name) visit(s, grad);
    grad = KINDS[s.kind].backward(grad, s, values[i], values[i + 1]);
  }
  return grad;
}

function stageIndex(stages, name) {
  const i = stages.findIndex((s) => s.name && s.name === name);
  if (i < 0) throw new Error(`no output named '${name}'`);
  return i;
}

/** d(sum of seed * run.outputs[layer]) / d(the normalised input), along this image's own pass
 * (not the mirror image's): e.g. a one-hot seed gives one unit's gradient. */
export function inputGradient({stages}, run, layer, seed) {
  return backward(stages, runValues(stages, run), stageIndex(stages, layer), seed, run.off);
}

/** d(sum of seed * run.logits) / d(the normalised input): the answer's own gradient, through
 * the mean with the mirror image's logits where the run averaged them. */
export function answerGradient({stages, shape}, run, seed) {
  const end = stages.length - 1, own = backward(stages, runValues(stages, run), end, seed, run.off);
  if (!run.mirrorPass) return own;
  const back = mirrored(backward(stages, run.mirrorPass, end, seed, run.off), shape);
  return Float32Array.from(own, (v, i) => (v + back[i]) / 2);
}

/** Grad-CAM on `camOutput` and saliency for `classIndex`, in their own units, as
 * lenet.inside.inference's attribution_maps: gradients of this image's own logit (not the
 * mirror image's), carried back through every stage's backward. */
export function attributionMaps({stages, shape, camOutput}, run, classIndex) {
  const seed = new Float32Array(run.ownLogits.length);
  seed[classIndex] = 1;
  let camGrad = null;
  const grad = backward(stages, runValues(stages, run), stages.length - 1, seed, run.off, (s, g) => {
    if (s.name === camOutput) camGrad = g;   // d(logit)/d(its output)
  });
  const saliency = saliencyMap(grad, shape);
  let gradCam = null;
  if (camOutput) {
    const {data, shape: camShape} = run.outputs[camOutput];
    gradCam = resizeBilinear(gradCamMap(data, camGrad, camShape), camShape.slice(1), shape.slice(1));
  }
  return {gradCam, saliency, gradCamMax: gradCam && gradCam[argmax(gradCam)],
    saliencyMax: saliency[argmax(saliency)]};
}

/** Grad-CAM (Selvaraju et al.): ReLU(sum_c mean(dy/dA_c) * A_c), at the maps' own size. */
function gradCamMap(activation, grad, [C, h, w]) {
  const plane = h * w, cam = new Float64Array(plane);
  for (let c = 0; c < C; c++) {
    let mean = 0;
    for (let p = 0; p < plane; p++) mean += grad[c * plane + p];
    mean /= plane;
    for (let p = 0; p < plane; p++) cam[p] += mean * activation[c * plane + p];
  }
  return Float32Array.from(cam, (v) => Math.max(v, 0));
}

/** For each of `n` outputs, the two source indices and the weight of the second, as torch's
 * bilinear interpolate with align_corners=False (which clamps the source at 0). */
function bilinearTaps(size, n) {
  const low = new Int32Array(n), high = new Int32Array(n), frac = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const at = Math.max((i + 0.5) * (size / n) - 0.5, 0);
    low[i] = Math.floor(at);
    high[i] = Math.min(low[i] + 1, size - 1);
    frac[i] = at - low[i];
  }
  return {low, high, frac};
}

function resizeBilinear(map, [h, w], [H, W]) {
  const ys = bilinearTaps(h, H), xs = bilinearTaps(w, W), out = new Float32Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const a = ys.low[y] * w, b = ys.high[y] * w, l = xs.low[x], r = xs.high[x];
    const fy = ys.frac[y], fx = xs.frac[x];
    out[y * W + x] = (1 - fy) * ((1 - fx) * map[a + l] + fx * map[a + r])
      + fy * ((1 - fx) * map[b + l] + fx * map[b + r]);
  }
  return out;
}

/** |gradient| at each pixel, the largest over the channels. */
function saliencyMap(grad, [C, H, W]) {
  const plane = H * W, out = new Float32Array(plane);
  for (let c = 0; c < C; c++) {
    for (let p = 0; p < plane; p++) out[p] = Math.max(out[p], Math.abs(grad[c * plane + p]));
  }
  return out;
}
