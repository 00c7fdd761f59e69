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
import { fillWords, loadModels, parseValue, percent } from "./live.js";
import { NetworkView } from "./netview.js";
import { Pad } from "./pad.js";
import { padDigit, padInk } from "./pad_recipe.js";
import { PadSteps } from "./pad_steps.js";

// Ink whose box is smaller than this on both sides (pad pixels of 280; the pen is 18 wide) is
// a dot or a speck: too little for LeNet-5 to read, though it would still name a digit.
const LEAST_INK_SIDE = 40;
const WORDS = ["input", "feature_map", "kernel", "padding", "activation", "pooling", "fully_connected",
  "logits", "softmax", "grad_cam", "saliency", "receptive_field", "layer_names", "adam"];

export async function mount({ element, props, models, trigger, watch, base }) {
  const [main, ...others] = await loadModels({ models }, base);
  const view = new NetworkView(element, main);
  const answer = element.querySelector(".nv-answer");
  const note = element.querySelector(".nv-padnote");
  const canvas = element.querySelector("canvas.pad");
  const steps = new PadSteps(view.columns.input.section, element.querySelector(".nv-padbox"), canvas);
  const compare = comparison(element, others, models.slice(1));
  const state = { kind: null, pixels: null, caption: "" };
  let updates = 0;

  // Recompute and redraw everything for the current state; its cost is kept (the last 1,000
  // updates, in ms) for benchmarks/live_view.py.
  const costs = [];
  function update() {
    const start = performance.now();
    updates += 1;
    show(recompute());
    costs.push(performance.now() - start);
    if (costs.length > 1000) costs.shift();
  }

  // The current state -> what the answer line says, and the network's run (null: none).
  function recompute() {
    let digit = null;
    if (state.kind === "drawing") {
      digit = padDigit(padInk(pad.pixels()));
      state.pixels = digit.empty ? null : digit.pixels;
    }
    if (digit && !digit.empty) steps.show(digit); else steps.blank();
    // Said on the pad (the note lies over it), so that the page does not move under the pen.
    const speck = Boolean(digit && !digit.empty && tooLittle(digit.box));
    if (state.kind === "drawing") showNote(speck ? "Too little ink to read: draw the digit larger." : null);
    if (speck) return { words: "Too little to read", run: null };
    if (!state.pixels) {
      const words = state.kind === "message" ? state.caption
        : state.kind === "drawing" ? "Nothing drawn yet: draw a digit on the pad." : "Draw a digit on the pad.";
      return { words, run: null };
    }
    const run = main.forward(main.normalize(state.pixels));
    return { words: `${main.classes[run.top]} with ${percent(run.probabilities[run.top])}`, run };
  }

  function show({ words, run }) {
    view.show(run);
    answer.textContent = words;
    compare(run ? state.pixels : null);
  }

  function showNote(text) {
    note.hidden = !text;
    if (text) note.textContent = text;
  }

  // ------------------------------------------------------------------ the pad
  const pad = new Pad(canvas, {
    onStart() {
      if (state.kind === "drawing") return;
      // A new drawing replaces an upload or a gallery image.
      const replaced = state.kind === "upload";
      pad.blank();
      Object.assign(state, { kind: "drawing", pixels: null, caption: "" });
      note.hidden = true;
      view.closeTrace();
      if (replaced) trigger("replaced");   // the server empties its upload box (after pen-up)
    },
    onDraw() {
      answer.setAttribute("aria-busy", "true");   // announce the answer when the stroke ends
      update();
    },
    onEnd() {
      update();
      answer.removeAttribute("aria-busy");
      // Kept for the tabs that use the drawing (building blocks, invariance lab); assigning
      // the value sends nothing: the server reads it when such a tab asks.
      props.value = JSON.stringify({ kind: "drawing", drawing: canvas.toDataURL("image/png") });
    },
  });

  // Nothing shown: a blank pad and every panel empty.
  function showNothing() {
    pad.stop();
    pad.blank();
    Object.assign(state, { kind: null, pixels: null, caption: "" });
    note.hidden = true;
    view.closeTrace();
    update();
  }

  element.querySelector(".pad-clear").addEventListener("click", () => {
    const hadUpload = state.kind === "upload";
    showNothing();
    props.value = "";
    if (hadUpload) trigger("cleared");   // the server empties its upload box
  });
  element.querySelector(".nv-after").addEventListener("change", (e) => {
    view.after = e.target.checked;
    update();
  });

  // ------------------------------------------------------------------ from the server
  function received() {
    const value = parseValue(props.value);
    if (!value) return showNothing();
    if (value.kind === "drawing") return;   // our own drawing, echoed back
    pad.stop();
    pad.blank();
    view.closeTrace();
    if (value.kind === "message") {
      Object.assign(state, { kind: "message", pixels: null, caption: value.text });
      note.hidden = true;
    } else {
      Object.assign(state, { kind: value.kind, pixels: Float32Array.from(value.pixels), caption: value.caption });
      showNote(`Showing ${value.caption}. Draw here to replace it.`);
    }
    update();
  }
  watch("value", received);
  received();

  // The one object the page exposes, for tests and benchmarks.
  window.cnnPage = { ...window.cnnPage, draw: { main, others, state, view, update, updates: () => updates, costs } };
  await fillWords(element.querySelector(".nv-words-list"), base, WORDS);
  element.dataset.ready = "true";
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
