// Reading <model>.snapshots.safetensors (lenet/training/snapshots.py writes it beside the
// checkpoint): the weights at a few moments of training, in half precision, as one engine
// Network per moment. Each moment's network is built from the trained checkpoint's own layer
// table (the snapshot file holds weights and figures, not the architecture), so that every
// view, trace and experiment works on it exactly as on the trained network.
//
//   const learning = await loadSnapshots(model.snapshots, net);  // net: the checkpoint's Network
//   learning.moments[3].step, .loss, .testAccuracy, .net          // net.forward(...) as ever

import { Network } from "./engine.js";
import { readHeader, readMeta, readTensor } from "./safetensors.js";
import { fetchFile } from "./shared.js";

const FORMAT_VERSION = 1;   // lenet/training/snapshots.py FORMAT_VERSION

/** Fetch and read a snapshots file for `net` (the trained checkpoint's network); an Error
 * says in one line why it cannot be used. */
export async function loadSnapshots(path, net) {
  return snapshotsFromBuffer(await fetchFile(path), net, path);
}

/** A snapshots file's bytes -> {meta, moments: [{step, loss, testAccuracy, net, tensors}]}, in
 * the order training reached them; `tensors`: the moment's weights by the checkpoint's tensor
 * names, {shape, data} (float32), for the panel that draws the learned kernels. */
export function snapshotsFromBuffer(buffer, net, path = "the file") {
  const fail = (why) => {
    throw new Error(`${path} is not a lenet snapshots file (${why}); write it with train.py`);
  };
  const { header, start } = readHeader(buffer, fail);
  const meta = readMeta(header, "lenet", fail);
  if (meta.format_version !== FORMAT_VERSION) fail(`format version ${meta.format_version}`);
  if (meta.model !== net.name) fail(`it is ${meta.model}'s, not ${net.name}'s`);
  if (!Array.isArray(meta.snapshots) || !meta.snapshots.length) fail("it lists no snapshots");
  const moments = meta.snapshots.map((record, k) => {
    const tensors = momentTensors(header, start, buffer, `${k}.`, fail);
    let momentNet;
    try {
      momentNet = new Network({ meta: net.meta, tensors });
    } catch (error) {
      fail(`snapshot ${k}: ${error.message}`);
    }
    return { step: record.step, loss: record.loss, testAccuracy: record.test_accuracy, net: momentNet, tensors };
  });
  return { meta, moments };
}

// The tensors named `prefix` + a checkpoint tensor's name, widened to float32 and named as in
// the checkpoint, so that its layer table finds them.
function momentTensors(header, start, buffer, prefix, fail) {
  const tensors = {};
  for (const [name, entry] of Object.entries(header)) {
    if (!name.startsWith(prefix)) continue;
    tensors[name.slice(prefix.length)] = { shape: entry.shape, data: readTensor(buffer, start, entry, name, fail) };
  }
  return tensors;
}
