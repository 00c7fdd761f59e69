// The test-set gallery tab, all in this page: it reads the gallery files beside the
// checkpoints (lenet/inside/gallery.py writes them), draws each sheet of test images with the
// same choice as Python's GalleryTab.show (ui/gallery.py), and hands a clicked image to the
// draw or photo tab (shared.js handOver). After the files have loaded, no control sends a
// request.

import { el, linkStyleSheet } from "./dom.js";
import { decodeStrip } from "./png_strip.js";
import { Draws } from "./prng.js";
import { readHeader, readMeta, readTensor } from "./safetensors.js";
import { fileUrl, handOver } from "./shared.js";

export const RANDOM = "random", MISTAKES = "mistakes only", ANY = "any";
const SHOWN = 9;                 // images per sheet, as ui/gallery.py SHOWN
export const SEED_MAX = 2 ** 32 - 1;
export const SEED_MESSAGE = `⚠️ the seed must be a whole number from 0 to ${SEED_MAX}`;
const META_KEY = "lenet_gallery", FORMAT_VERSION = 1;

// ---------------------------------------------------------------------------- the file

/** A gallery file's bytes -> its Gallery (images decoded); an Error says in one line why not. */
export async function parseGallery(buffer) {
  const fail = (why) => {
    throw new Error(`not a lenet gallery (${why}); make it with: python -m lenet gallery`);
  };
  const { header, start } = readHeader(buffer, fail);
  const meta = readMeta(header, META_KEY, fail);
  if (meta.format_version !== FORMAT_VERSION) fail(`format version ${meta.format_version}`);
  const tensor = (name) => readTensor(buffer, start, header[name], name, fail);
  const numbers = (name) => Array.from(tensor(name), Number);   // int64 as plain numbers
  const labels = numbers("labels"), predictions = numbers("predictions");
  const columns = { labels, predictions, confidences: tensor("confidences"),
    indices: numbers("indices"), isMistake: tensor("is_mistake"), inSample: tensor("in_sample") };
  const n = labels.length, classes = meta.classes;
  if (Object.values(columns).some((c) => c.length !== n)) fail("arrays of different lengths");
  if ([...labels, ...predictions].some((k) => !(k >= 0 && k < classes.length))) fail("a class out of range");
  const images = await decodeStrip(tensor("images_png"), n, meta.image_shape, fail);
  return new Gallery({ ...columns, images, shape: meta.image_shape, classes, meta });
}

/** Test images with what the model made of them (lenet/inside/gallery.py Gallery). */
export class Gallery {
  constructor(fields) {
    Object.assign(this, fields);
  }

  get size() {
    return this.labels.length;
  }

  samplePositions() {
    return [...this.inSample.keys()].filter((i) => this.inSample[i]);
  }

  mistakePositions() {
    return [...this.isMistake.keys()].filter((i) => this.isMistake[i]);
  }

  /** Image ``i`` as (h, w, c) uint8. */
  image(i) {
    const [h, w, c] = this.shape;
    return this.images.subarray(i * h * w * c, (i + 1) * h * w * c);
  }

  /** Image ``i`` as the network's input: values in [0, 1], channels first. */
  pixels(i) {
    const [h, w, c] = this.shape, image = this.image(i), out = new Float32Array(c * h * w);
    for (let k = 0; k < c; k += 1) {
      for (let p = 0; p < h * w; p += 1) out[k * h * w + p] = image[p * c + k] / 255;
    }
    return out;
  }

  confidence(i) {
    return `${wholePercent(this.confidences[i])}\u00a0%`;
  }

  caption(i) {
    const [truth, guess] = [this.classes[this.labels[i]], this.classes[this.predictions[i]]];
    return `true ${truth}, predicted ${guess} (${wholePercent(this.confidences[i])} %)`;
  }
}

/** ``100 * p`` to a whole number as Python writes the float32 ``p`` (f"{100 * p:.0f}"): the
 * product rounded to float32 (Math.fround: the double product is exact), ties to even
 * (toFixed would round 62.5 up). */
export function wholePercent(p) {
  const v = Math.fround(100 * p), floor = Math.floor(v), rest = v - floor;
  return String(rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor);
}

// ---------------------------------------------------------------------------- the sheet

/** A seed as typed: a whole number from 0 to SEED_MAX (empty: 0), or null (ui/gallery.py seed_of). */
export function seedOf(text) {
  if (String(text).trim() === "") return 0;
  const value = Number(text);
  return Number.isInteger(value) && value >= 0 && value <= SEED_MAX ? value : null;
}

/** The sheet for these controls, the same as ui/gallery.py GalleryTab._show: {tiles, words
 * (HTML), positions}. ``seed``: a whole number (seedOf). */
export function chooseSheet(gallery, title, { which, truth, guess, seed }) {
  let pool = which === MISTAKES ? gallery.mistakePositions() : gallery.samplePositions();
  for (const [name, values] of [[truth, gallery.labels], [guess, gallery.predictions]]) {
    const k = gallery.classes.indexOf(name);
    if (name !== ANY) pool = pool.filter((i) => values[i] === k);
  }
  const kind = which === MISTAKES ? "mistakes" : "random test images";
  if (pool.length === 0) {
    return { tiles: [], positions: [], words: `None of the ${kind} of ${escaped(title)} match these filters.` };
  }
  const positions = new Draws(seed).shuffled(pool.length).slice(0, SHOWN).map((j) => pool[j])
    .sort((a, b) => a - b);
  const tiles = positions.map((i) => ({ position: i, index: gallery.indices[i],
    truth: gallery.classes[gallery.labels[i]], guess: gallery.classes[gallery.predictions[i]],
    confidence: gallery.confidence(i), caption: gallery.caption(i), wrong: Boolean(gallery.isMistake[i]) }));
  const wrong = tiles.filter((t) => t.wrong).length;
  const words = `${tiles.length} of ${pool.length} ${kind} of <strong>${escaped(title)}</strong>, `
    + `${wrong} wrong (red). The % is the softmax probability of the prediction. Click one to analyse it.`;
  return { tiles, words, positions };
}

function escaped(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// ---------------------------------------------------------------------------- the tab

export async function mount({ element, start }) {
  await linkStyleSheet("web/gallery_tab.css");
  const files = await Promise.all(start.galleries.map(async (entry) => {
    const response = await fetch(fileUrl(entry.path));
    if (!response.ok) throw new Error(`could not fetch ${entry.path} (HTTP ${response.status})`);
    return { ...entry, gallery: await parseGallery(await response.arrayBuffer()) };
  }));
  const tab = new GalleryTab(element, files);
  window.cnnPage = { ...window.cnnPage, gallery: tab };   // for tests and benchmarks
  element.dataset.ready = "true";
}

// The controls, the sentence and the sheet; every change redraws from the controls.
class GalleryTab {
  constructor(element, files) {
    this.files = new Map(files.map((f) => [f.name, f]));
    const find = (selector) => element.querySelector(selector);
    this.controls = { model: find(".gl-model"), truth: find(".gl-truth"), guess: find(".gl-guess"),
      seed: find(".gl-seed"), which: [...element.querySelectorAll(".gl-which input")] };
    this.words = find(".gl-words");
    this.sheet = find(".gl-grid");
    this.controls.model.replaceChildren(...files.map((f) => el("option", { value: f.name }, f.title)));
    this.controls.model.addEventListener("change", () => this.modelChosen());
    for (const control of [this.controls.truth, this.controls.guess, ...this.controls.which]) {
      control.addEventListener("change", () => this.show());
    }
    this.controls.seed.addEventListener("input", () => this.show());
    find(".gl-shuffle").addEventListener("click", () => this.shuffle());
    this.sheet.addEventListener("click", (event) => {
      const tile = event.target.closest(".gl-tile");
      if (tile) this.send(Number(tile.dataset.position));
    });
    this.modelChosen();
  }

  get file() {
    return this.files.get(this.controls.model.value);
  }

  // Another model: its classes in the filters, both back to "any".
  modelChosen() {
    const options = [ANY, ...this.file.gallery.classes];
    for (const select of [this.controls.truth, this.controls.guess]) {
      select.replaceChildren(...options.map((name) => el("option", { value: name }, name)));
    }
    this.show();
  }

  seed() {
    const { seed } = this.controls;
    return seed.validity.badInput ? null : seedOf(seed.value);
  }

  show() {
    const seed = this.seed();
    if (seed === null) {
      this.words.textContent = SEED_MESSAGE;
      return;
    }
    const { truth, guess, which } = this.controls;
    const choice = { which: which.find((r) => r.checked).value, truth: truth.value, guess: guess.value, seed };
    const { gallery, title } = this.file;
    const drawn = chooseSheet(gallery, title, choice);
    this.words.innerHTML = drawn.words;
    this.sheet.replaceChildren(...drawn.tiles.map((t) => tileItem(t, gallery)));
  }

  // The seed after this one (after the last, 0 again); a seed that is not one stays, with the line.
  shuffle() {
    const seed = this.seed();
    if (seed === null) {
      this.words.textContent = SEED_MESSAGE;
      return;
    }
    this.controls.seed.value = String((seed + 1) % (SEED_MAX + 1));
    this.show();
  }

  // The image at gallery position ``i`` to the tab that analyses it, as the network's input.
  send(i) {
    const { gallery, tab } = this.file;
    const said = `test image #${gallery.indices[i]} (${gallery.caption(i)})`;
    handOver(tab, { pixels: gallery.pixels(i), caption: said });
    this.words.textContent = `Sent ${said} to the ${tab} tab.`;
  }
}

// One tile: the picture, its true label and the prediction; a button, so keys and touch use it.
function tileItem(tile, gallery) {
  const button = el("button", { type: "button", class: tile.wrong ? "gl-tile gl-wrong" : "gl-tile",
    "data-position": tile.position, "data-index": tile.index,
    "aria-label": `test image ${tile.index}: true ${tile.truth}, predicted ${tile.guess} ${tile.confidence}` });
  button.append(el("img", { src: pictureUrl(gallery, tile.position), alt: "", width: 84, height: 84 }),
    el("span", { class: "gl-true" }, `true ${tile.truth}`),
    el("span", { class: "gl-pred" }, `pred ${tile.guess} ${tile.confidence}`));
  const item = el("li");
  item.append(button);
  return item;
}

// Image ``i`` as a PNG data URL (made in the page: no request).
function pictureUrl(gallery, i) {
  const [h, w, c] = gallery.shape, image = gallery.image(i), rgba = new ImageData(w, h);
  for (let p = 0; p < h * w; p += 1) {
    for (let k = 0; k < 3; k += 1) rgba.data[4 * p + k] = image[p * c + (c === 1 ? 0 : k)];
    rgba.data[4 * p + 3] = 255;
  }
  const canvas = el("canvas", { width: w, height: h });
  canvas.getContext("2d").putImageData(rgba, 0, 0);
  return canvas.toDataURL("image/png");
}
