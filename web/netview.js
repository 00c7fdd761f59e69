// The network as one view: every layer's maps or units in the order the data flows, each
// column with its colour key, the outputs named by class with their probabilities, "Why?"
// (view_explain.js) and "follow a unit" (view_follow.js). It draws what the engine computed
// (web/engine.js) and computes nothing itself.

import { clearCanvas, el } from "./dom.js";
import { sameValues } from "./arrays.js";
import { diverging, greys, paint } from "./colours.js";
import { brief, percent, signed } from "./format.js";
import { softmaxMath } from "./live.js";
import { buildColumns } from "./view_columns.js";
import { ExplainPanel } from "./view_explain.js";
import { Follow } from "./view_follow.js";
import { cellRect } from "./view_place.js";

const KEY_STEPS = 64;   // colours in a column's key

export class NetworkView {
  // ``host``: the element to build in (it holds view_parts.html); ``net``: an engine Network.
  constructor(host, net) {
    this.host = host;
    this.net = net;
    this.run = null;
    this.after = true;    // show each layer after its activation
    // What each canvas and each key shows now (paintChanged, keyChanged): a toggle changes
    // only the maps from its layer on, and a pen stroke some of them, so the rest stay.
    this.painted = new WeakMap();
    const flow = host.querySelector(".nv-flow");
    Object.assign(this, buildColumns(flow, net));
    // The outputs and "Why?" share the end of the flow: side by side where there is room,
    // one above the other where not (view.css).
    const end = el("div", { class: "nv-end" });
    const why = host.querySelector(".nv-explain");
    flow.append(end);
    end.append(this.outputSection, ...(why ? [why] : []));
    this.explain = why ? new ExplainPanel(why, net) : null;
    this.follow = new Follow(this);
    // The parts the run has switched off, crossed out where the view draws them.
    const wrap = host.querySelector(".nv-wrap");
    this.offMarks = el("div", { class: "nv-marks nv-offmarks", "aria-hidden": "true" });
    wrap.append(this.offMarks);
    new ResizeObserver(() => this.markOff()).observe(wrap);
    this.softmax = host.querySelector(".nv-softmax");
    if (this.softmax) this.softmax.addEventListener("toggle", () => this.drawSoftmax());
  }

  // ``run``: the engine's forward result for what is shown, or null to blank everything.
  show(run) {
    this.run = run;
    if (!run) return this.blank();
    const { channels, height, width } = this.net.inputShape;
    this.paintChanged(this.columns.input.canvases[0], run.pixels, channels, height, width, greys);
    if (channels === 1) this.keyChanged(this.columns.input.key, { low: 0, high: 1, kind: "greys" });
    for (const [name, col] of Object.entries(this.columns)) {
      if (name !== "input") this.drawColumn(col, this.values(name));
    }
    this.rows.forEach(({ row, fill, p, z }, k) => {
      fill.style.width = `${(100 * run.probabilities[k]).toFixed(1)}%`;
      p.textContent = percent(run.probabilities[k]);
      z.textContent = `z ${signed(run.logits[k], 2)}`;
      row.classList.toggle("nv-top", k === run.top);
    });
    this.drawSoftmax();
    if (this.explain) this.explain.draw(run);
    this.markOff();
    this.follow.follow(run);
  }

  // A cross over each map or unit the run has switched off (run.off: {layer: [k, ...]}), and
  // such a map dimmed. Called on every pointer move: with nothing off, nothing is measured.
  // The maps are dimmed first and every rectangle read after, so that the page is laid out
  // once, not once per map (a class changed between two reads lays it out again).
  markOff() {
    const off = this.run ? this.run.off || {} : {};
    if (!Object.keys(off).length && !this.offMarks.childElementCount) return;
    const parts = [];
    for (const [layer, col] of Object.entries(this.columns)) {
      if (layer === "input") continue;
      const ks = new Set(off[layer] || []);
      if (!col.units) col.canvases.forEach((canvas, k) => canvas.classList.toggle("nv-off", ks.has(k)));
      for (const k of ks) parts.push({ layer, col, k });
    }
    const wrap = this.offMarks.parentElement.getBoundingClientRect();
    const marks = parts.map(({ layer, col, k }) => {
      const canvas = col.canvases[col.units ? 0 : k];
      const row = Math.floor(k / (col.cols || 1)), column = k % (col.cols || 1);
      const r = col.units ? cellRect(canvas, [row, column, row, column]) : canvas.getBoundingClientRect();
      return el("div", { class: "nv-mark nv-mark-off", "data-layer": layer, "data-channel": String(k),
        style: `top:${r.top - wrap.top}px;left:${r.left - wrap.left}px;width:${r.right - r.left}px;`
          + `height:${r.bottom - r.top}px` });
    });
    this.offMarks.replaceChildren(...marks);
  }

  // One column's maps or units on one colour scale, symmetric around zero, with its key.
  drawColumn(col, values) {
    const low = min(values.data), high = max(values.data);
    const scale = diverging(Math.max(Math.abs(low), Math.abs(high)));
    if (col.units) {
      this.paintChanged(col.canvases[0], values.data, 1, Math.ceil(col.units / col.cols), col.cols, scale,
        col.units);
    } else {
      const [, h, w] = values.shape;
      col.canvases.forEach((canvas, k) =>
        this.paintChanged(canvas, values.data.subarray(k * h * w, (k + 1) * h * w), 1, h, w, scale));
    }
    this.keyChanged(col.key, { low, high, kind: "diverging" });
  }

  // paint(), unless the canvas shows these values on this scale already. The values are kept
  // by reference: the engine never writes to a run's arrays once it returned the run.
  paintChanged(canvas, values, channels, height, width, scale, count) {
    const last = this.painted.get(canvas);
    if (last && last.scale.rgb === scale.rgb && last.scale.low === scale.low && last.scale.high === scale.high
      && sameValues(last.values, values)) return;
    paint(canvas, values, channels, height, width, scale, count);
    this.painted.set(canvas, { values, scale });
  }

  // colourKey(), unless the key shows this range already.
  keyChanged(box, scale) {
    const last = this.painted.get(box);
    if (last && last.low === scale.low && last.high === scale.high && last.kind === scale.kind) return;
    colourKey(box, scale);
    this.painted.set(box, scale);
  }

  // A layer's values as shown: after its activation when the toggle says so.
  values(name) {
    return this.run.outputs[this.after ? this.net.shownAfter(name) : name];
  }

  // The softmax written out for the top class, when its panel is open.
  drawSoftmax() {
    if (!this.softmax) return;
    const body = this.softmax.querySelector(".nv-softmax-body");
    if (!this.run) { body.textContent = "Draw or upload something first."; return; }
    if (!this.softmax.open) return;
    body.innerHTML = softmaxMath(this.net.classes, this.run, this.run.top);
  }

  blank() {
    this.painted = new WeakMap();
    this.drawSoftmax();
    for (const col of Object.values(this.columns)) {
      col.canvases.forEach(clearCanvas);
      colourKey(col.key, null);
    }
    this.rows.forEach(({ row, fill, p, z }) => {
      fill.style.width = "0"; p.textContent = ""; z.textContent = ""; row.classList.remove("nv-top");
    });
    if (this.explain) this.explain.draw(null);
    this.markOff();
    this.follow.follow(null);
  }

  closeTrace() {
    this.follow.close();
  }
}

// The key under a column: the colours it uses, from its lowest value to its highest, with
// those values at the ends. ``scale``: {low, high, kind: "diverging" | "greys"}, or null to
// empty it. Diverging maps are white at 0, red above and blue below, deepest at the column's
// largest magnitude (the legend under the view says so once).
export function colourKey(box, scale) {
  if (!scale) { box.replaceChildren(); return; }
  const bar = el("canvas", { class: "nv-key-bar", "aria-hidden": "true" });
  const top = Math.max(Math.abs(scale.low), Math.abs(scale.high));
  const ramp = Float32Array.from({ length: KEY_STEPS },
    (_, i) => scale.low + (scale.high - scale.low) * i / (KEY_STEPS - 1));
  paint(bar, ramp, 1, 1, KEY_STEPS, scale.kind === "greys" ? greys : diverging(top));
  box.replaceChildren(bar, el("span", { class: "nv-range" }, `${brief(scale.low)} … ${brief(scale.high)}`));
}

function min(a) { let m = Infinity; for (let i = 0; i < a.length; i += 1) if (a[i] < m) m = a[i]; return m; }
function max(a) { let m = -Infinity; for (let i = 0; i < a.length; i += 1) if (a[i] > m) m = a[i]; return m; }

