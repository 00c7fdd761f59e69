// Its nearest neighbours: on every update of what is shown (while drawing, at most once a
// frame), the eight stored test images nearest to it in the last hidden layer's values
// (LeNet-5's F6, the ConvNet's fc1) and, beside them, the eight nearest in raw pixels, each
// with its label (neighbours.js searches the file Python stored with the checkpoint).

import { el } from "./dom.js";
import { fixed } from "./format.js";
import { captioned, drawRgba } from "./exp_common.js";

export class NeighboursPanel {
  constructor(part, hub) {
    Object.assign(this, { part, hub });
    this.box = part.querySelector(".ex-neighbours-rows");
    this.stored = null;   // the stored file, once read: {data} or {missing}
    this.rows = null;     // the two rows of pictures while the box shows them (drawn in place)
    part.addEventListener("toggle", () => this.shown());
  }

  /** The view shows a new run: its neighbours, while the panel is open (experiments.js
   * says when: now, or in the frame while the pen is down). */
  shown() {
    if (this.part.open) this.hub.settleInFrame(this);
  }

  // The neighbours of the run shown now.
  settle() {
    const run = this.hub.run;
    if (!this.part.open) return;
    if (!this.stored) {
      this.read();
      return;
    }
    if (this.stored.missing) {
      this.say(`The test images to compare with are ${this.stored.missing}.`);
    } else if (!run) {
      this.say("Draw or show an input to see its neighbours.");
    } else {
      this.draw(this.stored.data.nearest(run, run.pixels));
    }
  }

  async read() {
    this.stored = { missing: "being read…" };
    this.say("Reading the stored test images…");
    this.stored = await this.hub.files.neighbours();
    this.shown();
  }

  say(text) {
    this.rows = null;
    this.box.replaceChildren(el("p", { class: "ex-note" }, text));
  }

  // Both rows, drawn into the pictures already there: the pen moves them on every frame, and
  // new canvases and captions would be laid out anew each time.
  draw({ byFeatures, byPixels }) {
    const stored = this.stored.data;
    const rows = [[`Nearest in ${stored.layer}'s values (what the network sees)`, byFeatures],
      ["Nearest in raw pixels", byPixels]];
    if (!this.rows || rows.some(([, found], i) => found.length !== this.rows[i].slots.length)) {
      this.rows = rows.map(([, found]) => emptyRow(found.length));
      this.box.replaceChildren(...this.rows.map((row) => row.section));
    }
    rows.forEach(([title, found], i) => {
      const row = this.rows[i];
      if (row.title.textContent !== title) row.title.textContent = title;
      found.forEach((n, j) => this.fill(row.slots[j], n));
    });
  }

  // One picture of a row: test image `n` with its label, repainted only when it is another.
  fill(slot, n) {
    const classes = this.stored.data.classes, label = classes?.[n.label] ?? this.hub.net.classes[n.label]
      ?? String(n.label);
    if (slot.index !== n.index) drawRgba(slot.canvas, n.picture);
    slot.index = n.index;
    if (slot.caption.textContent !== label) slot.caption.textContent = label;
    slot.canvas.setAttribute("aria-label", `test image ${n.index}, a ${label}, at distance ${fixed(n.distance, 2)}`);
  }
}

// A row of `count` empty pictures under its heading.
function emptyRow(count) {
  const section = el("section", { class: "ex-neighbour-row" }), title = el("h4", {});
  const grid = el("div", { class: "ex-figures" });
  const slots = Array.from({ length: count }, () => {
    const figure = captioned(() => {}, "");
    grid.append(figure);
    return { canvas: figure.querySelector("canvas"), caption: figure.querySelector("figcaption"), index: null };
  });
  section.append(title, grid);
  return { section, title, slots };
}
