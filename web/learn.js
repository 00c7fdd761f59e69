// "Watch it learn" under the draw and photo tabs' view: a slider over the moments of training
// that train.py kept (<model>.snapshots.safetensors, read by snapshots.js), the last position
// being the trained checkpoint itself. At each moment the tab computes with that moment's
// network, so the whole view (every layer's maps, the ten probabilities, "Why?", the
// experiments) shows it on the current input, and drawing goes on working; this panel adds the
// first layer's kernels at that moment and a curve of the current class's probability and of
// the stored test accuracy against the training step, with a marker at the slider.
//
// The file is fetched only when the slider is first moved. The tab asks `learn.net` which
// network to compute with, is told through `use(net)` when it changes, and tells `shown(run,
// pixels)` each run it shows (null: nothing), so that the curve always belongs to what is shown.

import { clearCanvas, el, linkStyleSheet } from "./dom.js";
import { diverging, paint } from "./colours.js";
import { escapeHtml } from "./charts.js";
import { brief, percent } from "./format.js";
import { fileUrl } from "./shared.js";
import { loadSnapshots } from "./snapshots.js";

const MOST_PICTURES = 16;   // a first layer with more units shows its first 16
const OWN = "Training snapshots are stored only for the built-in model.";

/** The panel of a tab on the trained network `net`. `model`: the tab's entry in tab_starts
 * (`snapshots`: the file's path or null; `snapshot_steps`); `own`: the tab shows a visitor's
 * own checkpoint; `use(net)`: the tab computes with `net` from now on and redraws. */
export async function mountLearn({ element, net, model, own, use }) {
  const panel = element.querySelector(".ln-panel");
  const [words] = await Promise.all([fetch(fileUrl("web/words.json")).then((r) => r.json()),
    linkStyleSheet("web/learn.css")]);
  panel.querySelector(".ln-words").textContent = words.learn[1];
  return new Learn(panel, { net, path: model.snapshots, steps: model.snapshot_steps || [], use, own });
}

/** The tab `tab` (its `view` and `experiments`) computes with `net` from now on: the view, its
 * explanations, traces and the experiments all read the network they are given here, so one
 * swap moves them together; results computed with the other network go, and the tab redraws.
 * The stored results (test-set drops, top crops, neighbours) stay the trained network's. */
export function useNetwork(tab, net, run = null) {
  tab.view.net = net;
  if (tab.view.explain) tab.view.explain.net = net;
  tab.experiments.net = net;
  // `run`: one `net` already made for the input shown (the curve's), which the next forward
  // resumes from (the engine checks that it is the same input and network), so that a scrub
  // step does not pay for a pass the curve already made.
  if (run) tab.experiments.run = run;
  tab.experiments.changedNetwork();
}

class Learn {
  constructor(panel, { net, path, steps, use, own }) {
    Object.assign(this, { panel, trained: net, path, steps, use });
    this.net = net;           // the network the tab computes with: the trained one or a moment's
    this.moments = null;      // once loaded: [{step, loss, testAccuracy, net, tensors}]
    this.loading = null;
    this.position = steps.length;   // steps.length: the end of training (the trained network)
    this.curveFor = null;     // {pixels, off, cls, points, runs}: the curve made for that input
    this.wanted = null;       // {pixels, off, parts}: what the curve is to be made for
    this.redoing = false;     // a remake of the curve is asked for
    this.curveMs = null;      // what the last remake cost
    this.range = panel.querySelector(".ln-range");
    this.said = panel.querySelector(".ln-moment");
    this.status = panel.querySelector(".ln-status");
    this.kernels = panel.querySelector(".ln-kernels");
    this.curve = panel.querySelector(".ln-curve");
    this.endButton = panel.querySelector(".ln-end");
    panel.hidden = !(path && steps.length);
    if (panel.hidden || own) {
      this.range.disabled = this.endButton.disabled = true;
      this.status.textContent = own ? OWN : "";
      return;
    }
    Object.assign(this.range, { min: "0", max: String(steps.length), step: "1", value: String(steps.length) });
    this.range.addEventListener("input", () => this.moveTo(Number(this.range.value)));
    this.endButton.addEventListener("click", () => this.moveTo(steps.length));
    this.sayMoment();
  }

  /** Show moment `position` (steps.length: the trained network), loading the file first. */
  async moveTo(position) {
    this.position = position;
    this.range.value = String(position);
    this.sayMoment();
    if (!(await this.load())) return;
    if (this.position !== position) return;   // moved on while the file was read
    const net = position < this.moments.length ? this.moments[position].net : this.trained;
    this.endButton.disabled = net === this.trained;
    if (net === this.net) return;
    this.net = net;
    this.use(net, this.curveFor?.runs.get(net) ?? null);
  }

  // The file, read once; false (and a line saying why) when it cannot be used.
  async load() {
    if (this.moments) return true;
    this.status.textContent = "Reading the training snapshots…";
    this.loading = this.loading || loadSnapshots(this.path, this.trained).then(
      (file) => { this.moments = file.moments; return true; },
      (error) => { this.status.textContent = `The training snapshots cannot be shown: ${error.message}`; return false; });
    const ok = await this.loading;
    if (ok) this.status.textContent = "";
    return ok;
  }

  sayMoment() {
    const n = this.steps.length, p = this.position, last = this.steps[n - 1];
    const step = (s) => s.toLocaleString("en");
    if (p >= n) {
      this.said.textContent = `The end of training: the trained network (${step(last)} steps)`;
    } else {
      const m = this.moments?.[p];
      const figures = m ? `: test accuracy ${percent(m.testAccuracy)}, training loss ${m.loss.toFixed(2)}` : "";
      this.said.textContent = `${p === 0 ? "Untrained (step 0)" : `Step ${step(this.steps[p])} of ${step(last)}`}${figures}`;
    }
    this.range.setAttribute("aria-valuetext", this.said.textContent);
  }

  /** The tab showed `run` of the current network for `pixels` (null: nothing shown). */
  shown(run, pixels) {
    if (!this.moments) return;
    this.sayMoment();
    this.drawKernels();
    if (!run) {
      this.curveFor = this.wanted = null;
      this.curve.removeAttribute("aria-busy");
      this.curve.innerHTML = '<p class="ln-note">Draw or show something to follow its answer through training.</p>';
      return;
    }
    this.drawCurve(run, pixels);
  }

  // ------------------------------------------------------------------ the first layer's kernels
  drawKernels() {
    const moment = this.moments[Math.min(this.position, this.moments.length - 1)];
    const row = this.trained.layers.find((l) => l.weight);
    const { shape, data } = moment.tensors[row.weight];
    const pictures = kernelPictures(row, shape, data, this.trained.inputShape);
    const top = data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const at = this.position >= this.moments.length ? "at the end of training" : `at step ${moment.step.toLocaleString("en")}`;
    const which = pictures.count > pictures.shown ? `the first ${pictures.shown} of ${pictures.count}` : `all ${pictures.count}`;
    const heading = el("p", { class: "ln-note" },
      `${row.name}'s learned ${row.kind === "conv" ? "kernels" : "weights"} ${at} (${which}; largest size ${brief(top)}):`);
    const grid = el("div", { class: "ln-grid" });
    for (let k = 0; k < pictures.shown; k += 1) {
      const canvas = el("canvas", { class: "ln-kernel", role: "img", "aria-label": `${row.name} ${k + 1}` });
      canvas.style.width = `${pictures.side}px`;
      paintKernel(canvas, pictures.of(k), pictures.channels, pictures.height, pictures.width, top);
      grid.append(canvas);
    }
    this.kernels.replaceChildren(heading, grid);
  }

  // ------------------------------------------------------------------ the curve
  // The curve for what is shown: at once when it is the input (and parts off) the curve was
  // made for (a scrub step); else its passes (one per moment, and the trained network's) are
  // made after the view's frame is painted, once however many inputs came meanwhile (a pen
  // moving), the old curve marked as being redone (aria-busy, dimmed) until then.
  drawCurve(run, pixels) {
    const off = JSON.stringify(run.off || {});
    this.wanted = { pixels, off, parts: run.off || {} };
    if (this.curveFor && this.curveFor.pixels === pixels && this.curveFor.off === off) return this.paintCurve();
    this.curve.setAttribute("aria-busy", "true");
    if (this.redoing) return;
    this.redoing = true;
    requestAnimationFrame(() => setTimeout(() => {
      this.redoing = false;
      const wanted = this.wanted;
      if (!wanted) return;   // nothing shown any more
      const begin = performance.now();
      this.curveFor = { pixels: wanted.pixels, off: wanted.off, ...this.probabilities(wanted.pixels, wanted.parts) };
      this.paintCurve();
      this.curveMs = performance.now() - begin;   // for benchmarks/scrub_speed.py
    }, 0));
  }

  paintCurve() {
    const { cls, points } = this.curveFor;
    const marker = this.moments[Math.min(this.position, this.moments.length - 1)].step;
    this.curve.innerHTML = learningCurve({ name: this.trained.classes[cls], points,
      accuracy: this.moments.map((m) => [m.step, m.testAccuracy]), marker });
    this.curve.removeAttribute("aria-busy");
  }

  // The class the trained network answers for `pixels`, its probability at each moment, and
  // each network's run (kept for the scrub steps on this input: useNetwork).
  probabilities(pixels, off) {
    const runs = new Map();
    for (const net of [this.trained, ...this.moments.map((m) => m.net)]) {
      runs.set(net, net.forward(net.normalize(pixels), { off }));
    }
    const cls = runs.get(this.trained).top;
    return { cls, runs, points: this.moments.map((m) => [m.step, runs.get(m.net).probabilities[cls]]) };
  }

  /** For tests and benchmarks. */
  exposed() {
    return { position: () => this.position, loaded: () => Boolean(this.moments), moveTo: (p) => this.moveTo(p),
      steps: this.steps, net: () => this.net, moments: () => this.moments, curveMs: () => this.curveMs };
  }
}

// ---------------------------------------------------------------------------- pictures
// The first weighted layer's kernels (a conv layer: each output channel's C x kh x kw
// weights) or, for a linear layer on the image itself, each unit's weights in the image's
// shape: {count, shown, channels, height, width, side (CSS px), of(k) -> the k-th's values}.
function kernelPictures(row, shape, data, { channels, height, width }) {
  const conv = row.kind === "conv";
  const [count] = shape;
  const [c, h, w] = conv ? shape.slice(1) : [channels, height, width];
  const size = c * h * w;
  return { count, shown: Math.min(count, MOST_PICTURES), channels: c, height: h, width: w,
    side: Math.max(40, Math.min(72, 8 * w)), of: (k) => data.subarray(k * size, (k + 1) * size) };
}

// One kernel: a single channel on the view's diverging scale (white 0, red +, blue -), three
// channels as colours around grey, both over the layer's largest weight `top`.
function paintKernel(canvas, values, channels, height, width, top) {
  if (channels === 1) return paint(canvas, values, 1, height, width, diverging(top));
  if (channels !== 3) return clearCanvas(canvas);
  const scaled = Float32Array.from(values, (v) => 0.5 + v / (2 * (top || 1)));
  return paint(canvas, scaled, 3, height, width, diverging(1));   // three channels: the scale is unused
}

// ---------------------------------------------------------------------------- the curve
// An SVG with real text in charts.js's frame (360 units wide, 15-unit text): probability and
// test accuracy in % against the training step, on a log-like axis (log10(1 + step)) so that
// steps 0, 1, 10, 30 ... stand apart, a dot at each stored moment and a dashed marker at the
// slider's. Its title names a class ("automobile") and so is an HTML caption above it, which
// wraps where SVG text would run out of the picture.
const WIDTH = 360, HEIGHT = 212, LEFT = 56, RIGHT = 10, TOP = 12, BOTTOM = 44;
const COLOURS = ["#1f77b4", "#ff7f0e"];   // charts.js COLOURS[0], [1]

export function learningCurve({ name, points, accuracy, marker }) {
  const last = Math.max(...points.map(([s]) => s), 1);
  const x = (step) => LEFT + Math.log10(1 + step) / Math.log10(1 + last) * (WIDTH - LEFT - RIGHT);
  const y = (p) => HEIGHT - BOTTOM - p * (HEIGHT - TOP - BOTTOM);
  const xy = ([s, p]) => `${x(s).toFixed(1)},${y(p).toFixed(1)}`;
  const title = `p(${name}) and test accuracy during training`;
  const parts = [`<figcaption class="ln-chart-title">${escapeHtml(title)}</figcaption>`,
    `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(title)}" class="chart ln-chart"`
    + ` xmlns="http://www.w3.org/2000/svg"><title>${escapeHtml(title)}</title>`];
  for (const p of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y(p)}" y2="${y(p)}" class="chart-grid"/>`,
      `<text x="${LEFT - 6}" y="${y(p) + 4}" text-anchor="end">${100 * p}</text>`);
  }
  for (let t = 0; t <= last; t = t ? 10 * t : 1) {
    parts.push(`<text x="${x(t).toFixed(1)}" y="${HEIGHT - BOTTOM + 18}" text-anchor="middle">${tickWords(t)}</text>`);
  }
  parts.push(`<text x="${(LEFT + WIDTH - RIGHT) / 2}" y="${HEIGHT - 6}" text-anchor="middle">training step</text>`,
    `<text transform="translate(14 ${(TOP + HEIGHT - BOTTOM) / 2}) rotate(-90)" text-anchor="middle">%</text>`);
  [[`p(${name})`, points], ["test accuracy", accuracy]].forEach(([label, line], k) => {
    parts.push(`<polyline points="${line.map(xy).join(" ")}" fill="none" stroke="${COLOURS[k]}" stroke-width="2.5">`
      + `<title>${escapeHtml(label)}</title></polyline>`,
    ...line.map((p) => `<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3" fill="${COLOURS[k]}"/>`),
    `<text x="${LEFT + 6}" y="${TOP + 14 + 16 * k}" fill="${COLOURS[k]}" class="chart-legend">${escapeHtml(label)}</text>`);
  });
  const at = x(marker).toFixed(1);
  parts.push(`<line x1="${at}" x2="${at}" y1="${TOP}" y2="${HEIGHT - BOTTOM}" class="chart-marker" data-x="${marker}"/>`,
    "</svg>");
  return `<figure class="chart-box">${parts.join("")}</figure>`;
}

// 1000 -> "1k", 10000 -> "10k": short enough to stand apart at a phone's width.
function tickWords(step) {
  return step >= 1000 ? `${step / 1000}k` : String(step);
}
