// The course's other models on the same input as a live view's own (the draw tab's digit
// variants, the photo tab's other CIFAR-10 models): each one's answer in a list under the
// view, computed in this page as the input changes.

import { el } from "./dom.js";
import { percent } from "./format.js";

/** A list in `element`'s .nv-compare for `nets` (with their tab_starts entries `models`, in
 * the same order); returns a function that shows their answers for `pixels` (null: none).
 * With no other model the list is hidden. */
export function comparison(element, nets, models) {
  const section = element.querySelector(".nv-compare");
  if (!section) return () => {};
  const list = section.querySelector(".nv-models");
  const rows = nets.map((net, k) => {
    const said = el("strong", {});
    const item = el("li", {});
    item.append(el("span", { class: "nv-model" }, `${models[k].title}: `), said);
    list.append(item);
    return { net, said };
  });
  if (!rows.length) section.hidden = true;
  return (pixels) => {
    for (const { net, said } of rows) {
      if (!pixels) { said.textContent = ""; continue; }
      const run = net.forward(net.normalize(pixels));
      said.textContent = `${net.classes[run.top]} with ${percent(run.probabilities[run.top])}`;
    }
  };
}
