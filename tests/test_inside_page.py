"""The "Inside the models" tab in the page (web/inside_tab.js, web/inside_numbers.js) against
the Python engine, on the four committed checkpoints: the architecture table against the torch
modules walked by lenet/inside/explain.py, the first layer's filters and every kernel against
lenet/pictures/visualize.py's pixels, the charts against ui/charts.py's for the same history,
the error bars against the confusion matrix (and LeNet-5's against its gallery and MNIST's
published class sizes). Then the tab itself, mounted in a phone-sized page as both shells
mount it: one model at a time, chosen by keyboard or touch without a request, and nothing
cut off at 390 px."""
from __future__ import annotations

import html
import json
import re

import numpy as np
import pytest
from conftest import ROOT
from test_charts import chart_parts
from torch import nn

from lenet.inside.explain import architecture_rows
from lenet.inside.gallery import gallery_path, load_gallery
from lenet.inside.inference import Classifier
from lenet.net.checkpoint import answer_accuracy, default_checkpoint
from lenet.page import tab_html, tab_starts
from lenet.pictures.visualize import diverging_rgb, filter_tiles
from ui.charts import bar_chart, line_chart

MODELS = ("lenet5", "lenet5-classic", "dense", "convnet")
# MNIST's test set per class, as published with it (yann.lecun.com/exdb/mnist): 10,000 in all.
MNIST_TEST_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)

LOAD = """async (url) => { const e = await import('/web/engine.js');
  const file = e.parseSafetensors(await (await fetch(url)).arrayBuffer());
  return {net: new e.Network(file), tensors: file.tensors}; }"""


@pytest.fixture(scope="module")
def models() -> dict[str, Classifier]:
    return {name: Classifier.from_checkpoint(default_checkpoint(name)) for name in MODELS}


def served(path) -> str:
    return path.resolve().relative_to(ROOT).as_posix()


def start() -> dict:
    return tab_starts({name: default_checkpoint(name) for name in MODELS}, served)["inside"]


def conv_weights(clf: Classifier) -> dict[str, np.ndarray]:
    """Each conv layer's weight by name, in forward order, as the torch model holds it."""
    return {name: m.weight.detach().numpy() for name, m in clf.model.features.named_children()
            if isinstance(m, nn.Conv2d)}


# ---------------------------------------------------------------------------- numbers, pixels

def test_the_architecture_table_is_the_one_python_walks_from_the_modules(js_page, models):
    rows = js_page.evaluate("""async (urls) => { const n = await import('/web/inside_numbers.js');
        const load = """ + LOAD + """;
        const out = {};
        for (const [name, url] of Object.entries(urls)) {
          const {net, tensors} = await load(url);
          out[name] = n.architectureRows(net.layers, net.meta.input_shape, tensors);
        }
        return out; }""", {name: f"/{served(default_checkpoint(name))}" for name in MODELS})
    for name, clf in models.items():
        assert rows[name] == architecture_rows(clf.model, clf.meta["input_shape"]), name
    assert rows["lenet5"][-1] == ["total", "", "", "", 61706]      # LeCun's 61,706 (with padding 2)


def test_the_first_layers_filters_are_pythons_pixels(js_page, models):
    """Signed grey filters (LeNet-5: float32 rounding, half to even) and colour ones (the
    ConvNet: each channel from the lowest weight to the highest, truncated)."""
    for name, clf in models.items():
        weights = conv_weights(clf)
        if not weights:
            continue
        first = next(iter(weights.values()))
        page = js_page.evaluate("""async ({url, weight}) => {
            const n = await import('/web/inside_numbers.js');
            const {net, tensors} = await (""" + LOAD + """)(url);
            const {tiles, low, high} = n.filterTiles(tensors[weight]);
            return {tiles: tiles.map((t) => Array.from(t)), low, high}; }""",
                                {"url": f"/{served(default_checkpoint(name))}",
                                 "weight": f"features.{next(iter(weights))}.weight"})
        tiles, low, high = filter_tiles(first)
        shown = np.array(page["tiles"], np.uint8).reshape(*tiles.shape[:3], 4)
        assert (shown[..., 3] == 255).all()
        assert np.array_equal(shown[..., :3], tiles), name
        assert (page["low"], page["high"]) == (low, high), name


def test_every_kernel_sheet_holds_pythons_colours(js_page, models):
    """Each kernel on the sheet, on its layer's ±max|w| scale, as visualize.diverging_rgb
    colours it (kernel_grid's arithmetic: doubles), and white between kernels."""
    for name in ("lenet5", "convnet"):
        weights = conv_weights(models[name])
        page = js_page.evaluate("""async ({url, names}) => { const n = await import('/web/inside_numbers.js');
            const {tensors} = await (""" + LOAD + """)(url);
            return names.map((w) => {
              const s = n.kernelSheet(tensors[w]), [O, I, kh, kw] = tensors[w].shape, out = [];
              for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) {
                const [x, y] = s.at(o, i);
                for (let r = 0; r < kh; r++) for (let q = 0; q < kw; q++) {
                  const at = 4 * ((y + r) * s.width + x + q);
                  out.push(s.rgba[at], s.rgba[at + 1], s.rgba[at + 2]);
                }
              }
              const [gx, gy] = s.at(0, 0), gap = 4 * ((gy + kh) * s.width + gx);   // under kernel (0, 0)
              return {pixels: out, top: s.top, gap: Array.from(s.rgba.slice(gap, gap + 4))};
            }); }""", {"url": f"/{served(default_checkpoint(name))}",
                       "names": [f"features.{layer}.weight" for layer in weights]})
        for (layer, weight), sheet in zip(weights.items(), page):
            w = weight.astype(np.float64)
            top = float(np.abs(w).max())
            expected = diverging_rgb(w, top)                              # (O, I, kh, kw, 3)
            assert sheet["top"] == pytest.approx(top, rel=1e-7), layer
            shown = np.array(sheet["pixels"], np.uint8).reshape(expected.shape)
            assert np.array_equal(shown, expected), layer
            assert sheet["gap"] == [255, 255, 255, 255], layer


# ---------------------------------------------------------------------------- the tab, mounted

MOUNT = """async ({html, large}) => {
  // As the shells' pages say it: a phone lays the page out at its own width, not 980 px.
  document.head.insertAdjacentHTML('beforeend',
    '<meta name="viewport" content="width=device-width, initial-scale=1">');
  document.body.innerHTML = '<link rel="stylesheet" href="/web/page.css"><div id="inside-view"></div>';
  if (large) document.documentElement.classList.add('large-text');
  await new Promise((r) => { document.querySelector('link').onload = r; });
  const element = document.querySelector('#inside-view');
  element.innerHTML = html;
  (await import('/web/shared.js')).setFiles('/');
  const start = JSON.parse(element.querySelector('[data-start]').dataset.start);
  await (await import('/web/' + start.module)).mount({element, start, base: new URL('/web/', location.href)});
  return element.dataset.ready === 'true'; }"""

SECTION = """(name) => { const s = document.querySelector(`section[data-model="${name}"]`);
  const table = (t) => [...t.querySelectorAll('tr')].map((tr) => [...tr.children].map((c) => c.textContent));
  const tables = [...s.querySelectorAll('table')];
  return {hidden: s.hidden, summary: s.querySelector('.in-summary')?.textContent,
          charts: [...s.querySelectorAll('.charts > figure')].map((f) => f.outerHTML),
          architecture: table(tables[0]), confusion: table(tables[1]),
          captions: tables.map((t) => t.caption.textContent),
          filters: [...s.querySelectorAll('.filters figcaption')].map((f) => f.textContent),
          bar: s.querySelector('.colour-bar')?.textContent}; }"""

# The mounted tab's elements that lie outside the window sideways, unless a box of their own
# between them and the tab scrolls sideways (tests/test_tabs_readable.py's rule).
CUT_OFF = """() => {
  const scrolls = (box) => ['auto', 'scroll'].includes(getComputedStyle(box).overflowX)
      && box.scrollWidth > box.clientWidth;
  const bad = [];
  for (const node of document.querySelectorAll('#inside-view *')) {
    const r = node.getBoundingClientRect();
    if (!r.width || !r.height || (r.left >= -0.5 && r.right <= innerWidth + 0.5)) continue;
    let held = false;
    for (let box = node.parentElement; box && box !== document.body; box = box.parentElement) {
      if (scrolls(box)) { held = true; break; }
    }
    const name = `${node.tagName}.${node.getAttribute('class')}`;
    if (!held) bad.push(`${name} at ${Math.round(r.left)}..${Math.round(r.right)}`);
  }
  return bad.slice(0, 10); }"""


def open_tab(chromium, large: bool = False):
    """The tab as tab_html writes it for both shells, mounted in a 390 px phone page with touch."""
    from jspage import serve_root
    server, url = serve_root()
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{url}/tests/jspage.html")
    assert page.evaluate(MOUNT, {"html": tab_html("inside", start()), "large": large})
    return page, server


@pytest.fixture(scope="module")
def phone(chromium):
    page, server = open_tab(chromium)
    yield page
    page.context.close()
    server.shutdown()


def expected_summary(meta: dict) -> str:
    """The Python tab's sentence (ui/inside.py before the page drew it), without its Markdown."""
    accuracy = f"Test accuracy {100 * meta['test_accuracy']:.2f} %"
    if meta.get("mirror_average"):
        accuracy += (f" in one pass, {100 * answer_accuracy(meta):.2f} % with each photo's logits "
                     f"averaged with its mirror image's, as this page answers,")
    return (f"{accuracy} on {meta['data']['test']:,} test images · {meta['parameters']:,} parameters · "
            f"trained {meta['hyperparameters']['epochs']} epochs on {meta['data']['train']:,} images "
            f"({meta['date'][:10]}).")


def python_charts(clf: Classifier) -> list[str]:
    meta, epochs = clf.meta, [h["epoch"] for h in clf.meta["history"]]
    return [line_chart({"training": (epochs, [h["train_loss"] for h in meta["history"]]),
                        "validation": (epochs, [h["val_loss"] for h in meta["history"]])},
                       "Loss per epoch", "epoch", "loss"),
            line_chart({"validation": (epochs, [100 * h["val_accuracy"] for h in meta["history"]])},
                       "Validation accuracy per epoch", "epoch", "accuracy (%)"),
            bar_chart(list(clf.classes), [100 * (1 - a) for a in meta["per_class_accuracy"]],
                      "Test error per class (%)", "error (%)")]


def charted_errors(chart: str) -> dict[str, float]:
    """The error chart's bars: class -> % (each bar's tooltip, two decimals)."""
    return {name: float(value) for name, value in re.findall(r"<title>([^<:]+): ([\d.]+)</title>", chart)}


def test_each_model_shows_what_its_checkpoint_says(phone, models):
    for name, clf in models.items():
        shown = phone.evaluate(SECTION, name)
        assert shown["summary"] == expected_summary(clf.meta), name
        rows = architecture_rows(clf.model, clf.meta["input_shape"])
        assert shown["architecture"][1:] == [[*map(str, row[:4]), f"{row[4]:,}"] for row in rows], name
        # The charts are the drawings ui/charts.py makes of the same history (tests/test_charts.py
        # holds the two drawings' text equal on made-up numbers; here their parts on the
        # checkpoints', as the browser holds them).
        assert [chart_parts(c) for c in shown["charts"]] == [chart_parts(c) for c in python_charts(clf)], name
        matrix = np.array([[int(v) for v in row[1:]] for row in shown["confusion"][1:]])
        assert np.array_equal(matrix, np.array(clf.meta["confusion_matrix"])), name
        assert [row[0] for row in shown["confusion"][1:]] == list(clf.classes)
        # Each bar against the confusion matrix shown under it: 1 - diagonal / row.
        by_matrix = {c: 100 * (1 - matrix[k, k] / matrix[k].sum()) for k, c in enumerate(clf.classes)}
        assert charted_errors(shown["charts"][2]) == pytest.approx(by_matrix, abs=0.005), name
        assert shown["captions"] == ["Architecture", "Confusion matrix on the test set (rows: true class)"]
        first = next(iter(conv_weights(clf).values()), None)
        assert len(shown["filters"]) == (0 if first is None else first.shape[0]), name
    assert "in one pass" in phone.evaluate(SECTION, "convnet")["summary"]
    assert phone.evaluate(SECTION, "lenet5")["bar"].startswith("−")   # from the most negative weight


def test_lenet5s_error_bars_count_its_gallerys_mistakes(phone):
    """The gallery holds every test mistake: per class, over MNIST's published class sizes."""
    gallery = load_gallery(gallery_path(default_checkpoint("lenet5")))
    wrong = np.bincount(gallery.labels[gallery.is_mistake], minlength=10)
    chart = phone.evaluate(SECTION, "lenet5")["charts"][2]
    assert charted_errors(chart) == pytest.approx(
        {str(k): 100 * wrong[k] / MNIST_TEST_COUNTS[k] for k in range(10)}, abs=0.005)


def test_the_filters_on_screen_are_pythons_pixels(phone, models):
    """The <img> pictures as the browser decoded them, against filter_tiles."""
    for name in ("lenet5", "convnet"):
        pixels = phone.evaluate("""async (name) => Promise.all([...document.querySelectorAll(
            `section[data-model="${name}"] .filters img`)].map(async (img) => {
              await img.decode();
              const c = document.createElement('canvas');
              c.width = img.naturalWidth; c.height = img.naturalHeight;
              const g = c.getContext('2d'); g.drawImage(img, 0, 0);
              return Array.from(g.getImageData(0, 0, c.width, c.height).data); }))""", name)
        tiles, _, _ = filter_tiles(next(iter(conv_weights(models[name]).values())))
        shown = np.array(pixels, np.uint8).reshape(*tiles.shape[:3], 4)[..., :3]
        assert np.array_equal(shown, tiles), name


def test_one_model_at_a_time_chosen_by_keyboard_or_touch_without_a_request(phone):
    visible = ("() => [...document.querySelectorAll('section[data-model]')]"
               ".filter((s) => !s.hidden).map((s) => s.dataset.model)")
    requests = []
    phone.on("request", lambda r: requests.append(r.url))
    assert phone.evaluate(visible) == ["lenet5"]
    phone.get_by_label("LeNet-5 on MNIST").focus()
    phone.keyboard.press("ArrowRight")          # a radio group: the arrows choose
    assert len(phone.evaluate(visible)) == 1 and phone.evaluate(visible) != ["lenet5"]
    phone.get_by_label("ConvNet on CIFAR-10").tap()
    assert phone.evaluate(visible) == ["convnet"]
    phone.get_by_text("258,058 parameters").wait_for()
    assert phone.locator(".filters figcaption").filter(has_text="#15").filter(visible=True).count() == 1
    phone.get_by_label("LeNet-5 on MNIST").tap()
    assert phone.evaluate(visible) == ["lenet5"]
    assert requests == []


@pytest.mark.parametrize("large", [False, True], ids=["text", "large text"])
def test_nothing_is_cut_off_on_a_phone(chromium, large):
    """Each model's section at 390 px: the tables, the kernel sheets and the charts (wider
    than a phone with Large text) scroll inside their own boxes."""
    page, server = open_tab(chromium, large)
    try:
        page.locator("details.in-kernels").filter(visible=True).locator("summary").tap()
        page.evaluate("() => document.querySelectorAll('details.in-kernels')"
                      ".forEach((d) => { d.open = true; })")
        for name in MODELS:
            page.evaluate("(name) => window.cnnPage.inside.choose(name)", name)
            assert page.evaluate("innerWidth") == 390
            assert page.evaluate(CUT_OFF) == [], (name, large)
    finally:
        page.context.close()
        server.shutdown()


def test_a_checkpoint_that_cannot_be_read_is_one_line_and_the_rest_still_show(chromium):
    from jspage import serve_root
    server, url = serve_root()
    page = chromium.new_page()
    try:
        page.goto(f"{url}/tests/jspage.html")
        broken = {**start(), "models": [*start()["models"],
                                        {"name": "gone", "path": "checkpoints/gone.safetensors",
                                         "title": "A missing model", "digits": True}]}
        html = tab_html("inside", broken)
        assert page.evaluate(MOUNT, {"html": html, "large": False})
        page.get_by_label("A missing model").check()
        said = page.locator('section[data-model="gone"]').inner_text()
        assert said.startswith("⚠️ A missing model could not be read:") and "\n" not in said.strip()
        page.get_by_label("LeNet-5 on MNIST").check()
        shown = page.locator("section[data-model]").filter(visible=True)
        assert shown.get_by_text("61,706 parameters").count() == 1
    finally:
        page.close()
        server.shutdown()


def test_the_start_lists_every_committed_model_by_the_path_the_page_fetches():
    written = re.search(r'data-start="([^"]*)"', tab_html("inside", start())).group(1)
    models = json.loads(html.unescape(written))["models"]
    assert [m["name"] for m in models] == list(MODELS)
    assert all((ROOT / m["path"]).is_file() for m in models)
