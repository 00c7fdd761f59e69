// The "Inside the models" tab, all in the page: for the model chosen, its test accuracy, its
// architecture, its first convolution's filters and every kernel, its training curves, its
// test error per class and its confusion matrix, all read from the checkpoint (its weights
// and the JSON the Python side wrote into its header). Every model's checkpoint is read once,
// when the tab starts; choosing another model only shows another section, so nothing a
// visitor does here sends a request. The numbers and pixels are inside_numbers.js's, the
// charts charts.js's (both held equal to Python's by tests/test_inside_page.py).

import { fileUrl } from "./shared.js";
import { linkStyleSheet } from "./dom.js";
import { Network, parseSafetensors } from "./engine.js";
import { barChart, escapeHtml, lineChart } from "./charts.js";
import { fixed, signed } from "./format.js";
import { architectureRows, classErrors, colourBarStops, filterTiles, kernelSheet } from "./inside_numbers.js";

const COLUMNS = ["layer", "operation", "kernel / stride / padding", "output shape", "parameters"];
const thousands = (n) => n.toLocaleString("en-US");
let mounted = 0;   // radio groups of two mounts of this tab must not share a name

export async function mount({element, start}) {
  const status = element.querySelector(".in-status");
  const [words, models] = await Promise.all([
    loadJson("web/words.json"), Promise.all(start.models.map(loadModel)),
    linkStyleSheet("web/inside_tab.css")]);
  const sections = element.querySelector(".in-sections");
  const choices = element.querySelector(".in-models");
  const group = `in-model-${mounted++}`;
  const shown = models.map((model) => {
    const section = document.createElement("section");
    section.className = "in-model";
    section.dataset.model = model.name;
    section.hidden = true;
    if (model.net) fillSection(section, model, words);
    else section.innerHTML = `<p class="in-error">⚠️ ${escapeHtml(model.title)} could not be read: ${escapeHtml(model.error)}</p>`;
    sections.append(section);
    const label = document.createElement("label");
    label.innerHTML = `<input type="radio" name="${group}" value="${escapeHtml(model.name)}"> ${escapeHtml(model.title)}`;
    choices.append(label);
    return {model, section, input: label.querySelector("input")};
  });

  function choose(name) {
    for (const {model, section, input} of shown) {
      section.hidden = model.name !== name;
      input.checked = model.name === name;
    }
  }
  choices.addEventListener("change", (event) => choose(event.target.value));
  choose(models[0].name);
  element.querySelector(".in-choose").hidden = false;
  status.textContent = "";
  window.cnnPage = {...window.cnnPage, inside: {models, choose}};
  element.dataset.ready = "true";
}

// ------------------------------------------------------------------------------ loading
async function fetchOk(path) {
  const response = await fetch(fileUrl(path));
  if (!response.ok) throw new Error(`${path} could not be loaded (HTTP ${response.status})`);
  return response;
}

const loadJson = async (path) => (await fetchOk(path)).json();

/** A model of the start ({name, path, title}) with its network and tensors, or the one line
 * that says why it could not be read (the other models are still shown). */
async function loadModel(entry) {
  try {
    const file = parseSafetensors(await (await fetchOk(entry.path)).arrayBuffer());
    return {...entry, net: new Network(file), tensors: file.tensors};
  } catch (error) {
    return {...entry, error: error.message};
  }
}

// ------------------------------------------------------------------------------ one model
function fillSection(section, {net, tensors}, words) {
  const meta = net.meta;
  const define = (key) => `<strong>${words[key][0]}.</strong> ${words[key][1]}`;
  const adam = meta.hyperparameters.optimizer === "Adam";   // named in the title: say what it is
  const convs = net.layers.filter((row) => row.kind === "conv");
  const tiles = convs.length ? filterTiles(tensors[convs[0].weight]) : null;
  section.innerHTML = [
    `<h3>${escapeHtml(meta.title)}</h3>`,
    `<p class="in-summary">${summary(net)}</p>`,
    table("Architecture", COLUMNS, architectureRows(net.layers, meta.input_shape, tensors)
      .map((row) => [...row.slice(0, 4), thousands(row[4])]), {numbers: [4]}),
    ...["layer_names", ...(adam ? ["adam"] : [])].map((key) => `<p>${define(key)}</p>`),
    convs.length ? filtersHtml(convs[0], tiles, define("kernel")) : "",
    convs.length ? kernelsHtml(convs, tensors) : "",
    charts(meta, net.classes),
    table("Confusion matrix on the test set (rows: true class)", ["true ↓ / predicted →", ...net.classes],
      meta.confusion_matrix.map((row, k) => [net.classes[k], ...row]), {numbers: net.classes.map((_, k) => k + 1)}),
  ].join("");
  section.querySelectorAll(".filters img").forEach((img, o) => { img.src = tilePicture(tiles, o); });
  const sheets = section.querySelectorAll(".in-kernels canvas");
  convs.forEach((row, k) => drawSheet(sheets[k], kernelSheet(tensors[row.weight])));
}

/** "Test accuracy 99.47 % on 10,000 test images · 61,706 parameters · trained 15 epochs ...",
 * with the mirror average's accuracy for a model that answers so. */
function summary(net) {
  const meta = net.meta;
  let accuracy = `Test accuracy <strong>${fixed(100 * meta.test_accuracy, 2)} %</strong>`;
  if (net.mirrorAverage) {
    accuracy += ` in one pass, <strong>${fixed(100 * meta.mirror_test_accuracy, 2)} %</strong> with each `
      + "photo's logits averaged with its mirror image's, as this page answers,";
  }
  return `${accuracy} on ${thousands(meta.data.test)} test images · ${thousands(meta.parameters)} parameters · `
    + `trained ${meta.hyperparameters.epochs} epochs on ${thousands(meta.data.train)} images `
    + `(${escapeHtml(meta.date.slice(0, 10))}).`;
}

/** A table in a box of its own that scrolls sideways on a narrow screen; the first cell of
 * each row is its header; the columns `numbers` are right-aligned. */
function table(caption, headers, rows, {numbers = []} = {}) {
  const cell = (v, k) => (k === 0 ? `<th scope="row">${escapeHtml(v)}</th>`
    : `<td${numbers.includes(k) ? ' class="in-number"' : ""}>${escapeHtml(v)}</td>`);
  return `<div class="in-scroll" tabindex="0"><table class="in-table"><caption>${escapeHtml(caption)}</caption>`
    + `<thead><tr>${headers.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join("")}</tr></thead>`
    + `<tbody>${rows.map((row) => `<tr>${row.map(cell).join("")}</tr>`).join("")}</tbody></table></div>`;
}

// ------------------------------------------------------------------------------ filters, kernels
function colourBar(low, high, stops, words) {
  return `<div class="colour-bar"><span>${signed(low, 2)}</span><span class="bar" `
    + `style="background: linear-gradient(to right, ${stops})"></span><span>${signed(high, 2)}</span>`
    + `<span>(${words})</span></div>`;
}

/** The words, numbered places for the filters' pictures (tilePicture fills them) and their
 * colour bar, for the first convolution `row` and its `filterTiles`. */
function filtersHtml(row, {tiles, low, high, width: kw, height: kh}, kernelWords) {
  const O = tiles.length, I = row.inputs;
  const figures = Array.from({length: O}, (_, k) =>
    `<figure><img alt="filter ${k}" width="${kw}" height="${kh}"><figcaption>#${k}</figcaption></figure>`).join("");
  const words = I === 3 ? "each colour channel from the lowest weight (dark) to the highest (bright)"
    : "blue negative, white zero, red positive";
  return `<p><strong>The ${O} learned filters of ${escapeHtml(row.name)}</strong> (${kh}×${kw}). ${kernelWords} `
    + "They are numbered as the draw and photo tabs number the channels.</p>"
    + `<div class="filters">${figures}</div>${colourBar(low, high, colourBarStops(I), words)}`;
}

/** Filter `o` of `filterTiles` as a PNG data URL (an <img> keeps its alt text). */
function tilePicture({tiles, width, height}, o) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").putImageData(new ImageData(tiles[o], width, height), 0, 0);
  return canvas.toDataURL("image/png");
}

function kernelsHtml(convs, tensors) {
  const figures = convs.map((row) => {
    const [O, I, kh, kw] = tensors[row.weight].shape;
    return `<figure><figcaption>${escapeHtml(row.name)}: ${O}x${I} kernels of ${kh}x${kw}`
      + `</figcaption><div class="in-scroll"><canvas role="img" aria-label="every kernel of ${escapeHtml(row.name)}">`
      + `</canvas></div><div class="in-kernel-bar"></div></figure>`;
  }).join("");
  return `<details class="in-kernels"><summary>Every learned kernel (${convs.map((r) => escapeHtml(r.name)).join(", ")})`
    + "</summary><p>One row per output channel, one column per input channel (a layer of more than 32 "
    + "output channels continues in further blocks to the right); each layer on one colour scale centred "
    + "at zero (blue negative, red positive), with the layer's largest weight at the ends of the bar.</p>"
    + `${figures}</details>`;
}

function drawSheet(canvas, sheet) {
  canvas.width = sheet.width;
  canvas.height = sheet.height;
  canvas.style.setProperty("--w", sheet.width);
  canvas.style.setProperty("--h", sheet.height);
  canvas.getContext("2d").putImageData(new ImageData(sheet.rgba, sheet.width, sheet.height), 0, 0);
  canvas.closest("figure").querySelector(".in-kernel-bar").outerHTML =
    colourBar(-sheet.top, sheet.top, colourBarStops(1), "blue negative, white zero, red positive");
}

// ------------------------------------------------------------------------------ charts
function charts(meta, classes) {
  const history = meta.history;
  const curve = (name, key, times = 1) => ({name, points: history.map((h) => [h.epoch, times * h[key]])});
  return '<div class="charts">'
    + lineChart([curve("training", "train_loss"), curve("validation", "val_loss")],
      {title: "Loss per epoch", xlabel: "epoch", ylabel: "loss"})
    + lineChart([curve("validation", "val_accuracy", 100)],
      {title: "Validation accuracy per epoch", xlabel: "epoch", ylabel: "accuracy (%)"})
    + barChart(classes, classErrors(meta), {title: "Test error per class (%)", ylabel: "error (%)"})
    + "</div>";
}
