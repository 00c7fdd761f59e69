// The network view's columns, built from the network's own layer table, in the order the data
// flows: the input, conv and pooling layers as grids of maps, linear layers as grids of units,
// the last layer as the named outputs. Layout only: nothing here reads a run.

import { el } from "./dom.js";

const COLUMN_HEIGHT = 360;   // CSS pixels the tallest grid of maps may take on a laptop
const GAP = 4;               // CSS pixels between tiles
export const UNIT = 12;      // CSS pixels per unit of a fully connected layer

// Tiles as large as fit COLUMN_HEIGHT, at most 56 px and 4 screen pixels per value; more
// columns of tiles when one column would make them smaller than twice their size (1.4 times,
// for layers of many maps, which would otherwise not fit a laptop's width). The page scales
// every tile by --scale (view.css) to the room the screen has.
function tileLayout(channels, size) {
  const least = channels > 64 ? Math.ceil(1.4 * size) : Math.min(2 * size, 28);
  for (let cols = 1; ; cols += 1) {
    const rows = Math.ceil(channels / cols);
    const tile = Math.min(56, 4 * size, Math.floor(COLUMN_HEIGHT / rows) - GAP);
    if (tile >= least || cols >= channels) return { cols, tile: Math.max(tile, size) };
  }
}

function unitLayout(units) {
  const cols = Math.max(1, Math.ceil(Math.sqrt(units / 2)));
  return { cols, rows: Math.ceil(units / cols) };
}

const KIND_WORDS = {
  conv: (l) => `conv ${l.kernel[0]}×${l.kernel[1]}` + (l.padding[0] ? `, pad ${l.padding[0]}` : ""),
  maxpool: (l) => `max-pool ${l.kernel[0]}×${l.kernel[1]}`,
  avgpool: (l) => `avg-pool ${l.kernel[0]}×${l.kernel[1]}`,
  linear: () => "fully connected",
};

const SHOWN_KINDS = ["conv", "maxpool", "avgpool", "linear"];

// A column: its section, the body the pictures go in, and the line for the values' range and
// colour key under them.
function column(flow, key, title, shape, words) {
  const section = el("section", { class: "nv-col", "data-column": key });
  const head = el("header", {});
  head.append(el("h3", {}, title), el("p", { class: "nv-shape" }, shape),
    el("p", { class: "nv-words" }, words));
  const body = el("div", { class: "nv-body" });
  const key_ = el("div", { class: "nv-key" });
  section.append(head, body, key_);
  flow.insertBefore(section, flow.querySelector(".nv-explain"));   // null: at the end
  return { section, body, key: key_ };
}

function inputColumn(flow, net) {
  const { channels, height, width } = net.inputShape;
  const col = column(flow, "input", "Input", `${height}×${width}` + (channels > 1 ? ` × ${channels}` : ""),
    "one number per pixel");
  const canvas = el("canvas", { class: "nv-map nv-input", width, height,
    "data-layer": "input", "data-channel": "0", "aria-label": "the network's input" });
  col.body.append(canvas);
  return { canvases: [canvas], key: col.key, section: col.section };
}

function mapsColumn(flow, layer, layout) {
  const [c, h, w] = layer.shape;
  const col = column(flow, layer.name, layer.name, `${c} × ${h}×${w}`, KIND_WORDS[layer.kind](layer));
  // Many small maps sit closer together, so that a layer of 128 fits beside the others.
  const grid = el("div", { class: layout.cols > 4 ? "nv-grid nv-dense" : "nv-grid",
    style: `--cols:${layout.cols};--tile:${layout.tile}px` });
  const canvases = [];
  for (let k = 0; k < c; k += 1) {
    const canvas = el("canvas", { class: "nv-map", width: w, height: h, "data-layer": layer.name,
      "data-channel": String(k) });   // named in words by view_keys.js
    canvases.push(canvas);
    grid.append(canvas);
  }
  col.body.append(grid);
  return { canvases, layer, key: col.key, section: col.section };
}

function unitsColumn(flow, layer) {
  const units = layer.shape[0];
  const { cols, rows } = unitLayout(units);
  const words = KIND_WORDS[layer.kind](layer);
  const col = column(flow, layer.name, layer.name, `${units} units`,
    layer.kind === "conv" ? `${words}: 1×1 maps` : words);
  const canvas = el("canvas", { class: "nv-units", width: cols, height: rows, "data-layer": layer.name,
    "data-cols": String(cols), "data-units": String(units),
    style: `--w:${cols * UNIT}px;--h:${rows * UNIT}px` });
  col.body.append(canvas);
  return { canvases: [canvas], layer, key: col.key, section: col.section, cols, units };
}

function outputColumn(flow, net, outputName) {
  const col = column(flow, outputName, "Output", `${net.classes.length} classes`,
    "logit z and softmax probability");
  col.section.classList.add("nv-output");
  // One column width for every row's name, so that the bars line up.
  const longest = Math.max(...net.classes.map((name) => name.length));
  const list = el("ol", { class: "nv-classes", style: `--chars:${longest}` });
  const rows = net.classes.map((name, k) => {
    const row = el("li", { "data-layer": outputName, "data-channel": String(k), tabindex: "0" });
    const fill = el("span", { class: "nv-fill" });
    const bar = el("span", { class: "nv-bar" });
    bar.append(fill);
    const p = el("span", { class: "nv-p" }, "");
    const z = el("span", { class: "nv-z" }, "");
    row.append(el("span", { class: "nv-class" }, name), bar, p, z);
    list.append(row);
    return { row, fill, p, z };
  });
  col.body.append(list);
  return { rows, section: col.section };
}

// Every column of ``net`` in ``flow``: {columns: {name: {canvases, layer, key, ...}}, rows
// (the outputs), outputName}.
export function buildColumns(flow, net) {
  const columns = { input: inputColumn(flow, net) };
  const shown = net.layers.filter((l) => SHOWN_KINDS.includes(l.kind));
  const outputName = shown[shown.length - 1].name;
  let previous = null;
  for (const layer of shown.slice(0, -1)) {
    const [c, h] = layer.shape;
    if (layer.shape.length === 3 && h > 1) {
      // A pooling layer keeps the layout of the maps it pools, so that each pooled map sits
      // beside the map it came from.
      const pooled = layer.kind !== "conv" && previous && previous.channels === c;
      previous = { channels: c, ...(pooled ? previous : tileLayout(c, h)) };
      columns[layer.name] = mapsColumn(flow, layer, previous);
    } else {
      columns[layer.name] = unitsColumn(flow, layer);
    }
  }
  const { rows, section } = outputColumn(flow, net, outputName);
  return { columns, rows, outputSection: section, outputName };
}
