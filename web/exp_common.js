// What the four experiments' panels (experiments.js, exp_*.js) share: naming a part of the
// network in words, telling two inputs apart, and drawing small pictures with their captions.
// Drawing only: the numbers come from the engine and the experiments' modules.

import { el } from "./dom.js";
import { greys, paint } from "./colours.js";

// Two arrays of the same values (an input shown again, recomputed from the same drawing).
export { sameValues } from "./arrays.js";

// A set of parts switched off ({layer: [k, ...]}) as one string, to tell two sets apart.
export function offKey(off) {
  return Object.keys(off).sort().map((layer) => `${layer}:${off[layer].join(",")}`).join(";");
}

// "C3 channel 5", "F6 unit 17": a part the view shows as a map (a channel) or as a unit.
export function partWords(net, layer, k) {
  const shape = net.layers.find((l) => l.name === layer).shape;
  return `${layer} ${shape.length === 3 && shape[1] > 1 ? "channel" : "unit"} ${k}`;
}

// The network's input ``pixels`` (C*H*W in [0, 1]) drawn into ``canvas``: grey for one
// channel, colour for three, as the view draws its input.
export function drawPixels(canvas, pixels, { channels, height, width }) {
  paint(canvas, pixels, channels, height, width, greys);
}

// A stored picture, {pixels: RGBA Uint8ClampedArray, width, height}, drawn into ``canvas``.
export function drawRgba(canvas, { pixels, width, height }) {
  if (canvas.width !== width || canvas.height !== height) {   // setting them clears it anew
    canvas.width = width;
    canvas.height = height;
  }
  canvas.getContext("2d").putImageData(new ImageData(Uint8ClampedArray.from(pixels), width, height), 0, 0);
}

// A small picture with its caption under it; ``draw(canvas)`` paints it. ``label``: what a
// screen reader says for the picture.
export function captioned(draw, caption, label = caption) {
  const figure = el("figure", { class: "ex-figure" });
  const canvas = el("canvas", { class: "ex-picture", role: "img", "aria-label": label });
  draw(canvas);
  figure.append(canvas, el("figcaption", {}, caption));
  return figure;
}

// Lets the browser paint (a "searching…" line) before a computation holds the page.
export function nextPaint() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}
