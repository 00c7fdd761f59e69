// The trace of one unit as HTML: the numbers the engine's trace returned (engine.js trace),
// laid out so that a reader can redo the sum. Nothing is computed here but the layout.

const TABLE_LIMIT = 150;   // products shown as tables up to this many; else the largest terms
const TERMS = 8;

const f = (v) => v.toFixed(3).replace("-", "−");
const signed = (v) => (v >= 0 ? "+ " : "− ") + Math.abs(v).toFixed(3);
const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

// A flat array of ``rows`` x ``cols`` values as a table; ``mark`` outlines one cell.
function table(values, rows, cols, caption, mark = null) {
  let html = `<table class="nv-numbers"><caption>${caption}</caption>`;
  for (let r = 0; r < rows; r += 1) {
    html += "<tr>";
    for (let c = 0; c < cols; c += 1) {
      const v = values[r * cols + c];
      const cls = mark && mark[0] === r && mark[1] === c ? ' class="nv-winner"' : "";
      html += `<td${cls}>${f(v)}</td>`;
    }
    html += "</tr>";
  }
  return `${html}</table>`;
}

function where(t, classes, outputName) {
  if (t.layer === outputName) return `${t.layer} · “${escape(classes[t.channel])}”`;
  if (t.kind === "linear" || (t.shape && t.shape.length === 1)) return `${t.layer} · unit ${t.channel}`;
  return `${t.layer} · channel ${t.channel} · row ${t.y}, column ${t.x}`;
}

function field(t) {
  const [top, left, bottom, right] = t.receptive_field;
  return `<p>It depends on input rows ${top}–${bottom}, columns ${left}–${right}
    (outlined on the input).</p>`;
}

function activation(t) {
  if (!t.activation) return `<p class="nv-sum">= <strong>${f(t.value)}</strong>, the value shown.</p>`;
  return `<p class="nv-sum">${t.activation}(${f(t.pre_activation)}) = <strong>${f(t.value)}</strong>,
    the value shown after the activation.</p>`;
}

function sums(t, count) {
  return `<p class="nv-sum">Sum of the ${count} products ${f(t.pre_activation - t.bias)}
    ${signed(t.bias)} (bias) = ${f(t.pre_activation)} (pre-activation)</p>`;
}

function terms(t) {
  let html = `<table class="nv-terms"><caption>The ${Math.min(TERMS, t.top_contributions.length)}
    largest of the ${t.size} input × weight products</caption>
    <tr><th>input</th><th>value</th><th>× weight</th><th>= product</th></tr>`;
  for (const term of t.top_contributions.slice(0, TERMS)) {
    const at = term.at === null ? "padding" : Array.isArray(term.at) ? term.at.join(", ") : term.at;
    html += `<tr><td>${t.source} [${at}]</td><td>${f(term.input)}</td><td>${f(term.weight)}</td>
      <td>${f(term.product)}</td></tr>`;
  }
  return `${html}</table>`;
}

// ``t``: the engine's trace; ``classes``, ``outputName``: to name output units; ``run``: the
// forward result it came from (for the softmax and the mirror average).
export function traceHtml(t, { classes, outputName, run }) {
  let html = `<h4>${where(t, classes, outputName)}</h4>${field(t)}`;
  if (t.kind === "pool") {
    const [, kh, kw] = t.shape;
    const word = t.pool === "max" ? "the largest value of" : "the mean of";
    html += `<p>${t.layer} is ${word} a ${kh}×${kw} window of ${t.source}, channel ${t.channel}:</p>`;
    html += table(t.inputs, kh, kw, `${t.source} rows ${t.origin[0]}–${t.origin[0] + kh - 1},
      columns ${t.origin[1]}–${t.origin[1] + kw - 1}`, t.winner);
    html += `<p class="nv-sum">${t.pool === "max" ? "max" : "mean"} = <strong>${f(t.value)}</strong>,
      the value shown.</p>`;
    return html;
  }
  const size = t.products.length;
  html += sums(t, size) + activation(t);   // the result first, then how it was made
  if (t.kind === "conv" && size <= TABLE_LIMIT) {
    const [c, kh, kw] = t.shape;
    html += `<p>The kernel (${c} × ${kh}×${kw} weights) lies on the input patch; each input
      is multiplied by its weight and the products are added up.</p><div class="nv-tables">`;
    for (let k = 0; k < c; k += 1) {
      const part = (a) => a.slice(k * kh * kw, (k + 1) * kh * kw);
      const name = c > 1 ? ` · ${t.source} channel ${k}` : "";
      html += `<div class="nv-triple">${table(part(t.inputs), kh, kw, `patch${name}`)}
        ${table(part(t.weights), kh, kw, "kernel")}${table(part(t.products), kh, kw, "products")}</div>`;
    }
    html += "</div>";
  } else {
    html += terms({ ...t, size });
  }
  if (t.layer === outputName && run) {
    if (run.mirrorLogits) {
      html += `<p>The answer uses this logit's mean with the mirror image's:
        (${f(t.value)} ${signed(run.mirrorLogits[t.channel])}) / 2 = ${f(run.logits[t.channel])}.</p>`;
    }
    html += `<p>The softmax turns the ${classes.length} logits into probabilities:
      p(“${escape(classes[t.channel])}”) = ${(100 * run.probabilities[t.channel]).toFixed(2)} %.</p>`;
  }
  return html;
}
