// What a unit wants: for the unit last clicked, tapped or entered in the view, the input that
// excites it most, found by gradient ascent in the page (ascent.js) from the input shown or
// from grey, and the nine test images that excite its channel most, cropped to its receptive
// field, which Python stored with the checkpoint (experiments_file.js).

import { el } from "./dom.js";
import { fixed } from "./format.js";
import { ascend } from "./ascent.js";
import { captioned, drawPixels, drawRgba, nextPaint, offKey, partWords, sameValues } from "./exp_common.js";

export class WantsPanel {
  constructor(part, hub) {
    Object.assign(this, { part, hub });
    this.unit = null;       // {layer, channel, y, x}: the unit chosen in the view
    this.result = null;     // the last ascent: {pixels, value, values, from, start, off, unit}
    this.crops = null;      // the stored crops, once read: {crops} or {missing}
    this.line = part.querySelector(".ex-wants-unit");
    this.fromInput = part.querySelector(".ex-wants-input");
    this.fromGrey = part.querySelector(".ex-wants-grey");
    this.box = part.querySelector(".ex-wants-result");
    this.cropBox = part.querySelector(".ex-wants-crops");
    this.fromInput.addEventListener("click", () => this.ascend("input"));
    this.fromGrey.addEventListener("click", () => this.ascend("grey"));
    part.addEventListener("toggle", () => this.showCrops());
  }

  // The unit chosen in the view: its results go, its crops come.
  choose(unit) {
    this.unit = { ...unit };
    this.blank();
    this.line.textContent = `Chosen: ${this.unitWords(unit)}.`;
    this.buttons();
    this.showCrops();
  }

  unitWords({ layer, channel, y, x }) {
    const net = this.hub.net;
    if (layer === this.hub.view.outputName) return `the output's logit for ${net.classes[channel]}`;
    const shape = net.layers.find((l) => l.name === layer).shape;
    const at = shape.length === 3 && shape[1] > 1 ? `, row ${y}, column ${x}` : "";
    return partWords(net, layer, channel) + at;
  }

  buttons() {
    this.fromGrey.disabled = !this.unit;
    this.fromInput.disabled = !(this.unit && this.hub.run);
  }

  // ------------------------------------------------------------------ the ascent
  async ascend(from) {
    const { hub, unit } = this;
    const start = from === "input" ? hub.run?.pixels : null;
    if (!unit || (from === "input" && !start)) return;
    this.box.replaceChildren(el("p", { class: "ex-note" }, "Climbing…"));
    await nextPaint();
    // Another unit chosen, or another input shown, meanwhile: this ascent is not theirs.
    if (unit !== this.unit || (from === "input" && !sameValues(hub.run?.pixels, start))) {
      this.box.replaceChildren();
      return;
    }
    const found = ascend(hub.net, unit, { from: start, off: hub.lesion.off });
    this.result = { ...found, from, start, off: offKey(hub.lesion.off), unit };
    this.draw();
    hub.say(`The ascent raised ${this.unitWords(unit)} to ${fixed(found.value)}.`);
  }

  draw() {
    const { hub, result: r } = this;
    const before = r.start ? hub.net.forward(hub.net.normalize(r.start), { off: hub.lesion.off }) : null;
    const own = before ? `; on your input it is ${fixed(valueOf(hub.net, before, r.unit))}` : "";
    const top = this.topStoredValue();
    const best = top === null ? "" : `; the highest among its nine test images: ${fixed(top)}`;
    const caption = r.from === "input" ? "from your input" : "from grey";
    this.box.replaceChildren(captioned((c) => drawPixels(c, r.pixels, hub.net.inputShape), caption,
      `the input the ascent found, ${caption}`),
    el("p", { class: "ex-sizes" }, `After ${r.values.length} steps the unit's value is ${fixed(r.value)}`
      + `${own}${best}.`));
  }

  // The largest value the stored test images give the chosen channel (null: none stored).
  topStoredValue() {
    const stored = this.crops?.crops?.[this.unit.layer];
    return stored ? stored.values[this.unit.channel * stored.k] : null;
  }

  blank() {
    this.result = null;
    this.box.replaceChildren();
  }

  /** The view shows `run`: an ascent from another input goes. */
  shown(run) {
    const r = this.result;
    if (r && r.from === "input" && !(run && sameValues(run.pixels, r.start))) this.blank();
    this.buttons();
  }

  replaced() {
    this.blank();
  }

  // ------------------------------------------------------------------ the stored crops
  async showCrops() {
    if (!this.part.open || !this.unit) return;
    if (!this.crops) {
      this.cropBox.replaceChildren(el("p", { class: "ex-note" }, "Reading the stored test images…"));
      const file = await this.hub.files.experiments();
      this.crops = file.data ? { crops: file.data.crops } : { missing: file.missing };
    }
    const { layer, channel } = this.unit;
    if (this.crops.missing) {
      this.cropBox.replaceChildren(el("p", { class: "ex-note" },
        `The test images that excite it most are ${this.crops.missing}.`));
      return;
    }
    const stored = this.crops.crops[layer];
    if (!stored) {
      const where = Object.keys(this.crops.crops).join(", ");
      this.cropBox.replaceChildren(el("p", { class: "ex-note" },
        `No test images are stored for ${layer}; they are for ${where}.`));
      return;
    }
    const classes = this.hub.net.classes;
    const figures = stored.pictures(channel).map((picture, i) => {
      const at = channel * stored.k + i, label = classes[stored.labels[at]] ?? stored.labels[at];
      return captioned((c) => drawRgba(c, picture), `${label}: ${fixed(stored.values[at], 2)}`,
        `test image ${stored.indices[at]}, a ${label}, value ${fixed(stored.values[at], 2)}`);
    });
    const grid = el("div", { class: "ex-figures ex-crops" });
    grid.append(...figures);
    const whole = layer === this.hub.view.outputName ? "whole images" : "each cropped to what the unit sees";
    this.cropBox.replaceChildren(el("p", { class: "ex-note" }, `The ${figures.length} test images that excite this `
      + `channel most (${whole}), with its largest value on each:`), grid);
    if (this.result) this.draw();
  }
}

// The unit's value in `run`: its layer's own output (before the activation), as ascent.js climbs it.
function valueOf(net, run, { layer, channel, y, x }) {
  const shape = net.layers.find((l) => l.name === layer).shape;
  const [, h = 1, w = 1] = shape;
  return run.outputs[layer].data[(channel * h + y) * w + x];
}
