// What the live views (draw_tab.js, photo_tab.js) share: loading their networks from the
// checkpoints the app serves, reading the value the server sets, and the words of an answer.

import { loadNetwork } from "./engine.js";

// ``props.models``: [{path, title}], the first the tab's own network; ``base``: the URL of the
// page's static files (<root>/gradio_api/file=web/).
export function loadModels(props, base) {
  const root = new URL("../../", base);
  return Promise.all(props.models.map((m) => loadNetwork(new URL(`gradio_api/file=${m.path}`, root).href)));
}

// The component's value as the server set it: {kind, ...}, or null for nothing.
export function parseValue(value) {
  if (!value) return null;
  try {
    return JSON.parse(value);
  } catch (error) {
    return null;
  }
}

export const percent = (p) => `${(100 * p).toFixed(1)} %`;

const number = (v) => (v < 0 ? "−" : "") + Math.abs(v).toFixed(2);

// The softmax for class ``k`` as MathML, with this input's logits: the formula, then its
// numbers, then the probability.
export function softmaxMath(classes, logits, probabilities, k) {
  const name = classes[k];
  let sum = 0;
  for (const z of logits) sum += Math.exp(z);
  const terms = Array.from(logits, (z, j) => `${classes[j]}: e<sup>${number(z)}</sup>`).join(" + ");
  return `<math display="block" aria-label="softmax for ${name}">
    <mrow><mi>p</mi><mo>(</mo><mtext>${name}</mtext><mo>)</mo><mo>=</mo>
    <mfrac><msup><mi>e</mi><msub><mi>z</mi><mtext>${name}</mtext></msub></msup>
      <mrow><munder><mo>∑</mo><mi>k</mi></munder><msup><mi>e</mi><msub><mi>z</mi><mi>k</mi></msub></msup></mrow></mfrac>
    <mo>=</mo><mfrac><msup><mi>e</mi><mn>${number(logits[k])}</mn></msup><mn>${sum.toPrecision(4)}</mn></mfrac>
    <mo>=</mo><mn>${percent(probabilities[k])}</mn></mrow></math>
    <p class="nv-note">The sum below the line adds e<sup>z</sup> over every class: ${terms}.</p>`;
}

// The words of a view (web/words.json, shared with the server's tabs) as a
// definition list, in the order the data flows.
export async function fillWords(list, base, keys) {
  const words = await (await fetch(new URL("words.json", base))).json();
  list.innerHTML = keys.map((k) => `<dt>${words[k][0]}</dt><dd>${words[k][1]}</dd>`).join("");
}
