// A checkpoint's layer table made into the stages the engine computes with (shapes, weights,
// a conv's taps), with the checkpoint's one-line refusals; and the names a reader sees for
// those stages' outputs. Running the stages is forward_run.js's.

import { KINDS, isActivation } from "./layer_kinds.js";
import { product, unravel } from "./arrays.js";

/** For each kernel tap k = (c, ky, kx) and output position p = (y, x), the flat index of the
 * input value the tap reads there (at k * P + p), or -1 where it reads the zero padding. */
function convTaps([C, H, W], [OH, OW], [kh, kw], [sh, sw], [ph, pw]) {
  const P = OH * OW, taps = new Int32Array(C * kh * kw * P);
  for (let k = 0; k < C * kh * kw; k++) {
    const [c, ky, kx] = unravel(k, [C, kh, kw]);
    for (let y = 0; y < OH; y++) for (let x = 0; x < OW; x++) {
      const iy = y * sh - ph + ky, ix = x * sw - pw + kx;
      const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
      taps[k * P + y * OW + x] = inside ? (c * H + iy) * W + ix : -1;
    }
  }
  return taps;
}

/** A row of the layer table with what computing it needs: shapes, weights, taps, and the
 * named output it reads (`source`: {name, shape}). Weights that do not fit are refused. */
function buildStage(row, inShape, source, tensors) {
  const s = {...row, inShape, outShape: inShape, source};
  const param = (name, size) => {
    if (tensors[name]?.data.length === size) return tensors[name].data;
    throw new Error(`checkpoint: ${name} is missing or does not fit layer ${row.name}`);
  };
  if (row.kind === "conv" || row.kind === "maxpool" || row.kind === "avgpool") {
    const [C, H, W] = inShape, [kh, kw] = row.kernel, [sh, sw] = row.stride;
    const [ph, pw] = (s.padding = row.padding ?? [0, 0]);
    const OH = Math.floor((H + 2 * ph - kh) / sh) + 1, OW = Math.floor((W + 2 * pw - kw) / sw) + 1;
    s.outShape = [row.kind === "conv" ? row.outputs : C, OH, OW];
    if (row.kind === "conv") {
      s.weight = param(row.weight, row.outputs * C * kh * kw);
      s.bias = param(row.bias, row.outputs);
      s.taps = convTaps(inShape, [OH, OW], row.kernel, row.stride, s.padding);
    }
  } else if (row.kind === "linear") {
    s.outShape = [row.outputs];
    s.weight = param(row.weight, row.outputs * product(inShape));
    s.bias = param(row.bias, row.outputs);
  } else if (row.kind === "flatten") {
    s.outShape = [product(inShape)];
  } else if (!isActivation(row.kind)) {
    throw new Error(`checkpoint: layer ${row.name} is a ${row.kind}, unknown to engine.js`);
  }
  Object.freeze(s.outShape);        // shared by every run's outputs: nobody may change it
  return s;
}

/** A checkpoint written before the page could read it says so in one line. */
function checkDescription(meta) {
  const again = "write it again with train.py (or python tools/checkpoint_meta.py)";
  if (!Array.isArray(meta.layers)) {
    throw new Error(`checkpoint ${meta.model} has no layer table; ${again}`);
  }
  if (!("cam_layer" in meta) || meta.layers.some((row) => row.name && !row.after_activation)) {
    throw new Error(`checkpoint ${meta.model} does not say which activation follows which `
      + `layer or which layer Grad-CAM reads; ${again}`);
  }
}

/** What computing needs, from the checkpoint's description: the stages in forward order,
 * the input's shape and normalisation, the test-time rule, and the layer Grad-CAM reads
 * (`camLayer`, from the model's spec) with the output it weighs (`camOutput`, that layer
 * after its activation, as the table states). */
export function buildParts(meta, tensors) {
  checkDescription(meta);
  const shape = Object.freeze([...meta.input_shape]);
  let inShape = shape, source = {name: "input", shape};
  const stages = meta.layers.map((row) => {
    const stage = buildStage(row, inShape, source, tensors);
    inShape = stage.outShape;
    if (row.name) source = {name: row.name, shape: inShape};   // the flatten has none: not kept
    return stage;
  });
  const cam = meta.cam_layer === null ? null : stageNamed(stages, meta.cam_layer);
  if (cam === undefined) {
    throw new Error(`checkpoint ${meta.model}: its Grad-CAM layer ${meta.cam_layer} is not one of its layers`);
  }
  return {name: meta.model, stages, shape, mean: meta.mean, std: meta.std,
    mirrorAverage: Boolean(meta.mirror_average), camLayer: cam && cam.name,
    camOutput: cam && cam.after_activation};
}

// ---------------------------------------------------------------------------- names in words

export function stageNamed(stages, name) {
  return stages.find((s) => s.name && s.name === name);
}

/** A named output as a reader says it: "C3 after ReLU" for the activation the table puts
 * after C3; any other name as it is ("C3", "S2", "input"). */
export function plainName(stages, name) {
  const layer = stages.find((s) => s.name && s.name !== name && s.after_activation === name);
  return layer ? `${layer.name} after ${KINDS[stageNamed(stages, name).kind].words}` : name;
}
