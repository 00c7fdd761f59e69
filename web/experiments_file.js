// Reading <model>.experiments.safetensors (lenet/inside/experiments.py writes it when the
// checkpoint is written): the test accuracy with each channel of the first two conv layers
// alone switched off, and each stored channel's nine test images that excite it most, cropped
// to its receptive field. The page shows them; it does not have the test set to compute them.
//
//   const stored = await loadExperiments(start.experiments);  // a path, as fileUrl takes it
//   stored.lesion.baseline, stored.lesion.layers.C1[3]        // accuracies in [0, 1]
//   stored.crops.C3.pictures(5)                               // [{pixels: RGBA, width, height}]

import { readHeader, readMeta, readTensor } from "./safetensors.js";
import { fetchFile } from "./shared.js";

const META_KEY = "lenet_experiments", FORMAT_VERSION = 1;

/** Fetch and read an experiments file; an Error says in one line why not. */
export async function loadExperiments(path) {
  return parseExperiments(await fetchFile(path), path);
}

/** An experiments file's bytes -> {lesion: {baseline, layers: {layer: Float32Array}}, crops:
 * {layer: StoredCrops}, meta}. */
export function parseExperiments(buffer, path = "the file") {
  const fail = (why) => {
    throw new Error(`${path} is not a lenet experiments file (${why}); make it with: python -m lenet experiments`);
  };
  const { header, start } = readHeader(buffer, fail);
  const meta = readMeta(header, META_KEY, fail);
  if (meta.format_version !== FORMAT_VERSION) fail(`format version ${meta.format_version}`);
  if (!Array.isArray(meta.lesion_layers) || !Array.isArray(meta.crop_layers)) fail("it lists no layers");
  const tensor = (name) => ({ data: readTensor(buffer, start, header[name], name, fail), shape: header[name].shape });
  const lesion = { baseline: meta.baseline,
    layers: Object.fromEntries(meta.lesion_layers.map((name) => [name, tensor(`lesion.${name}`).data])) };
  const crops = Object.fromEntries(meta.crop_layers.map((name) => [name, storedCrops(tensor, name, fail)]));
  return { lesion, crops, meta };
}

function storedCrops(tensor, layer, fail) {
  const crops = tensor(`crops.${layer}`), [channels, k, h, w, c] = crops.shape;
  const numbers = (name) => Array.from(tensor(`${name}.${layer}`).data, Number);
  const fields = { indices: numbers("indices"), labels: numbers("labels"), values: tensor(`values.${layer}`).data };
  if (Object.values(fields).some((a) => a.length !== channels * k)) fail(`${layer}'s arrays differ in length`);
  return new StoredCrops({ layer, channels, k, height: h, width: w, depth: c, bytes: crops.data, ...fields });
}

/** One layer's k best test images per channel, highest value first: ``indices`` (test-set
 * positions), ``labels`` (true classes) and ``values`` (the channel's largest value on the
 * image), each channel-major (channel * k + rank). */
export class StoredCrops {
  constructor(fields) {
    Object.assign(this, fields);
  }

  /** The k crops of ``channel`` as {pixels: RGBA, width, height}, to draw. */
  pictures(channel) {
    if (!(Number.isInteger(channel) && channel >= 0 && channel < this.channels)) {
      throw new Error(`${this.layer} has channels 0-${this.channels - 1}, not ${channel}`);
    }
    const { k, height: h, width: w, depth: c } = this, size = h * w * c;
    return Array.from({ length: k }, (_, rank) => {
      const at = (channel * k + rank) * size, rgba = new Uint8ClampedArray(4 * h * w);
      for (let p = 0; p < h * w; p += 1) {
        for (let j = 0; j < 3; j += 1) rgba[4 * p + j] = this.bytes[at + p * c + (c === 1 ? 0 : j)];
        rgba[4 * p + 3] = 255;
      }
      return { pixels: rgba, width: w, height: h };
    });
  }
}
