// Follow a unit: pointing at a unit, or moving to it with the keyboard (view_keys.js),
// outlines it, what it reads in the layer before and its receptive field on the input; a
// click (or Enter) opens its trace, the engine's numbers laid out by trace_panel.js, where it
// covers neither the unit nor the outputs and "Why?" (view_place.js). The trace is a dialog:
// it takes the focus, Escape closes it and the focus goes back to the unit. While it is open
// its unit's outlines stay, whatever the pointer crosses on the way to read it.

import { el } from "./dom.js";
import { traceHtml } from "./trace_panel.js";
import { UnitKeys } from "./view_keys.js";
import { cellRect, placeTrace } from "./view_place.js";

export class Follow {
  // ``view``: the NetworkView whose columns, network and current run this follows.
  constructor(view) {
    this.view = view;
    this.wrap = view.host.querySelector(".nv-wrap");
    this.marks = el("div", { class: "nv-marks", "aria-hidden": "true" });
    this.wrap.append(this.marks);
    this.panel = view.host.querySelector(".nv-trace");
    this.traced = null;   // {layer, channel, y, x} of the open trace
    this.opener = null;   // the map or row it was opened from, where the focus goes back
    this.shown = "";      // the unit whose outlines are shown, as a key
    this.onEscape = (event) => { if (event.key === "Escape") this.close(); };
    this.keys = new UnitKeys(view, this, this.wrap);
    this.bind();
    new ResizeObserver(() => this.refresh()).observe(this.wrap);
  }

  bind() {
    this.wrap.addEventListener("pointermove", (event) => {
      if (event.pointerType === "touch") return;
      const unit = this.unitAt(event);
      if (unit) this.show(unit); else this.showResting();
    });
    this.wrap.addEventListener("pointerleave", () => this.showResting());
    this.wrap.addEventListener("click", (event) => {
      const unit = this.unitAt(event);
      if (!unit || !this.view.run) return;
      this.keys.moveTo(unit);
      this.open(unit, event.target.closest("[data-layer]"), { focus: true });
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

  // ------------------------------------------------------------------ outlines
  // What is outlined while the pointer is on no unit: the open trace's unit, else the unit
  // the keyboard is on, else nothing.
  showResting() {
    const unit = this.view.run ? this.traced || this.keys.keyed : null;
    if (unit) this.show(unit); else this.clearMarks();
  }

  clearMarks() {
    this.shown = "";
    this.marks.replaceChildren();
  }

  // ``unit``'s outlines, unless they are shown already (the pointer moves often).
  show(unit) {
    const key = `${unit.layer}/${unit.channel}/${unit.y}/${unit.x}/${Boolean(this.keys.keyed)}`;
    if (key !== this.shown) this.outline(unit);
    this.shown = key;
  }

  // Outlines: the unit itself, what it reads in the layer before, its receptive field; for
  // the keyboard, also the unit's name and keys under its map.
  outline(unit) {
    const wrap = this.wrap.getBoundingClientRect();
    const at = (rect) => `top:${rect.top - wrap.top}px;left:${rect.left - wrap.left}px;`;
    const marks = this.boxes(unit).map(({ kind, rect }) => el("div", { class: `nv-mark nv-mark-${kind}`,
      style: `${at(rect)}width:${rect.right - rect.left}px;height:${rect.bottom - rect.top}px` }));
    const focused = document.activeElement;
    if (this.keys.keyed && focused?.dataset?.layer === unit.layer && focused.matches(":focus-visible")) {
      const r = focused.getBoundingClientRect();
      const left = Math.max(wrap.left, Math.min(r.left, wrap.right - 260));   // 260: the tip's widest
      const tip = el("div", { class: "nv-mark-tip", style: at({ top: r.bottom + 6, left }) },
        this.keys.words(unit));
      tip.append(el("span", {}, this.keys.hint(unit.layer)));
      marks.push(tip);
    }
    this.marks.replaceChildren(...marks);
  }

  // The outlines' rectangles in the window: [{kind: "unit" | "reads" | "field", rect}].
  boxes(unit) {
    const { columns, net, rows, outputName } = this.view;
    const boxes = [];
    const mark = (canvas, area, kind) => boxes.push({ kind, rect: cellRect(canvas, area) });
    const whole = (canvas) => [0, 0, canvas.height - 1, canvas.width - 1];
    const here = columns[unit.layer];
    if (unit.layer === outputName) {
      boxes.push({ kind: "unit", rect: rows[unit.channel].row.getBoundingClientRect() });
    } else if (here.units) {
      const row = Math.floor(unit.channel / here.cols), col = unit.channel % here.cols;
      mark(here.canvases[0], [row, col, row, col], "unit");
    } else {
      mark(here.canvases[unit.channel], [unit.y, unit.x, unit.y, unit.x], "unit");
    }
    const reads = net.reads(unit.layer, unit.channel, unit.y, unit.x);
    const source = columns[reads.source] || this.columnOfActivation(reads.source);
    if (source.units || !reads.window) {
      for (const canvas of source.canvases) mark(canvas, whole(canvas), "reads");
    } else {
      for (const c of reads.channels) {
        mark(source.canvases[reads.source === "input" ? 0 : c], reads.window, "reads");
      }
    }
    if (reads.source !== "input") {
      mark(columns.input.canvases[0], net.receptiveField(unit.layer, unit.y, unit.x), "field");
    }
    return boxes;
  }

  // The engine names a layer's source by the activation it reads (C1_relu); the view shows
  // that activation in the column of its layer (C1).
  columnOfActivation(name) {
    const { columns, net } = this.view;
    const i = net.layers.findIndex((l) => l.name === name);
    for (let j = i; j >= 0; j -= 1) if (columns[net.layers[j].name]) return columns[net.layers[j].name];
    return columns.input;
  }

  // ------------------------------------------------------------------ the trace
  // The trace of ``unit`` for the current run. ``opener``: the map or row it is opened from;
  // ``focus``: a visitor opened it, so it is placed and takes the focus; without it, the
  // open trace only follows a new run.
  open(unit, opener = null, { focus = false } = {}) {
    const { run, net, outputName } = this.view;
    if (!run) return;
    // A visitor's click, tap or Enter may be an experiment's (experiments.js: switch it off).
    if (focus && this.view.onChoose && this.view.onChoose(unit)) return;
    let t;
    try {
      t = net.trace(run, unit.layer, unit.channel, unit.y, unit.x);
    } catch {
      return;   // a unit the engine cannot trace opens nothing
    }
    this.traced = unit;
    const body = this.panel.querySelector(".nv-trace-body");
    body.innerHTML = traceHtml(t, { classes: net.classes, outputName, run });
    if (!focus) return;
    this.opener = opener;
    this.panel.hidden = false;
    this.show(unit);
    this.place(true);
    this.panel.focus({ preventScroll: true });
    document.addEventListener("keydown", this.onEscape);
  }

  // Beside the unit, covering neither it nor the outputs and "Why?", and, if it can, none of
  // its outlines: first none, then not what it reads, then only the unit (view_place.js).
  place(lift) {
    const boxes = this.boxes(this.traced);
    const unit = boxes[0].rect;
    const anchor = this.opener && this.opener.isConnected ? this.opener.getBoundingClientRect() : unit;
    const ends = [...this.view.host.querySelectorAll(".nv-output, .nv-explain")]
      .map((e) => e.getBoundingClientRect());
    const outlines = (...kinds) => boxes.filter((b) => kinds.includes(b.kind)).map((b) => b.rect);
    const tiers = [[...ends, anchor, ...outlines("unit", "reads", "field")],
      [...ends, anchor, ...outlines("unit", "reads")], [...ends, anchor, unit]];
    placeTrace(this.panel, { unit, anchor, tiers, wrap: this.wrap, lift });
  }

  // A new run: the open trace follows it; no run: the trace and the outlines go.
  follow(run) {
    if (!run) {
      this.close();
      this.clearMarks();
      return;
    }
    if (this.traced) this.open(this.traced);
    if (this.keys.keyed) {   // the words under the keyboard's unit give the new run's value
      this.shown = "";
      this.showResting();
    }
  }

  // The layout changed (another width, the large text): the outlines and the trace follow.
  refresh() {
    this.shown = "";
    this.showResting();
    if (this.traced && !this.panel.hidden) this.place(false);
  }

  // Closes the trace; the focus, when it was in the trace, goes back to where it came from.
  close() {
    const hadFocus = this.panel.contains(document.activeElement);
    this.traced = null;
    this.panel.hidden = true;
    document.removeEventListener("keydown", this.onEscape);
    if (hadFocus && this.opener && this.opener.isConnected) this.opener.focus({ preventScroll: true });
    this.showResting();
  }
}
