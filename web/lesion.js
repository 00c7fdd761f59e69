// Switching parts off, for the lesion lab: what each channel of the first two conv layers does
// for the current answer (the class's probability with that channel alone off), for the
// page's bars. The stored test-set accuracies with each channel off are Python's
// (lenet/inside/lesion.py); toggling parts off is net.forward's (`off`, `reuse`).
//
// A channel off changes nothing before the next conv or linear stage but its own plane, and
// there only adds what that plane's change contributes (that stage's own arithmetic on the
// change alone, without bias: exact up to rounding), so each channel costs the rest of the
// network from that stage on, not a full pass; from the first stage after which all are dense
// (linear, activations) every channel's version runs in one batch.

import { KINDS, isActivation } from "./layer_kinds.js";
import { MIXING, addContribution, channelAlone, planeOf, runValues, softmax, switchOff }
  from "./forward_run.js";

/** The names of the network's first two conv layers (fewer when it has fewer). */
export function firstConvs(net) {
  return net.layers.filter((l) => l.kind === "conv").slice(0, 2).map((l) => l.name);
}

/** For `run`'s input, each channel of each of `layers` switched off alone (on top of the
 * parts `run` has off): the probability of `run`'s answer then. {cls: the answer's class,
 * layers: {name: Float32Array, one probability per channel}, base: its probability in `run`}.
 * A channel already off gives `base`. */
export function effects(net, run, layers = firstConvs(net)) {
  const cls = run.top, found = {};
  for (const layer of layers) {
    const each = net.eachOff(run, layer), classes = run.probabilities.length;
    found[layer] = Float32Array.from({length: each.length / classes}, (_, c) => each[c * classes + cls]);
  }
  return {cls, layers: found, base: run.probabilities[cls]};
}

/** The answer's probabilities with each channel (unit) of stage `layer` switched off alone on
 * top of `run.off`: [channels, classes] row-major. `parts`: the network's (buildParts). */
export function probabilitiesEachOff({stages}, run, layer) {
  const at = stages.findIndex((s) => s.name === layer), next = nextMixing(stages, at);
  const from = Math.max(next + 1, denseFrom(stages));
  const count = stages[at].outShape[0], classes = run.probabilities.length;
  const already = new Set(run.off[layer] ?? []);
  const todo = [...Array(count).keys()].filter((c) => !already.has(c));
  const passes = [runValues(stages, run), ...(run.mirrorPass ? [run.mirrorPass] : [])];
  // per pass: the logits of every channel's version, [classes, 1, todo.length]
  const logits = passes.map((values) => denseBatch(stages, from, todo.map((c) =>
    inputWithout(stages, values, run.off, at, next, from, c)), run.off));
  const out = new Float32Array(count * classes), n = todo.length;
  for (const c of already) out.set(run.probabilities, c * classes);
  todo.forEach((c, q) => {
    const mean = Float32Array.from({length: classes}, (_, k) =>
      logits.reduce((sum, l) => sum + l[k * n + q], 0) / logits.length);
    out.set(softmax(mean).probabilities, c * classes);
  });
  return out;
}

/** The index of the first conv or linear stage after stage `at`. */
function nextMixing(stages, at) {
  const next = stages.findIndex((s, i) => i > at && MIXING.has(s.kind));
  if (at < 0 || next < 0) throw new Error(`no layer to switch parts off in at stage ${at}`);
  return next;
}

/** The index from which every stage is linear, an activation or the flatten: from there on
 * the channels' versions run as one batch. */
function denseFrom(stages) {
  const dense = ({kind}) => kind === "linear" || kind === "flatten" || isActivation(kind);
  let from = stages.length;
  while (from > 0 && dense(stages[from - 1])) from -= 1;
  return from;
}

/** The input of stage `from` in one pass (`values`, with `off`'s parts off) with channel `c`
 * of stage `at` off too: its zero plane carried through the channel-wise stages to stage
 * `next`, whose output then gets that plane's change, and the stages after it run anew. */
function inputWithout(stages, values, off, at, next, from, c) {
  let plane = new Float32Array(planeOf(stages[at].outShape));
  for (let i = at + 1; i < next; i++) {
    const s = stages[i];
    if (s.kind === "flatten") continue;
    plane = channelAlone(s, plane, 0);
    if (s.name && off[s.name]?.includes(c)) plane.fill(0);
  }
  const size = plane.length, old = values[next], change = new Float32Array(size);
  for (let i = 0; i < size; i++) change[i] = plane[i] - old[c * size + i];
  const s = stages[next], pre = values[next + 1].slice();
  addContribution(pre, s, change, c, size);
  if (off[s.name]) switchOff(pre, s.outShape, off[s.name]);
  return runStages(stages, next + 1, from, pre, off);
}

/** Stages `from` to `to` (not included) on `x`, their input, with `off`'s parts off. An
 * activation followed by max pooling is computed the other way round, pooling first: the same
 * numbers, since every activation is non-decreasing (the largest value stays the largest),
 * for a quarter of the activations' work. */
function runStages(stages, from, to, x, off) {
  for (let i = from; i < to; i++) {
    const s = stages[i], pool = i + 1 < to ? stages[i + 1] : null;
    if (isActivation(s.kind) && pool?.kind === "maxpool") {
      x = KINDS[s.kind].forward(KINDS.maxpool.forward(x, pool), pool);
      i += 1;
    } else {
      x = KINDS[s.kind].forward(x, s);
    }
    if (stages[i].name && off[stages[i].name]) switchOff(x, stages[i].outShape, off[stages[i].name]);
  }
  return x;
}

/** Stages `from` to the end (linear ones, activations, the flatten) over many inputs `xs` at
 * once, as a [C, 1, N] map: a linear stage on N vectors is a 1x1 conv over N positions, and
 * the conv's loops use each value read for four outputs. Returns the logits as [classes, 1, N]. */
function denseBatch(stages, from, xs, off) {
  const n = xs.length;
  let channels = xs[0]?.length ?? 0, x = new Float32Array(channels * n);
  xs.forEach((v, q) => { for (let c = 0; c < channels; c++) x[c * n + q] = v[c]; });
  for (let i = from; i < stages.length; i++) {
    const s = stages[i];
    if (s.kind === "linear") {
      const outputs = s.outShape[0];
      x = KINDS.conv.forward(x, {inShape: [channels, 1, n], outShape: [outputs, 1, n], kernel: [1, 1],
        stride: [1, 1], padding: [0, 0], weight: s.weight, bias: s.bias});
      channels = outputs;
    } else if (s.kind !== "flatten") {
      x = KINDS[s.kind].forward(x, s);
    }
    if (s.name && off[s.name]) switchOff(x, [channels, 1, n], off[s.name]);
  }
  return x;
}
