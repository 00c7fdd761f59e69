// The draw tab: a pad (pad.js) whose drawing goes through the pad's recipe (pad_recipe.js)
// and the network (engine.js) in this page on every pointer move, and one view of the whole
// network (netview.js). Nothing is sent to the server while the pen moves.
//
// One state: what is shown is either the drawing on the pad, or an input the server prepared
// (an upload, a gallery image) and set as this component's value. Every panel is redrawn
// from that state, so none can show an answer for something else.
//
// The component's value (read by the server when another tab needs the drawing, never sent
// while drawing) is JSON: {"kind": "drawing", "drawing": PNG data URL} after each stroke, or
// what the server set: {"kind": "upload" | "gallery", "pixels": [...], "caption": "..."},
// {"kind": "message", "text": "..."}, or "" for nothing.

import { el } from "./dom.js";
import { fillWords, parseValue, percent } from "./live.js";
import { NetworkView } from "./netview.js";
import { withOwnModel } from "./own_model.js";
import { Pad } from "./pad.js";
import { padDigit, padInk } from "./pad_recipe.js";
import { PadSteps } from "./pad_steps.js";

// Ink whose box is smaller than this on both sides (pad pixels of 280; the pen is 18 wide) is
// a dot or a speck: too little for LeNet-5 to read, though it would still name a digit.
const LEAST_INK_SIDE = 40;
const WORDS = ["input", "feature_map", "kernel", "padding", "activation", "pooling", "fully_connected",
  "logits", "softmax", "grad_cam", "saliency", "receptive_field", "layer_names", "adam"];

// The tab on ``nets``: the network it shows first, then those it compares with; built-in, or
// the visitor's own checkpoint in place of the first (own_model.js).
export const mount = withOwnModel(mountTab);

async function mountTab({ element, props, models, trigger, watch, base }, [main, ...others]) {
  const tab = new DrawTab(element, main, comparison(element, others, models.slice(1)));
  tab.pad.onEnd = () => {
    tab.penUp();
    // Kept for the tabs that use the drawing (building blocks, invariance lab); assigning the
    // value sends nothing: the server reads it when such a tab asks.
    props.value = JSON.stringify({ kind: "drawing", drawing: tab.pad.canvas.toDataURL("image/png") });
  };
  tab.onReplaced = () => trigger("replaced");   // the server empties its upload box
  element.querySelector(".pad-clear").addEventListener("click", () => {
    if (tab.clear()) trigger("cleared");         // an upload was shown: the same
    props.value = "";
  });
  element.querySelector(".nv-after").addEventListener("change", (e) => tab.showAfter(e.target.checked));
  watch("value", () => tab.receive(parseValue(props.value)));
  tab.receive(parseValue(props.value));
  // The one object the page exposes, for tests and benchmarks.
  window.cnnPage = { ...window.cnnPage, draw: tab.exposed(others) };
  await fillWords(element.querySelector(".nv-words-list"), base, WORDS);
  element.dataset.ready = "true";
}

// What the tab shows and how it changes: a drawing on the pad, an input from the server, or
// nothing; every change redraws every panel.
class DrawTab {
  constructor(element, net, compare) {
    this.net = net;
    this.compare = compare;
    this.view = new NetworkView(element, net);
    this.answer = element.querySelector(".nv-answer");
    this.note = element.querySelector(".nv-padnote");
    const canvas = element.querySelector("canvas.pad");
    this.steps = new PadSteps(this.view.columns.input.section, element.querySelector(".nv-padbox"), canvas);
    this.pad = new Pad(canvas, { onStart: () => this.penDown(), onDraw: () => this.drawn(), onEnd: () => {} });
    this.state = { kind: null, pixels: null, caption: "" };
    this.onReplaced = () => {};
    this.updates = 0;
    this.costs = [];   // the last 1,000 updates' cost in ms, for benchmarks/live_view.py
  }

  exposed(others) {
    const { net: main, state, view, costs } = this;
    return { main, others, state, view, costs, update: () => this.update(), updates: () => this.updates };
  }

  // Recompute and redraw everything for the current state.
  update() {
    const start = performance.now();
    this.updates += 1;
    const { words, run } = this.recompute();
    this.view.show(run);
    this.answer.textContent = words;
    this.compare(run ? this.state.pixels : null);
    this.costs.push(performance.now() - start);
    if (this.costs.length > 1000) this.costs.shift();
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
    const run = this.net.forward(this.net.normalize(state.pixels));
    return { words: `${this.net.classes[run.top]} with ${percent(run.probabilities[run.top])}`, run };
  }

  showNote(text) {
    this.note.hidden = !text;
    if (text) this.note.textContent = text;
  }

  // ------------------------------------------------------------------ the pen
  penDown() {
    if (this.state.kind === "drawing") return;
    // A new drawing replaces an upload or a gallery image.
    const replaced = this.state.kind === "upload";
    this.show({ kind: "drawing", pixels: null, caption: "" }, null);
    if (replaced) this.onReplaced();
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
  // A new state on a blank pad, every panel redrawn; ``note``: what the pad says over it.
  show(state, note) {
    this.pad.stop();
    this.pad.blank();
    Object.assign(this.state, state);
    this.showNote(note);
    this.view.closeTrace();
    this.update();
  }

  // Clear: nothing shown. True when an upload was shown (its box empties too).
  clear() {
    const hadUpload = this.state.kind === "upload";
    this.show({ kind: null, pixels: null, caption: "" }, null);
    return hadUpload;
  }

  showAfter(after) {
    this.view.after = after;
    this.update();
  }

  // The value the server set (parsed), or null for nothing.
  receive(value) {
    if (!value) return this.clear();
    if (value.kind === "drawing") return;   // our own drawing, echoed back
    if (value.kind === "message") {
      this.show({ kind: "message", pixels: null, caption: value.text }, null);
    } else {
      this.show({ kind: value.kind, pixels: Float32Array.from(value.pixels), caption: value.caption },
        `Showing ${value.caption}. Draw here to replace it.`);
    }
  }
}

function tooLittle([top, left, bottom, right]) {
  return bottom - top < LEAST_INK_SIDE && right - left < LEAST_INK_SIDE;
}

// The course's other models on the same input: a function that shows their answers for
// ``pixels`` (null: none).
function comparison(element, nets, models) {
  const list = element.querySelector(".nv-models");
  const rows = nets.map((net, k) => {
    const said = el("strong", {});
    const item = el("li", {});
    item.append(el("span", { class: "nv-model" }, `${models[k].title}: `), said);
    list.append(item);
    return { net, said };
  });
  if (!rows.length) element.querySelector(".nv-compare").hidden = true;
  return (pixels) => {
    for (const { net, said } of rows) {
      if (!pixels) { said.textContent = ""; continue; }
      const run = net.forward(net.normalize(pixels));
      said.textContent = `${net.classes[run.top]} with ${percent(run.probabilities[run.top])}`;
    }
  };
}
