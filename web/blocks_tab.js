// The "Building blocks" tab, computed in this page: one convolution, ReLU and pooling on the
// visitor's drawing (topic "digit"), their photo (topic "photo"), a sample picture or an
// upload here, with every output channel as a grey map, the kernel's numbers and the
// output-size formulas. Every change recomputes in the page; nothing is sent anywhere.
// The numbers are blocks_math.js's (held equal to lenet/inside/blocks.py by
// tests/test_blocks_page.py); the menus, ranges and words are web/blocks_tab.json's, written
// from ui/blocks.py by tools/blocks_files.py.

import { el } from "./dom.js";
import { fillWords } from "./live.js";
import { parseSafetensors } from "./safetensors.js";
import { fileUrl, latestOf, subscribe } from "./shared.js";
import { BlockError, learnedFilter, makeKernel, runBlock, userKernel } from "./blocks_math.js";
import { pictureTensor } from "./blocks_image.js";
import { checked, formulaLines, kernelWords, steps } from "./blocks_words.js";
import { gridFactor, inputCanvas, mapsGrid } from "./blocks_view.js";
import { readPicture } from "./upload_recipes.js";

const SOMETHING_WRONG = "Something went wrong with this input; please try another one.";

export async function mount({element, start, base}) {
  const k = await (await fetch(fileUrl("web/blocks_tab.json"))).json();
  const [learned, sample] = await Promise.all([
    learnedFilters(start.models, k), loadPicture(fileUrl("web/blocks_sample.png"))]);
  const tab = new BlocksTab(element, k, learned, sample);
  window.cnnPage = {...window.cnnPage, blocks: tab};
  tab.update();
  await fillWords(element.querySelector(".bb-words-list"), base,
    ["feature_map", "kernel", "stride", "padding", "activation", "pooling", "normal"]);
  element.dataset.ready = "true";
}

// ---------------------------------------------------------------------------- loading

/** Menu entry -> one filter of each model's first convolution, read from its checkpoint's
 * layer table and weights ("LeNet-5 C1 filter 4"). */
async function learnedFilters(models, k) {
  const filters = new Map();
  for (const model of models) {
    const buffer = await (await fetch(fileUrl(model.path))).arrayBuffer();
    const {meta, tensors} = parseSafetensors(buffer);
    const row = meta.layers.find((r) => r.kind === "conv");
    for (let f = 0; f < row.outputs; f++) {
      filters.set(`${k.learned_titles[model.name]} ${row.name} filter ${f}`,
        learnedFilter(tensors[row.weight], f));
    }
  }
  return filters;
}

async function loadPicture(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url} (HTTP ${response.status})`);
  return createImageBitmap(await response.blob());
}

// ---------------------------------------------------------------------------- the tab

class BlocksTab {
  constructor(element, k, learned, sample) {
    Object.assign(this, {element, k, learned});
    this.pictures = {sample, upload: null};   // the drawing and the photo: their topics
    this.tensors = new WeakMap();               // picture -> its tensor, made once
    this.form = element.querySelector(".bb-controls");
    this.last = null;                           // the latest run, for the tests
    this.buildControls();
    this.form.addEventListener("submit", (e) => e.preventDefault());
    this.form.addEventListener("input", (e) => { if (e.target.type !== "file") this.request(); });
    this.form.addEventListener("change", (e) => this.changed(e));
    for (const topic of ["digit", "photo"]) {
      subscribe(topic, () => { if (this.value("source") === this.sourceOf(topic)) this.request(); });
    }
  }

  sourceOf(topic) {
    return this.k.sources[topic === "digit" ? 0 : 1];   // "my drawing", "my photo"
  }

  // ------------------------------------------------------------------ controls
  buildControls() {
    const {k, form} = this, d = k.defaults;
    const choices = {source: k.sources, pool: Object.keys(k.pools), maps_as: Object.keys(k.map_styles)};
    for (const [name, names] of Object.entries(choices)) {
      form.querySelector(`[data-choices=${name}]`).append(...names.map((label) => {
        const input = el("input", {type: "radio", name, value: label});
        input.checked = label === d[name];
        const box = el("label");
        box.append(input, label);
        return box;
      }));
    }
    const select = form.elements.kernel;
    const group = (label, names) => {
      const g = el("optgroup", {label});
      g.append(...names.map((n) => el("option", {value: n}, n)));
      return g;
    };
    select.append(group("Named kernels", Object.keys(k.named)), group("Your own", [k.random, k.custom]),
      group("Learned first-layer filters", [...this.learned.keys()]));
    select.value = d.kernel;
    for (const [name, [low, high]] of Object.entries(k.whole)) {
      Object.assign(form.elements[name], {min: low, max: high, value: d[name]});
    }
    form.elements.relu.checked = d.relu;
    form.elements.bias.value = d.bias;
    const body = form.querySelector(".bb-custom tbody");
    d.custom.forEach((row, r) => {
      const tr = el("tr");
      row.forEach((v, c) => {
        const cell = el("input", {type: "text", inputmode: "decimal", "data-row": r, "data-column": c,
          "aria-label": `custom kernel row ${r + 1}, column ${c + 1}`});
        cell.value = String(v);
        const td = el("td");
        td.append(cell);
        tr.append(td);
      });
      body.append(tr);
    });
    this.showValues();
  }

  value(name) {
    return this.form.elements[name].value;
  }

  /** The settings as the controls hold them, by ui/blocks.py's names (an empty number box is
   * null: its default). */
  settings() {
    const number = (name) => (this.value(name).trim() === "" ? null : Number(this.value(name)));
    const custom = [0, 1, 2].map((r) => [0, 1, 2].map((c) =>
      this.form.querySelector(`[data-row="${r}"][data-column="${c}"]`).value));
    const s = {source: this.value("source"), kernel: this.value("kernel"), custom,
      relu: this.form.elements.relu.checked, pool: this.value("pool"), maps_as: this.value("maps_as")};
    for (const name of [...Object.keys(this.k.whole), "bias"]) s[name] = number(name);
    return s;
  }

  /** Set controls by name (the tests' and a teacher's shortcut), then recompute. */
  set(changes) {
    for (const [name, v] of Object.entries(changes)) {
      if (name === "custom") {
        v.forEach((row, r) => row.forEach((cell, c) => {
          this.form.querySelector(`[data-row="${r}"][data-column="${c}"]`).value = String(cell);
        }));
      } else if (name === "relu") {
        this.form.elements.relu.checked = Boolean(v);
      } else {
        this.form.elements[name].value = String(v);
      }
    }
    return this.update();
  }

  showValues() {
    for (const output of this.form.querySelectorAll(".bb-slider output")) {
      output.textContent = output.previousElementSibling.value;
    }
    const s = {source: this.value("source"), kernel: this.value("kernel")};
    this.form.querySelector(".bb-upload").hidden = s.source !== this.k.sources[3];
    this.form.querySelector(".bb-bank").hidden = s.kernel !== this.k.random;
    this.form.querySelector(".bb-custom").hidden = s.kernel !== this.k.custom;
  }

  async changed(event) {
    if (event.target.type !== "file") return;
    const file = event.target.files[0];
    this.pictures.upload = null;
    this.uploadError = null;
    if (file) {
      try {
        this.pictures.upload = (await readPicture(file)).image;
      } catch (error) {
        if (error.name !== "UploadError") console.error(error);
        this.uploadError = error.name === "UploadError" ? error.message : SOMETHING_WRONG;
      }
    }
    this.update();
  }

  // ------------------------------------------------------------------ computing
  /** The picture `source` shows now, or null. */
  pictureOf(source) {
    const [drawing, photo, sample] = this.k.sources;
    if (source === drawing) {
      const shown = latestOf("digit");
      return shown && shown.pixels && shown.picture ? shown.picture : null;
    }
    if (source === photo) return latestOf("photo")?.picture ?? null;
    return source === sample ? this.pictures.sample : this.pictures.upload;
  }

  tensorOf(picture, grey) {
    if (!this.tensors.has(picture)) {
      this.tensors.set(picture, pictureTensor(picture, {grey, maxSide: this.k.max_side}));
    }
    return this.tensors.get(picture);
  }

  /** [kernel as defined, words about it] for the settings (ui/blocks.py _kernel). */
  kernelOf(s, channels) {
    const k = this.k, fixed = {fixed: k.fixed_kernels, pair: k.derivative_pair};
    if (s.kernel === k.random) {
      return [makeKernel("random", channels, fixed, s), `drawn from N(0, 1) with seed ${s.seed}`];
    }
    if (s.kernel === k.custom) return [userKernel(s.custom), "typed in the table"];
    if (s.kernel in k.named) return [makeKernel(k.named[s.kernel], 1, fixed), ""];
    if (this.learned.has(s.kernel)) return [this.learned.get(s.kernel), k.learned_words];
    throw new BlockError(`unknown kernel '${s.kernel}'; pick one from the list`);
  }

  /** Recompute at the next frame: a slider dragged over a large picture sends more input
   * events than the block can be computed for, and only the latest settings matter. */
  request() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.update();
    });
  }

  /** Recompute with the controls' settings and show it all; returns the run (or null). */
  update() {
    this.showValues();
    try {
      return this.compute(this.settings());
    } catch (error) {
      if (!(error instanceof BlockError)) console.error(error);
      this.show(null, `⚠️ ${error instanceof BlockError ? error.message : SOMETHING_WRONG}`);
      return null;
    }
  }

  compute(settings) {
    const s = checked(settings, this.k);
    const picture = this.pictureOf(s.source);
    if (!picture) {
      const upload = s.source === this.k.sources[3] && this.uploadError;
      this.show(null, upload ? `⚠️ ${upload}` : this.k.empty_source[s.source]);
      return null;
    }
    const image = this.tensorOf(picture, s.source === this.k.sources[0]);   // the drawing: grey
    const [kernel, about] = this.kernelOf(s, image.shape[0]);
    const options = {bias: s.bias, stride: s.stride, padding: s.padding, relu: s.relu,
      pool: this.k.pools[s.pool], poolSize: s.pool_size, poolStride: s.pool_stride};
    const result = runBlock(image, kernel, options);
    this.last = {settings: s, image, result};
    this.show({s, image, kernel, about, result}, null);
    return result;
  }

  // ------------------------------------------------------------------ showing
  show(run, message) {
    const status = this.element.querySelector("#blocks-status");
    const kernelBox = this.element.querySelector(".bb-kernel");
    const formulas = this.element.querySelector("#blocks-formulas");
    const figures = Object.fromEntries([...this.element.querySelectorAll("[data-picture]")]
      .map((f) => [f.dataset.picture, f]));
    if (!run) {
      this.last = null;
      status.textContent = message;
      kernelBox.replaceChildren();
      formulas.replaceChildren();
      for (const [name, figure] of Object.entries(figures)) {
        figure.lastElementChild.replaceChildren();
        figure.hidden = name === "relu" || name === "pooled";
      }
      return;
    }
    const {s, image, kernel, about, result} = run;
    status.replaceChildren(el("strong", {}, s.kernel), ` on ${s.source}: ${steps(result.shapes)}`);
    const said = kernelWords(kernel, about, image.shape[0], this.k);   // as defined, not matched
    kernelBox.replaceChildren(el("p", {}, said.words), ...said.filters.flatMap((f) =>
      [...(f.title ? [el("p", {}, f.title)] : []), el("pre", {}, f.text)]));
    const [rule, ...lines] = formulaLines(result, {...s, poolSize: s.pool_size, poolStride: s.pool_stride}, this.k);
    const list = el("ul");
    list.append(...lines.map((line) => {
      const [head, tail] = splitFormula(line);
      const item = el("li", {}, head);
      if (tail) item.append(el("code", {}, tail));
      return item;
    }));
    formulas.replaceChildren(el("p", {}, rule), list);
    const seen = result.kernel.shape[1] === image.shape[0] ? image : greyOf(image);
    const style = this.k.map_styles[s.maps_as], factor = gridFactor(result.conv.shape);
    const pictures = {seen: inputCanvas(seen, s.padding), conv: mapsGrid(result.conv, style, factor),
      relu: s.relu ? mapsGrid(result.activated, style, factor) : null,
      pooled: s.pool !== "none" ? mapsGrid(result.pooled, style, factor) : null};
    for (const [name, figure] of Object.entries(figures)) {
      figure.hidden = !pictures[name];
      figure.lastElementChild.replaceChildren(...(pictures[name] ? [pictures[name]] : []));
    }
  }
}

/** "convolution 3×3, ...: (28 − 3 + 2·0)/1 + 1 = 26 → 1×26×26" -> [words, formula]. */
function splitFormula(line) {
  const at = line.indexOf(": ");
  return at < 0 ? [line, ""] : [line.slice(0, at + 2), line.slice(at + 2)];
}

/** [3, H, W] -> [1, H, W], the mean of R, G and B (what a one-channel kernel sees). */
function greyOf({shape: [, h, w], data}) {
  const n = h * w, out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (data[i] + data[n + i] + data[2 * n + i]) / 3;
  return {shape: [1, h, w], data: out};
}
