// What the live views (draw_tab.js, photo_tab.js) share: loading their networks from the
// checkpoints the app serves, reading the value the server sets, and the words of an answer.

import { loadNetwork, softmax } from "./engine.js";
import { fixed, percent, powerHtml, powerMathML } from "./format.js";
import { fileUrl } from "./shared.js";

// ``props.models``: [{path, title}], the first the tab's own network, each path as the page
// names its files (shared.js fileUrl).
export function loadModels(props) {
  return Promise.all(props.models.map((m) => loadNetwork(fileUrl(m.path))));
}

// The component's value as the server set it: {kind, ...}, or null for nothing.
export function parseValue(value) {
  if (!value) return null;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}

// Kept for the tabs that import it from here; its one definition is format.js's.
export { percent };

// The softmax for class ``k`` as MathML, with the numbers the engine's run holds (``run``:
// its logits, exponentials, denominator and probabilities): the formula, then its numbers,
// then the probability; below it, every class's e^z, written as powers of ten so that a
// student can compare them. The older call softmaxMath(classes, logits, probabilities, k)
// still works: the engine's softmax writes the exponentials out for those logits.
export function softmaxMath(classes, run, k, ...older) {
  if (ArrayBuffer.isView(run)) {
    [run, k] = [{ ...softmax(run), probabilities: k, logits: run }, older[0]];
  }
  const name = classes[k], { logits, exponentials, denominator } = run;
  const terms = Array.from(logits, (z, j) =>
    `${classes[j]}: e<sup>${fixed(z, 2)}</sup> = ${powerHtml(exponentials[j])}`).join("; ");
  return `<math display="block" aria-label="softmax for ${name}">
    <mrow><mi>p</mi><mo>(</mo><mtext>${name}</mtext><mo>)</mo><mo>=</mo>
    <mfrac><msup><mi>e</mi><msub><mi>z</mi><mtext>${name}</mtext></msub></msup>
      <mrow><munder><mo>∑</mo><mi>k</mi></munder><msup><mi>e</mi><msub><mi>z</mi><mi>k</mi></msub></msup></mrow></mfrac>
    <mo>=</mo><mfrac><msup><mi>e</mi><mn>${fixed(logits[k], 2)}</mn></msup>${powerMathML(denominator)}</mfrac>
    <mo>=</mo><mfrac>${powerMathML(exponentials[k])}${powerMathML(denominator)}</mfrac>
    <mo>=</mo><mn>${percent(run.probabilities[k])}</mn></mrow></math>
    <p class="nv-note">The sum below the line adds e<sup>z</sup> over every class (a × 10<sup>n</sup>
    is a multiplied by ten n times; a negative n divides instead): ${terms}; together
    ${powerHtml(denominator)}.</p>`;
}

// The words of a view (web/words.json, shared with the server's tabs) as a
// definition list, in the order the data flows.
export async function fillWords(list, base, keys) {
  const words = await (await fetch(new URL("words.json", base))).json();
  list.innerHTML = keys.map((k) => `<dt>${words[k][0]}</dt><dd>${words[k][1]}</dd>`).join("");
}
