// "What it thinks your input looks like": the stored test images nearest to the current input
// in the values of the network's last hidden layer (LeNet-5's F6, the ConvNet's fc1, after
// their activation), and beside them the nearest in raw pixels. The images and their values
// come from <model>.neighbours.safetensors (lenet/inside/neighbours.py writes it, and is the
// reference this search is tested against: the same ranks on the same inputs).
//
//   const stored = await loadNeighbours(start.neighbours);     // a path, as fileUrl takes it
//   const found = stored.nearest(run, pixels);                 // run: net.forward's
//   found.byFeatures[0].index, found.byPixels[0].label
//
// Ranks go by the squared Euclidean distance rounded to float32, then by test-set index, as
// Python ranks them, so that the last bits of two engines' doubles do not reorder them.

import { decodeStrip } from "./png_strip.js";
import { readHeader, readMeta, readTensor } from "./safetensors.js";
import { fetchFile } from "./shared.js";

const META_KEY = "lenet_neighbours", FORMAT_VERSION = 1;
export const K = 8;                // neighbours shown, as lenet/inside/neighbours.py K

/** Fetch and read a neighbours file; an Error says in one line why not. */
export async function loadNeighbours(path) {
  return parseNeighbours(await fetchFile(path), path);
}

/** A neighbours file's bytes -> its StoredNeighbours. */
export async function parseNeighbours(buffer, path = "the file") {
  const fail = (why) => {
    throw new Error(`${path} is not a lenet neighbours file (${why}); make it with: python -m lenet experiments`);
  };
  const { header, start } = readHeader(buffer, fail);
  const meta = readMeta(header, META_KEY, fail);
  if (meta.format_version !== FORMAT_VERSION) fail(`format version ${meta.format_version}`);
  const tensor = (name) => readTensor(buffer, start, header[name], name, fail);
  const labels = Array.from(tensor("labels"), Number), indices = Array.from(tensor("indices"), Number);
  const features = tensor("features"), n = labels.length, width = header.features.shape[1];
  if (indices.length !== n || header.features.shape[0] !== n) fail("arrays of different lengths");
  const images = await decodeStrip(tensor("images_png"), n, meta.image_shape, fail);
  return new StoredNeighbours({ meta, labels, indices, features, width, images });
}

/** Test images with their values at one layer; ``nearest`` finds an input's neighbours. */
export class StoredNeighbours {
  #shown = new Map();   // position -> {pixels, picture} of the neighbours shown lately

  constructor({ meta, labels, indices, features, width, images }) {
    const [h, w, c] = meta.image_shape;
    Object.assign(this, { meta, labels, indices, features, width, images, shape: { channels: c, height: h, width: w },
      layer: meta.layer, output: meta.output, classes: meta.classes });
    this.size = labels.length;
    this.columns = pixelColumns(images, this.size, h * w, c);
    // Each image's sum of squared bytes: a whole number, exact in a double.
    this.squares = new Float64Array(this.size);
    for (let i = 0; i < images.length; i += 1) this.squares[Math.floor(i / (h * w * c))] += images[i] * images[i];
  }

  /** The ``k`` stored images nearest to a run's values at ``this.output`` and to ``pixels``
   * (the network's input, C*H*W in [0, 1]): {byFeatures, byPixels}, nearest first, each
   * {index (in the test set), position (in the file), label, distance, pixels (the network's
   * input), picture ({pixels: RGBA, width, height})}; pixels and picture are kept for the next
   * calls: read them, do not write into them. */
  nearest(run, pixels, k = K) {
    const values = run?.outputs?.[this.output]?.data;
    if (!values) throw new Error(`this run has no ${this.output}: its network is not the one these neighbours were stored for`);
    if (values.length !== this.width) throw new Error(`${this.layer} has ${this.width} values, not ${values.length}`);
    const plane = this.columns.length / this.size;
    if (pixels?.length !== plane) throw new Error(`the images have ${plane} values, not ${pixels?.length}`);
    return { byFeatures: this.#described(this.#ranked(this.#featureDistances(values), k)),
      byPixels: this.#described(this.#ranked(this.#pixelDistances(pixels), k)) };
  }

  /** Image ``position`` as the network's input: values in [0, 1], channels first. */
  pixels(position) {
    const { channels: c, height: h, width: w } = this.shape, plane = h * w, out = new Float32Array(c * plane);
    const image = this.images.subarray(position * plane * c, (position + 1) * plane * c);
    for (let k = 0; k < c; k += 1) {
      for (let p = 0; p < plane; p += 1) out[k * plane + p] = image[p * c + k] / 255;
    }
    return out;
  }

  /** Image ``position`` as {pixels: RGBA, width, height}, to draw. */
  picture(position) {
    const { channels: c, height: h, width: w } = this.shape, rgba = new Uint8ClampedArray(4 * h * w);
    const image = this.images.subarray(position * h * w * c, (position + 1) * h * w * c);
    for (let p = 0; p < h * w; p += 1) {
      for (let k = 0; k < 3; k += 1) rgba[4 * p + k] = image[p * c + (c === 1 ? 0 : k)];
      rgba[4 * p + 3] = 255;
    }
    return { pixels: rgba, width: w, height: h };
  }

  #featureDistances(values) {
    const { features, width } = this, out = new Float64Array(this.size);
    for (let n = 0; n < this.size; n += 1) {
      let sum = 0;
      for (let i = 0, at = n * width; i < width; i += 1, at += 1) {
        const d = values[i] - features[at];
        sum += d * d;
      }
      out[n] = sum;
    }
    return out;
  }

  // |a - b/255|^2 as |a|^2 - 2 a.b / 255 + |b|^2 / 255^2, b the stored bytes: the dot product
  // reads only the columns of the input's pixels that are not zero (most of a digit is), four
  // columns per sweep over the sums (a quarter of their reads and writes; a missing fourth
  // column is the first again, with weight 0).
  #pixelDistances(pixels) {
    const n = this.size, dots = new Float64Array(n), columns = this.columns, ink = [];
    let own = 0;
    for (let p = 0; p < pixels.length; p += 1) {
      if (pixels[p] !== 0) {
        ink.push(p);
        own += pixels[p] * pixels[p];
      }
    }
    for (let j = 0; j < ink.length; j += 4) {
      const weight = (m) => (j + m < ink.length ? pixels[ink[j + m]] : 0);
      const offset = (m) => (j + m < ink.length ? ink[j + m] : ink[j]) * n;
      const [a0, a1, a2, a3] = [weight(0), weight(1), weight(2), weight(3)];
      const [o0, o1, o2, o3] = [offset(0), offset(1), offset(2), offset(3)];
      for (let i = 0; i < n; i += 1) {
        dots[i] += a0 * columns[o0 + i] + a1 * columns[o1 + i] + a2 * columns[o2 + i] + a3 * columns[o3 + i];
      }
    }
    for (let i = 0; i < n; i += 1) dots[i] = own - 2 * dots[i] / 255 + this.squares[i] / 65025;
    return dots;
  }

  // The positions of the k smallest distances (float32, then test-set index), nearest first.
  #ranked(squared, k) {
    const best = [];   // [distance (float32), index, position], sorted, at most k
    for (let position = 0; position < this.size; position += 1) {
      const d = Math.fround(Math.max(squared[position], 0)), index = this.indices[position];
      if (best.length === k && !before(d, index, best[k - 1])) continue;
      let at = best.length === k ? k - 1 : best.length;
      while (at > 0 && before(d, index, best[at - 1])) {
        best[at] = best[at - 1];
        at -= 1;
      }
      best[at] = [d, index, position];
    }
    return best;
  }

  // Each neighbour with its pictures, kept for the next updates: while a student draws, most
  // neighbours stay the same from one update to the next.
  #described(best) {
    if (this.#shown.size > 4 * K * K) this.#shown.clear();
    return best.map(([d, index, position]) => {
      if (!this.#shown.has(position)) {
        this.#shown.set(position, { pixels: this.pixels(position), picture: this.picture(position) });
      }
      return { index, position, label: this.labels[position], distance: Math.sqrt(d), ...this.#shown.get(position) };
    });
  }
}

function before(d, index, [bestD, bestIndex]) {
  return d < bestD || (d === bestD && index < bestIndex);
}

// (n, h, w, c) bytes -> one column per input value (channels first, as the network reads),
// each holding that value of every image: the pixel search reads one column per ink pixel.
function pixelColumns(images, n, plane, c) {
  const columns = new Uint8Array(images.length);
  for (let i = 0; i < n; i += 1) {
    for (let p = 0; p < plane; p += 1) {
      for (let k = 0; k < c; k += 1) columns[(k * plane + p) * n + i] = images[(i * plane + p) * c + k];
    }
  }
  return columns;
}
