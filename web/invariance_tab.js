// The invariance lab, all in this page: the visitor's drawing (LeNet-5) or photo (ConvNet),
// taken from the draw and photo tabs (shared.js topics "digit" and "photo"), moved, turned,
// scaled, thickened, made noisy or partly erased by sliders; the answer follows every change,
// and the curves (every class against rotation and horizontal shift) and the occlusion map
// follow it. The numbers are Python's (lenet/inside/invariance.py, held equal by
// tests/test_lab_page.py); after the networks have loaded nothing here sends a request.
//
// A slider step costs one forward pass (a ConvNet pass ~40 ms); the curves and the map cost
// ~40 and ~80-150 more. So the answer is drawn on the next animation frame (rapid changes
// coalesce into one), then the curves and the map are computed a slice of ~12 ms at a time
// between the page's other work, and dropped when a slider moves again.

import { lineChart } from "./charts.js";
import { el, linkStyleSheet } from "./dom.js";
import { loadNetwork } from "./engine.js";
import { percent } from "./format.js";
import { fillWords } from "./live.js";
import { fileUrl, latestOf } from "./shared.js";
import { Sliders, sliderTable } from "./lab_controls.js";
import { occlusion, probabilities, sweep, sweepValues } from "./lab_measure.js";
import { paintOcclusion, paintSeen } from "./lab_picture.js";
import { transform } from "./lab_transform.js";

// The lab's numbers, written once in Python (python -m lenet.inside.invariance).
export const LIMITS = await (await fetch(new URL("invariance_tab.json", import.meta.url))).json();
const SOURCES = {
  digit: {topic: "digit", empty: "Draw a digit in the first tab first.", paper: "black (paper)"},
  photo: {topic: "photo", empty: "Upload a photo in the photo tab first.", paper: "grey"},
};
const NOT_LOADED = "Choose your drawing or your photo and press Load / refresh.";
const TOP = 3;          // classes in the answer's list; the curves show every class
const SLICE_MS = 12;    // the longest the curves hold the page at a time (a frame is ~16 ms)

export async function mount({element, start, base}) {
  await linkStyleSheet("web/invariance_tab.css");
  const nets = await Promise.all(start.models.map(async (m) => ({...m, net: await loadNetwork(fileUrl(m.path))})));
  await fillWords(element.querySelector(".lab-words-list"), base, ["logits", "softmax", "occlusion", "pooling"]);
  const lab = new Lab(element, {digit: nets.find((m) => m.digits).net, photo: nets.find((m) => !m.digits).net});
  window.cnnPage = {...window.cnnPage, lab};   // for tests and benchmarks
  element.dataset.ready = "true";
}

/** The sliders' values -> transform()'s settings for ``source`` (as InvarianceTab._settings):
 * the stroke in whole pixels, for digits only; the erase square from its size and centre. */
export function settingsFor(values, source) {
  const digit = source === "digit", size = Math.trunc(values.erase_size);
  const erase = size ? {top: Math.trunc(values.erase_y) - Math.floor(size / 2),
    left: Math.trunc(values.erase_x) - Math.floor(size / 2), size} : null;
  return {shiftX: values.shift_x, shiftY: values.shift_y, rotation: values.rotation, scale: values.scale,
    stroke: digit ? Math.round(values.stroke) : 0, noise: values.noise, erase, seed: 0, digit,
    fill: digit ? 0 : LIMITS.photo_fill};
}

class Lab {
  constructor(element, nets) {
    const find = (selector) => element.querySelector(selector);
    this.nets = nets;
    this.parts = {status: find(".lab-status"), top: find(".lab-top-list"), seen: find(".lab-seen-canvas"),
      occlusion: find(".lab-occlusion-canvas"), caption: find(".lab-caption"), charts: find(".lab-charts"),
      rotation: find("#lab-rotation"), shift: find("#lab-shift")};
    this.sources = [...element.querySelectorAll('input[name="lab-source"]')];
    this.sliders = new Sliders(element, sliderTable(LIMITS), {
      changed: () => this.changed(), refused: (message) => { this.parts.status.textContent = message; }});
    this.loaded = null;      // {source, from: the published value, pixels, shape, net, untouched}
    this.frame = 0;          // the animation frame the next answer is drawn in
    this.job = 0;            // the curves being computed; a newer change drops them
    this.timings = {live: null, curves: null};   // ms, the latest of each (benchmarks read them)
    this.measured = null;    // the numbers on show: {shown, live, rotation, shift, occlusion}
    this.settled = Promise.resolve();
    find(".lab-load").addEventListener("click", () => this.load());
    find(".lab-reset").addEventListener("click", () => {
      this.sliders.reset(this.nets[this.source().name].inputShape.height);
      this.changed();
    });
    for (const radio of this.sources) radio.addEventListener("change", () => this.load());
    // Opening the tab shows what was drawn or uploaded last, as pressing Load / refresh would.
    new IntersectionObserver((seen) => {
      if (seen.some((e) => e.isIntersecting) && latestOf(this.source().topic) !== this.loaded?.from) this.load();
    }).observe(element);
    this.show(NOT_LOADED);
  }

  source() {
    const name = this.sources.find((r) => r.checked)?.value ?? "digit";
    return {name, ...SOURCES[name]};
  }

  /** Take the chosen source's latest input (never an older one): its pixels, copied. */
  load() {
    const source = this.source(), net = this.nets[source.name], value = latestOf(source.topic);
    const {channels, height, width} = net.inputShape;
    this.sliders.fit(source.name === "digit", height);
    this.loaded = null;
    if (!value || !value.pixels) {
      this.loaded = {from: value, empty: true};
      this.show(source.empty);
      return;
    }
    const pixels = Float32Array.from(value.pixels), shape = [channels, height, width];
    this.loaded = {source: source.name, from: value, pixels, shape, net,
      untouched: this.words(net, probabilities(net, pixels))};
    this.changed();
  }

  /** A slider moved: the answer on the next frame (one for any number of changes before it). */
  changed() {
    if (!this.loaded || this.loaded.empty) {
      this.show(this.loaded ? this.source().empty : NOT_LOADED);
      return;
    }
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.live();
    });
  }

  /** The input through the sliders, its answer now, then its curves and map a slice at a time. */
  live() {
    const began = performance.now();
    const {net, pixels, shape, source, untouched} = this.loaded;
    const values = this.sliders.values(), settings = settingsFor(values, source);
    const shown = transform(pixels, shape, settings), p = probabilities(net, shown);
    this.parts.status.innerHTML = `${this.words(net, p)} (was ${untouched} untouched)`;
    const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a]).slice(0, TOP);
    this.parts.top.replaceChildren(...order.map((k) => {
      const item = el("li", {style: `--p: ${p[k]}`});
      item.append(el("span", {class: "lab-class"}, net.classes[k]), el("span", {class: "lab-bar"}),
        el("span", {class: "lab-percent"}, percent(p[k])));
      return item;
    }));
    paintSeen(this.parts.seen, shown, shape);
    this.measured = {shown, live: p};
    this.timings.live = performance.now() - began;
    this.settled = this.slices(this.measure(net, pixels, shape, shown, values, settings, source));
  }

  /** Run ``steps`` a slice at a time until done or a newer change comes; resolves then. */
  slices(steps) {
    const job = ++this.job, began = performance.now();
    this.parts.charts.setAttribute("aria-busy", "true");
    return new Promise((resolve) => {
      const slice = () => {
        if (job !== this.job) return resolve(false);
        const end = performance.now() + SLICE_MS;
        while (performance.now() < end) {
          if (steps.next().done) {
            this.parts.charts.removeAttribute("aria-busy");
            this.timings.curves = performance.now() - began;
            return resolve(true);
          }
        }
        soon(slice);
      };
      soon(slice);
    });
  }

  /** The two curves, then the occlusion map of the input as shown; each drawn when done. */
  *measure(net, pixels, shape, shown, values, settings, source) {
    const turned = yield* sweep(net, pixels, "rotation", sweepValues(LIMITS.rotation_limit, LIMITS.rotation_step), settings);
    this.parts.rotation.innerHTML = curveChart(net, turned, "rotation", "rotation (degrees)", values.rotation);
    const moved = yield* sweep(net, pixels, "shiftX", sweepValues(LIMITS.shift_limit), settings);
    this.parts.shift.innerHTML = curveChart(net, moved, "horizontal shift", "horizontal shift (pixels)", values.shift_x);
    const hidden = yield* occlusion(net, shown, LIMITS.occlusion[source]);
    this.measured = {...this.measured, rotation: turned, shift: moved, occlusion: hidden};
    paintOcclusion(this.parts.occlusion, shown, shape, hidden);
    this.parts.occlusion.dataset.drawn = String(Number(this.parts.occlusion.dataset.drawn || 0) + 1);
    this.parts.caption.innerHTML = `<strong>Occlusion</strong> (Zeiler &amp; Fergus): a ${hidden.size}×${hidden.size} `
      + `${SOURCES[source].paper} square slid in steps of ${hidden.stride} px over the input as shown above; red `
      + `where hiding it costs <strong>${escaped(net.classes[hidden.classIndex])}</strong> most of its `
      + `${percent(hidden.probability)}.`;
  }

  /** "<b>7</b> with 99.9 %": the top class of ``p`` in words. */
  words(net, p) {
    let top = 0;
    p.forEach((v, k) => { if (v > p[top]) top = k; });
    return `<strong>${escaped(net.classes[top])}</strong> with ${percent(p[top])}`;
  }

  /** Nothing to show but ``message``: every output emptied, the curves stopped. */
  show(message) {
    this.job += 1;
    this.measured = null;
    this.parts.status.textContent = message;
    this.parts.top.replaceChildren();
    for (const canvas of [this.parts.seen, this.parts.occlusion]) canvas.width = canvas.height = 0;
    for (const part of [this.parts.caption, this.parts.rotation, this.parts.shift]) part.innerHTML = "";
    this.parts.charts.removeAttribute("aria-busy");
  }
}

/** Every class's probability (%) against one transform, the slider's value marked. */
function curveChart(net, curve, what, xlabel, marker) {
  const series = net.classes.map((name, k) => ({name,
    points: curve.values.map((v, i) => [v, 100 * curve.probabilities[i][k]])}));
  return lineChart(series, {title: `Every class vs ${what}`, xlabel, ylabel: "probability (%)", marker});
}

// The next task after the page's pending work (a message, not setTimeout, whose nested calls
// wait at least 4 ms each).
const channel = new MessageChannel(), queued = [];
channel.port1.onmessage = () => queued.shift()();
function soon(fn) {
  queued.push(fn);
  channel.port2.postMessage(null);
}

function escaped(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
