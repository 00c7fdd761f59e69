// What the live views (draw_tab.js, photo_tab.js) share: loading their networks from the
// checkpoints the page names, the pictures they publish for the other tabs (shared.js), and
// the words of an answer.

import { loadNetwork, softmax } from "./engine.js";
import { fixed, percent, powerHtml, powerMathML } from "./format.js";
import { fileUrl } from "./shared.js";

// ``models``: [{path, title}] (the tab's start, lenet/page.py), the first the tab's own
// network, each path as the page names its files (shared.js fileUrl).
export function loadModels(models) {
  return Promise.all(models.map((m) => loadNetwork(fileUrl(m.path))));
}

// ---------------------------------------------------------------------------- pictures
// The other tabs get the picture a view shows as well as its pixels (shared.js topics): a
// canvas of their own, which nothing here draws on again.

/** ``pixels`` (channel-major, values in [0, 1]) as a canvas ``scale`` times their size, each
 * pixel a square (a test image enlarged as it is, never smoothed). */
export function pixelPicture(pixels, { channels, height, width }, scale = 1) {
  const small = document.createElement("canvas");
  small.width = width;
  small.height = height;
  const image = small.getContext("2d").createImageData(width, height);
  const plane = height * width;
  for (let i = 0; i < plane; i += 1) {
    for (let c = 0; c < 3; c += 1) {
      image.data[4 * i + c] = Math.round(255 * pixels[(channels === 1 ? 0 : c) * plane + i]);
    }
    image.data[4 * i + 3] = 255;
  }
  small.getContext("2d").putImageData(image, 0, 0);
  return scale === 1 ? small : resized(small, width * scale, height * scale, false);
}

/** ``picture`` (an ImageBitmap or canvas) no larger than ``side`` on either side: itself when
 * it fits, else a smoothed copy that keeps its shape. */
export function atMost(picture, side) {
  const scale = side / Math.max(picture.width, picture.height);
  if (scale >= 1) return picture;
  return resized(picture, Math.max(1, Math.round(picture.width * scale)),
    Math.max(1, Math.round(picture.height * scale)), true);
}

/** A copy of a canvas as it is now (the pad, which the next stroke draws on). */
export function snapshot(canvas) {
  return resized(canvas, canvas.width, canvas.height, false);
}

function resized(picture, width, height, smooth) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = smooth;
  if (smooth) ctx.imageSmoothingQuality = "high";
  ctx.drawImage(picture, 0, 0, width, height);
  return canvas;
}

// Kept for the tabs that import it from here; its one definition is format.js's.
export { percent };

// The softmax for class ``k`` as MathML, with the numbers the engine's run holds (``run``:
// its logits, exponentials, denominator and probabilities): the formula, then its numbers,
// then the probability; below it, every class's e^z, written as powers of ten so that a
// student can compare them. The older call softmaxMath(classes, logits, probabilities, k)
// still works: the engine's softmax writes the exponentials out for those logits.
export function softmaxMath(classes, run, k, ...older) {
  if (ArrayBuffer.isView(run)) {
    [run, k] = [{ ...softmax(run), probabilities: k, logits: run }, older[0]];
  }
  const name = classes[k], { logits, exponentials, denominator } = run;
  const terms = Array.from(logits, (z, j) =>
    `${classes[j]}: e<sup>${fixed(z, 2)}</sup> = ${powerHtml(exponentials[j])}`).join("; ");
  return `<math display="block" aria-label="softmax for ${name}">
    <mrow><mi>p</mi><mo>(</mo><mtext>${name}</mtext><mo>)</mo><mo>=</mo>
    <mfrac><msup><mi>e</mi><msub><mi>z</mi><mtext>${name}</mtext></msub></msup>
      <mrow><munder><mo>∑</mo><mi>k</mi></munder><msup><mi>e</mi><msub><mi>z</mi><mi>k</mi></msub></msup></mrow></mfrac>
    <mo>=</mo><mfrac><msup><mi>e</mi><mn>${fixed(logits[k], 2)}</mn></msup>${powerMathML(denominator)}</mfrac>
    <mo>=</mo><mfrac>${powerMathML(exponentials[k])}${powerMathML(denominator)}</mfrac>
    <mo>=</mo><mn>${percent(run.probabilities[k])}</mn></mrow></math>
    <p class="nv-note">The sum below the line adds e<sup>z</sup> over every class (a × 10<sup>n</sup>
    is a multiplied by ten n times; a negative n divides instead): ${terms}; together
    ${powerHtml(denominator)}.</p>`;
}

// The words of a view (web/words.json, shared with the server's tabs) as a
// definition list, in the order the data flows.
export async function fillWords(list, base, keys) {
  const words = await (await fetch(new URL("words.json", base))).json();
  list.innerHTML = keys.map((k) => `<dt>${words[k][0]}</dt><dd>${words[k][1]}</dd>`).join("");
}
