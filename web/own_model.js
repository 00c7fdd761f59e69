// Your own model on the draw and photo tabs: a .safetensors checkpoint written by train.py,
// chosen with the view's file control or dropped on the view, is read in this page (nothing
// is sent to the server) and the tab starts again on it: a new network view, the outputs
// named by its classes, the answer line. A file that cannot be used gets one line and the
// model shown stays; "Use the built-in model" goes back.
//
// A tab takes part by exporting `withOwnModel(mountTab)` as its mount: `mountTab(args, nets,
// kept)` builds the tab on `nets` (its own network first, then those it compares with) inside
// `args.element`, as the shell's loader hands it over (`args.own`: true on a visitor's own
// checkpoint), showing `kept` (what the tab it replaces showed; null at first), and returns
// {kept(), stop()}: what it shows, for the next build, and the end of its listeners outside
// its element.

import { el } from "./dom.js";
import { networkFromBuffer } from "./engine.js";
import { loadModels } from "./live.js";

// The course's checkpoints are 0.2-1 MB; this leaves room for much wider models, and a
// file past it is refused before it is read.
export const LIMIT_MB = 20;
const WARNING = "⚠️";

// ---------------------------------------------------------------------------- reading a file

/** A chosen file -> its network, or an Error whose message says in one line why a tab whose
 * built-in network is `builtIn` cannot use it (its input must be the one the tab feeds). */
export async function readOwnModel(file, builtIn) {
  const mb = file.size / 2 ** 20;
  if (mb > LIMIT_MB) {
    throw new Error(`it is ${mb.toFixed(1)} MB; the limit is ${LIMIT_MB} MB: choose a checkpoint written by train.py`);
  }
  const net = networkFromBuffer(await file.arrayBuffer());
  const takes = shapeWords(net.inputShape), fed = shapeWords(builtIn.inputShape);
  if (takes !== fed) throw new Error(`it takes ${takes} inputs; this tab feeds its network ${fed}`);
  // One pass on a grey input checks that the weights and the class names fit together.
  const { channels, height, width } = net.inputShape;
  const run = net.forward(net.normalize(new Float32Array(channels * height * width).fill(0.5)));
  const { classes } = net;
  if (!Array.isArray(classes) || classes.length !== run.logits.length || !classes.every(isName)) {
    throw new Error(`its ${run.logits.length} outputs are not named by a list of ${run.logits.length} classes`);
  }
  return net;
}

const shapeWords = ({ channels, height, width }) => `${channels}×${height}×${width}`;
const isName = (name) => typeof name === "string" && name.length > 0;

// ---------------------------------------------------------------------------- the tab

/** A tab's mount that loads its built-in networks, mounts the tab on them and adds the
 * control that swaps the first for a visitor's own. */
export function withOwnModel(mountTab) {
  return async function mount(args) {
    const tab = { args, mountTab, pristine: args.element.innerHTML, generation: 0,
      queue: Promise.resolve(), current: null, kept: null };
    tab.builtIn = await loadModels(args.start.models);
    await start(tab, tab.builtIn, null, "");
  };
}

/** The tab built anew on `nets` in a fresh copy of its HTML, showing what the build before
 * it showed; `file`: the own model's file name (null: the built-in model); `note`: a line to
 * show instead of what is shown. Only the latest build hears hand-overs and pastes. */
async function start(tab, nets, file, note) {
  const { element } = tab.args;
  if (tab.current) {
    tab.kept = tab.current.kept();
    tab.current.stop();
    tab.current = null;
  }
  if ((tab.generation += 1) > 1) {
    delete element.dataset.ready;
    element.innerHTML = tab.pristine;
  }
  Object.assign(tab, { nets, file });
  tab.current = await tab.mountTab({ ...tab.args, own: Boolean(file) }, nets, tab.kept);
  addControl(tab, note || shownWords(tab));
}

/** A file chosen or dropped: the tab on its network, or a line saying why not. */
function choose(tab, file) {
  inTurn(tab, async () => {
    let net;
    try {
      net = await readOwnModel(file, tab.builtIn[0]);
    } catch (error) {
      say(tab.args.element.querySelector(".nv-own-note"), refusal(tab, file.name, error));
      return;
    }
    await switchTo(tab, [net, ...tab.builtIn.slice(1)], file.name);
  });
}

/** One change of model at a time, in the order they were asked for; a failure (a bug: what
 * a visitor can cause is a line in the view) does not stop the ones after it. */
function inTurn(tab, job) {
  tab.queue = tab.queue.then(job).catch((error) => console.error(error));
}

/** The tab on `nets`; if the view cannot be built on them, back on what it showed. */
async function switchTo(tab, nets, file) {
  const before = { nets: tab.nets, file: tab.file };
  try {
    await start(tab, nets, file, "");
  } catch (error) {
    await start(tab, before.nets, before.file, refusal(tab, file, error, before.nets[0]));
  }
}

/** Why `file` cannot be used, and which model the view keeps. The engine's own checks say
 * what is wrong in words; a description it cannot even walk (a layer without its kernel, no
 * input shape) fails inside it as a TypeError or RangeError, said here in words. */
function refusal(tab, file, error, stays = tab.nets[0]) {
  const why = error instanceof TypeError || error instanceof RangeError
    ? "its description of the network (layer table, input shape) is not one this page can read"
    : error.message;
  const which = stays === tab.builtIn[0] ? "the built-in model" : "your model";
  return `${WARNING} ${file} cannot be used: ${why}. The view keeps ${which} (${stays.name}).`;
}

function shownWords({ nets, file }) {
  if (!file) return "";
  const { name, classes } = nets[0];
  return `Your model (${name}, from ${file}) knows ${classes.length} classes: ${classes.join(", ")}; `
    + "it always answers with one of them.";
}

// ---------------------------------------------------------------------------- the control

/** The file control and "Use the built-in model" in the view's slot for them (`.nv-own`),
 * and `line` in its caveat, where the built-in model is described: what your model is, or
 * why a file cannot be used. A checkpoint dropped anywhere on the view is taken too. */
function addControl(tab, line) {
  const { element } = tab.args;
  const own = Boolean(tab.file);
  const input = el("input", { type: "file", accept: ".safetensors", class: "nv-own-file" });
  const label = el("label", { class: "nv-own-choose",
    title: "A .safetensors checkpoint written by train.py; you can also drop one on the view" }, "Your own model…");
  label.append(input);
  const back = el("button", { type: "button", class: "nv-own-back" }, "Use the built-in model");
  back.hidden = !own;
  element.querySelector(".nv-own").append(label, back);
  const caveat = element.querySelector(".nv-caveat");
  const note = el("span", { class: "nv-own-note", role: "status" });
  caveat.insertBefore(note, caveat.querySelector(".nv-builtin-words"));
  say(note, line);
  for (const words of element.querySelectorAll(".nv-builtin-words")) words.hidden = own;
  input.addEventListener("change", () => {
    if (input.files[0]) choose(tab, input.files[0]);
    input.value = "";   // so that the same file, chosen again once fixed, is a change too
  });
  back.addEventListener("click", () => inTurn(tab, () => switchTo(tab, tab.builtIn, null)));
  dropTarget(element.querySelector(".nv-wrap"), (file) => choose(tab, file));
}

/** A refusal is a line of its own; your model's description reads on into the caveat. */
function say(note, line) {
  note.textContent = line;
  note.classList.toggle("nv-own-refused", line.startsWith(WARNING));
}

function dropTarget(wrap, take) {
  // A file dropped on the view's upload box (upload_box.js) is a picture for it, not a model.
  const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes("Files")
    && !event.target.closest?.(".nv-upload");
  wrap.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) {
      wrap.classList.remove("nv-own-over");
      return;
    }
    event.preventDefault();   // else the browser opens the file in place of the page
    wrap.classList.add("nv-own-over");
  });
  wrap.addEventListener("dragleave", (event) => {
    if (!wrap.contains(event.relatedTarget)) wrap.classList.remove("nv-own-over");
  });
  wrap.addEventListener("drop", (event) => {
    wrap.classList.remove("nv-own-over");
    if (!carriesFiles(event) || !event.dataTransfer.files.length) return;
    event.preventDefault();
    take(event.dataTransfer.files[0]);
  });
}
