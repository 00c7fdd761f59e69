// The network as one view: every layer's maps or units in the order the data flows, the
// outputs named by class with their probabilities, Grad-CAM and saliency for a chosen class,
// and "follow a unit" (hover outlines what a unit reads; a click opens its trace beside it).
// It draws what the engine computed (web/engine.js) and computes nothing itself, so
// every number on screen is one the engine can trace back to the weights.
//
// The columns come from the network's own layer table: conv and pooling layers become grids
// of maps, linear layers grids of units, the last layer the named outputs.

import { diverging, greys, heat, paint } from "./colours.js";
import { softmaxMath } from "./live.js";
import { traceHtml } from "./trace_panel.js";

const COLUMN_HEIGHT = 360;   // CSS pixels the tallest grid of maps may take on a laptop
const GAP = 4;               // CSS pixels between tiles
const UNIT = 12;             // CSS pixels per unit of a fully connected layer

// Tiles as large as fit COLUMN_HEIGHT, at most 56 px and 4 screen pixels per value; more
// columns of tiles when one column would make them smaller than twice their size (1.4 times,
// for layers of many maps, which would otherwise not fit a laptop's width).
function tileLayout(channels, size) {
  const least = channels > 64 ? Math.ceil(1.4 * size) : Math.min(2 * size, 28);
  for (let cols = 1; ; cols += 1) {
    const rows = Math.ceil(channels / cols);
    const tile = Math.min(56, 4 * size, Math.floor(COLUMN_HEIGHT / rows) - GAP);
    if (tile >= least || cols >= channels) return { cols, tile: Math.max(tile, size) };
  }
}

function unitLayout(units) {
  const cols = Math.max(1, Math.ceil(Math.sqrt(units / 2)));
  return { cols, rows: Math.ceil(units / cols) };
}

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

const KIND_WORDS = {
  conv: (l) => `conv ${l.kernel[0]}×${l.kernel[1]}` + (l.padding[0] ? `, pad ${l.padding[0]}` : ""),
  maxpool: (l) => `max-pool ${l.kernel[0]}×${l.kernel[1]}`,
  avgpool: (l) => `avg-pool ${l.kernel[0]}×${l.kernel[1]}`,
  linear: (l) => `fully connected`,
};

const format = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));

export class NetworkView {
  // ``host``: the element to build in; ``net``: an engine Network; ``names``: what each
  // output class is called on screen.
  constructor(host, net, { activationAfter = true } = {}) {
    this.net = net;
    this.run = null;
    this.after = activationAfter;
    this.explainClass = null;          // null: the top class
    this.traced = null;                // {layer, channel, y, x} of the open trace
    this.host = host;
    this.marks = el("div", { class: "nv-marks", "aria-hidden": "true" });
    this.columns = {};
    this.build();
  }

  // ------------------------------------------------------------------ layout
  build() {
    const net = this.net;
    const flow = this.host.querySelector(".nv-flow");
    const input = this.column(flow, "input", "Input", `${net.inputShape.height}×${net.inputShape.width}` +
      (net.inputShape.channels > 1 ? ` × ${net.inputShape.channels}` : ""),
      "what the network receives: one number per pixel");
    const inputCanvas = el("canvas", { class: "nv-map nv-input", width: net.inputShape.width,
      height: net.inputShape.height, "data-layer": "input", "data-channel": "0" });
    input.body.append(inputCanvas);
    this.columns.input = { canvases: [inputCanvas] };

    const shown = net.layers.filter((l) => ["conv", "maxpool", "avgpool", "linear"].includes(l.kind));
    this.outputName = shown[shown.length - 1].name;
    let previous = null;
    for (const layer of shown) {
      if (layer.name === this.outputName) continue;
      const shape = layer.shape;
      const words = KIND_WORDS[layer.kind](layer);
      if (shape.length === 3 && shape[1] > 1) {
        const [c, h, w] = shape;
        // A pooling layer keeps the layout of the maps it pools, so that each pooled map sits
        // beside the map it came from.
        const pooled = layer.kind !== "conv" && previous && previous.channels === c;
        const { cols, tile } = pooled ? previous : tileLayout(c, h);
        previous = { channels: c, cols, tile };
        const col = this.column(flow, layer.name, layer.name, `${c} × ${h}×${w}`, words);
        const grid = el("div", { class: "nv-grid", style: `--cols:${cols};--tile:${tile}px` });
        const canvases = [];
        for (let k = 0; k < c; k += 1) {
          const canvas = el("canvas", { class: "nv-map", width: w, height: h,
            "data-layer": layer.name, "data-channel": String(k),
            "aria-label": `${layer.name} channel ${k}` });
          canvases.push(canvas);
          grid.append(canvas);
        }
        col.body.append(grid);
        this.columns[layer.name] = { canvases, layer, range: col.range };
      } else {
        const units = shape[0];
        const { cols, rows } = unitLayout(units);
        const col = this.column(flow, layer.name, layer.name, `${units} units`,
          layer.kind === "conv" ? `${words}: 1×1 maps` : words);
        const canvas = el("canvas", { class: "nv-units", width: cols, height: rows,
          "data-layer": layer.name, "data-cols": String(cols), "data-units": String(units),
          style: `width:${cols * UNIT}px;height:${rows * UNIT}px` });
        col.body.append(canvas);
        this.columns[layer.name] = { canvases: [canvas], layer, range: col.range, cols, units };
      }
    }

    const out = this.column(flow, this.outputName, "Output", `${net.classes.length} classes`,
      "logit z and softmax probability");
    out.section.classList.add("nv-output");
    // One column width for every row's name, so that the bars line up.
    const longest = Math.max(...net.classes.map((name) => name.length));
    const list = el("ol", { class: "nv-classes", style: `--chars:${longest}` });
    this.rows = net.classes.map((name, k) => {
      const row = el("li", { "data-layer": this.outputName, "data-channel": String(k), tabindex: "0" });
      const label = el("span", { class: "nv-class" }, name);
      const bar = el("span", { class: "nv-bar" });
      const fill = el("span", { class: "nv-fill" });
      bar.append(fill);
      const p = el("span", { class: "nv-p" }, "");
      const z = el("span", { class: "nv-z" }, "");
      row.append(label, bar, p, z);
      list.append(row);
      return { row, fill, p, z };
    });
    out.body.append(list);

    this.explain = this.host.querySelector(".nv-explain");
    if (this.explain) this.buildExplain();
    this.host.querySelector(".nv-wrap").append(this.marks);
    this.panel = this.host.querySelector(".nv-trace");
    this.bindUnits();
  }

  column(flow, key, title, shape, words) {
    const section = el("section", { class: "nv-col", "data-column": key });
    const head = el("header", {});
    head.append(el("h3", {}, title), el("p", { class: "nv-shape" }, shape),
      el("p", { class: "nv-words" }, words));
    const range = el("p", { class: "nv-range" }, "");
    const body = el("div", { class: "nv-body" });
    section.append(head, body, range);
    flow.insertBefore(section, flow.querySelector(".nv-explain"));   // null: at the end
    return { section, body, range };
  }

  buildExplain() {
    const select = this.explain.querySelector("select");
    select.append(el("option", { value: "" }, "top class"));
    this.net.classes.forEach((name, k) => select.append(el("option", { value: String(k) }, name)));
    select.addEventListener("change", () => {
      this.explainClass = select.value === "" ? null : Number(select.value);
      this.drawExplain();
    });
    if (!this.net.camLayer) {
      this.explain.querySelector(".nv-cam").hidden = true;
    }
  }

  // ------------------------------------------------------------------ drawing
  // ``run``: the engine's forward result for what is shown, or null to blank everything.
  show(run) {
    this.run = run;
    if (!run) return this.blank();
    const net = this.net;
    const { channels, height, width } = net.inputShape;
    // The input as the person sees it: pixels back in [0, 1], not normalised.
    const pixels = new Float32Array(channels * height * width);
    for (let i = 0; i < pixels.length; i += 1) {
      const c = Math.floor(i / (height * width));
      pixels[i] = run.input[i] * net.std[c] + net.mean[c];
    }
    paint(this.columns.input.canvases[0], pixels, channels, height, width, greys);
    for (const [name, col] of Object.entries(this.columns)) {
      if (name === "input") continue;
      const values = this.values(name);
      const top = Math.max(Math.abs(min(values.data)), Math.abs(max(values.data)));
      const scale = diverging(top);
      if (col.units) {
        paint(col.canvases[0], values.data, 1, Math.ceil(col.units / col.cols), col.cols, scale, col.units);
      } else {
        const [c, h, w] = values.shape;
        col.canvases.forEach((canvas, k) => paint(canvas, values.data.subarray(k * h * w, (k + 1) * h * w), 1, h, w, scale));
      }
      col.range.textContent = `${format(min(values.data))} … ${format(max(values.data))}`;
    }
    const probabilities = run.probabilities;
    this.rows.forEach(({ fill, p, z }, k) => {
      fill.style.width = `${(100 * probabilities[k]).toFixed(1)}%`;
      p.textContent = `${(100 * probabilities[k]).toFixed(1)} %`;
      z.textContent = `z ${run.logits[k] >= 0 ? "+" : "−"}${Math.abs(run.logits[k]).toFixed(2)}`;
    });
    this.rows.forEach(({ row }, k) => row.classList.toggle("nv-top", k === run.top));
    this.drawSoftmax();
    this.drawExplain();
    if (this.traced) this.openTrace(this.traced);
  }

  // The softmax written out for the top class, when its panel is open.
  drawSoftmax() {
    const box = this.host.querySelector(".nv-softmax");
    if (!box) return;
    if (!box.dataset.bound) {
      box.dataset.bound = "true";
      box.addEventListener("toggle", () => this.drawSoftmax());
    }
    const body = box.querySelector(".nv-softmax-body");
    if (!this.run) { body.textContent = "Draw or upload something first."; return; }
    if (!box.open) return;
    const { logits, probabilities, top } = this.run;
    body.innerHTML = softmaxMath(this.net.classes, logits, probabilities, top);
  }

  // A layer's values as shown: after its activation when the toggle says so.
  values(name) {
    return this.run.outputs[this.after ? activationAfter(this.net.layers, name) : name];
  }

  blank() {
    this.drawSoftmax();
    for (const col of Object.values(this.columns)) {
      for (const canvas of col.canvases) canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
      if (col.range) col.range.textContent = "";
    }
    this.rows.forEach(({ row, fill, p, z }) => {
      fill.style.width = "0"; p.textContent = ""; z.textContent = ""; row.classList.remove("nv-top");
    });
    if (this.explain) {
      for (const canvas of this.explain.querySelectorAll("canvas")) canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
      for (const node of this.explain.querySelectorAll(".nv-heat-range")) node.textContent = "";
      this.explain.querySelector(".nv-explained").textContent = "the top class";
    }
    this.closeTrace();
    this.marks.replaceChildren();
  }

  drawExplain() {
    if (!this.explain || !this.run) return;
    const net = this.net;
    const k = this.explainClass === null ? this.run.top : this.explainClass;
    const maps = net.attributions(this.run, k);
    const { height, width } = net.inputShape;
    for (const node of this.explain.querySelectorAll(".nv-explained")) node.textContent = `“${net.classes[k]}”`;
    const draw = (selector, values, top) => {
      const box = this.explain.querySelector(selector);
      if (!box || !values) return;
      const canvas = box.querySelector("canvas");
      canvas.width = width; canvas.height = height;
      const scaled = new Float32Array(values.length);
      for (let i = 0; i < values.length; i += 1) scaled[i] = top > 0 ? values[i] / top : 0;
      paint(canvas, scaled, 1, height, width, heat);
      box.querySelector(".nv-heat-range").textContent = `0 … ${top.toPrecision(3)}`;
    };
    draw(".nv-cam", maps.gradCam, maps.gradCamMax);
    draw(".nv-sal", maps.saliency, maps.saliencyMax);
    const layer = this.explain.querySelector(".nv-cam-layer");
    if (layer && net.camLayer) {
      const [, h, w] = this.run.outputs[net.camLayer].shape;
      layer.textContent = `${net.camLayer} (${h}×${w} maps, enlarged)`;
    }
  }

  // ------------------------------------------------------------------ follow a unit
  bindUnits() {
    const wrap = this.host.querySelector(".nv-wrap");
    const find = (event) => this.unitAt(event);
    wrap.addEventListener("pointermove", (event) => {
      if (event.pointerType === "touch") return;
      const unit = find(event);
      if (unit) this.outline(unit); else this.marks.replaceChildren();
    });
    wrap.addEventListener("pointerleave", () => this.marks.replaceChildren());
    wrap.addEventListener("click", (event) => {
      const unit = find(event);
      if (!unit || !this.run) return;
      this.outline(unit);
      this.openTrace(unit, event.target);
    });
    wrap.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.closeTrace();
      if (event.key === "Enter" && event.target.dataset && event.target.dataset.layer === this.outputName) {
        this.openTrace({ layer: this.outputName, channel: Number(event.target.dataset.channel), y: 0, x: 0 }, event.target);
      }
    });
    this.panel.addEventListener("click", (event) => {
      if (event.target.closest(".nv-trace-close")) this.closeTrace();
      event.stopPropagation();
    });
  }

  // The unit under the pointer: {layer, channel, y, x}, or null.
  unitAt(event) {
    const target = event.target.closest("[data-layer]");
    if (!target || !this.run || target.dataset.layer === "input") return null;
    const layer = target.dataset.layer;
    if (target.tagName === "LI") return { layer, channel: Number(target.dataset.channel), y: 0, x: 0 };
    const rect = target.getBoundingClientRect();
    const fx = (event.clientX - rect.left) / rect.width, fy = (event.clientY - rect.top) / rect.height;
    if (target.classList.contains("nv-units")) {
      const cols = Number(target.dataset.cols);
      const index = Math.floor(fy * target.height) * cols + Math.floor(fx * cols);
      if (index < 0 || index >= Number(target.dataset.units)) return null;
      return { layer, channel: index, y: 0, x: 0 };
    }
    const y = Math.min(target.height - 1, Math.max(0, Math.floor(fy * target.height)));
    const x = Math.min(target.width - 1, Math.max(0, Math.floor(fx * target.width)));
    return { layer, channel: Number(target.dataset.channel), y, x };
  }

  // Outlines: the unit itself, what it reads in the layer before, its receptive field.
  outline(unit) {
    const wrap = this.host.querySelector(".nv-wrap").getBoundingClientRect();
    const boxes = [];
    const mark = (canvas, top, left, bottom, right, kind) => {
      const r = canvas.getBoundingClientRect();
      const sy = r.height / canvas.height, sx = r.width / canvas.width;
      boxes.push({ kind, top: r.top - wrap.top + top * sy, left: r.left - wrap.left + left * sx,
        height: (bottom - top + 1) * sy, width: (right - left + 1) * sx });
    };
    const here = this.columns[unit.layer];
    if (here && !here.units) mark(here.canvases[unit.channel], unit.y, unit.x, unit.y, unit.x, "unit");
    if (here && here.units) {
      const c = here.cols;
      mark(here.canvases[0], Math.floor(unit.channel / c), unit.channel % c, Math.floor(unit.channel / c), unit.channel % c, "unit");
    }
    const reads = this.net.reads(unit.layer, unit.channel, unit.y, unit.x);
    const source = this.columns[reads.source] || this.columnOfActivation(reads.source);
    if (source) {
      if (source.units || !reads.window) {
        for (const canvas of source.canvases) mark(canvas, 0, 0, canvas.height - 1, canvas.width - 1, "reads");
      } else {
        for (const c of reads.channels) {
          const [t, l, b, r] = reads.window;
          mark(source.canvases[reads.source === "input" ? 0 : c], t, l, b, r, "reads");
        }
      }
    }
    const [t, l, b, r] = this.net.receptiveField(unit.layer, unit.y, unit.x);
    if (reads.source !== "input") mark(this.columns.input.canvases[0], t, l, b, r, "field");
    this.marks.replaceChildren(...boxes.map((box) => el("div", { class: `nv-mark nv-mark-${box.kind}`,
      style: `top:${box.top}px;left:${box.left}px;width:${box.width}px;height:${box.height}px` })));
  }

  // The engine names a layer's source by the activation it reads (C1_relu); the view shows
  // that activation in the column of its layer (C1).
  columnOfActivation(name) {
    const layers = this.net.layers;
    const i = layers.findIndex((l) => l.name === name);
    for (let j = i; j >= 0; j -= 1) if (this.columns[layers[j].name]) return this.columns[layers[j].name];
    return this.columns.input;
  }

  openTrace(unit, anchor) {
    if (!this.run) return;
    let t;
    try {
      t = this.net.trace(this.run, unit.layer, unit.channel, unit.y, unit.x);
    } catch (error) {
      return;
    }
    this.traced = unit;
    const run = this.run;
    this.panel.querySelector(".nv-trace-body").innerHTML = traceHtml(t, {
      classes: this.net.classes, outputName: this.outputName, run,
    });
    this.panel.hidden = false;
    if (anchor) this.place(anchor);
  }

  // Next to the unit: on its right when there is room, else on its left; inside the view.
  place(anchor) {
    const wrap = this.host.querySelector(".nv-wrap");
    const box = wrap.getBoundingClientRect();
    const r = anchor.getBoundingClientRect();
    const panel = this.panel;
    const width = Math.min(panel.offsetWidth || 420, box.width);
    let left = r.right - box.left + 12;
    if (left + width > box.width) left = Math.max(0, r.left - box.left - width - 12);
    // Level with the unit, but inside the window when the panel is tall.
    const bottom = window.innerHeight - 8 - box.top - panel.offsetHeight;
    const top = Math.max(0, Math.min(r.top - box.top - 20, bottom));
    panel.style.left = `${left}px`;
    panel.style.top = `${top}px`;
  }

  closeTrace() {
    this.traced = null;
    if (this.panel) this.panel.hidden = true;
  }
}

// The activation layer right after ``name`` in the table, or ``name`` when none follows.
function activationAfter(layers, name) {
  const i = layers.findIndex((l) => l.name === name);
  const next = layers[i + 1];
  return next && (next.kind === "relu" || next.kind === "tanh") ? next.name : name;
}

function min(a) { let m = Infinity; for (let i = 0; i < a.length; i += 1) if (a[i] < m) m = a[i]; return m; }
function max(a) { let m = -Infinity; for (let i = 0; i < a.length; i += 1) if (a[i] > m) m = a[i]; return m; }
