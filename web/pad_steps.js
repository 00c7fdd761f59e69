// How a drawing became the network's input, beside the input: the recipe's own intermediate
// results (pad_recipe.js padDigit), not a second computation. The ink's box is outlined on the
// pad; below the input, the digit fitted into 20x20 and then placed by its centre of mass.

import { clearCanvas, el } from "./dom.js";
import { greys, paint } from "./colours.js";

export class PadSteps {
  // ``column``: the input column's section; ``padBox``: the element around the pad canvas.
  constructor(column, padBox, padCanvas) {
    this.padCanvas = padCanvas;
    this.box = el("div", { class: "nv-inkbox", hidden: "" });
    padBox.append(this.box);
    this.list = el("ol", { class: "nv-steps", "aria-label": "How the drawing became this input" });
    this.list.append(el("li", {}, "cropped to the ink (box on the pad)"));
    this.fitted = this.step("fitted into 20×20");
    this.placed = this.step("centred by its mass, averaged to 28×28");
    column.append(this.list);
    this.blank();
  }

  step(words) {
    const canvas = el("canvas", { class: "nv-map nv-step" });
    const item = el("li", {});
    item.append(canvas, el("span", {}, words));
    this.list.append(item);
    return canvas;
  }

  // ``digit``: padDigit's result for the pad's current drawing.
  show(digit) {
    const [top, left, bottom, right] = digit.box;
    const sx = 100 / this.padCanvas.width, sy = 100 / this.padCanvas.height;
    Object.assign(this.box.style, { top: `${top * sy}%`, left: `${left * sx}%`,
      width: `${(right - left) * sx}%`, height: `${(bottom - top) * sy}%` });
    this.box.hidden = false;
    const { fitted, placed } = digit;
    paint(this.fitted, Float32Array.from(fitted.ink), 1, fitted.height, fitted.width, greys);
    paint(this.placed, Float32Array.from(placed.ink), 1, placed.height, placed.width, greys);
    this.list.hidden = false;
  }

  blank() {
    this.box.hidden = true;
    clearCanvas(this.fitted);
    clearCanvas(this.placed);
    this.list.hidden = true;
  }
}
