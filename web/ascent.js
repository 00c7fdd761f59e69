// What a unit wants: the input that excites one unit most, found in the page by gradient
// ascent on the pixels (Erhan et al. 2009; the regularised form of Yosinski et al. 2015).
// The unit is a layer's own output at (channel, y, x), before its activation: a conv or
// pooling layer's value at one position, a linear layer's unit, the output layer's logit.
// The nine test images that excite it most come from Python (lenet/inside/wants.py).
//
//   const {pixels, value, values} = ascend(net, {layer: "C3", channel: 5, ...unitCentre(net, "C3")});
//
// Plain ascent finds high-frequency noise that no one can read; three habits keep the input a
// picture: each pixel decays a little towards grey (an L2 penalty), a light blur every few
// steps damps the highest frequencies, and every pixel stays a pixel, in [0, 1]. Decay and
// blur shape the first half of the ascent and fade out over it; the second half is the
// unit's alone, so that the picture reaches what the unit can reach (C1 is linear in the
// pixels: its best input is the filter's sign pattern, which some MNIST digits already hold).
// The step is normalised (the largest change of a pixel that can still move is STEP), so one
// rate suits every unit, whatever the scale of its gradient. There is no randomness: one unit, one picture.

const GREY = 0.5;          // where the ascent starts by default, and where decay pulls back to
const STEP = 0.1;          // the largest change of a pixel in one step (pixels are in [0, 1])
const DECAY = 0.1;         // the pull towards grey per step, as a fraction of STEP * (p - GREY)
const BLUR_EVERY = 4;      // steps between blurs
const BLUR = 0.25;         // how much of each blurred pixel replaces it
const FADE = 0.5;          // the fraction of the steps over which decay and blur fade to none

/** Gradient ascent on one unit's value with respect to the pixels; `from`: the pixels to
 * start from (C*H*W in [0, 1]; null: grey); `off`: parts switched off, as net.forward's.
 * -> {pixels: the input found, in [0, 1]; value: the unit's value there; values: its value
 * after each step (values.at(-1) === value)}. */
export function ascend(net, unit, {from = null, steps = 100, off = {}} = {}) {
  const {layer, at} = unitIndex(net, unit);
  if (!(Number.isInteger(steps) && steps >= 1)) {
    throw new Error(`steps must be a whole number of at least 1, not ${steps}`);
  }
  const {channels, height, width} = net.inputShape, plane = height * width;
  let pixels = from === null ? new Float32Array(channels * plane).fill(GREY)
    : Float32Array.from(from, (p) => Math.min(Math.max(p, 0), 1));
  net.normalize(pixels);   // checks the size of `from` in one line before any work
  const seed = new Float32Array(net.layers.find((l) => l.name === layer).shape
    .reduce((a, b) => a * b, 1));
  seed[at] = 1;
  let run = net.forward(net.normalize(pixels), {off, mirror: false});   // only outputs are read
  const values = [];
  for (let step = 1; step <= steps; step++) {
    // d(unit)/d(pixel) = d(unit)/d(input) / std: the input is (pixel - mean) / std.
    const grad = net.gradient(run, layer, seed).map((g, i) => g / net.std[Math.floor(i / plane)]);
    const fade = Math.max(0, 1 - step / (FADE * steps));
    pixels = stepped(pixels, grad, DECAY * fade);
    if (step % BLUR_EVERY === 0 && fade > 0) pixels = blurred(pixels, [channels, height, width], BLUR * fade);
    run = net.forward(net.normalize(pixels), {off, mirror: false});
    values.push(run.outputs[layer].data[at]);
  }
  return {pixels, value: values.at(-1), values: Float32Array.from(values)};
}

/** The centre of `layer`'s map ({y, x}); a linear layer's units sit at (0, 0). Where a
 * student asks what "a channel" wants, this is the unit asked about: in the middle, its
 * receptive field is all inside the input. */
export function unitCentre(net, layer) {
  const row = net.layers.find((l) => l.name && l.name === layer);
  if (!row) throw new Error(`no layer '${layer}' in ${net.name}`);
  const [, H, W] = row.shape;
  return H === undefined ? {y: 0, x: 0} : {y: Math.floor(H / 2), x: Math.floor(W / 2)};
}

/** The unit's layer (an activation's name stands for the layer it follows: the ascent works
 * on the value before the activation, whose slope is never flat) and its index in that
 * layer's output; each bad part is refused in one line by the engine's own checks. */
function unitIndex(net, {layer, channel, y = 0, x = 0} = {}) {
  const row = net.layers.find((l) => l.name && (l.name === layer || l.after_activation === layer));
  if (!row) throw new Error(`no layer '${layer}' in ${net.name}`);
  net.reads(row.name, channel, y, x);   // throws "C3 has channels 0-15, not 16" and the like
  const [, H, W] = row.shape;
  return {layer: row.name, at: H === undefined ? channel : (channel * H + y) * W + x};
}

/** One normalised step up the gradient, with the decay towards grey, clipped to [0, 1]. The
 * step is scaled to the pixels that can still move: one at 0 or 1 that the gradient pushes
 * further out stays where it is, and would otherwise hold back every pixel whose slope is
 * smaller than its own. */
function stepped(pixels, grad, decay) {
  let largest = 0;
  grad.forEach((g, i) => {
    const pinned = (g > 0 && pixels[i] >= 1) || (g < 0 && pixels[i] <= 0);
    if (!pinned) largest = Math.max(largest, Math.abs(g));
  });
  const scale = largest > 0 ? STEP / largest : 0;   // a flat gradient: only the decay acts
  return pixels.map((p, i) => Math.min(Math.max(p + scale * grad[i] - STEP * decay * (p - GREY), 0), 1));
}

/** Each channel mixed with its 3x3 binomial blur ([1 2 1] / 4 each way; the edge repeated). */
function blurred(pixels, [C, H, W], weight) {
  const out = new Float32Array(pixels.length);
  const edge = (v, n) => Math.min(Math.max(v, 0), n - 1);
  const at = (c, y, x) => pixels[(c * H + edge(y, H)) * W + edge(x, W)];
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    let sum = 0;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      sum += (2 - Math.abs(dy)) * (2 - Math.abs(dx)) * at(c, y + dy, x + dx);
    }
    const i = (c * H + y) * W + x;
    out[i] = (1 - weight) * pixels[i] + weight * sum / 16;
  }
  return out;
}
