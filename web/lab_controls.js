// The invariance lab's sliders: each a range with a number box beside it (type a value and
// press Enter, or step with the arrow keys), built from one table, read by name, refitted to
// the loaded model's input and reset. The numbers (limits, ranges) come from
// web/invariance_tab.json, written from lenet/inside/invariance.py.

import { el } from "./dom.js";

/** Every slider by name: its label, its words in a message, its range and step, the value
 * that changes nothing, and the group it is shown in (the second one folded away). The erase
 * centre's top is the input's last row, set when an input is loaded. */
export function sliderTable(c) {
  const [least, most] = c.scale_range;
  return [
    {name: "shift_x", label: "Shift right (px)", words: "shift right", min: -c.shift_limit, max: c.shift_limit, step: 1, value: 0, group: "main"},
    {name: "shift_y", label: "Shift down (px)", words: "shift down", min: -c.shift_limit, max: c.shift_limit, step: 1, value: 0, group: "main"},
    {name: "rotation", label: "Rotate (degrees, counter-clockwise)", words: "rotation", min: -c.rotation_limit, max: c.rotation_limit, step: 1, value: 0, group: "main"},
    {name: "scale", label: "Scale", words: "scale", min: least, max: most, step: 0.05, value: 1, group: "main"},
    {name: "stroke", label: "Stroke thinner / thicker (px, digits only)", words: "stroke thickness", min: -c.stroke_limit, max: c.stroke_limit, step: 1, value: 0, group: "more"},
    {name: "noise", label: "Noise (std)", words: "noise", min: 0, max: c.noise_limit, step: 0.01, value: 0, group: "more"},
    {name: "erase_size", label: "Erase a square: size (0 = none)", words: "erased square's size", min: 0, max: c.erase_limit, step: 1, value: 0, group: "more"},
    {name: "erase_y", label: "…its centre row", words: "erased square's centre row", min: 0, max: 27, step: 1, value: 14, group: "more"},
    {name: "erase_x", label: "…its centre column", words: "erased square's centre column", min: 0, max: 27, step: 1, value: 14, group: "more"},
  ];
}

/** The sliders of ``table`` built into ``element``'s groups ([data-group]); ``changed()`` runs
 * after every accepted change, ``refused(message)`` when a typed value is not a number. */
export class Sliders {
  constructor(element, table, {changed, refused}) {
    this.table = table;
    this.inputs = {};
    for (const row of table) {
      const id = `lab-slider-${row.name}`;
      const range = el("input", {type: "range", id, min: row.min, max: row.max, step: row.step, value: row.value});
      const number = el("input", {type: "number", min: row.min, max: row.max, step: row.step, value: row.value,
        "aria-label": `${row.words} as a number`, class: "lab-number"});
      range.addEventListener("input", () => {
        number.value = range.value;
        changed();
      });
      // A typed value counts once confirmed (Enter, leaving the box, or the box's own arrows).
      number.addEventListener("change", () => {
        const typed = number.value.trim(), value = Number(typed);
        if (typed === "" || !Number.isFinite(value)) {
          number.value = range.value;
          refused(`⚠️ the ${row.words} must be a number from ${row.min} to ${this.top(row.name)}`);
          return;
        }
        range.value = String(value);      // the range keeps it within its ends, on its steps
        number.value = range.value;
        changed();
      });
      this.inputs[row.name] = {range, number};
      const line = el("div", {class: "lab-slider-row"}), box = el("div", {class: "lab-slider"});
      line.append(range, number);
      box.append(el("label", {for: id}, row.label), line);
      element.querySelector(`[data-group="${row.group}"]`).append(box);
    }
  }

  /** Every slider's value by name, as numbers. */
  values() {
    return Object.fromEntries(Object.entries(this.inputs).map(([name, {range}]) => [name, Number(range.value)]));
  }

  top(name) {
    return Number(this.inputs[name].range.max);
  }

  set(name, value) {
    const {range, number} = this.inputs[name];
    range.value = String(value);
    number.value = range.value;
  }

  /** Fitted to an input of ``side`` rows and columns: the stroke only for a digit (else 0,
   * disabled), the erase centre anywhere on it (kept where it is if it fits). */
  fit(digit, side) {
    if (!digit) this.set("stroke", 0);
    for (const part of Object.values(this.inputs.stroke)) part.disabled = !digit;
    for (const name of ["erase_y", "erase_x"]) {
      const kept = Math.min(this.values()[name], side - 1);
      for (const part of Object.values(this.inputs[name])) part.max = side - 1;
      this.set(name, kept);
    }
  }

  /** Every slider back to the value that changes nothing; the erase square centred. */
  reset(side) {
    for (const row of this.table) this.set(row.name, row.value);
    this.set("erase_y", Math.floor(side / 2));
    this.set("erase_x", Math.floor(side / 2));
  }
}
