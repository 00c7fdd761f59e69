// Follow a unit: pointing at a unit outlines it, what it reads in the layer before and its
// receptive field on the input; a click (or Enter) opens its trace, the engine's numbers laid
// out by trace_panel.js, beside it.

import { el } from "./dom.js";
import { traceHtml } from "./trace_panel.js";

export class Follow {
  // ``view``: the NetworkView whose columns, network and current run this follows.
  constructor(view) {
    this.view = view;
    this.wrap = view.host.querySelector(".nv-wrap");
    this.marks = el("div", { class: "nv-marks", "aria-hidden": "true" });
    this.wrap.append(this.marks);
    this.panel = view.host.querySelector(".nv-trace");
    this.traced = null;   // {layer, channel, y, x} of the open trace
    this.bind();
  }

  bind() {
    this.wrap.addEventListener("pointermove", (event) => {
      if (event.pointerType === "touch") return;
      const unit = this.unitAt(event);
      if (unit) this.outline(unit); else this.marks.replaceChildren();
    });
    this.wrap.addEventListener("pointerleave", () => this.marks.replaceChildren());
    this.wrap.addEventListener("click", (event) => {
      const unit = this.unitAt(event);
      if (!unit || !this.view.run) return;
      this.outline(unit);
      this.open(unit, event.target);
    });
    this.wrap.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
      const target = event.target;
      if (event.key === "Enter" && target.dataset && target.dataset.layer === this.view.outputName) {
        this.open({ layer: this.view.outputName, channel: Number(target.dataset.channel), y: 0, x: 0 }, target);
      }
    });
    this.panel.addEventListener("click", (event) => {
      if (event.target.closest(".nv-trace-close")) this.close();
      event.stopPropagation();
    });
  }

  // The unit under the pointer: {layer, channel, y, x}, or null.
  unitAt(event) {
    const target = event.target.closest("[data-layer]");
    if (!target || !this.view.run || target.dataset.layer === "input") return null;
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
    const { columns, net } = this.view;
    const wrap = this.wrap.getBoundingClientRect();
    const boxes = [];
    const mark = (canvas, top, left, bottom, right, kind) => {
      const r = canvas.getBoundingClientRect();
      const sy = r.height / canvas.height, sx = r.width / canvas.width;
      boxes.push({ kind, top: r.top - wrap.top + top * sy, left: r.left - wrap.left + left * sx,
        height: (bottom - top + 1) * sy, width: (right - left + 1) * sx });
    };
    const here = columns[unit.layer];
    if (here && !here.units) mark(here.canvases[unit.channel], unit.y, unit.x, unit.y, unit.x, "unit");
    if (here && here.units) {
      const c = here.cols, row = Math.floor(unit.channel / c);
      mark(here.canvases[0], row, unit.channel % c, row, unit.channel % c, "unit");
    }
    const reads = net.reads(unit.layer, unit.channel, unit.y, unit.x);
    const source = columns[reads.source] || this.columnOfActivation(reads.source);
    if (source) {
      if (source.units || !reads.window) {
        for (const canvas of source.canvases) mark(canvas, 0, 0, canvas.height - 1, canvas.width - 1, "reads");
      } else {
        const [t, l, b, r] = reads.window;
        for (const c of reads.channels) mark(source.canvases[reads.source === "input" ? 0 : c], t, l, b, r, "reads");
      }
    }
    const [t, l, b, r] = net.receptiveField(unit.layer, unit.y, unit.x);
    if (reads.source !== "input") mark(columns.input.canvases[0], t, l, b, r, "field");
    this.marks.replaceChildren(...boxes.map((box) => el("div", { class: `nv-mark nv-mark-${box.kind}`,
      style: `top:${box.top}px;left:${box.left}px;width:${box.width}px;height:${box.height}px` })));
  }

  // The engine names a layer's source by the activation it reads (C1_relu); the view shows
  // that activation in the column of its layer (C1).
  columnOfActivation(name) {
    const { columns, net } = this.view;
    const i = net.layers.findIndex((l) => l.name === name);
    for (let j = i; j >= 0; j -= 1) if (columns[net.layers[j].name]) return columns[net.layers[j].name];
    return columns.input;
  }

  // The trace of ``unit`` for the current run, beside ``anchor`` when given.
  open(unit, anchor) {
    const { run, net, outputName } = this.view;
    if (!run) return;
    let t;
    try {
      t = net.trace(run, unit.layer, unit.channel, unit.y, unit.x);
    } catch (error) {
      return;
    }
    this.traced = unit;
    this.panel.querySelector(".nv-trace-body").innerHTML = traceHtml(t, { classes: net.classes, outputName, run });
    this.panel.hidden = false;
    if (anchor) this.place(anchor);
  }

  // A new run: the open trace follows it; no run: the trace and the outlines go.
  follow(run) {
    if (!run) {
      this.close();
      this.marks.replaceChildren();
    } else if (this.traced) {
      this.open(this.traced);
    }
  }

  // Next to the unit: on its right when there is room, else on its left; inside the view.
  place(anchor) {
    const box = this.wrap.getBoundingClientRect();
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

  close() {
    this.traced = null;
    if (this.panel) this.panel.hidden = true;
  }
}
