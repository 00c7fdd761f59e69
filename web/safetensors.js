// Reading a checkpoint file: the safetensors format's header, the "lenet" metadata the
// Python side writes into it, and each tensor as a Float32Array. What the metadata means
// (the layer table, normalisation) is layer_table.js's business, not this module's.

import { product } from "./arrays.js";

/** A safetensors file -> {meta: its "lenet" metadata, tensors: name -> {shape, data}}. */
export function parseSafetensors(buffer) {
  const fail = (why) => {
    throw new Error(`not a lenet checkpoint (${why}); choose a .safetensors file from train.py`);
  };
  const {header, start} = readHeader(buffer, fail);
  const meta = readMeta(header, "lenet", fail);
  const tensors = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (entry?.dtype !== "F32") fail(`tensor ${name} is ${entry?.dtype}, not F32`);
    const [begin, end] = entry.data_offsets ?? [], count = product(entry.shape ?? [NaN]);
    if (end - begin !== 4 * count || start + end > buffer.byteLength) fail(`${name} is cut short`);
    // A view needs 4-byte alignment, else a copy. Browsers are little-endian, like the file.
    const data = (start + begin) % 4 === 0 ? new Float32Array(buffer, start + begin, count)
      : new Float32Array(buffer.slice(start + begin, start + end));
    tensors[name] = {shape: entry.shape, data};
  }
  return {meta, tensors};
}

/** Any safetensors file's header: {header: tensor name -> {dtype, shape, data_offsets} (and
 * "__metadata__"), start: the byte where the tensors begin}. ``fail(why)`` throws the
 * caller's own message (a checkpoint's, a gallery's). */
export function readHeader(buffer, fail) {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < 8) fail("too short for a header");
  const view = new DataView(buffer);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;  // u64 LE
  if (headerLength > buffer.byteLength - 8) fail("its header runs past the end of the file");
  let header;
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, headerLength)));
  } catch {
    fail("its header is not JSON");
  }
  if (header?.constructor !== Object) fail("its header is not a table of tensors");
  return {header, start: 8 + headerLength};
}

/** The JSON table the Python side wrote under metadata ``key`` ("lenet", "lenet_gallery"). */
export function readMeta(header, key, fail) {
  let meta;
  try {
    meta = JSON.parse(header.__metadata__[key]);
  } catch {
    fail(`it has no ${key} metadata`);
  }
  if (meta?.constructor !== Object) fail(`its ${key} metadata is not a table`);
  return meta;
}

// The tensor types the side files hold (gallery, experiments, neighbours), as typed arrays;
// float16 is widened to float32 (halfToFloat).
const TYPES = {I64: BigInt64Array, F32: Float32Array, F16: Uint16Array, BOOL: Uint8Array, U8: Uint8Array};

/** Tensor ``name`` of a side file: a copy (aligned for any type) as a typed array of its
 * dtype, int64 as BigInt64Array, float16 widened to a Float32Array. ``entry``: its header
 * row; ``start``: readHeader's. */
export function readTensor(buffer, start, entry, name, fail) {
  const Type = TYPES[entry?.dtype];
  if (!Type) fail(`tensor ${name} is missing or of type ${entry?.dtype}`);
  const [begin, end] = entry.data_offsets ?? [], count = product(entry.shape ?? [NaN]);
  if (end - begin !== count * Type.BYTES_PER_ELEMENT || start + end > buffer.byteLength) fail(`${name} is cut short`);
  const data = new Type(buffer.slice(start + begin, start + end));
  return entry.dtype === "F16" ? Float32Array.from(data, halfToFloat) : data;
}

/** An IEEE 754 half-precision number's 16 bits -> its value (every one exact in a double). */
export function halfToFloat(bits) {
  const sign = bits & 0x8000 ? -1 : 1, exponent = (bits >> 10) & 0x1f, fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;                   // subnormal
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
