// The trace of one unit as HTML: the numbers the engine's trace and run returned (engine.js
// trace, forward), laid out so that a reader can redo the sum. Layout and words only: every
// number shown is one the engine computed (the sum of products, the softmax's exponentials
// and denominator, the mirror image's logit); nothing is computed here.

import { fixed, percent, powerHtml, term } from "./format.js";

const TABLE_LIMIT = 150;   // products shown as tables up to this many; else the largest terms
const TERMS = 8;
const COLOURS = ["red", "green", "blue"];   // a colour input's channels, in order

const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

// A flat array of ``rows`` x ``cols`` values as a table; ``mark`` outlines one cell.
function table(values, rows, cols, caption, mark = null) {
  let html = `<table class="nv-numbers"><caption>${caption}</caption>`;
  for (let r = 0; r < rows; r += 1) {
    html += "<tr>";
    for (let c = 0; c < cols; c += 1) {
      const cls = mark && mark[0] === r && mark[1] === c ? ' class="nv-winner"' : "";
      html += `<td${cls}>${fixed(values[r * cols + c])}</td>`;
    }
    html += "</tr>";
  }
  return `${html}</table>`;
}

// A channel of ``name`` in words; the input's channels of a colour photo by their colour.
function channelWords(name, shape, c) {
  return name === "input" && shape[0] === COLOURS.length ? `${COLOURS[c]} channel` : `channel ${c}`;
}

// One value of an output in plain words: ``words`` is how the output is called ("C3 after
// ReLU"), ``shape`` its shape, ``at`` the value's position ([c, y, x] or a unit's index):
// "C3 after ReLU, channel 5, row 4, column 6", "F6 after ReLU, unit 55"; a 1×1 map's value
// is named by its channel alone.
export function placeWords(words, shape, at) {
  if (shape.length === 1) return `${words}, unit ${Array.isArray(at) ? at[0] : at}`;
  const [c, y, x] = at, channel = `${words}, ${channelWords(words, shape, c)}`;
  return shape[1] * shape[2] === 1 ? channel : `${channel}, row ${y}, column ${x}`;
}

function heading(t, classes, outputName) {
  if (t.layer === outputName) return `${t.layer} · “${escape(classes[t.channel])}”`;
  return placeWords(t.layer_words, t.layer_shape, t.kind === "linear" ? t.channel : [t.channel, t.y, t.x]);
}

function field(t) {
  const [top, left, bottom, right] = t.receptive_field;
  return `<p>It depends on input rows ${top}–${bottom}, columns ${left}–${right}
    (outlined on the input).</p>`;
}

function sums(t) {
  return `<p class="nv-sum">Sum of the ${t.products.length} products ${fixed(t.sum_of_products)}
    ${term(t.bias)} (bias) = ${fixed(t.pre_activation)} (pre-activation)</p>`;
}

// The value the sum gave: through the activation, or as it is. An output of a model that
// averages with the mirror image is this image's own logit, not yet the answer's.
function result(t, mirrored) {
  if (t.activation) {
    return `<p class="nv-sum">${t.activation}(${fixed(t.pre_activation)}) = <strong>${fixed(t.value)}</strong>,
      the value of ${escape(t.layer_words)} shown.</p>`;
  }
  const what = mirrored ? "this image's own logit z" : "the value shown";
  return `<p class="nv-sum">= <strong>${fixed(t.value)}</strong>, ${what}.</p>`;
}

function terms(t) {
  const shown = t.top_contributions.slice(0, TERMS);
  let html = `<table class="nv-terms"><caption>The ${shown.length} largest of the
    ${t.products.length} input × weight products</caption>
    <tr><th>input</th><th>value</th><th>× weight</th><th>= product</th></tr>`;
  for (const c of shown) {
    const at = c.at === null ? "padding" : placeWords(t.source_words, t.source_shape, c.at);
    html += `<tr><td>${escape(at)}</td><td>${fixed(c.input)}</td><td>${fixed(c.weight)}</td>
      <td>${fixed(c.product)}</td></tr>`;
  }
  return `${html}</table>`;
}

function pooled(t) {
  const [, kh, kw] = t.shape, [top, left] = t.origin, source = escape(t.source_words);
  const word = t.pool === "max" ? "the largest value of" : "the mean of";
  return `<p>${t.layer} is ${word} a ${kh}×${kw} window of ${source},
      ${channelWords(t.source_words, t.source_shape, t.channel)}:</p>`
    + table(t.inputs, kh, kw, `${source}, rows ${top}–${top + kh - 1},
      columns ${left}–${left + kw - 1}`, t.winner)
    + `<p class="nv-sum">${t.pool === "max" ? "max" : "mean"} = <strong>${fixed(t.value)}</strong>,
      the value shown.</p>`;
}

// The kernel's patch, weights and products side by side, one input channel at a time.
function kernelTables(t) {
  const [c, kh, kw] = t.shape, source = escape(t.source_words);
  let html = `<p>The kernel (${c} × ${kh}×${kw} weights) lies on the input patch; each input
      is multiplied by its weight and the products are added up.</p><div class="nv-tables">`;
  for (let k = 0; k < c; k += 1) {
    const part = (a) => a.slice(k * kh * kw, (k + 1) * kh * kw);
    const name = c > 1 ? ` · ${source}, ${channelWords(t.source_words, t.source_shape, k)}` : "";
    html += `<div class="nv-triple">${table(part(t.inputs), kh, kw, `patch${name}`)}
        ${table(part(t.weights), kh, kw, "kernel")}${table(part(t.products), kh, kw, "products")}</div>`;
  }
  return `${html}</div>`;
}

// How an output's logit becomes the answer: the mean with the mirror image's (where the model
// averages), then the softmax, with the run's own exponentials and denominator.
function answer(t, classes, run) {
  const k = t.channel, name = escape(classes[k]);
  let html = "";
  if (run.mirrorLogits) {
    html += `<p>The mirror image's logit for “${name}” is ${fixed(run.mirrorLogits[k])}; the
      answer uses the mean of the two: (${fixed(t.value)} ${term(run.mirrorLogits[k])}) / 2 =
      ${fixed(run.logits[k])}, the z shown beside “${name}”.</p>`;
  }
  return `${html}<p>The softmax turns the ${classes.length} logits into probabilities:
    p(“${name}”) = e<sup>${fixed(run.logits[k], 2)}</sup> / (the sum of e<sup>z</sup> over
    every class) = ${powerHtml(run.exponentials[k])} / ${powerHtml(run.denominator)} =
    ${percent(run.probabilities[k], 2)}.</p>`;
}

// ``t``: the engine's trace; ``classes``, ``outputName``: to name output units; ``run``: the
// forward result it came from (for the softmax and the mirror average).
export function traceHtml(t, { classes, outputName, run }) {
  let html = `<h4>${heading(t, classes, outputName)}</h4>${field(t)}`;
  if (t.kind === "pool") return html + pooled(t);
  const output = t.layer === outputName && run;
  html += sums(t) + result(t, output && Boolean(run.mirrorLogits));   // the result first
  const tables = t.kind === "conv" && t.products.length <= TABLE_LIMIT;
  html += tables ? kernelTables(t) : terms(t);
  return output ? html + answer(t, classes, run) : html;
}
