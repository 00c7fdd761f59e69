// The draw tab: a pad (pad.js) whose drawing goes through the pad's recipe (pad_recipe.js)
// and the network (engine.js) in this page on every pointer move, and one view of the whole
// network (netview.js). An uploaded picture is read and prepared in this page too
// (upload_box.js, upload_recipes.js), and a gallery image arrives as a hand-over (shared.js):
// nothing a visitor does here sends anything to the server.
//
// One state: what is shown is the drawing on the pad, an upload, a gallery image, a one-line
// message, or nothing. Every panel is redrawn from that state, so none can show an answer
// for something else, and every change is published as the topic "digit" for the tabs that
// use the input (the building blocks, the invariance lab).

import { comparison } from "./compare.js";
import { mountExperiments } from "./experiments.js";
import { fillWords, pixelPicture, snapshot } from "./live.js";
import { mountLearn, useNetwork } from "./learn.js";
import { NetworkView } from "./netview.js";
import { withOwnModel } from "./own_model.js";
import { Pad } from "./pad.js";
import { padDigit, padInk } from "./pad_recipe.js";
import { PadSteps } from "./pad_steps.js";
import { publish, receiveHandOvers } from "./shared.js";
import { UploadBox, preparedUpload } from "./upload_box.js";
import { digitPixels } from "./upload_recipes.js";

// Ink whose box is smaller than this on both sides (pad pixels of 280; the pen is 18 wide) is
// a dot or a speck: too little for LeNet-5 to read, though it would still name a digit.
const LEAST_INK_SIDE = 40;
const NO_DIGIT = "No digit found in that picture: nothing drawn.";
const WORDS = ["input", "feature_map", "kernel", "padding", "activation", "pooling", "fully_connected",
  "logits", "softmax", "grad_cam", "saliency", "receptive_field", "layer_names", "adam"];

// The tab on ``nets``: the network it shows first, then those it compares with; built-in, or
// the visitor's own checkpoint in place of the first (own_model.js), which rebuilds the tab
// and hands it what the tab it replaces showed (``kept``).
export const mount = withOwnModel(mountTab);

async function mountTab({ element, start, base, own }, [main, ...others], kept) {
  const tab = new DrawTab(element, main, comparison(element, others, start.models.slice(1)));
  tab.experiments = await mountExperiments({ element, net: main, view: tab.view, model: start.models[0], own,
    drawing: true, redraw: () => tab.update() });
  tab.learn = await mountLearn({ element, net: main, model: start.models[0], own,
    use: (net, run) => useNetwork(tab, net, run) });
  element.querySelector(".nv-after").addEventListener("change", (e) => tab.showAfter(e.target.checked));
  await fillWords(element.querySelector(".nv-words-list"), base, WORDS);
  element.querySelector(".pad-clear").addEventListener("click", () => tab.clear());
  if (kept) tab.restore(kept); else tab.update();
  tab.box.takeChosen();
  const stopHandOvers = receiveHandOvers("draw", (value) => tab.handedOver(value));
  // The one object the page exposes, for tests and benchmarks.
  window.cnnPage = { ...window.cnnPage, draw: tab.exposed(others) };
  element.dataset.ready = "true";
  return { kept: () => tab.kept(), stop: () => { stopHandOvers(); tab.box.stop(); } };
}

// What the tab shows and how it changes: a drawing on the pad, an upload, a gallery image, a
// message, or nothing; every change redraws every panel and is published.
class DrawTab {
  constructor(element, net, compare) {
    this.net = net;
    this.compare = compare;
    this.view = new NetworkView(element, net);
    this.answer = element.querySelector(".nv-answer");
    this.note = element.querySelector(".nv-padnote");
    const canvas = element.querySelector("canvas.pad");
    this.steps = new PadSteps(this.view.columns.input.section, element.querySelector(".nv-padbox"), canvas);
    this.pad = new Pad(canvas, { onStart: () => this.penDown(), onDraw: () => this.drawn(),
      onEnd: () => this.penUp() });
    // ``picture``: the upload or gallery image as a canvas or ImageBitmap (the pad's drawing
    // is copied when published).
    this.state = { kind: null, pixels: null, caption: "", picture: null };
    this.changes = 0;   // every change of what is shown: an upload read meanwhile is dropped
    this.reading = Promise.resolve();
    this.box = new UploadBox(element.querySelector(".nv-upload"), {
      take: (file) => this.upload(file), remove: () => this.clear() });
    this.updates = 0;
    this.costs = [];   // the last 1,000 updates' cost in ms, for benchmarks/live_view.py
  }

  // ``reading()``: the latest upload's reading, done when the tab has taken it (for tests).
  exposed(others) {
    const { net: main, state, view, costs } = this;
    return { main, others, state, view, costs, update: () => this.update(), updates: () => this.updates,
      reading: () => this.reading, experiments: this.experiments, learn: this.learn.exposed() };
  }

  // Recompute and redraw everything for the current state.
  update() {
    const start = performance.now();
    this.updates += 1;
    const { words, run } = this.recompute();
    this.view.show(run);
    this.answer.textContent = words;
    this.compare(run ? this.experiments.input : null);
    this.experiments.shown(run, this.state.pixels, this.state.kind);
    this.learn.shown(run, this.state.pixels);
    this.costs.push(performance.now() - start);
    if (this.costs.length > 1000) this.costs.shift();
    this.publish(run);
  }

  // What is shown, for the other tabs: the network's input (null while it shows no answer),
  // the picture it came from and its caption.
  publish(run) {
    const { kind, pixels, caption, picture } = this.state;
    if (!run) return publish("digit", { pixels: null, picture: null, caption: "" });
    const drawn = kind === "drawing";
    publish("digit", { pixels, picture: drawn ? snapshot(this.pad.canvas) : picture,
      caption: drawn ? "your drawing" : caption });
  }

  // The current state -> what the answer line says, and the network's run (null: none).
  recompute() {
    const state = this.state;
    let digit = null;
    if (state.kind === "drawing") {
      digit = padDigit(padInk(this.pad.pixels()));
      state.pixels = digit.empty ? null : digit.pixels;
    }
    if (digit && !digit.empty) this.steps.show(digit); else this.steps.blank();
    // Said on the pad (the note lies over it), so that the page does not move under the pen.
    const speck = Boolean(digit && !digit.empty && tooLittle(digit.box));
    if (state.kind === "drawing") this.showNote(speck ? "Too little ink to read: draw the digit larger." : null);
    if (speck) return { words: "Too little to read", run: null };
    if (!state.pixels) {
      const words = state.kind === "message" ? state.caption
        : state.kind === "drawing" ? "Nothing drawn yet: draw a digit on the pad." : "Draw a digit on the pad.";
      return { words, run: null };
    }
    const run = this.experiments.forward(state.pixels);
    return { words: this.experiments.answer(run), run };
  }

  showNote(text) {
    this.note.hidden = !text;
    if (text) this.note.textContent = text;
  }

  // ------------------------------------------------------------------ the pen
  penDown() {
    this.changes += 1;   // an upload still being read no longer replaces what is drawn
    if (this.state.kind === "drawing") return;
    // A new drawing replaces an upload or a gallery image, and empties the upload box.
    this.show({ kind: "drawing", pixels: null, caption: "", picture: null }, null);
  }

  drawn() {
    this.answer.setAttribute("aria-busy", "true");   // announce the answer when the stroke ends
    this.update();
  }

  penUp() {
    this.update();
    this.answer.removeAttribute("aria-busy");
  }

  // ------------------------------------------------------------------ changes of what is shown
  // A new state on a blank pad, every panel redrawn; ``note``: what the pad says over it. The
  // upload box shows ``state.picture`` for an upload and is empty otherwise.
  show(state, note) {
    this.changes += 1;
    this.pad.stop();
    this.pad.blank();
    Object.assign(this.state, state);
    this.showNote(note);
    this.view.closeTrace();
    this.experiments.replaced();
    if (this.state.kind === "upload") this.box.show(this.state.picture); else this.box.empty();
    this.update();
  }

  // Clear (or the upload removed): nothing shown.
  clear() {
    this.show({ kind: null, pixels: null, caption: "", picture: null }, null);
  }

  showAfter(after) {
    this.view.after = after;
    this.update();
  }

  // A picture chosen, dropped, pasted or taken: read and prepared by the digit recipe for
  // uploads, in this page. What cannot be used is one line, and the old answer goes.
  upload(file) {
    this.reading = this.read(file);
  }

  async read(file) {
    const ticket = (this.changes += 1);
    const state = await preparedUpload(file, (image) => {
      const pixels = digitPixels(image);
      if (pixels) return { kind: "upload", pixels, caption: "your upload", picture: image };
      image.close();
      return { kind: "message", pixels: null, caption: NO_DIGIT, picture: null };
    });
    if (ticket !== this.changes) return;   // the pen, Clear or a hand-over came after it
    this.show(state, state.pixels ? shownWords(state.caption) : null);
  }

  // A test image from the gallery (shared.js handOver): {pixels: 28x28 in [0, 1], caption}.
  handedOver({ pixels, caption }) {
    const values = Float32Array.from(pixels);
    const picture = pixelPicture(values, this.net.inputShape);
    this.show({ kind: "gallery", pixels: values, caption, picture }, shownWords(caption));
  }

  // What a tab rebuilt on another model needs to show the same: the state, and the drawing.
  kept() {
    return { state: { ...this.state }, note: this.note.hidden ? null : this.note.textContent,
      drawing: this.state.kind === "drawing" ? snapshot(this.pad.canvas) : null };
  }

  restore({ state, note, drawing }) {
    this.show(state, note);
    if (!drawing) return;
    this.pad.ctx.drawImage(drawing, 0, 0);
    this.update();
  }
}

function shownWords(caption) {
  return `Showing ${caption}. Draw here to replace it.`;
}

function tooLittle([top, left, bottom, right]) {
  return bottom - top < LEAST_INK_SIDE && right - left < LEAST_INK_SIDE;
}
