// "Why?": Grad-CAM and saliency for a chosen class (the top class unless one is chosen), drawn
// from the engine's attributions, with the class named in every caption.

import { clearCanvas, el } from "./dom.js";
import { heat, paint } from "./colours.js";
import { powerText } from "./format.js";

const TOP = "the top class";

export class ExplainPanel {
  // ``box``: the view's .nv-explain section; ``net``: the engine's network.
  constructor(box, net) {
    this.box = box;
    this.net = net;
    this.chosen = null;   // a class index, or null: the top class
    this.run = null;
    const select = box.querySelector("select");
    select.append(el("option", { value: "" }, "top class"));
    net.classes.forEach((name, k) => select.append(el("option", { value: String(k) }, name)));
    select.addEventListener("change", () => {
      this.chosen = select.value === "" ? null : Number(select.value);
      this.draw(this.run);
    });
    if (!net.camLayer) box.querySelector(".nv-cam").hidden = true;
  }

  // The maps for ``run`` (the engine's forward result), or every picture and caption blank
  // for null.
  draw(run) {
    this.run = run;
    if (!run) return this.blank();
    const net = this.net;
    const k = this.chosen === null ? run.top : this.chosen;
    const maps = net.attributions(run, k);
    for (const node of this.box.querySelectorAll(".nv-explained")) node.textContent = `“${net.classes[k]}”`;
    this.paint(".nv-cam", maps.gradCam, maps.gradCamMax);
    this.paint(".nv-sal", maps.saliency, maps.saliencyMax);
    const layer = this.box.querySelector(".nv-cam-layer");
    if (layer && net.camLayer) {
      layer.textContent = net.plainName(net.camOutput);
    }
  }

  paint(selector, values, top) {
    const figure = this.box.querySelector(selector);
    if (!figure || !values) return;
    const { height, width } = this.net.inputShape;
    const scaled = new Float32Array(values.length);
    for (let i = 0; i < values.length; i += 1) scaled[i] = top > 0 ? values[i] / top : 0;
    paint(figure.querySelector("canvas"), scaled, 1, height, width, heat);
    figure.querySelector(".nv-heat-range").textContent = `0 … ${powerText(top, 3)}`;
  }

  blank() {
    for (const canvas of this.box.querySelectorAll("canvas")) clearCanvas(canvas);
    for (const node of this.box.querySelectorAll(".nv-heat-range, .nv-cam-layer")) node.textContent = "";
    for (const node of this.box.querySelectorAll(".nv-explained")) node.textContent = TOP;
  }
}
