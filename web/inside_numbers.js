// What the "Inside the models" tab shows of a checkpoint, computed from the checkpoint alone:
// the architecture table (lenet/inside/explain.py architecture_rows), the first convolution's
// filters as pictures (lenet/pictures/visualize.py filter_tiles), every conv layer's kernels
// on one sheet, and the test error per class. Numbers and pixels only, no page: the tab
// (inside_tab.js) shows them, and tests/test_inside_page.py holds them equal to Python's.

import { KINDS, isActivation } from "./layer_kinds.js";
import { diverging } from "./colours.js";

// How the table names each kind of layer (explain.py architecture_rows' words).
const OPERATIONS = {conv: "conv", maxpool: "max-pool", avgpool: "avg-pool", linear: "linear"};
// matplotlib's RdBu_r as 256 RGB triples (web/colour_maps.json), the scale of signed weights.
const DIVERGING = diverging(1).rgb;

// ------------------------------------------------------------------------------ the table
const size = (tensors, name) => (name ? tensors[name]?.data.length ?? 0 : 0);

/** A layer row's parameters: its weight's and bias's values, counted in the file. */
export function parameterCount(row, tensors) {
  return size(tensors, row.weight) + size(tensors, row.bias);
}

/**
 * The architecture as table rows [layer, operation, kernel / stride / padding, output shape,
 * parameters]: an input row, one row per named layer with the activation the layer table puts
 * after it folded in ("conv 1→6 + ReLU"), and the total. `layers`: the checkpoint's layer
 * table with each row's output `shape` (engine.js Network.layers); `inputShape`: [C, H, W].
 */
export function architectureRows(layers, inputShape, tensors) {
  const rows = [["input", "", "", inputShape.join("x"), 0]];
  let inShape = inputShape, total = 0;
  for (const row of layers) {
    const before = inShape;
    inShape = row.shape;
    if (!row.name || isActivation(row.kind)) continue;
    let operation = OPERATIONS[row.kind];
    if (row.kind === "conv" || row.kind === "linear") operation += ` ${before[0]}→${row.shape[0]}`;
    const activation = row.after_activation !== row.name
      && layers.find((l) => l.name === row.after_activation);
    if (activation) operation += ` + ${KINDS[activation.kind].words}`;
    const geometry = row.kernel
      ? `${row.kernel[0]}x${row.kernel[1]} / s${row.stride[0]} / p${(row.padding ?? [0, 0])[0]}` : "";
    const count = parameterCount(row, tensors);
    total += count;
    rows.push([row.name, operation, geometry, row.shape.join("x"), count]);
  }
  rows.push(["total", "", "", "", total]);
  return rows;
}

/** Test error per class in %, from the checkpoint's per-class accuracies (errors rather than
 * accuracies: 0.3 % against 1.2 % shows in a bar chart, 99.7 % against 98.8 % would not). */
export function classErrors(meta) {
  return meta.per_class_accuracy.map((a) => 100 * (1 - a));
}

// ------------------------------------------------------------------------------ pictures
// Both pictures round as numpy does: in float32 where Python's weights are float32 (the
// first layer's tiles), in doubles where it converts them (the kernel sheet), and half to even.
const f32 = Math.fround;

function roundHalfEven(v) {
  const down = Math.floor(v), rest = v - down;
  if (rest !== 0.5) return Math.round(v);
  return down % 2 === 0 ? down : down + 1;
}

/** The colour table's index for a signed value on ±`top` (visualize.py diverging_rgb). */
function divergingIndex(v, top, single) {
  const scale = top > 0 ? top : 1;
  if (!single) return roundHalfEven((Math.min(1, Math.max(-1, v / scale)) + 1) * 127.5);
  const t = Math.min(1, Math.max(-1, f32(v / f32(scale))));
  return roundHalfEven(f32(f32(t + 1) * 127.5));
}

function putDiverging(rgba, at, index) {
  rgba.set(DIVERGING.subarray(3 * index, 3 * index + 3), at);
  rgba[at + 3] = 255;
}

/**
 * The first convolution's filters (weight {shape: [O, I, kh, kw], data}) as O RGBA pictures
 * of kh x kw, and the values at the ends of their colour scale: filters over three channels
 * as colour pictures, each channel from the lowest weight (0) to the highest (255); one
 * channel's signed, blue -m to red +m with m the largest |weight|.
 */
export function filterTiles({shape: [O, I, kh, kw], data}) {
  const plane = kh * kw;
  const tiles = Array.from({length: O}, () => new Uint8ClampedArray(4 * plane));
  if (I === 3) {
    let low = Infinity, high = -Infinity;
    for (const v of data) { low = Math.min(low, v); high = Math.max(high, v); }
    const span = f32(Math.max(high - low, 1e-12));
    tiles.forEach((tile, o) => {
      for (let p = 0; p < plane; p++) {
        for (let c = 0; c < 3; c++) {
          tile[4 * p + c] = Math.trunc(f32(f32(f32(data[(o * 3 + c) * plane + p] - low) / span) * 255));
        }
        tile[4 * p + 3] = 255;
      }
    });
    return {tiles, low, high, width: kw, height: kh};
  }
  let top = 0;   // over every input channel; the tiles show the first (visualize.py)
  for (const v of data) top = Math.max(top, Math.abs(v));
  tiles.forEach((tile, o) => {
    for (let p = 0; p < plane; p++) putDiverging(tile, 4 * p, divergingIndex(data[o * I * plane + p], top, true));
  });
  return {tiles, low: -top, high: top, width: kw, height: kh};
}

/** The colours of the bar under the filters: CSS stops, as the Python tab wrote them. */
export function colourBarStops(channels) {
  if (channels === 3) return "#000, #fff";
  const hex = (i) => "#" + Array.from(DIVERGING.subarray(3 * i, 3 * i + 3),
    (v) => v.toString(16).padStart(2, "0")).join("");
  return Array.from({length: 8}, (_, k) => hex(32 * k)).join(", ");
}

// Kernel sheets: at most this many output channels in a column of rows; more wrap into bands
// side by side, so that a layer of 128 filters is not a strip 768 pixels tall.
const BAND_ROWS = 32;
const BAND_GAP = 4;    // white pixels between bands (1 between kernels)

/**
 * Every kernel of a conv layer (weight {shape: [O, I, kh, kw], data}) on one sheet: a row per
 * output channel, a column per input channel, 1 white pixel between kernels, all on one
 * diverging scale of ±`top`, the layer's largest |weight|. Returns {width, height, rgba,
 * top, at(o, i) -> [x, y] of that kernel's top-left pixel}.
 */
export function kernelSheet({shape: [O, I, kh, kw], data}) {
  let top = 0;
  for (const v of data) top = Math.max(top, Math.abs(v));
  const rows = Math.min(O, BAND_ROWS), bands = Math.ceil(O / rows);
  const bandWidth = I * (kw + 1) - 1;
  const width = bands * bandWidth + (bands - 1) * BAND_GAP, height = rows * (kh + 1) - 1;
  const at = (o, i) => [Math.floor(o / rows) * (bandWidth + BAND_GAP) + i * (kw + 1), (o % rows) * (kh + 1)];
  const rgba = new Uint8ClampedArray(4 * width * height).fill(255);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) {
    const [x, y] = at(o, i);
    for (let r = 0; r < kh; r++) for (let q = 0; q < kw; q++) {
      const v = data[((o * I + i) * kh + r) * kw + q];
      putDiverging(rgba, 4 * ((y + r) * width + x + q), divergingIndex(v, top, false));
    }
  }
  return {width, height, rgba, top, at};
}
