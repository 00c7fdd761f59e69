// The photo tab: the ConvNet run in this page on the 32x32 input the server prepared from an
// upload (or a gallery image), with the mirror average its checkpoint asks for, shown by the
// same view of the whole network as the draw tab (netview.js).
//
// The component's value is set by the server only: {"kind": "upload" | "gallery", "pixels":
// [channel-major values in [0, 1]], "caption": ...}, {"kind": "message", "text": ...}, or "".

import { fillWords, parseValue, percent } from "./live.js";
import { signed } from "./format.js";
import { NetworkView } from "./netview.js";
import { withOwnModel } from "./own_model.js";

// The tab on its network: built-in, or the visitor's own checkpoint (own_model.js).
export const mount = withOwnModel(mountTab);

async function mountTab({ element, props, watch, base }, [net]) {
  const view = new NetworkView(element, net);
  const answer = element.querySelector(".nv-answer");
  const mirror = element.querySelector(".nv-mirror");
  const source = element.querySelector(".nv-source");
  const state = { kind: null, pixels: null, caption: "" };

  function showMirror(run) {
    const shown = Boolean(run && run.mirrorLogits);
    mirror.hidden = !shown;
    if (!shown) return;
    mirror.querySelector("tbody").innerHTML = net.classes.map((name, k) =>
      `<tr><td>${name}</td><td>${signed(run.ownLogits[k], 2)}</td><td>${signed(run.mirrorLogits[k], 2)}</td>
       <td>${signed(run.logits[k], 2)}</td></tr>`).join("");
  }

  function update() {
    // What is shown, in words: "your photo" or "test image #N (...)".
    source.textContent = state.pixels ? `Showing ${state.caption}.` : "";
    if (!state.pixels) {
      view.show(null);
      showMirror(null);
      answer.textContent = state.kind === "message" ? state.caption
        : "Upload a photo, take one with the webcam, or paste one.";
      return;
    }
    const run = net.forward(net.normalize(state.pixels));
    view.show(run);
    showMirror(run);
    answer.textContent = `${net.classes[run.top]} with ${percent(run.probabilities[run.top])}`;
  }

  function received() {
    const value = parseValue(props.value);
    view.closeTrace();
    if (!value) {
      Object.assign(state, { kind: null, pixels: null, caption: "" });
    } else if (value.kind === "message") {
      Object.assign(state, { kind: "message", pixels: null, caption: value.text });
    } else {
      Object.assign(state, { kind: value.kind, pixels: Float32Array.from(value.pixels), caption: value.caption });
    }
    update();
  }
  watch("value", received);
  element.querySelector(".nv-after").addEventListener("change", (e) => {
    view.after = e.target.checked;
    update();
  });
  received();
  window.cnnPage = { ...window.cnnPage, photo: { net, state, view, update } };
  await fillWords(element.querySelector(".nv-words-list"), base, [
    "input", "feature_map", "kernel", "padding", "activation", "pooling", "fully_connected",
    "logits", "softmax", "mirror", "grad_cam", "saliency", "receptive_field", "layer_names"]);
  element.dataset.ready = "true";
}
