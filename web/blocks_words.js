// The building-blocks tab's settings checked and its results in words, as ui/blocks.py writes
// them (checked, status_line, kernel_block, _kernel_words, _formulas), with the ranges,
// menus and phrases that file writes to web/blocks_tab.json (`k` below). Plain text only:
// the tab (blocks_tab.js) decides where it goes.

import { BlockError } from "./blocks_math.js";

/** Python's round(): halves to the even neighbour. */
export function roundHalfEven(v) {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const finite = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The settings with each whole number rounded in its range, the bias within its limit and
 * each choice one of its names; an empty number takes its default (null). Anything else is a
 * BlockError in ui/blocks.py checked()'s words. */
export function checked(settings, k) {
  const s = {...settings};
  for (const [name, [low, high]] of Object.entries(k.whole)) {
    const value = finite(s[name] ?? k.defaults[name]);
    if (value === null || value < low || value > high) {
      throw new BlockError(`the ${k.words[name]} must be a whole number from ${low} to ${high}`);
    }
    s[name] = roundHalfEven(value);
  }
  s.bias = finite(s.bias ?? 0);
  if (s.bias === null || Math.abs(s.bias) > k.bias_limit) {
    throw new BlockError(`the bias must be a number from −${k.bias_limit} to ${k.bias_limit}`);
  }
  for (const [name, names] of [["source", k.sources], ["pool", Object.keys(k.pools)],
    ["maps_as", Object.keys(k.map_styles)]]) {
    if (!names.includes(s[name])) throw new BlockError(`choose the ${k.words[name]}: ${names.join(", ")}`);
  }
  return s;
}

/** "input 3×256×256 → conv 1×254×254 → ..." (after "<kernel> on <source>: "). */
export function steps(shapes) {
  return Object.entries(shapes).map(([name, shape]) => `${name} ${shape.join("×")}`).join(" → ");
}

/** Python's f"{v:5.2f}": exact halves to even, as Python formats the binary value. */
function twoDecimals(v) {
  const scaled = v * 100, floor = Math.floor(scaled);
  const tie = scaled - floor === 0.5 && Number.isFinite(scaled);
  const rounded = tie ? (floor % 2 === 0 ? floor : floor + 1) / 100 : v;
  return rounded.toFixed(2).padStart(5).replace("-0.00", " 0.00");
}

/** One filter [I, kh, kw] (data in that order) as aligned numbers, channels one under the
 * other named R, G, B: ui/blocks.py kernel_block without the Markdown fence. */
export function kernelBlock(data, [i, kh, kw]) {
  const whole = data.every((v) => v === Math.round(v));
  const text = (v) => (whole ? roundHalfEven(v).toFixed(0).padStart(3) : twoDecimals(v));
  const names = i === 3 ? ["R", "G", "B"] : Array(i).fill("");
  return names.map((name, c) => Array.from({length: kh}, (_, y) => {
    const row = Array.from(data.slice((c * kh + y) * kw, (c * kh + y + 1) * kw), text).join(" ");
    return (y === 0 ? name : " ".repeat(name.length)) + (name ? "  " : "") + row;
  }).join("\n")).join("\n\n");
}

/** The kernel in words and numbers: {words, filters: [{title, text}]}, as _kernel_words. */
export function kernelWords(kernel, about, channels, k) {
  const [o, i, kh, kw] = kernel.shape, shown = kernel.data.length <= k.show_all ? o : 1;
  const words = [`Kernel in use: ${o} filter${o > 1 ? "s" : ""} of ${kh}×${kw}` + (i > 1 ? `×${i}` : "")
    + (about ? `, ${about}` : "") + (shown === o ? "" : "; the first one shown") + "."];
  if (i === 1 && channels === 3) words.push(k.colour_words);
  if (i === 3 && channels === 1) words.push(k.grey_words);
  const n = i * kh * kw;
  const filters = Array.from({length: shown}, (_, f) => ({
    title: shown > 1 ? `Filter ${f}:` : "",
    text: kernelBlock(Array.from(kernel.data.slice(f * n, (f + 1) * n)), [i, kh, kw]),
  }));
  return {words: words.join(" "), filters};
}

/** The output-size lines: [the rule, the convolution's, ReLU's, pooling's], as _formulas. */
export function formulaLines(result, {stride, padding, pool, poolSize, poolStride}, k) {
  const [, , kh, kw] = result.kernel.shape;
  const lines = [`Output size ${k.size_rule}:`,
    `convolution ${kh}×${kw}, stride ${stride}, padding ${padding}: ${result.formulas.conv}`];
  if (result.shapes.relu) lines.push("ReLU keeps the shape");
  if (result.formulas.pool) {
    lines.push(`${pool} pooling ${poolSize}×${poolSize}, stride ${poolStride}, no padding: `
      + result.formulas.pool);
  }
  return lines;
}
