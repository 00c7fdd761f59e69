// The upload box of a live view (the draw and photo tabs), in the page in both shells: a file
// input behind a visible label, a picture dropped on the box or pasted (Ctrl+V) while its tab
// is shown, and, where the tab's HTML has the button, one frame from the webcam. The box only
// hands the tab a File, which the tab reads in this page (upload_recipes.js), and shows a copy
// of the picture the tab shows from it. Nothing is sent anywhere.
//
// Its HTML (in <tab>_tab.html):
//   .nv-upload                  the box, and where a picture may be dropped
//     input.nv-upload-file      inside its label; hidden, but it keeps the focus ring
//     button.nv-upload-webcam   optional: the webcam
//     video.nv-upload-video     optional: the webcam's preview
//     canvas.nv-upload-thumb    the picture shown
//     button.nv-upload-remove   empties the box (the tab shows nothing)
//     .nv-upload-note           one line: why the webcam cannot be used

import { UploadError, readPicture } from "./upload_recipes.js";

export const SOMETHING_WRONG = "Something went wrong with this input; please try another one.";
const WARNING = "⚠️";
const THUMB_SIDE = 256;   // canvas pixels of the box's copy; CSS sets the size it is shown at

/** What the view says, in one line, when a picture cannot be read: the recipe's own words for
 * what a visitor can cause (``UploadError``); anything else is a bug, logged for its stack. */
export function uploadFailure(error) {
  if (!(error instanceof UploadError)) {
    console.error(error);
    return `${WARNING} ${SOMETHING_WRONG}`;
  }
  const line = String(error.message).split("\n")[0];
  return line.startsWith(WARNING) ? line : `${WARNING} ${line}`;
}

/** A picture chosen, dropped, pasted or taken, read in this page and made into what a tab shows
 * by ``prepare(image)``; what cannot be read is one line ({kind: "message", caption}). */
export async function preparedUpload(file, prepare) {
  try {
    return prepare((await readPicture(file)).image);
  } catch (error) {
    return { kind: "message", pixels: null, caption: uploadFailure(error), picture: null };
  }
}

export class UploadBox {
  /** ``box``: the box's element; ``take(file)``: a picture was chosen, dropped, pasted or
   * taken; ``remove()``: the visitor emptied the box. */
  constructor(box, { take, remove }) {
    this.box = box;
    this.thumb = box.querySelector(".nv-upload-thumb");
    this.removeButton = box.querySelector(".nv-upload-remove");
    this.note = box.querySelector(".nv-upload-note");
    this.listening = new AbortController();   // stop() ends the listeners outside the box
    this.input = box.querySelector(".nv-upload-file");
    this.take = take;
    this.input.addEventListener("change", () => this.takeChosen());
    this.removeButton.addEventListener("click", () => {
      this.empty();
      remove();
    });
    dropOn(box, take);
    // Ctrl+V goes to the document, not to the box: the box takes it while its tab is shown.
    document.addEventListener("paste", (event) => {
      const file = pictureIn(event.clipboardData);
      if (!file || !box.checkVisibility()) return;
      event.preventDefault();
      take(file);
    }, { signal: this.listening.signal });
    const button = box.querySelector(".nv-upload-webcam");
    this.webcam = button ? new Webcam(box, button, (file) => take(file), (line) => this.say(line)) : null;
    this.empty();
  }

  /** The file in the input, if any: one chosen before the tab could take it (the page's
   * HTML shows the box while the tab's network is still loading) or just now. */
  takeChosen() {
    const file = this.input.files[0];
    this.input.value = "";   // so that the same file chosen again is a change too
    if (file) this.take(file);
  }

  /** A copy of ``picture`` (an ImageBitmap or canvas the tab read) in the box, drawn
   * ``THUMB_SIDE`` on its longer side: a small picture (a 32x32 photo) enlarged as it is. */
  show(picture) {
    const scale = THUMB_SIDE / Math.max(picture.width, picture.height);
    this.thumb.width = Math.max(1, Math.round(picture.width * scale));
    this.thumb.height = Math.max(1, Math.round(picture.height * scale));
    const ctx = this.thumb.getContext("2d");
    ctx.imageSmoothingEnabled = scale < 1;
    ctx.drawImage(picture, 0, 0, this.thumb.width, this.thumb.height);
    this.thumb.hidden = this.removeButton.hidden = false;
    this.say("");
  }

  /** Nothing in the box: what it held is no longer what the tab shows. */
  empty() {
    this.thumb.hidden = this.removeButton.hidden = true;
    if (this.webcam) this.webcam.stop();
  }

  /** Whether the box shows a picture. */
  get holds() {
    return !this.thumb.hidden;
  }

  say(line) {
    this.note.textContent = line;
    this.note.hidden = !line;
  }

  /** The box's listeners outside it and the webcam end (the tab is rebuilt on another model). */
  stop() {
    this.listening.abort();
    if (this.webcam) this.webcam.stop();
  }
}

// ---------------------------------------------------------------------------- drop and paste

function dropOn(box, take) {
  const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes("Files");
  box.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();   // else the browser opens the file in place of the page
    box.classList.add("nv-upload-over");
  });
  box.addEventListener("dragleave", (event) => {
    if (!box.contains(event.relatedTarget)) box.classList.remove("nv-upload-over");
  });
  box.addEventListener("drop", (event) => {
    box.classList.remove("nv-upload-over");
    if (!carriesFiles(event) || !event.dataTransfer.files.length) return;
    event.preventDefault();
    take(event.dataTransfer.files[0]);
  });
}

/** The first picture among a paste's files (null: none, e.g. text). */
function pictureIn(clipboard) {
  const files = [...(clipboard?.files ?? [])];
  return files.find((file) => file.type.startsWith("image/")) ?? null;
}

// ---------------------------------------------------------------------------- the webcam

// The webcam: a first press shows its preview in the box, a second takes one frame (as a PNG
// file, read as any upload is) and turns the camera off. Where there is no camera, or the
// visitor refuses it, one line says so.
class Webcam {
  constructor(box, button, take, say) {
    Object.assign(this, { button, take, say, stream: null, label: button.textContent });
    this.video = box.querySelector(".nv-upload-video");
    button.addEventListener("click", () => (this.stream ? this.capture() : this.start()));
  }

  async start() {
    if (!navigator.mediaDevices?.getUserMedia) {
      this.say(`${WARNING} This browser offers no webcam to this page: upload or paste a photo instead.`);
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
    } catch (error) {
      this.say(`${WARNING} ${cameraRefusal(error)}`);
      return;
    }
    this.say("");
    this.stream = stream;
    this.video.srcObject = stream;
    this.video.hidden = false;
    this.button.textContent = "Take the photo";
    await this.video.play().catch(() => {});   // a stopped preview still has its frame
  }

  capture() {
    const { video } = this;
    if (!video.videoWidth) return;   // no frame yet: the next press takes one
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    this.stop();
    canvas.toBlob((blob) => {
      if (blob) this.take(new File([blob], "webcam.png", { type: "image/png" }));
    }, "image/png");
  }

  stop() {
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.video.srcObject = null;
    this.video.hidden = true;
    this.button.textContent = this.label;
  }
}

function cameraRefusal(error) {
  if (error?.name === "NotAllowedError" || error?.name === "SecurityError") {
    return "The webcam was refused: allow it in the browser's settings for this site, or upload a photo.";
  }
  if (error?.name === "NotFoundError" || error?.name === "OverconstrainedError") {
    return "No webcam was found: upload or paste a photo instead.";
  }
  return "The webcam could not start (it may be in use elsewhere): upload or paste a photo instead.";
}
