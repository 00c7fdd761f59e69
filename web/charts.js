// Small charts as inline SVG, the page's twin of ui/charts.py: lines against a numeric axis
// (lineChart) and bars by name (barChart). Both return the same HTML text as the Python
// functions for the same numbers (tests/test_charts.py holds them equal), so a chart looks the
// same whichever side drew it. The words are text the browser sets, styled at 13 px and more by
// page.css (.chart, .chart-title, .chart-grid, .chart-marker, .chart-key); the colours are
// matplotlib's tab10, one per series. Text only: no page, no engine.

// The drawing's own units (about a phone's width, so its 15-unit text stays >= 13 px) and the
// room kept for ticks and titles: ui/charts.py's WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM.
const WIDTH = 360, HEIGHT = 230;
const LEFT = 56, RIGHT = 10, TOP = 30, BOTTOM = 44;
// matplotlib's tab10 as ui/charts.py reads it from matplotlib (the test compares every colour).
export const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

// ------------------------------------------------------------------------------ numbers as Python writes them
// The charts' text must read as Python's f-strings write it, ties included: JavaScript's toFixed
// rounds an exact half away from zero (0.25 -> "0.3"), Python to the even digit ("0.2").

/** `v` with `digits` decimals, rounded as Python's f"{v:.{digits}f}". */
export function pyFixed(v, digits) {
  const sign = v < 0 || Object.is(v, -0) ? "-" : "";
  const size = Math.abs(v);
  // toFixed(100) is the exact decimal expansion for every double a chart holds (>= 2^-48).
  const exact = size.toFixed(100);
  const point = exact.indexOf(".");
  const rest = exact.slice(point + 1 + digits);
  let text = size.toFixed(digits);
  if (/^50*$/.test(rest)) {   // a tie: keep the even digit
    const kept = exact.slice(0, point + 1 + digits).replace(/\.$/, "");
    const last = Number(kept[kept.length - 1]);
    if (last % 2 === 0) text = kept;
  }
  return sign + text;
}

/** `v` as Python's f"{v:g}": six significant digits, no trailing zeros, powers of ten below
 * 1e-4 and from 1e6 on ("1e-05", "1e+06"). */
export function pyG(v) {
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const exponent = Number(v.toExponential(5).split("e")[1]);
  const strip = (text) => (text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text);
  if (exponent >= -4 && exponent < 6) return strip(pyFixed(v, 5 - exponent));
  const [mantissa] = v.toExponential(5).split("e");
  const power = Math.abs(exponent) < 10 ? `0${Math.abs(exponent)}` : String(Math.abs(exponent));
  return `${strip(mantissa)}e${exponent < 0 ? "-" : "+"}${power}`;
}

// 10^n as the nearest double, as Python's 10 ** n (a division by an exact power for n < 0).
const powerOfTen = (n) => (n >= 0 ? 10 ** n : 1 / 10 ** -n);

/** Text safe in HTML and its attributes, as Python's html.escape. */
export function escapeHtml(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
}

/** About `count` round numbers from `low` to `high` (ui/charts.py ticks). */
export function ticks(low, high, count = 5) {
  if (high <= low) return [low];
  let step = powerOfTen(Math.floor(Math.log10((high - low) / count)));
  for (const factor of [1, 2, 5, 10]) {
    if ((high - low) / (step * factor) <= count) {
      step *= factor;
      break;
    }
  }
  const first = Math.ceil(low / step) * step;
  const many = Math.trunc((high - first) / step + 1e-9) + 1;
  return Array.from({length: many}, (_, k) => Number(pyFixed(first + k * step, 10)));
}

// ------------------------------------------------------------------------------ the frame
// The title, the horizontal grid with its ticks, the x-axis's labels at `xMarks` ([x, text])
// and both axes' titles: the SVG's opening parts, as a list of strings. Python writes the
// halves of whole numbers (WIDTH / 2) as "180.0": one decimal here.
function frame(title, xTitle, yTitle, yTicks, y, xMarks) {
  const parts = [
    `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(title)}" `
      + `class="chart" xmlns="http://www.w3.org/2000/svg">`,
    `<title>${escapeHtml(title)}</title>`,
    `<text x="${pyFixed(WIDTH / 2, 1)}" y="18" text-anchor="middle" class="chart-title">`
      + `${escapeHtml(title)}</text>`,
  ];
  for (const value of yTicks) {
    const at = pyFixed(y(value), 1);
    parts.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${at}" y2="${at}" class="chart-grid"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${pyFixed(y(value) + 4, 1)}" text-anchor="end">${pyG(value)}</text>`);
  }
  for (const [x, label] of xMarks) {
    parts.push(`<text x="${pyFixed(x, 1)}" y="${HEIGHT - BOTTOM + 18}" text-anchor="middle">`
      + `${escapeHtml(label)}</text>`);
  }
  parts.push(`<text x="${pyFixed((LEFT + WIDTH - RIGHT) / 2, 1)}" y="${HEIGHT - 6}" `
    + `text-anchor="middle">${escapeHtml(xTitle)}</text>`);
  parts.push(`<text transform="translate(14 ${pyFixed((TOP + HEIGHT - BOTTOM) / 2, 1)}) rotate(-90)" `
    + `text-anchor="middle">${escapeHtml(yTitle)}</text>`);
  return parts;
}

const colour = (k) => COLOURS[k % COLOURS.length];

// ------------------------------------------------------------------------------ the charts
/**
 * One line per series ([{name, points: [[x, y], ...]}]), a legend (in the drawing for two
 * series, as HTML below it for more), and a dashed vertical line at x = `marker` (class
 * "chart-marker", data-x its value) unless it is undefined or null. Returns the chart's HTML.
 */
export function lineChart(series, {title = "", xlabel = "", ylabel = "", marker} = {}) {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xLow = Math.min(...xs), xHigh = Math.max(...xs);
  const yTicks = ticks(Math.min(...ys), Math.max(...ys));
  const yLow = Math.min(yTicks[0], Math.min(...ys)), yHigh = Math.max(yTicks[yTicks.length - 1], Math.max(...ys));
  const spanX = xHigh - xLow || 1, spanY = yHigh - yLow || 1;
  const x = (v) => LEFT + (v - xLow) / spanX * (WIDTH - LEFT - RIGHT);
  const y = (v) => HEIGHT - BOTTOM - (v - yLow) / spanY * (HEIGHT - TOP - BOTTOM);
  const parts = frame(title, xlabel, ylabel, yTicks, y, ticks(xLow, xHigh, 6).map((v) => [x(v), pyG(v)]));
  series.forEach(({name, points}, k) => {
    const line = points.map(([a, b]) => `${pyFixed(x(a), 1)},${pyFixed(y(b), 1)}`).join(" ");
    parts.push(`<polyline points="${line}" fill="none" stroke="${colour(k)}" stroke-width="2.5">`
      + `<title>${escapeHtml(name)}</title></polyline>`);
    if (series.length > 1 && series.length <= 2) {
      parts.push(`<text x="${WIDTH - RIGHT - 4}" y="${TOP + 4 + 16 * k}" text-anchor="end" `
        + `fill="${colour(k)}" class="chart-legend">${escapeHtml(name)}</text>`);
    }
  });
  if (marker !== undefined && marker !== null) {
    const at = pyFixed(x(marker), 1);
    parts.push(`<line x1="${at}" x2="${at}" y1="${TOP}" y2="${HEIGHT - BOTTOM}" class="chart-marker" `
      + `data-x="${pyG(marker)}"/>`);
  }
  parts.push("</svg>");
  if (series.length > 2) {   // many lines: the key below the drawing, as HTML text
    parts.push('<p class="chart-key">' + series.map(({name}, k) =>
      `<span style="color: ${colour(k)}">■ ${escapeHtml(name)}</span>`).join(" ") + "</p>");
  }
  return `<figure class="chart-box">${parts.join("")}</figure>`;
}

/**
 * One bar per name with its value written above it (ui/charts.py bar_chart). The axis starts
 * at zero and ends a little above the largest value, so small differences show; the x-axis
 * is titled "class". Returns the chart's HTML.
 */
export function barChart(names, values, {title = "", ylabel = ""} = {}) {
  const largest = Math.max(...values);
  const yTicks = ticks(0, largest * 1.15 || 1);
  const top = Math.max(yTicks[yTicks.length - 1], largest * 1.15) || 1;
  const y = (v) => HEIGHT - BOTTOM - v / top * (HEIGHT - TOP - BOTTOM);
  const slot = (WIDTH - LEFT - RIGHT) / names.length;
  const middle = (k) => LEFT + (k + 0.5) * slot;
  const labels = names.map((name, k) => [middle(k), String(name).slice(0, 5)]);
  const parts = frame(title, "class", ylabel, yTicks, y, labels);
  values.forEach((value, k) => {
    parts.push(`<rect x="${pyFixed(middle(k) - slot * 0.35, 1)}" y="${pyFixed(y(value), 1)}" `
      + `width="${pyFixed(slot * 0.7, 1)}" height="${pyFixed(y(0) - y(value), 1)}" fill="${COLOURS[0]}">`
      + `<title>${escapeHtml(names[k])}: ${pyFixed(value, 2)}</title></rect>`);
    parts.push(`<text x="${pyFixed(middle(k), 1)}" y="${pyFixed(y(value) - 4, 1)}" text-anchor="middle">`
      + `${pyFixed(value, 1)}</text>`);
  });
  parts.push("</svg>");
  return `<figure class="chart-box">${parts.join("")}</figure>`;
}
