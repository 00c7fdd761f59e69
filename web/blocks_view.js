// Drawing the building block's numbers: the input as the block sees it (its zero padding
// black) and every output channel as a grey map in a near-square grid, as ui/blocks.py's
// pictures show them. It draws the numbers blocks_math.js computed and computes none of its own
// beyond mapping each map's range to grey.

import { el } from "./dom.js";
import { shrinkPlane } from "./blocks_image.js";

// Sizes on screen, small enough for the input and every stage side by side on a laptop (as
// the Python pictures were boxed): the input's longer side and the conv grid's, in CSS pixels
// (ReLU and pooling use the conv grid's factor, so that smaller maps look smaller).
export const INPUT_SIDE = 240, GRID_SIDE = 360;

/** A tensor [C, H, W] (C 1 or 3, values in [0, 1]) with `padding` zeros round it, on a canvas
 * at its true size, shown INPUT_SIDE wide (enlarged crisply, or shrunk). */
export function inputCanvas({shape: [c, h, w], data}, padding) {
  const H = h + 2 * padding, W = w + 2 * padding, canvas = el("canvas", {class: "bb-map"});
  Object.assign(canvas, {width: W, height: H});
  const image = new ImageData(W, H);   // transparent black: the padding becomes opaque black
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const at = 4 * ((y + padding) * W + x + padding);
    for (let k = 0; k < 3; k++) {
      image.data[at + k] = Math.round(255 * Math.min(1, Math.max(0, data[((c === 3 ? k : 0) * h + y) * w + x])));
    }
  }
  for (let i = 3; i < image.data.length; i += 4) image.data[i] = 255;
  canvas.getContext("2d").putImageData(image, 0, 0);
  const factor = INPUT_SIDE / Math.max(W, H), scale = factor >= 1 ? Math.floor(factor) : factor;
  canvas.style.width = `${W * scale}px`;
  return canvas;
}

/** Every channel of `maps` [C, H, W] as a grey canvas, each scaled from its minimum (black)
 * to its maximum (white), a flat map black; "neg_abs" shows −|y| (edges dark). `factor`:
 * CSS pixels per map pixel. A map shown smaller than its size is averaged down to the size
 * shown first (−|y| before that, so that rising and falling edges do not cancel): the page
 * then draws and paints a few thousand pixels per map, not a quarter of a million. */
export function mapsGrid({shape: [c, h, w], data}, style, factor) {
  const grid = el("div", {class: "bb-grid"});
  grid.style.gridTemplateColumns = `repeat(${Math.ceil(Math.sqrt(c))}, max-content)`;
  const [th, tw] = factor < 1 ? [h, w].map((n) => Math.max(1, Math.round(n * factor))) : [h, w];
  for (let ch = 0; ch < c; ch++) {
    let shown = data.subarray(ch * h * w, (ch + 1) * h * w);
    if (style === "neg_abs") shown = shown.map((v) => -Math.abs(v));
    if (th !== h || tw !== w) shown = shrinkPlane(shown, [h, w], [th, tw]);
    let low = Infinity, high = -Infinity;
    for (let i = 0; i < shown.length; i++) {
      if (shown[i] < low) low = shown[i];
      if (shown[i] > high) high = shown[i];
    }
    const spread = high - low, canvas = el("canvas", {class: "bb-map", title: `channel ${ch}`});
    Object.assign(canvas, {width: tw, height: th});
    const image = new ImageData(tw, th), pixels = image.data, toGrey = spread > 0 ? 255 / spread : 0;
    for (let i = 0; i < shown.length; i++) {
      const grey = Math.round((shown[i] - low) * toGrey);
      pixels[4 * i] = pixels[4 * i + 1] = pixels[4 * i + 2] = grey;
      pixels[4 * i + 3] = 255;
    }
    canvas.getContext("2d").putImageData(image, 0, 0);
    canvas.style.width = `${factor < 1 ? tw : w * factor}px`;
    grid.append(canvas);
  }
  return grid;
}

/** The one factor every grid of a result is drawn at: the conv grid about GRID_SIDE wide. */
export function gridFactor([c, h, w]) {
  const factor = GRID_SIDE / (Math.ceil(Math.sqrt(c)) * (Math.max(h, w) + 2));
  return factor >= 1 ? Math.floor(factor) : factor;
}
