// The draw tab: a pad whose drawing goes through the pad's recipe (pad_recipe.js) and the
// network (engine.js) in this page on every pointer move, and one view of the whole network
// (netview.js). Nothing is sent to the server while the pen moves.
//
// One state: what is shown is either the drawing on the pad, or an input the server prepared
// (an upload, a gallery image) and set as this component's value. Every panel is redrawn
// from that state, so none can show an answer for something else.
//
// The component's value (read by the server when another tab needs the drawing, never sent
// while drawing) is JSON: {"kind": "drawing", "drawing": PNG data URL} after each stroke, or
// what the server set: {"kind": "upload" | "gallery", "pixels": [...], "caption": "..."},
// {"kind": "message", "text": "..."}, or "" for nothing.

import { fillWords, loadModels, parseValue, percent } from "./live.js";
import { NetworkView } from "./netview.js";
import { padDigit, padInk } from "./pad_recipe.js";

const PEN = 18;   // canvas pixels; the recipe measures the stroke, so this only sets the look

export async function mount({ element, props, models, trigger, watch, base }) {
  const [main, ...others] = await loadModels({ models }, base);
  const view = new NetworkView(element, main);
  const answer = element.querySelector(".nv-answer");
  const note = element.querySelector(".nv-padnote");
  const canvas = element.querySelector("canvas.pad");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const state = { kind: null, pixels: null, caption: "" };
  let drawing = false, last = null, updates = 0;

  // The course's other models, computed on the same input.
  const list = element.querySelector(".nv-models");
  const rows = others.map((net, k) => {
    const item = document.createElement("li");
    const title = document.createElement("span");
    title.className = "nv-model";
    title.textContent = `${models[k + 1].title}: `;
    const said = document.createElement("strong");
    item.append(title, said);
    list.append(item);
    return { net, said };
  });
  if (!rows.length) element.querySelector(".nv-compare").hidden = true;

  function blankPad() {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = ctx.fillStyle = "#000";
    ctx.lineWidth = PEN;
    ctx.lineCap = ctx.lineJoin = "round";
  }

  // Recompute and redraw everything for the current state; its cost is kept (the last 1,000
  // updates, in ms) for benchmarks/live_view.py.
  const costs = [];
  function update() {
    const start = performance.now();
    recompute();
    costs.push(performance.now() - start);
    if (costs.length > 1000) costs.shift();
  }

  function recompute() {
    updates += 1;
    if (state.kind === "drawing") {
      const digit = padDigit(padInk(ctx.getImageData(0, 0, canvas.width, canvas.height)));
      state.pixels = digit.empty ? null : digit.pixels;
    }
    if (!state.pixels) {
      view.show(null);
      answer.textContent = state.kind === "message" ? state.caption
        : state.kind === "drawing" ? "Nothing drawn yet: draw a digit on the pad." : "Draw a digit on the pad.";
      for (const row of rows) row.said.textContent = "";
      return;
    }
    const run = main.forward(main.normalize(state.pixels));
    view.show(run);
    answer.textContent = `${main.classes[run.top]} with ${percent(run.probabilities[run.top])}`;
    for (const row of rows) {
      const other = row.net.forward(row.net.normalize(state.pixels));
      row.said.textContent = `${row.net.classes[other.top]} with ${percent(other.probabilities[other.top])}`;
    }
  }

  // ------------------------------------------------------------------ the pad
  function point(e) {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  }

  function startDrawing() {
    if (state.kind !== "drawing") {   // a new drawing replaces an upload or a gallery image
      const replaced = state.kind === "upload";
      blankPad();
      Object.assign(state, { kind: "drawing", pixels: null, caption: "" });
      note.hidden = true;
      view.closeTrace();
      if (replaced) trigger("replaced");   // the server empties its upload box (after pen-up)
    }
  }

  canvas.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    try {
      canvas.setPointerCapture(e.pointerId);   // keep the stroke when the pen leaves the pad
    } catch (error) {
      // a pointer the browser no longer tracks: draw without capture
    }
    startDrawing();
    drawing = true;
    answer.setAttribute("aria-busy", "true");   // announce the answer when the stroke ends
    last = point(e);
    ctx.beginPath();
    ctx.arc(last[0], last[1], PEN / 2, 0, 2 * Math.PI);
    ctx.fill();
    update();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    for (const ev of events.length ? events : [e]) {
      last = point(ev);
      ctx.lineTo(last[0], last[1]);
    }
    ctx.stroke();
    update();
  });
  function finish() {
    if (!drawing) return;
    drawing = false;
    update();
    answer.removeAttribute("aria-busy");
    // Kept for the tabs that use the drawing (building blocks, invariance lab); assigning
    // the value sends nothing: the server reads it when such a tab asks.
    props.value = JSON.stringify({ kind: "drawing", drawing: canvas.toDataURL("image/png") });
  }
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  canvas.addEventListener("lostpointercapture", finish);

  // Nothing shown: a blank pad and every panel empty.
  function showNothing() {
    blankPad();
    Object.assign(state, { kind: null, pixels: null, caption: "" });
    note.hidden = true;
    view.closeTrace();
    update();
  }

  function clear() {
    const hadUpload = state.kind === "upload";
    drawing = false;
    showNothing();
    props.value = "";
    if (hadUpload) trigger("cleared");   // the server empties its upload box
  }
  element.querySelector(".pad-clear").addEventListener("click", clear);
  element.querySelector(".nv-after").addEventListener("change", (e) => {
    view.after = e.target.checked;
    update();
  });

  // ------------------------------------------------------------------ from the server
  function received() {
    const value = parseValue(props.value);
    if (!value) return showNothing();
    if (value.kind === "drawing") return;   // our own drawing, echoed back
    blankPad();
    view.closeTrace();
    if (value.kind === "message") {
      Object.assign(state, { kind: "message", pixels: null, caption: value.text });
      note.hidden = true;
    } else {
      Object.assign(state, { kind: value.kind, pixels: Float32Array.from(value.pixels), caption: value.caption });
      note.textContent = `Showing ${value.caption}. Draw here to replace it.`;
      note.hidden = false;
    }
    update();
  }
  watch("value", received);

  blankPad();
  received();
  // The one object the page exposes, for tests and benchmarks.
  window.cnnPage = { ...window.cnnPage, draw: { main, others, state, view, update, updates: () => updates, costs } };
  await fillWords(element.querySelector(".nv-words-list"), base, [
    "input", "feature_map", "kernel", "padding", "activation", "pooling", "fully_connected",
    "logits", "softmax", "grad_cam", "saliency", "receptive_field"]);
  element.dataset.ready = "true";
}
