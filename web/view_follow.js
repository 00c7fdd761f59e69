// Follow a unit: pointing at a unit, or moving to it with the keyboard, outlines it, what it
// reads in the layer before and its receptive field on the input; a click (or Enter) opens
// its trace, the engine's numbers laid out by trace_panel.js, where it covers neither the
// unit nor the outputs and "Why?". While the trace is open its outlines stay, whatever the
// pointer crosses on the way to read it.
//
// Keyboard: each layer's maps (or its grid of units) are one tab stop. Arrow keys move to the
// neighbouring unit, Page Up / Page Down (or [ and ]) to the previous or next channel, Enter
// opens the trace, which takes the focus as a dialog does; Escape closes it and gives the
// focus back to the unit.

import { el } from "./dom.js";
import { fixed } from "./format.js";
import { placeWords, traceHtml } from "./trace_panel.js";

const GAP = 12;      // CSS pixels between the trace and what it must not cover
const MARGIN = 8;    // CSS pixels the trace keeps from the window's edges
const SHORTEST = 200; // CSS pixels: a trace shortened to fit is no shorter (its sum and a table)
const MAP_KEYS = "Arrow keys: the neighbouring unit. Page Up and Page Down, or [ and ]: the "
  + "previous or next channel. Enter: how its value was computed. Escape: close that again.";
const GRID_KEYS = "Arrow keys: the neighbouring unit. Enter: how its value was computed. "
  + "Escape: close that again.";
let views = 0;       // views on this page, for ids that are unique on it

export class Follow {
  // ``view``: the NetworkView whose columns, network and current run this follows.
  constructor(view) {
    this.view = view;
    this.wrap = view.host.querySelector(".nv-wrap");
    this.marks = el("div", { class: "nv-marks", "aria-hidden": "true" });
    this.said = el("p", { class: "nv-mark-live", "aria-live": "polite" });
    this.wrap.append(this.marks, this.said);
    this.panel = view.host.querySelector(".nv-trace");
    this.traced = null;   // {layer, channel, y, x} of the open trace
    this.opener = null;   // the element the trace was opened from, to return the focus to
    this.cursor = {};     // each column's unit the keyboard is on: {layer, channel, y, x}
    this.keyed = null;    // the unit the keyboard is on while a unit canvas has the focus
    this.shown = "";      // the unit whose outlines are shown, as a key
    this.onEscape = (event) => { if (event.key === "Escape") this.close(); };
    this.makeFocusable();
    this.bind();
    new ResizeObserver(() => this.refresh()).observe(this.wrap);
  }

  // ------------------------------------------------------------------ keyboard: the units
  // One tab stop per column: its first map (or its grid) at first, later the one last used.
  makeFocusable() {
    const id = `nv-follow-keys-${(views += 1)}`;
    this.wrap.append(el("p", { class: "nv-mark-live", id: `${id}-maps` }, MAP_KEYS),
      el("p", { class: "nv-mark-live", id: `${id}-grid` }, GRID_KEYS));
    for (const [name, col] of Object.entries(this.view.columns)) {
      if (name === "input") continue;
      this.cursor[name] = { layer: name, channel: 0, y: 0, x: 0 };
      col.canvases.forEach((canvas, k) => {
        canvas.setAttribute("tabindex", k === 0 ? "0" : "-1");
        canvas.setAttribute("aria-describedby", `${id}-${col.units ? "grid" : "maps"}`);
        canvas.setAttribute("aria-label", this.words({ layer: name, channel: k, y: 0, x: 0 }));
      });
    }
  }

  // A unit in plain words, with its value when there is a run: "C3 after ReLU, channel 5,
  // row 4, column 6, value 0.532".
  words(unit) {
    const { net, run, after } = this.view;
    const name = after ? net.shownAfter(unit.layer) : unit.layer;
    const col = this.view.columns[unit.layer];
    const shape = col.layer.shape;
    const at = shape.length === 1 ? unit.channel : [unit.channel, unit.y, unit.x];
    const text = placeWords(net.plainName(name), shape, at);
    if (!run || !run.outputs[name]) return text;
    const [, h = 1, w = 1] = shape;
    return `${text}, value ${fixed(run.outputs[name].data[(unit.channel * h + unit.y) * w + unit.x])}`;
  }

  // The unit ``key`` moves the keyboard to from ``unit`` in column ``col``; null for other keys.
  step(col, unit, key) {
    const next = { ...unit };
    if (col.units) {
      const d = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -col.cols, ArrowDown: col.cols }[key];
      if (d === undefined) return null;
      next.channel = Math.min(col.units - 1, Math.max(0, unit.channel + d));
      return next;
    }
    const [c, h, w] = col.layer.shape;
    const moves = { ArrowLeft: ["x", -1], ArrowRight: ["x", 1], ArrowUp: ["y", -1], ArrowDown: ["y", 1],
      PageUp: ["channel", -1], "[": ["channel", -1], PageDown: ["channel", 1], "]": ["channel", 1] };
    if (!moves[key]) return null;
    const [axis, d] = moves[key];
    const size = { x: w, y: h, channel: c }[axis];
    next[axis] = Math.min(size - 1, Math.max(0, unit[axis] + d));
    return next;
  }

  // The keyboard on a unit canvas: move, or open the unit's trace.
  unitKey(event, canvas) {
    const name = canvas.dataset.layer, col = this.view.columns[name];
    const unit = this.cursor[name];
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.open(unit, canvas, { focus: true });
      return;
    }
    const next = this.step(col, unit, event.key);
    if (!next) return;
    event.preventDefault();   // the arrows and pages move the unit, not the page
    this.moveTo(next);
    if (next.channel !== unit.channel && !col.units) {
      this.said.textContent = "";   // the next map's own label names the unit as it gets the focus
      col.canvases[next.channel].focus();
    } else {
      this.said.textContent = this.words(next);
      this.showResting();
    }
  }

  // ``unit`` becomes its column's tab stop (and the canvas's words say which unit it is).
  moveTo(unit) {
    const col = this.view.columns[unit.layer];
    if (!col || unit.layer === "input") return;
    const old = this.cursor[unit.layer];
    const canvasOf = (u) => col.canvases[col.units ? 0 : u.channel];
    canvasOf(old).setAttribute("tabindex", "-1");
    canvasOf(unit).setAttribute("tabindex", "0");
    canvasOf(unit).setAttribute("aria-label", this.words(unit));
    this.cursor[unit.layer] = unit;
    if (this.keyed && this.keyed.layer === unit.layer) this.keyed = unit;
  }

  // The output rows: Enter opens a class's trace, the up and down arrows move between classes.
  rowKey(event, row) {
    const k = Number(row.dataset.channel), rows = this.view.rows;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.open({ layer: this.view.outputName, channel: k, y: 0, x: 0 }, row, { focus: true });
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      event.preventDefault();
      const next = rows[Math.min(rows.length - 1, Math.max(0, k + (event.key === "ArrowUp" ? -1 : 1)))];
      next.row.focus();
    }
  }

  // ------------------------------------------------------------------ events
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
      const anchor = event.target.closest("[data-layer]");
      this.moveTo(unit);
      this.show(unit);
      this.open(unit, anchor, { focus: true });
    });
    this.wrap.addEventListener("keydown", (event) => {
      const target = event.target;
      if (!target.dataset || !target.dataset.layer || target.dataset.layer === "input") return;
      if (target.tagName === "LI") this.rowKey(event, target); else this.unitKey(event, target);
    });
    this.wrap.addEventListener("focusin", (event) => {
      const target = event.target;
      if (target.tagName !== "CANVAS" || !this.cursor[target.dataset.layer]) return;
      const name = target.dataset.layer, col = this.view.columns[name];
      if (!col.units && this.cursor[name].channel !== Number(target.dataset.channel)) {
        this.moveTo({ ...this.cursor[name], channel: Number(target.dataset.channel) });
      }
      target.setAttribute("aria-label", this.words(this.cursor[name]));
      this.keyed = this.cursor[name];
      this.showResting();
    });
    this.wrap.addEventListener("focusout", (event) => {
      if (event.target.tagName !== "CANVAS") return;
      this.keyed = null;
      this.showResting();
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
  // What is outlined when the pointer is on no unit: the open trace's unit, else the unit the
  // keyboard is on, else nothing.
  showResting() {
    const unit = this.view.run ? this.traced || this.keyed : null;
    if (unit) this.show(unit); else this.clearMarks();
  }

  clearMarks() {
    this.shown = "";
    this.marks.replaceChildren();
  }

  // ``unit``'s outlines, unless they are already shown (the pointer moves often).
  show(unit) {
    const key = `${unit.layer}/${unit.channel}/${unit.y}/${unit.x}/${Boolean(this.keyed)}`;
    if (key !== this.shown) this.outline(unit);
    this.shown = key;
  }

  // Outlines: the unit itself, what it reads in the layer before, its receptive field; and,
  // for the keyboard, the unit's name and keys under its map.
  outline(unit) {
    const wrap = this.wrap.getBoundingClientRect();
    const marks = this.boxes(unit).map(({ kind, rect }) => el("div", { class: `nv-mark nv-mark-${kind}`,
      style: `top:${rect.top - wrap.top}px;left:${rect.left - wrap.left}px;`
        + `width:${rect.right - rect.left}px;height:${rect.bottom - rect.top}px` }));
    const focused = document.activeElement;
    if (this.keyed && focused && focused.matches(":focus-visible") && this.wrap.contains(focused)) {
      const r = focused.getBoundingClientRect();
      const tip = el("div", { class: "nv-mark-tip", style: `top:${r.bottom - wrap.top + 6}px;`
        + `left:${Math.max(0, Math.min(r.left - wrap.left, wrap.width - 260))}px` }, this.words(unit));
      tip.append(el("span", {}, this.view.columns[unit.layer].units
        ? "← ↑ ↓ → move · Enter: how it was computed" : "← ↑ ↓ → move · [ ] channel · Enter: how it was computed"));
      marks.push(tip);
    }
    this.marks.replaceChildren(...marks);
  }

  // The outlines' rectangles in the window: [{kind: "unit" | "reads" | "field", rect}].
  boxes(unit) {
    const { columns, net, rows, outputName } = this.view;
    const boxes = [];
    const mark = (canvas, area, kind) => boxes.push({ kind, rect: cellRect(canvas, area) });
    const here = columns[unit.layer];
    if (here && !here.units) mark(here.canvases[unit.channel], [unit.y, unit.x, unit.y, unit.x], "unit");
    if (here && here.units) {
      const row = Math.floor(unit.channel / here.cols), col = unit.channel % here.cols;
      mark(here.canvases[0], [row, col, row, col], "unit");
    }
    if (unit.layer === outputName) boxes.push({ kind: "unit", rect: rows[unit.channel].row.getBoundingClientRect() });
    const reads = net.reads(unit.layer, unit.channel, unit.y, unit.x);
    const source = columns[reads.source] || this.columnOfActivation(reads.source);
    if (source) {
      if (source.units || !reads.window) {
        for (const canvas of source.canvases) mark(canvas, [0, 0, canvas.height - 1, canvas.width - 1], "reads");
      } else {
        for (const c of reads.channels) mark(source.canvases[reads.source === "input" ? 0 : c], reads.window, "reads");
      }
    }
    const field = net.receptiveField(unit.layer, unit.y, unit.x);
    if (reads.source !== "input") mark(columns.input.canvases[0], field, "field");
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
  // The trace of ``unit`` for the current run. ``anchor``: the element it was opened from;
  // ``focus``: a visitor opened it (the dialog takes the focus and is placed); without it, the
  // open trace only follows a new run.
  open(unit, anchor = null, { focus = false } = {}) {
    const { run, net, outputName } = this.view;
    if (!run) return;
    let t;
    try {
      t = net.trace(run, unit.layer, unit.channel, unit.y, unit.x);
    } catch {
      return;   // a unit the engine cannot trace opens nothing
    }
    this.traced = unit;
    this.panel.querySelector(".nv-trace-body").innerHTML = traceHtml(t, { classes: net.classes, outputName, run });
    if (!focus) return;
    this.opener = anchor;
    this.panel.hidden = false;
    this.show(unit);
    this.place({ lift: true });
    this.panel.focus({ preventScroll: true });
    document.addEventListener("keydown", this.onEscape);
  }

  // A new run: the open trace follows it; no run: the trace and the outlines go.
  follow(run) {
    if (!run) {
      this.close();
      this.clearMarks();
    } else if (this.traced) {
      this.open(this.traced);
      this.shown = "";   // the unit's value, in the keyboard's words, is the new run's
      this.showResting();
    } else if (this.keyed) {
      this.shown = "";
      this.showResting();
    }
  }

  // The layout changed (a new width, the large text): outlines and the trace follow it.
  refresh() {
    this.shown = "";
    this.showResting();
    if (this.traced && !this.panel.hidden) this.place({ lift: false });
  }

  // Where the open trace goes: on a phone (where view.css fixes it to the window's bottom) at
  // the bottom or the top, whichever leaves the unit visible; on a wider screen beside the
  // unit, in the window, never over the unit, the outputs or "Why?" (spot()).
  place({ lift }) {
    const panel = this.panel, boxes = this.boxes(this.traced);
    const unit = boxes.find((b) => b.kind === "unit").rect;
    panel.style.maxHeight = "";
    if (getComputedStyle(panel).position === "fixed") {
      panel.style.left = panel.style.top = "";
      this.placeOnPhone(unit, lift);
      return;
    }
    panel.classList.remove("nv-trace-top");
    const anchor = this.opener && this.opener.isConnected ? this.opener.getBoundingClientRect() : unit;
    const ends = [...this.view.host.querySelectorAll(".nv-output, .nv-explain")].map((e) => e.getBoundingClientRect());
    const outlines = (kinds) => boxes.filter((b) => kinds.includes(b.kind)).map((b) => b.rect);
    // Covered least: first nothing outlined, then the receptive field, then what it reads.
    const tiers = [[...ends, anchor, ...outlines(["unit", "reads", "field"])],
      [...ends, anchor, ...outlines(["unit", "reads"])], [...ends, anchor, unit]];
    const wrap = this.wrap.getBoundingClientRect(), bounds = windowBounds(wrap);
    const width = panel.offsetWidth, height = panel.offsetHeight;
    let best = spot({ width, height }, unit, tiers, bounds);
    if (best.score[0] === tiers.length) {
      // No room for all of it beside the unit: shorter (it scrolls), above or below the unit.
      for (const room of [bounds.bottom - anchor.bottom - GAP, anchor.top - GAP - bounds.top]) {
        if (room < Math.min(height, SHORTEST)) continue;
        const shorter = spot({ width, height: Math.min(room, height) }, unit, tiers, bounds);
        if (before(shorter.score, best.score)) best = shorter;
      }
    }
    const { left, top, bottom } = best.box;
    if (bottom - top < height) panel.style.maxHeight = `${bottom - top}px`;
    panel.style.left = `${left - wrap.left}px`;
    panel.style.top = `${top - wrap.top}px`;
  }

  // A phone: the panel at the bottom when the unit is above it, at the top when the unit is
  // below where it would start; else (a tall trace) the page scrolls the unit above it.
  placeOnPhone(unit, lift) {
    const panel = this.panel, height = panel.offsetHeight;
    const clearOfBottom = (u) => u.bottom <= innerHeight - height - GAP;
    if (clearOfBottom(unit)) { panel.classList.remove("nv-trace-top"); return; }
    if (unit.top >= height + GAP) { panel.classList.add("nv-trace-top"); return; }
    panel.classList.remove("nv-trace-top");
    if (lift) window.scrollBy(0, unit.bottom - (innerHeight - height - GAP));
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

// ---------------------------------------------------------------------------- geometry
// Rectangles are {left, top, right, bottom} in the window's CSS pixels.

// The window's rectangle of the cells [top, left, bottom, right] (inclusive) of ``canvas``.
function cellRect(canvas, [top, left, bottom, right]) {
  const r = canvas.getBoundingClientRect();
  const sy = r.height / canvas.height, sx = r.width / canvas.width;
  return { left: r.left + left * sx, top: r.top + top * sy, right: r.left + (right + 1) * sx,
    bottom: r.top + (bottom + 1) * sy };
}

// Where the trace may go: inside the window and, where it is wide enough, over the view.
function windowBounds(wrap) {
  const width = document.documentElement.clientWidth;
  const bounds = { left: Math.max(MARGIN, wrap.left), right: Math.min(width - MARGIN, wrap.right),
    top: MARGIN, bottom: innerHeight - MARGIN };
  if (bounds.right - bounds.left < 440) Object.assign(bounds, { left: MARGIN, right: width - MARGIN });
  return bounds;
}

const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
const overlapArea = (a, b) => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left))
  * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
// Scores compare as words do: the first that differs decides.
const before = (a, b) => { const i = a.findIndex((v, k) => v !== b[k]); return i >= 0 && a[i] < b[i]; };
const distance = (a, b) => Math.hypot(Math.max(0, b.left - a.right, a.left - b.right),
  Math.max(0, b.top - a.bottom, a.top - b.bottom));

// The best place for a box of ``size`` near ``unit`` inside ``bounds``: tried beside, above
// and below the unit and beside every rectangle to avoid, it is the one that overlaps none of
// the first list of ``tiers`` (else the second, ...; else the least of the last), nearest the
// unit: {box, score}, the score as in before().
function spot({ width, height }, unit, tiers, bounds) {
  const avoid = tiers[0], last = tiers[tiers.length - 1];
  const lefts = [unit.right + GAP, unit.left - GAP - width, unit.left, unit.right - width, bounds.left,
    bounds.right - width, ...avoid.flatMap((r) => [r.right + GAP, r.left - GAP - width])];
  const tops = [unit.top - 20, unit.bottom + GAP, unit.top - GAP - height, bounds.top, bounds.bottom - height,
    ...avoid.flatMap((r) => [r.bottom + GAP, r.top - GAP - height])];
  const clamp = (v, low, high) => Math.max(low, Math.min(v, high));
  let best = null;
  for (const l of lefts) {
    for (const t of tops) {
      const left = clamp(l, bounds.left, bounds.right - width), top = clamp(t, bounds.top, bounds.bottom - height);
      const box = { left, top, right: left + width, bottom: top + height };
      const tier = tiers.findIndex((list) => !list.some((r) => overlaps(box, r)));
      const score = [tier < 0 ? tiers.length : tier, last.reduce((s, r) => s + overlapArea(box, r), 0),
        distance(box, unit)];
      if (!best || before(score, best.score)) best = { box, score };
    }
  }
  return best;
}
