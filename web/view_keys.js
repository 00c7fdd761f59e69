// The keyboard on the network view's units (view_follow.js outlines them and opens their
// traces). Each layer's maps, or its grid of units, are one tab stop; the arrow keys move to
// the neighbouring unit, Page Up / Page Down (or [ and ]) to the previous or next channel,
// Enter or Space open the unit's trace; on the outputs, the up and down arrows move between
// classes. The unit is named in plain words ("C3 after ReLU, channel 5, row 4, column 6,
// value 0.532"): as its map's label when the map takes the focus, in a live region when it
// moves within the map, and under the map (view_follow.js) for those who see it.

import { el } from "./dom.js";
import { fixed } from "./format.js";
import { placeWords } from "./trace_panel.js";

// What the keys do, read out (described-by) and shown under the unit.
const HINTS = {
  maps: {
    said: "Arrow keys: the neighbouring unit. Page Up and Page Down, or [ and ]: the previous or "
      + "next channel. Enter: how its value was computed. Escape: close that again.",
    shown: "← ↑ ↓ → move · [ ] channel · Enter: how it was computed",
  },
  grid: {
    said: "Arrow keys: the neighbouring unit. Enter: how its value was computed. Escape: close that again.",
    shown: "← ↑ ↓ → move · Enter: how it was computed",
  },
};
const MAP_MOVES = { ArrowLeft: ["x", -1], ArrowRight: ["x", 1], ArrowUp: ["y", -1], ArrowDown: ["y", 1],
  PageUp: ["channel", -1], "[": ["channel", -1], PageDown: ["channel", 1], "]": ["channel", 1] };
const OPEN = ["Enter", " "];
let views = 0;   // views on this page, for ids unique on it

// The unit that ``key`` moves to from ``unit`` ({layer, channel, y, x}) in column ``col``,
// kept inside the layer; null for a key that moves nothing. A grid of units is read row by
// row, its unit's index being its channel.
export function step(col, unit, key) {
  if (col.units) {
    const d = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -col.cols, ArrowDown: col.cols }[key];
    if (d === undefined) return null;
    return { ...unit, channel: Math.min(col.units - 1, Math.max(0, unit.channel + d)) };
  }
  if (!MAP_MOVES[key]) return null;
  const [axis, d] = MAP_MOVES[key];
  const [c, h, w] = col.layer.shape;
  const size = { x: w, y: h, channel: c }[axis];
  return { ...unit, [axis]: Math.min(size - 1, Math.max(0, unit[axis] + d)) };
}

export class UnitKeys {
  // ``view``: the NetworkView; ``follow``: its Follow (outlines, traces).
  constructor(view, follow, wrap) {
    this.view = view;
    this.follow = follow;
    this.cursor = {};     // each column's unit the keyboard is on
    this.keyed = null;    // that unit while its map has the focus, else null
    this.said = el("p", { class: "nv-mark-live", "aria-live": "polite" });
    const id = `nv-keys-${(views += 1)}`;
    wrap.append(this.said, ...Object.entries(HINTS).map(([kind, hint]) =>
      el("p", { class: "nv-mark-live", id: `${id}-${kind}` }, hint.said)));
    for (const [name, col] of Object.entries(view.columns)) {
      if (name === "input") continue;
      this.cursor[name] = { layer: name, channel: 0, y: 0, x: 0 };
      col.canvases.forEach((canvas, k) => {
        canvas.setAttribute("tabindex", k === 0 ? "0" : "-1");
        canvas.setAttribute("aria-describedby", `${id}-${col.units ? "grid" : "maps"}`);
        canvas.setAttribute("aria-label", this.words({ layer: name, channel: k, y: 0, x: 0 }));
      });
    }
    wrap.addEventListener("keydown", (event) => this.key(event));
    wrap.addEventListener("focusin", (event) => this.focused(event.target));
    wrap.addEventListener("focusout", (event) => {
      if (!this.cursor[event.target.dataset?.layer]) return;
      this.keyed = null;
      follow.showResting();
    });
  }

  // ``unit`` in plain words, with its value in the current run.
  words(unit) {
    const { net, run, after } = this.view;
    const name = after ? net.shownAfter(unit.layer) : unit.layer;
    const shape = this.view.columns[unit.layer].layer.shape;
    const at = shape.length === 1 ? unit.channel : [unit.channel, unit.y, unit.x];
    const text = placeWords(net.plainName(name), shape, at);
    if (!run || !run.outputs[name]) return text;
    const [, h = 1, w = 1] = shape;
    return `${text}, value ${fixed(run.outputs[name].data[(unit.channel * h + unit.y) * w + unit.x])}`;
  }

  // The keys, shown under the unit of ``layer``.
  hint(layer) {
    return HINTS[this.view.columns[layer].units ? "grid" : "maps"].shown;
  }

  // ``unit`` becomes its column's tab stop, its map's label names it.
  moveTo(unit) {
    const col = this.view.columns[unit.layer];
    if (!this.cursor[unit.layer]) return;   // the input and the outputs have no cursor
    const canvasOf = (u) => col.canvases[col.units ? 0 : u.channel];
    canvasOf(this.cursor[unit.layer]).setAttribute("tabindex", "-1");
    canvasOf(unit).setAttribute("tabindex", "0");
    canvasOf(unit).setAttribute("aria-label", this.words(unit));
    this.cursor[unit.layer] = unit;
    if (this.keyed && this.keyed.layer === unit.layer) this.keyed = unit;
  }

  key(event) {
    const target = event.target, layer = target.dataset?.layer;
    if (layer === this.view.outputName && target.tagName === "LI") this.rowKey(event, target);
    else if (this.cursor[layer]) this.unitKey(event, target, layer);
  }

  // A map or grid of units: move, or open the unit's trace.
  unitKey(event, canvas, layer) {
    const unit = this.cursor[layer], col = this.view.columns[layer];
    if (OPEN.includes(event.key)) {
      event.preventDefault();
      this.follow.open(unit, canvas, { focus: true });
      return;
    }
    const next = step(col, unit, event.key);
    if (!next) return;
    event.preventDefault();   // the arrows and pages move the unit, not the page
    this.moveTo(next);
    if (!col.units && next.channel !== unit.channel) {
      this.said.textContent = "";   // the next map's label names the unit as it takes the focus
      col.canvases[next.channel].focus();
    } else {
      this.said.textContent = this.words(next);
      this.follow.showResting();
    }
  }

  // The outputs: Enter opens a class's trace, the up and down arrows move between classes.
  rowKey(event, row) {
    const k = Number(row.dataset.channel), rows = this.view.rows;
    if (OPEN.includes(event.key)) {
      event.preventDefault();
      this.follow.open({ layer: this.view.outputName, channel: k, y: 0, x: 0 }, row, { focus: true });
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      event.preventDefault();
      rows[Math.min(rows.length - 1, Math.max(0, k + (event.key === "ArrowUp" ? -1 : 1)))].row.focus();
    }
  }

  // A map took the focus (the tab key, a click, a channel key): its unit is the keyboard's.
  focused(target) {
    const layer = target.dataset?.layer;
    if (target.tagName !== "CANVAS" || !this.cursor[layer]) return;
    const channel = Number(target.dataset.channel);
    if (!this.view.columns[layer].units && this.cursor[layer].channel !== channel) {
      this.moveTo({ ...this.cursor[layer], channel });
    }
    target.setAttribute("aria-label", this.words(this.cursor[layer]));
    this.keyed = this.cursor[layer];
    this.follow.showResting();
  }
}
