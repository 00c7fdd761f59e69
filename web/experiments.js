// The four experiments under the draw and photo tabs' network view (issue 23), each computed
// in this page: switch parts off (exp_lesion.js), flip the answer (exp_flip.js), what a unit
// wants (exp_wants.js) and its nearest neighbours (exp_neighbours.js). Each panel says in two
// sentences (web/words.json) what it shows and what a student may conclude.
//
// The tab keeps its one state (what is shown); this module decides how the network runs on
// it: which parts are off, and whether the flip's changed input is shown in place of it. The
// tab asks `forward(pixels)` for each run, tells `shown(...)` each run it shows and
// `replaced()` when what is shown is replaced (Clear, an upload, a hand-over, a new drawing),
// so that no panel shows a result for something other than what is shown. The parts switched
// off stay across inputs (they are about the network) until "Turn all back on".
//
// When the panels compute: the view answers every pen move and every toggle at once, so a
// panel that costs more than a frame (the bars) computes after the view's frame is painted,
// marked as waiting meanwhile, and not at all while the pen is down on the pad (when it
// lifts); the neighbours follow the pen, at most once per frame. Each computes for the run
// shown when it does, so none is ever left showing an earlier one.

import { linkStyleSheet } from "./dom.js";
import { percent } from "./format.js";
import { fileUrl } from "./shared.js";
import { loadExperiments } from "./experiments_file.js";
import { loadNeighbours } from "./neighbours.js";
import { Lesion } from "./exp_lesion.js";
import { FlipPanel } from "./exp_flip.js";
import { WantsPanel } from "./exp_wants.js";
import { NeighboursPanel } from "./exp_neighbours.js";
import { nextPaint } from "./exp_common.js";

let words = null;   // web/words.json, read once for both tabs
const OWN = "not stored for your own model (only for the built-in ones)";

/** The experiments of a tab whose view is `view` on `net`. `model`: the tab's entry in
 * tab_starts (its stored files' paths, `experiments` and `neighbours`); `own`: the view shows
 * a visitor's own checkpoint, for which nothing is stored; `drawing`: the tab draws (the
 * student's own try at a flip); `redraw()`: the tab recomputes and redraws what it shows. */
export async function mountExperiments({ element, net, view, model, own, drawing, redraw }) {
  words = words || fetch(fileUrl("web/words.json")).then((r) => r.json());
  const [said] = await Promise.all([words, linkStyleSheet("web/experiments.css")]);
  const panel = element.querySelector(".ex-panel");
  for (const p of panel.querySelectorAll("[data-words]")) p.textContent = said[p.dataset.words][1];
  for (const s of panel.querySelectorAll("[data-title]")) s.textContent = said[s.dataset.title][0];
  const pad = drawing ? element.querySelector("canvas.pad") : null;
  return new Experiments(panel, { net, view, files: storedFiles(model, own), drawing, redraw, pad });
}

// The stored files' loaders: each loads its file once, when a panel first needs it, and gives
// {data} or {missing: why it is not there, in words}.
function storedFiles(model, own) {
  const once = (path, load) => {
    let loading = null;
    if (own) return () => Promise.resolve({ missing: OWN });
    if (!path) return () => Promise.resolve({ missing: "not stored with this model's checkpoint" });
    return () => (loading = loading || load(path).then((data) => ({ data }),
      (error) => ({ missing: `could not be read (${error.message})` })));
  };
  return {
    experiments: once(model.experiments, loadExperiments),
    neighbours: once(model.neighbours, loadNeighbours),
  };
}

class Experiments {
  constructor(panel, { net, view, files, drawing, redraw, pad }) {
    Object.assign(this, { panel, net, view, files, drawing, redraw });
    this.pen = false;              // the pen is down on the pad
    this.afterPaint = new Set();   // panels to settle once the view's frame is painted
    this.inFrame = new Set();      // panels to settle in the next frame (while the pen is down)
    this.painting = false;         // a settling after the next paint is asked for
    this.frame = 0;                // the animation frame asked for, if any
    if (pad) this.watchPen(pad);
    this.live = panel.querySelector(".ex-live");
    this.run = null;        // the run the view shows
    this.pixels = null;     // the tab's input (before any flip): what the experiments start from
    this.input = null;      // the pixels the network is shown: the flip's changed input or the tab's
    this.kind = null;       // what the tab shows: "drawing", "upload", "gallery", ...
    this.lesion = new Lesion(panel.querySelector(".ex-lesion"), this);
    this.flip = new FlipPanel(panel.querySelector(".ex-flip"), this);
    this.wants = new WantsPanel(panel.querySelector(".ex-wants"), this);
    this.neighbours = new NeighboursPanel(panel.querySelector(".ex-neighbours"), this);
    // A click, tap or Enter on a unit of the view: switch it off (in that mode) or choose it.
    view.onChoose = (unit) => this.chose(unit);
  }

  /** The run the view shows for the tab's input `pixels` (null: nothing): the flip's changed
   * input while one is shown (kept as `input`), with the parts switched off; the stages before
   * the first part switched on or off are taken from the last run when the input is the same. */
  forward(pixels) {
    this.input = pixels && (this.flip.input(pixels) || pixels);
    if (!pixels) return null;
    return this.net.forward(this.net.normalize(this.input), { off: this.lesion.off, reuse: this.run });
  }

  /** The answer line for `run`, saying when it is not the tab's own input that is shown. */
  answer(run) {
    const words = `${this.net.classes[run.top]} with ${percent(run.probabilities[run.top])}`;
    const notes = [this.flip.showing() ? "the changed input" : "", this.lesion.words()].filter(Boolean);
    return notes.length ? `${words} (${notes.join(", ")})` : words;
  }

  /** The tab showed `run` for its input `pixels` (what it shows is of `kind`): every open
   * panel follows it, and what no longer belongs to it goes. */
  shown(run, pixels, kind) {
    Object.assign(this, { run, pixels: run ? pixels : null, kind });
    this.lesion.shown();
    this.flip.shown(run, this.pixels);
    this.wants.shown(run);
    this.neighbours.shown(run);
  }

  /** What the tab shows was replaced: results for the old input go. */
  replaced() {
    this.flip.replaced();
    this.wants.replaced();
  }

  /** The network changed (parts switched off or on): results computed with other parts off go. */
  changedNetwork() {
    this.flip.replaced();
    this.wants.replaced();
    this.redraw();
  }

  say(text) {
    this.live.textContent = text;
  }

  // ------------------------------------------------------------------ when panels compute
  // The pen is down from a pointerdown on the pad (seen before the pad's own listener: the
  // capture phase) to the end of its stroke, seen after the pad's own listener for the same
  // three events (registered later), so after the tab's last update of the stroke.
  watchPen(pad) {
    pad.addEventListener("pointerdown", () => { this.pen = true; }, { capture: true });
    for (const name of ["pointerup", "pointercancel", "lostpointercapture"]) {
      pad.addEventListener(name, () => this.penLifted());
    }
  }

  penLifted() {
    if (!this.pen) return;
    this.pen = false;
    this.settleFrame();
    if (this.afterPaint.size) this.paintThenSettle();
  }

  /** `panel.settle()` once the view's frame is painted, and while the pen is down only when
   * it lifts; `panel.waiting(pen)` marks it meanwhile. For results dearer than a frame. */
  settleAfterPaint(panel) {
    this.afterPaint.add(panel);
    panel.waiting(this.pen);
    if (!this.pen) this.paintThenSettle();
  }

  paintThenSettle() {
    if (this.painting) return;
    this.painting = true;
    nextPaint().then(() => {
      this.painting = false;
      if (this.pen) return;   // a new stroke began: they wait for its end
      const panels = [...this.afterPaint];
      this.afterPaint.clear();
      for (const panel of panels) panel.settle();
    });
  }

  /** `panel.settle()` now; while the pen is down, in the next frame before it is painted
   * (once, however many moves the frame has), or when the pen lifts if that comes first. */
  settleInFrame(panel) {
    if (!this.pen) return panel.settle();
    this.inFrame.add(panel);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.settleFrame());
  }

  settleFrame() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    const panels = [...this.inFrame];
    this.inFrame.clear();
    for (const panel of panels) panel.settle();
  }

  // A unit of the view clicked, tapped or entered: true when it was switched off or on (the
  // view then opens no trace).
  chose(unit) {
    if (this.lesion.takes(unit)) return true;
    this.wants.choose(unit);
    return false;
  }
}
