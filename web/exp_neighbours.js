// Its nearest neighbours: on every update of what is shown (each pointer move while drawing),
// the eight stored test images nearest to it in the last hidden layer's values (LeNet-5's F6,
// the ConvNet's fc1) and, beside them, the eight nearest in raw pixels, each with its label
// (neighbours.js searches the file Python stored with the checkpoint).

import { el } from "./dom.js";
import { fixed } from "./format.js";
import { captioned, drawRgba } from "./exp_common.js";

export class NeighboursPanel {
  constructor(part, hub) {
    Object.assign(this, { part, hub });
    this.box = part.querySelector(".ex-neighbours-rows");
    this.stored = null;   // the stored file, once read: {data} or {missing}
    part.addEventListener("toggle", () => this.shown(hub.run));
  }

  /** The view shows `run` (null: nothing): its neighbours, while the panel is open. */
  shown(run) {
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
    this.shown(this.hub.run);
  }

  say(text) {
    this.box.replaceChildren(el("p", { class: "ex-note" }, text));
  }

  draw({ byFeatures, byPixels }) {
    const stored = this.stored.data;
    const row = (title, found) => {
      const section = el("section", { class: "ex-neighbour-row" });
      const grid = el("div", { class: "ex-figures" });
      grid.append(...found.map((n) => {
        const label = stored.classes?.[n.label] ?? this.hub.net.classes[n.label] ?? String(n.label);
        return captioned((c) => drawRgba(c, n.picture), label,
          `test image ${n.index}, a ${label}, at distance ${fixed(n.distance, 2)}`);
      }));
      section.append(el("h4", {}, title), grid);
      return section;
    };
    this.box.replaceChildren(row(`Nearest in ${stored.layer}'s values (what the network sees)`, byFeatures),
      row("Nearest in raw pixels", byPixels));
  }
}
