// Flip the answer: "Make it say [3]" searches (flip.js) for a small change of the input shown
// that makes the network answer the chosen class, and shows the changed input, the change
// itself (amplified, with its colour key) and its sizes; the tab then shows the changed input
// in every layer (experiments.js `forward` asks `input`), with a way back to the original.
// On the draw tab, the student's own try: after choosing the class, they change the drawing
// by hand until the answer is that class, and the page compares the pixels they changed
// (flip.js `changeSizes`, against the drawing when they chose) with the search's.

import { el } from "./dom.js";
import { diverging, paint } from "./colours.js";
import { fixed, percent } from "./format.js";
import { changeSizes, flip } from "./flip.js";
import { colourKey } from "./netview.js";
import { captioned, drawPixels, nextPaint, offKey, sameValues } from "./exp_common.js";

export class FlipPanel {
  constructor(part, hub) {
    Object.assign(this, { part, hub });
    this.target = part.querySelector(".ex-flip-target");
    this.go = part.querySelector(".ex-flip-go");
    this.back = part.querySelector(".ex-flip-back");
    this.box = part.querySelector(".ex-flip-result");
    this.tryLine = part.querySelector(".ex-flip-try");
    this.drawn = null;       // the result the panel shows
    this.result = null;      // the search's result, with `from` (the input it changed), `target`, `off`
    this.changed = true;     // whether the changed input is shown (else the original)
    this.applied = false;    // whether the last run was of the changed input
    this.tryFrom = null;     // the drawing when the student chose the class (their try's start)
    this.target.append(...hub.net.classes.map((name, k) => el("option", { value: String(k) }, name)));
    this.target.value = String(Math.min(3, hub.net.classes.length - 1));
    this.target.addEventListener("change", () => this.chosen());
    this.go.addEventListener("click", () => this.search());
    this.back.addEventListener("click", () => {
      this.changed = !this.changed;
      this.hub.redraw();
    });
    this.tryLine.hidden = !hub.drawing;
  }

  targetClass() {
    return Number(this.target.value);
  }

  /** The pixels the view shows in place of the tab's `pixels`: the changed input while a
   * flip of these very pixels (with the same parts off) is shown; else null. */
  input(pixels) {
    const r = this.result;
    this.applied = Boolean(r && r.found && this.changed && sameValues(r.from, pixels)
      && r.off === offKey(this.hub.lesion.off));
    return this.applied ? r.pixels : null;
  }

  showing() {
    return this.applied;
  }

  // A class chosen: the old search was for another; the student's try starts from here.
  chosen() {
    const { hub } = this;
    this.tryFrom = hub.drawing && hub.kind === "drawing" && hub.pixels ? Float32Array.from(hub.pixels) : null;
    const had = this.result;
    this.drop();
    if (had) hub.redraw(); else this.shown(hub.run, hub.pixels);
  }

  async search() {
    const { hub } = this;
    const pixels = hub.pixels, target = this.targetClass();
    if (!pixels) {
      hub.say("Draw or show an input first, then search for a change.");
      return;
    }
    this.go.disabled = true;
    const name = hub.net.classes[target];
    this.box.replaceChildren(el("p", { class: "ex-note" }, `Searching for a change that makes it say ${name}…`));
    await nextPaint();
    this.go.disabled = false;
    if (!sameValues(pixels, hub.pixels)) return;   // the input changed meanwhile: its results went with it
    const found = flip(hub.net, pixels, target, { off: hub.lesion.off });
    this.result = { ...found, from: Float32Array.from(pixels), target, off: offKey(hub.lesion.off) };
    this.changed = true;
    hub.redraw();
    hub.say(this.result.found
      ? `The search changed ${found.sizes.changed} pixels: the answer is now ${hub.answer(hub.run)}.`
      : `No change found that makes it say ${name}.`);
  }

  // Results for another input (or with other parts off) go; the try starts again.
  replaced() {
    this.tryFrom = null;
    this.drop();
  }

  drop() {
    this.result = null;
    this.changed = true;
    this.box.replaceChildren();
  }

  /** The view shows `run` for the tab's input `pixels`: a result for other pixels goes. */
  shown(run, pixels) {
    const r = this.result;
    if (r && !(pixels && sameValues(r.from, pixels) && r.off === offKey(this.hub.lesion.off))) this.drop();
    this.back.hidden = !(this.result && this.result.found);
    this.back.textContent = this.applied ? "Show the original" : "Show the changed input";
    if (this.result && this.drawn !== this.result) this.draw();
    this.drawn = this.result;
    this.showTry(run, pixels);
  }

  // The changed input, the change amplified with its key, and its sizes.
  draw() {
    const { hub, result: r } = this, net = hub.net, name = net.classes[r.target];
    if (!r.found) {
      this.box.replaceChildren(el("p", { class: "ex-note" }, `No change found in ${r.steps} steps that makes `
        + `it say ${name}.`));
      return;
    }
    const shape = net.inputShape, { channels, height, width } = shape;
    const change = meanOverChannels(r.change, channels);
    const top = Math.max(...change.map(Math.abs));
    const key = el("div", { class: "nv-key ex-key" });
    colourKey(key, { low: -top, high: top, kind: "diverging" });
    const changeFigure = captioned((c) => paint(c, change, 1, height, width, diverging(top)),
      channels > 1 ? "the change (mean of the colours), amplified" : "the change, amplified",
      "the change: red where pixels got brighter, blue where darker");
    changeFigure.append(key);
    const s = r.sizes;
    this.box.replaceChildren(
      el("div", { class: "ex-figures" }),
      el("p", { class: "ex-sizes" }, `It now says ${name}: the search changed ${s.changed} pixels, `
        + `${fixed(s.l2, 2)} in all (L2) and ${fixed(s.largest, 2)} at most (pixels run from 0 to 1), `
        + `in ${r.steps} steps (${Math.round(r.ms)} ms).`));
    this.box.firstChild.append(captioned((c) => drawPixels(c, r.from, shape), "the input before"),
      captioned((c) => drawPixels(c, r.pixels, shape), "the changed input"), changeFigure);
  }

  // The student's own try (the draw tab): what they changed by hand, against the search.
  showTry(run, pixels) {
    if (!this.hub.drawing) return;
    const net = this.hub.net, target = this.targetClass(), name = net.classes[target];
    this.tryLine.hidden = false;
    let text;
    if (!this.tryFrom) {
      text = "Try it yourself: draw a digit, choose the class above, then change your drawing by hand "
        + `until it says ${name}.`;
    } else if (this.applied) {
      text = "The view shows the search's change: show the original to go on with your own try.";
    } else if (run && run.top === target && !sameValues(this.tryFrom, pixels)) {
      const mine = changeSizes(this.tryFrom, pixels, net.inputShape.channels), r = this.result;
      text = `You made it say ${name} (${percent(run.probabilities[target])}) by changing ${sizeWords(mine)}`
        + (r && r.found ? `; the search changed ${sizeWords(r.sizes)}.` : "; search for a change to compare.");
    } else {
      text = `Now change your drawing by hand until it says ${name}`
        + (run ? `; it says ${net.classes[run.top]} now.` : ".");
    }
    this.tryLine.textContent = text;
  }
}

function sizeWords({ changed, l2, largest }) {
  return `${changed} pixels (L2 ${fixed(l2, 2)}, largest ${fixed(largest, 2)})`;
}

// A change of C*H*W values as one H*W map: the mean over the channels.
function meanOverChannels(values, channels) {
  const plane = values.length / channels, out = new Float32Array(plane);
  for (let i = 0; i < values.length; i += 1) out[i % plane] += values[i] / channels;
  return out;
}
