// Switch parts off (the lesion lab): in its mode a click, tap or Enter on a channel or a unit
// of the view switches it off or on again (experiments.js asks `takes`), the view recomputes
// at once and marks it (netview.js draws the run's `off`); "Turn all back on" ends it. For the
// input shown, every channel of the first two conv layers ranked by how much the answer's
// probability drops with it alone off (lesion.js `effects`), beside the test accuracy lost
// with it off, which Python stored with the checkpoint (experiments_file.js). The bars take
// longer than a frame on the ConvNet: they are ranked after the view is painted, and after
// the pen lifts (experiments.js), dimmed while they wait.

import { el } from "./dom.js";
import { fixed, percent } from "./format.js";
import { effects, firstConvs } from "./lesion.js";
import { partWords } from "./exp_common.js";

const RANKED = 8;   // channels listed per layer; the rest one click away, in columns

export class Lesion {
  constructor(part, hub) {
    this.part = part;
    this.hub = hub;
    this.off = {};            // {layer: [channel or unit, ...]}, as net.forward takes it
    this.stored = null;       // the stored test-set accuracies, once read: {lesion} or {missing}
    this.allShown = new Set(); // the layers whose every channel is listed
    this.mode = part.querySelector(".ex-lesion-mode");
    this.reset = part.querySelector(".ex-lesion-reset");
    this.list = part.querySelector(".ex-off");
    this.bars = part.querySelector(".ex-bars");
    this.reset.addEventListener("click", () => this.turnAllOn());
    part.addEventListener("toggle", () => this.shown());
    // A bar is a button too: it switches its channel off or on, as a click in the view does.
    this.bars.addEventListener("click", (event) => {
      const row = event.target.closest("button[data-layer]");
      if (row) this.toggle(row.dataset.layer, Number(row.dataset.channel));
    });
    this.bars.addEventListener("toggle", (event) => {
      const layer = event.target.dataset?.all;
      if (layer) event.target.open ? this.allShown.add(layer) : this.allShown.delete(layer);
    }, true);
    this.showOff();
  }

  count() {
    return Object.values(this.off).reduce((n, parts) => n + parts.length, 0);
  }

  // The answer line's note while parts are off.
  words() {
    const n = this.count();
    return n ? `${n} part${n > 1 ? "s" : ""} switched off` : "";
  }

  // A unit the view was asked to open: switched off or on when the mode is on and it can be.
  takes(unit) {
    if (!this.mode.checked || this.hub.net.switchable[unit.layer] === undefined) return false;
    this.toggle(unit.layer, unit.channel);
    return true;
  }

  toggle(layer, k) {
    const parts = new Set(this.off[layer] || []);
    const on = parts.has(k);
    if (on) parts.delete(k); else parts.add(k);
    this.off = { ...this.off, [layer]: [...parts].sort((a, b) => a - b) };
    if (!parts.size) delete this.off[layer];
    this.changed(`${partWords(this.hub.net, layer, k)} switched ${on ? "back on" : "off"}`);
  }

  turnAllOn() {
    this.off = {};
    this.changed("Every part switched back on");
  }

  changed(what) {
    this.showOff();
    this.hub.changedNetwork();
    const run = this.hub.run;
    this.hub.say(run ? `${what}: the answer is now ${this.hub.answer(run)}.` : `${what}.`);
  }

  // The parts off, each a button that switches it back on.
  showOff() {
    const net = this.hub.net;
    this.reset.disabled = !this.count();
    const parts = Object.entries(this.off).flatMap(([layer, ks]) => ks.map((k) => [layer, k]));
    if (!parts.length) {
      this.list.replaceChildren(el("p", { class: "ex-note" }, "Nothing is switched off."));
      return;
    }
    const buttons = parts.map(([layer, k]) => {
      const name = partWords(net, layer, k);
      const b = el("button", { type: "button", class: "ex-chip", "aria-label": `Switch ${name} back on` },
        `${name} ×`);
      b.addEventListener("click", () => this.toggle(layer, k));
      return b;
    });
    this.list.replaceChildren(el("span", { class: "ex-note" }, "Switched off:"), ...buttons);
  }

  // ------------------------------------------------------------------ the bars
  shown() {
    this.showOff();
    if (this.part.open) this.hub.settleAfterPaint(this);
  }

  // The bars wait (experiments.js): dimmed, and while the pen is down, saying so.
  waiting(pen) {
    this.bars.setAttribute("aria-busy", "true");
    if (!pen) return;
    const head = this.bars.querySelector(".ex-note"), text = "Drawing: the channels are ranked when the pen lifts.";
    if (!head) this.bars.replaceChildren(el("p", { class: "ex-note" }, text));
    else if (head.textContent !== text) head.textContent = text;
  }

  // The bars of the run shown now.
  settle() {
    this.bars.removeAttribute("aria-busy");
    const run = this.hub.run;
    if (!this.part.open) return;
    const say = (text) => this.bars.replaceChildren(el("p", { class: "ex-note" }, text));
    if (!firstConvs(this.hub.net).length) return say("This network has no conv layers whose channels could be ranked.");
    if (!run) return say("Draw or show an input to rank its channels.");
    if (!this.stored) this.readStored();
    this.drawBars(effects(this.hub.net, run), run);
  }

  async readStored() {
    this.stored = { reading: true };
    const file = await this.hub.files.experiments();
    this.stored = file.data ? { lesion: file.data.lesion } : { missing: file.missing };
    this.shown();
  }

  drawBars(found, run) {
    const net = this.hub.net, cls = net.classes[found.cls];
    const lesion = this.stored?.lesion;
    const head = el("p", { class: "ex-note" }, `For this input: how much the probability of ${cls} `
      + `(now ${percent(found.base)}) drops with each channel alone off; beside it, the test accuracy lost `
      + "with it off" + (lesion ? ` (all on: ${percent(lesion.baseline)}), measured in Python when the `
        + "checkpoint was written, with nothing else off." : `: ${this.stored?.missing || "being read…"}.`));
    const layers = Object.entries(found.layers).map(([layer, probs]) => this.layerRanks(layer, probs, found.base,
      lesion?.layers?.[layer], lesion?.baseline, run.off[layer] || []));
    const key = el("p", { class: "ex-key-line" });
    for (const [cls_, words] of [["ex-fill-input", `this input: the drop of P(${cls}), in points`],
      ["ex-fill-test", "the test set: the accuracy lost, in points"]]) {
      const item = el("span", {});
      item.append(el("span", { class: `ex-swatch ${cls_}` }), words);
      key.append(item);
    }
    this.bars.replaceChildren(head, key, ...layers);
  }

  // One layer's channels ranked by the drop: the first RANKED as rows, the rest under "all".
  layerRanks(layer, probs, base, accuracies, baseline, off) {
    const drops = Array.from(probs, (p, k) => ({ k, input: base - p,
      test: accuracies ? baseline - accuracies[k] : null }));
    drops.sort((a, b) => b.input - a.input || a.k - b.k);
    const top = { input: Math.max(1e-6, ...drops.map((d) => d.input)),
      test: Math.max(1e-6, ...drops.map((d) => d.test ?? 0)) };
    const row = (d) => this.rankRow(layer, d, top, off.includes(d.k));
    const section = el("section", { class: "ex-layer" });
    section.append(el("h4", {}, `${layer}: ${drops.length} channels, largest drop first`),
      rankList(drops.slice(0, RANKED).map(row)));
    if (drops.length > RANKED) {
      const all = el("details", { class: "ex-all", "data-all": layer });
      all.open = this.allShown.has(layer);
      all.append(el("summary", {}, `The other ${drops.length - RANKED} channels`),
        rankList(drops.slice(RANKED).map(row), "ex-ranks ex-columns"));
      section.append(all);
    }
    return section;
  }

  rankRow(layer, d, top, isOff) {
    const name = partWords(this.hub.net, layer, d.k);
    const points = (v) => `${fixed(100 * v, 1)} pts`;
    const said = `${name}: this input ${points(d.input)}`
      + (d.test === null ? "" : `, test set ${points(d.test)}`);
    const button = el("button", { type: "button", class: "ex-rank", "data-layer": layer,
      "data-channel": String(d.k), "aria-pressed": String(isOff),
      "aria-label": `${said}. ${isOff ? "Switched off: press to switch it on" : "Press to switch it off"}` });
    button.append(el("span", { class: "ex-rank-name" }, `${d.k}`),
      bar(d.input / top.input, "ex-fill-input"), el("span", { class: "ex-rank-value" }, points(d.input)),
      bar(d.test === null ? 0 : d.test / top.test, "ex-fill-test"),
      el("span", { class: "ex-rank-value" }, d.test === null ? "–" : points(d.test)));
    const item = el("li", {});
    item.append(button);
    return item;
  }
}

function rankList(items, cls = "ex-ranks") {
  const list = el("ol", { class: cls });
  list.append(...items);
  return list;
}

// A bar as long as `share` (0-1) of its column; a negative drop (the answer grew) shows none.
function bar(share, cls) {
  const outer = el("span", { class: "ex-bar", "aria-hidden": "true" });
  const width = (100 * Math.max(0, Math.min(1, share))).toFixed(1);
  outer.append(el("span", { class: `ex-fill ${cls}`, style: `width:${width}%` }));
  return outer;
}
