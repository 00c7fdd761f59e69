"""The test-set gallery tab in the page (web/gallery_tab.js), in Chromium, served as plain files
(as the static site serves it), against Python: the sheets its controls draw equal
``GalleryTab.show`` (ui/gallery.py), the images it decodes from the gallery files equal
``load_gallery``'s, a click hands the image's network input and caption to its tab
(web/shared.js), a seed that is not one gets one line, and no control sends a request."""
from __future__ import annotations

import base64
import re

import numpy as np
import pytest
from conftest import ROOT

from lenet.inside.gallery import load_gallery
from lenet.net.checkpoint import default_checkpoint
from lenet.page import gallery_path, tab_html, tab_starts
from ui.gallery import ANY, MISTAKES, RANDOM, SEED_MAX, GalleryTab

MODELS = ("lenet5", "convnet", "lenet5-classic", "dense")
SEED_MESSAGE = f"⚠️ the seed must be a whole number from 0 to {SEED_MAX}"

MOUNT = """async ({html, start}) => {
  (await import('/web/shared.js')).setFiles('/');
  const element = document.createElement('div');
  element.id = 'gallery-view';
  element.innerHTML = html;
  document.body.append(element);
  const tab = await import('/web/gallery_tab.js');
  await tab.mount({element, start, base: new URL('/web/', location.href)});
  return element.dataset.ready;
}"""
SHEET = """() => ({
  words: document.querySelector('#gallery-words').innerText,
  title: document.querySelector('#gallery-words strong')?.innerText ?? null,
  tiles: [...document.querySelectorAll('#gallery-sheet .gl-tile')].map((t) => ({
    position: Number(t.dataset.position), index: Number(t.dataset.index),
    label: t.getAttribute('aria-label'), wrong: t.classList.contains('gl-wrong'),
    under: [...t.querySelectorAll('span')].map((s) => s.innerText)})),
})"""
# A sent image as the page handed it over: waiting until its tab takes it (shared.js), or as
# a receiver of that tab took it.
HANDED = """async (tab) => {
  const value = (await import('/web/shared.js')).latestOf(`to-${tab}`);
  return value && {pixels: Array.from(value.pixels), caption: value.caption};
}"""
RECEIVE = """async (tab) => {
  window.received = [];
  window.stopReceiving = (await import('/web/shared.js')).receiveHandOvers(tab, (value) =>
    window.received.push({pixels: Array.from(value.pixels), caption: value.caption}));
}"""
RECEIVED = "() => { window.stopReceiving(); return window.received; }"


@pytest.fixture(scope="module")
def python_tab():
    """The Python reference: ``GalleryTab`` on the committed gallery files, and their titles."""
    starts = tab_starts({name: default_checkpoint(name) for name in MODELS}, named)
    galleries = {g["name"]: (g["title"], load_gallery(ROOT / g["path"]), g["tab"])
                 for g in starts["gallery"]["galleries"]}
    return GalleryTab(galleries)


def named(path) -> str:
    return path.resolve().relative_to(ROOT).as_posix()


@pytest.fixture(scope="module")
def page(chromium):
    """The gallery tab mounted alone on a page served from the repository root; every request
    it sends after mounting is in ``page.sent``."""
    from jspage import serve_root
    server, url = serve_root()
    page = chromium.new_page(viewport={"width": 1024, "height": 768})
    page.goto(f"{url}/tests/jspage.html")
    start = tab_starts({name: default_checkpoint(name) for name in MODELS}, named)["gallery"]
    assert len(start["galleries"]) == len(MODELS)   # each committed model has its gallery file
    assert page.evaluate(MOUNT, {"html": tab_html("gallery", start), "start": start}) == "true"
    page.sent = []
    page.on("request", lambda request: page.sent.append(request.url))
    yield page
    page.close()
    server.shutdown()


def choose(page, model, which=RANDOM, true=ANY, predicted=ANY, seed="0"):
    """Set the tab's controls as a visitor does: the model first (it resets the filters)."""
    page.select_option(".gl-model", model)
    page.check(f'.gl-which input[value="{which}"]')
    if not page.locator(".gl-filters").evaluate("d => d.open"):
        page.click(".gl-filters summary")
    page.select_option(".gl-truth", true)
    page.select_option(".gl-guess", predicted)
    page.fill(".gl-seed", str(seed))


def expected(python_tab, model, which, true, predicted, seed):
    """What the page must show for these controls, from Python's handler."""
    sheet = python_tab.show(model, which, true, predicted, seed)
    return {"words": sheet.words.replace("**", ""),
            "title": python_tab.galleries[model][0] if sheet.tiles else None,
            "tiles": [{"position": t["position"], "index": t["index"], "wrong": t["wrong"],
                       "label": f"test image {t['index']}: true {t['truth']}, predicted {t['guess']} "
                                f"{t['confidence']}",
                       "under": [f"true {t['truth']}", f"pred {t['guess']} {t['confidence']}"]}
                      for t in sheet.tiles]}


SETTINGS = [("lenet5", RANDOM, ANY, ANY, 0), ("lenet5", MISTAKES, ANY, "7", 3),
            ("convnet", RANDOM, "cat", ANY, 12345), ("convnet", MISTAKES, "cat", "dog", SEED_MAX),
            ("dense", MISTAKES, ANY, ANY, 77), ("lenet5-classic", RANDOM, "3", "3", 9),
            ("convnet", MISTAKES, ANY, ANY, 2**31 + 5),
            ("lenet5", MISTAKES, "1", "1", 0)]    # empty: a digit is never mistaken for itself


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: "-".join(map(str, s)))
def test_each_sheet_is_the_one_python_chooses(page, python_tab, setting):
    choose(page, *setting)
    want = expected(python_tab, *setting)
    assert page.evaluate(SHEET) == want
    assert want["tiles"] or want["words"].startswith("None of the mistakes")


def test_shuffle_steps_the_seed_and_wraps_after_the_last(page, python_tab):
    choose(page, "convnet", RANDOM, seed=SEED_MAX - 1)
    for seed in (SEED_MAX, 0, 1):
        page.click(".gl-shuffle")
        assert page.input_value(".gl-seed") == str(seed)
        assert page.evaluate(SHEET) == expected(python_tab, "convnet", RANDOM, ANY, ANY, seed)


@pytest.mark.parametrize("seed", ["1e308", "2.5", "-1", str(SEED_MAX + 1)])
def test_a_seed_that_is_not_one_gets_one_line(page, python_tab, seed):
    choose(page, "lenet5", seed=seed)
    words = page.locator("#gallery-words").inner_text()
    assert words == SEED_MESSAGE == python_tab.show("lenet5", RANDOM, ANY, ANY, float(seed)).words
    page.click(".gl-shuffle")       # the seed stays as it is, and so does the line
    assert page.input_value(".gl-seed") == seed
    assert page.locator("#gallery-words").inner_text() == SEED_MESSAGE


@pytest.mark.parametrize("model", ["lenet5", "convnet"])
def test_the_decoded_images_are_pythons_pixels(page, python_tab, model):
    """Every image of one gallery of each kind, byte for byte, as load_gallery decodes the PNG."""
    gallery = python_tab.galleries[model][1]
    encoded = page.evaluate("""(name) => {
      const images = window.cnnPage.gallery.files.get(name).gallery.images;
      let text = '';
      for (let i = 0; i < images.length; i += 8192) {
        text += String.fromCharCode(...images.subarray(i, i + 8192));
      }
      return btoa(text);
    }""", model)
    decoded = np.frombuffer(base64.b64decode(encoded), np.uint8)
    assert decoded.shape == (gallery.images.size,)
    np.testing.assert_array_equal(decoded.reshape(gallery.images.shape), gallery.images)


def test_every_caption_and_column_is_pythons(page, python_tab):
    """Labels, predictions, test-set indices, flags and each image's caption (the confidence
    rounded as Python writes it) for every image of every gallery."""
    for model, (_, gallery, _) in python_tab.galleries.items():
        shown = page.evaluate("""(name) => {
          const g = window.cnnPage.gallery.files.get(name).gallery;
          return {labels: g.labels, predictions: g.predictions, indices: g.indices,
                  mistakes: Array.from(g.isMistake, Boolean), sample: Array.from(g.inSample, Boolean),
                  captions: g.labels.map((_, i) => g.caption(i)), classes: g.classes};
        }""", model)
        assert shown["classes"] == list(gallery.classes)
        assert shown["labels"] == gallery.labels.tolist()
        assert shown["predictions"] == gallery.predictions.tolist()
        assert shown["indices"] == gallery.indices.tolist()
        assert shown["mistakes"] == gallery.is_mistake.tolist()
        assert shown["sample"] == gallery.in_sample.tolist()
        assert shown["captions"] == [gallery.caption(i) for i in range(len(gallery))]


def test_whole_percentages_round_as_python_does(page):
    """Ties go to the even number, after the product is rounded to float32 as numpy does."""
    rng = np.random.default_rng(0)
    values = np.concatenate([np.float32([0.625, 0.635, 0.005, 0.015, 0.025, 0.125, 0.995, 1.0, 0.0]),
                             rng.random(3000, dtype=np.float32)])
    # exact float32 halves: 100 * p lands on k + 0.5
    values = np.concatenate([values, (np.arange(0, 100, dtype=np.float32) + 0.5) / 100])
    shown = page.evaluate("""async (values) => {
      const {wholePercent} = await import('/web/gallery_tab.js');
      return Array.from(Float32Array.from(values), (v) => wholePercent(v));
    }""", values.tolist())
    assert shown == [f"{100 * v:.0f}" for v in values]


def test_a_file_that_is_not_a_gallery_gets_one_line(page):
    """A checkpoint, a gallery cut short, and no safetensors at all."""
    gallery = gallery_path(default_checkpoint("lenet5")).read_bytes()
    files = [default_checkpoint("lenet5").read_bytes(), gallery[:-100], b"not a file"]
    said = page.evaluate("""async (files) => {
      const {parseGallery} = await import('/web/gallery_tab.js');
      const buffers = files.map((text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0)).buffer);
      return Promise.all(buffers.map((b) => parseGallery(b).then(() => 'read', (e) => e.message)));
    }""", [base64.b64encode(f).decode() for f in files])   # as bytes: this page sends no request
    remedy = "; make it with: python -m lenet gallery"
    assert said[0] == f"not a lenet gallery (it has no lenet_gallery metadata){remedy}"
    assert re.fullmatch(rf"not a lenet gallery \(\w+ is cut short\){remedy}", said[1])
    assert said[2] == f"not a lenet gallery (its header runs past the end of the file){remedy}"


@pytest.mark.parametrize("model, tab, k", [("lenet5", "draw", 2), ("convnet", "photo", 0)])
def test_a_click_hands_the_network_input_and_caption_to_its_tab(page, python_tab, model, tab, k):
    choose(page, model, MISTAKES, seed=5)
    position = python_tab.show(model, MISTAKES, ANY, ANY, 5).positions[k]
    page.evaluate(RECEIVE, tab)       # as the draw or photo tab receives it
    page.locator("#gallery-sheet .gl-tile").nth(k).click()
    gallery = python_tab.galleries[model][1]
    received = page.evaluate(RECEIVED)
    assert len(received) == 1 and page.evaluate(HANDED, tab) is None    # taken, once
    handed = received[0]
    caption = f"test image #{gallery.indices[position]} ({gallery.caption(position)})"
    assert handed["caption"] == caption
    # The network's input: values in [0, 1], channels first, as float32 (ui/view.py image_value).
    pixels = gallery.images[position].transpose(2, 0, 1).astype(np.float32) / 255
    np.testing.assert_array_equal(np.float32(handed["pixels"]), pixels.ravel())
    assert page.locator("#gallery-words").inner_text() == f"Sent {caption} to the {tab} tab."


def test_a_tile_is_a_button_keys_can_use(page, python_tab):
    """...and its image waits for a tab that is not built yet (no receiver)."""
    choose(page, "lenet5", RANDOM, seed=8)
    position = python_tab.show("lenet5", RANDOM, ANY, ANY, 8).positions[1]
    page.locator("#gallery-sheet .gl-tile").nth(1).focus()
    page.keyboard.press("Enter")
    gallery = python_tab.galleries["lenet5"][1]
    assert page.evaluate(HANDED, "draw")["caption"].startswith(f"test image #{gallery.indices[position]} ")


def test_no_control_sends_a_request(page, python_tab):
    """Run last in this module: every control above was used; none sent anything."""
    choose(page, "dense", MISTAKES, "4", "9", 31)
    page.click(".gl-shuffle")
    page.locator("#gallery-sheet .gl-tile").first.click()
    assert page.sent == []
