// The photo tab: the ConvNet run in this page on the 32x32 input this page prepares from an
// upload, the webcam or the clipboard (upload_box.js, upload_recipes.js), or on a test image
// handed over by the gallery as it is (shared.js), with the mirror average its checkpoint asks
// for, shown by the same view of the whole network as the draw tab (netview.js). Nothing a
// visitor does here sends anything to the server.
//
// One state: a photo, a test image, a one-line message, or nothing; each change redraws every
// panel and is published as the topic "photo" for the tabs that use the photo.

import { atMost, fillWords, pixelPicture } from "./live.js";
import { comparison } from "./compare.js";
import { mountExperiments } from "./experiments.js";
import { mountLearn, useNetwork } from "./learn.js";
import { signed } from "./format.js";
import { NetworkView } from "./netview.js";
import { withOwnModel } from "./own_model.js";
import { publish, receiveHandOvers } from "./shared.js";
import { UploadBox, preparedUpload } from "./upload_box.js";
import { photoPixels } from "./upload_recipes.js";

const PROMPT = "Upload a photo, take one with the webcam, or paste one.";
const BLANK = "That picture is blank.";
const PICTURE_SIDE = 512;    // the photo the other tabs get, at most, on either side
const TEST_IMAGE_SCALE = 8;  // a 32x32 test image, enlarged for them to 256x256
const WORDS = ["input", "feature_map", "kernel", "padding", "activation", "pooling", "fully_connected",
  "logits", "softmax", "mirror", "grad_cam", "saliency", "receptive_field", "layer_names"];

// The tab on its network: built-in, or the visitor's own checkpoint (own_model.js), which
// rebuilds the tab and hands it what the tab it replaces showed (``kept``).
export const mount = withOwnModel(mountTab);

async function mountTab({ element, start, base, own }, [net, ...others], kept) {
  const tab = new PhotoTab(element, net, comparison(element, others, start.models.slice(1)));
  tab.experiments = await mountExperiments({ element, net, view: tab.view, model: start.models[0], own,
    drawing: false, redraw: () => tab.update() });
  tab.learn = await mountLearn({ element, net, model: start.models[0], own,
    use: (n, run) => useNetwork(tab, n, run) });
  element.querySelector(".nv-after").addEventListener("change", (e) => {
    tab.view.after = e.target.checked;
    tab.update();
  });
  await fillWords(element.querySelector(".nv-words-list"), base, WORDS);
  tab.show(kept || tab.state);
  tab.box.takeChosen();
  const stopHandOvers = receiveHandOvers("photo", (value) => tab.handedOver(value));
  // The one object the page exposes, for tests; ``reading()``: the latest upload's reading.
  window.cnnPage = { ...window.cnnPage, photo: { net, others, state: tab.state, view: tab.view,
    update: () => tab.update(), reading: () => tab.reading, experiments: tab.experiments,
    learn: tab.learn.exposed() } };
  element.dataset.ready = "true";
  return { kept: () => ({ ...tab.state }), stop: () => { stopHandOvers(); tab.box.stop(); } };
}

class PhotoTab {
  constructor(element, net, compare) {
    this.net = net;
    this.compare = compare;   // the other photo models' answers on the same input
    this.view = new NetworkView(element, net);
    this.answer = element.querySelector(".nv-answer");
    this.mirror = element.querySelector(".nv-mirror");
    this.source = element.querySelector(".nv-source");
    // ``picture``: what the other tabs are shown (the photo, or the test image enlarged).
    this.state = { kind: null, pixels: null, caption: "", picture: null };
    this.changes = 0;   // every change of what is shown: an upload read meanwhile is dropped
    this.reading = Promise.resolve();
    this.box = new UploadBox(element.querySelector(".nv-upload"), {
      take: (file) => this.upload(file), remove: () => this.show({ kind: null }) });
  }

  // A new state (missing fields empty), every panel redrawn; the upload box shows the photo
  // for an upload and is empty otherwise.
  show({ kind = null, pixels = null, caption = "", picture = null }) {
    this.changes += 1;
    Object.assign(this.state, { kind, pixels, caption, picture });
    this.view.closeTrace();
    this.experiments.replaced();
    if (kind === "upload") this.box.show(picture); else this.box.empty();
    this.update();
  }

  update() {
    const { state } = this;
    // What is shown, in words: "your photo" or "test image #N (...)".
    this.source.textContent = state.pixels ? `Showing ${state.caption}.` : "";
    const run = this.experiments.forward(state.pixels);
    this.view.show(run);
    this.showMirror(run);
    this.answer.textContent = run ? this.experiments.answer(run) : state.kind === "message" ? state.caption : PROMPT;
    this.experiments.shown(run, state.pixels, state.kind);
    this.learn.shown(run, state.pixels);
    this.compare(run ? this.experiments.input : null);
    publish("photo", run ? { pixels: state.pixels, picture: state.picture, caption: state.caption }
      : { pixels: null, picture: null, caption: "" });
  }

  showMirror(run) {
    const shown = Boolean(run && run.mirrorLogits);
    this.mirror.hidden = !shown;
    if (!shown) return;
    this.mirror.querySelector("tbody").innerHTML = this.net.classes.map((name, k) =>
      `<tr><td>${name}</td><td>${signed(run.ownLogits[k], 2)}</td><td>${signed(run.mirrorLogits[k], 2)}</td>
       <td>${signed(run.logits[k], 2)}</td></tr>`).join("");
  }

  // A photo chosen, dropped, pasted or taken: read and prepared by the photo recipe in this
  // page. What cannot be used is one line, and the old answer goes.
  upload(file) {
    this.reading = this.read(file);
  }

  async read(file) {
    const ticket = (this.changes += 1);
    const state = await preparedUpload(file, (image) => {
      const pixels = photoPixels(image);
      const picture = pixels ? atMost(image, PICTURE_SIDE) : null;
      if (picture !== image) image.close();   // a large photo's pixels, freed now rather than later
      return pixels ? { kind: "upload", pixels, caption: "your photo", picture } : { kind: "message", caption: BLANK };
    });
    if (ticket === this.changes) this.show(state);   // else a hand-over or removal came after it
  }

  // A test image from the gallery (shared.js handOver): {pixels: 3x32x32 in [0, 1], caption}.
  handedOver({ pixels, caption }) {
    const values = Float32Array.from(pixels);
    this.show({ kind: "gallery", pixels: values, caption,
      picture: pixelPicture(values, this.net.inputShape, TEST_IMAGE_SCALE) });
  }
}
