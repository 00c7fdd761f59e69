// The course's networks in plain JavaScript, rebuilt from a checkpoint's own layer table and
// weights, so that the page can recompute (and explain) every number of the draw and photo
// views as the pointer moves. The views show these numbers and compute none of their own.
// It mirrors the Python engine in lenet/ (models.py, inference.py, trace.py): the same layer
// names and the same numbers, held equal to torch by tests/test_engine_js.py. What the
// Python side decides (which activation follows which layer, Grad-CAM's layer) is read from
// the checkpoint, never decided again here.
//
// Shapes are [C, H, W] for maps and [N] for vectors; every array is a flat Float32Array in
// that order. Sums run in doubles and are stored as float32, within float32 rounding of
// torch. Every call returns new arrays, so a run the page keeps is never overwritten.
//
//   const net = await loadNetwork("/checkpoints/lenet5.safetensors");
//   const run = net.forward(net.normalize(pixels));   // run.outputs.C1.data, run.top, ...
//   const maps = net.attributions(run, run.top);       // maps.gradCam, maps.saliency
//   const t = net.trace(run, "C3", 5, 4, 6);           // as lenet.inside.trace.Trace.as_dict()
//   const off = net.forward(input, {off: {C3: [5, 9]}}); // C3's channels 5 and 9 switched off
//   const on = net.forward(input, {off: {C3: [5]}, reuse: off}); // a toggle: resumed from `off`
//   const own = net.forward(input, {mirror: false});     // the image's own pass alone
//   const g = net.gradient(run, "C1", seed);            // d(sum seed * C1) / d(input)
//   const p = net.eachOff(run, "C1");                   // [6, 10]: each C1 channel alone off
//
// The engine's modules; each imports only from those above it in this list:
//   arrays.js       small helpers over flat arrays and shapes
//   safetensors.js  reading a checkpoint file: its metadata and tensors
//   layer_kinds.js  each layer kind's forward and backward, and the table of kinds
//   layer_table.js  the checkpoint's layer table made into stages; names in words
//   forward_run.js  a forward run (or one resumed from an earlier run), the softmax written out
//   lesion.js       each channel switched off alone: the answer's probabilities
//   attributions.js Grad-CAM and saliency
//   trace.js        tracing a unit, what it reads, receptive fields
// This file loads a checkpoint and holds the Network class, which only ties these together;
// the page and the tests import this file alone.

import { product, sameValues } from "./arrays.js";
import { parseSafetensors } from "./safetensors.js";
import { buildParts, plainName } from "./layer_table.js";
import { forwardRun } from "./forward_run.js";
import { probabilitiesEachOff } from "./lesion.js";
import { answerGradient, attributionMaps, inputGradient } from "./attributions.js";
import { receptiveField, traceUnit, unitReads } from "./trace.js";

export { parseSafetensors } from "./safetensors.js";
export { softmax } from "./forward_run.js";

const SWITCHABLE = new Set(["conv", "maxpool", "avgpool", "linear"]);

// ---------------------------------------------------------------------------- loading a file

/** Fetch a checkpoint and build its network. */
export async function loadNetwork(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url} (HTTP ${response.status})`);
  return networkFromBuffer(await response.arrayBuffer());
}

export function networkFromBuffer(buffer) {
  return new Network(parseSafetensors(buffer));
}

// ---------------------------------------------------------------------------- the network

/** A checkpoint's network: its description as fields, and the calls the views make. Each
 * call checks its arguments and hands over to the modules above. */
export class Network {
  #parts;           // what computing needs (buildParts): stages, shape, normalisation, ...
  #runs = new WeakSet();   // the runs this network made: the only ones `reuse` may take

  constructor({meta, tensors}) {
    const parts = (this.#parts = buildParts(meta, tensors));
    const [channels, height, width] = parts.shape;
    Object.assign(this, {name: meta.model, title: meta.title, classes: meta.classes, meta,
      inputShape: {channels, height, width}, mean: meta.mean, std: meta.std,
      mirrorAverage: parts.mirrorAverage, camLayer: parts.camLayer, camOutput: parts.camOutput});
    // The layer table's rows with their output shapes; `after_activation` on every named row.
    this.layers = meta.layers.map((row, i) => ({...row, shape: parts.stages[i].outShape}));
    // The layers whose channels (conv, pooling) or units (a hidden linear layer) can be
    // switched off, with how many each has: every one but the activations and the outputs.
    this.switchable = Object.fromEntries(this.layers
      .filter((l, i) => l.name && SWITCHABLE.has(l.kind) && i < this.layers.length - 1)
      .map((l) => [l.name, l.shape[0]]));
  }

  /** Pixels in [0, 1], C*H*W -> the network's input, (pixel - mean) / std per channel. */
  normalize(pixels) {
    this.#checkInput(pixels);
    const plane = this.inputShape.height * this.inputShape.width;
    return Float32Array.from(pixels, (v, i) => {
      const c = Math.floor(i / plane);
      return (v - this.mean[c]) / this.std[c];
    });
  }

  /** One pass over a normalised input (forwardRun: every output, the answer, and the
   * numbers the views write out). The run keeps its own copy of the input. `off`: {layer:
   * [channel or unit, ...]}, the parts switched off (their outputs set to zero). `reuse`: an
   * earlier run of the same input (a toggle): only what the change of parts off can change
   * is computed again, the same numbers up to rounding. A run of another input or another
   * network is not reused (a full pass, as without it); the runs share the arrays that did
   * not change, which nobody writes to. `mirror: false`: where the checkpoint averages the
   * answer with the mirror image's, that pass is skipped (half the work) and the run's
   * logits, probabilities and top are the image's own, not the network's answer: for
   * callers that read only the outputs and their gradients (the ascent). */
  forward(input, {off = {}, reuse = null, mirror = true} = {}) {
    this.#checkInput(input);
    const checked = this.#checkOff(off);
    const usable = reuse && this.#runs.has(reuse) && sameValues(reuse.input, input);
    const run = forwardRun(this.#parts, Float32Array.from(input), checked, usable ? reuse : null,
      mirror !== false);
    this.#runs.add(run);
    return run;
  }

  /** The answer's probabilities for `run`'s input with each channel (unit) of `layer` switched
   * off alone, on top of `run.off`: [channels, classes] row-major (lesion.js's effects). */
  eachOff(run, layer) {
    if (this.switchable[layer] === undefined) {
      throw new Error(`${this.name} has no layer '${layer}' to switch parts off in`);
    }
    if (!this.#runs.has(run)) throw new Error(`that run is not one of ${this.name}'s`);
    return probabilitiesEachOff(this.#parts, run, layer);
  }

  /** d(sum of seed * run.outputs[layer]) / d(normalised input), along the image's own pass;
   * `seed` has the output's size (a one-hot: one unit's gradient). */
  gradient(run, layer, seed) {
    const size = run.outputs[layer]?.data.length;
    if (size === undefined) throw new Error(`no output named '${layer}' in ${this.name}`);
    if (seed?.length !== size) throw new Error(`${layer} has ${size} values, not ${seed?.length}`);
    return inputGradient(this.#parts, run, layer, seed);
  }

  /** d(sum of seed * run.logits) / d(normalised input): the answer's gradient, through the
   * mirror average where the checkpoint asks for it. */
  answerGradient(run, seed) {
    const n = this.classes.length;
    if (seed?.length !== n) throw new Error(`the answer has ${n} logits, not ${seed?.length}`);
    return answerGradient(this.#parts, run, seed);
  }

  /** Grad-CAM (on `camOutput`) and saliency for `classIndex`, in their own units. */
  attributions(run, classIndex) {
    const classes = this.classes.length;
    if (!(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < classes)) {
      throw new Error(`class index must be 0-${classes - 1}, not ${classIndex}`);
    }
    const maps = attributionMaps(this.#parts, run, classIndex);
    return {...maps, camLayer: this.camLayer, camOutput: this.camOutput};
  }

  /** The output whose values are `name`'s after its activation, as the checkpoint's layer
   * table states it: "C1" -> "C1_relu"; a layer no activation follows -> itself. */
  shownAfter(name) {
    const row = this.layers.find((l) => l.name && l.name === name);
    if (!row) throw new Error(`no layer '${name}' in ${this.name}`);
    return row.after_activation;
  }

  /** A named output as a reader says it: "C3_relu" -> "C3 after ReLU"; "S2" -> "S2". */
  plainName(name) {
    return plainName(this.#parts.stages, name);
  }

  receptiveField(layer, y = 0, x = 0) {
    return receptiveField(this.#parts, layer, y, x);
  }

  reads(layer, channel, y = 0, x = 0) {
    return unitReads(this.#parts, layer, channel, y, x);
  }

  /** How `layer`'s value at (channel, y, x) in `run` was computed (traceUnit); an
   * activation is traced as the layer it follows. */
  trace(run, layer, channel, y = 0, x = 0) {
    return traceUnit(this.#parts, run, layer, channel, y, x);
  }

  /** `off` with each layer's channels sorted and checked; a part that is not there is refused
   * in one line. */
  #checkOff(off) {
    const checked = {};
    for (const [layer, parts] of Object.entries(off)) {
      const count = this.switchable[layer];
      if (count === undefined) throw new Error(`${this.name} has no layer '${layer}' to switch parts off in`);
      const bad = [...parts].find((c) => !(Number.isInteger(c) && c >= 0 && c < count));
      if (bad !== undefined) throw new Error(`${layer} has channels 0-${count - 1}, not ${bad}`);
      if (parts.length) checked[layer] = [...new Set(parts)].sort((a, b) => a - b);
    }
    return checked;
  }

  #checkInput(x) {
    const n = product(this.#parts.shape), shape = this.#parts.shape.join(" x "), got = x?.length;
    if (got !== n) throw new Error(`${this.name} takes ${n} values (${shape}), not ${got}`);
  }
}
