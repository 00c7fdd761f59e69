"""The invariance lab in the page (web/invariance_tab.js, web/lab_transform.js, web/lab_measure.js)
against the Python engine it replaces (lenet/inside/invariance.py, the reference): the input as
the network sees it for each slider alone and combined, digits and photos, the seeded noise;
the live probabilities, both curves and the occlusion map; the tab itself mounted in a page,
fed by the draw and photo tabs' topics (web/shared.js), sending nothing after it loaded."""
from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import ring
from invariance_latency import MOUNT_JS  # the tab mounted as either shell mounts it
from PIL import Image, ImageDraw

from lenet.inside import invariance
from lenet.inside.inference import Classifier
from lenet.inside.invariance import occlusion_map, probabilities, rotation_curve, shift_curve, transform
from lenet.net.checkpoint import default_checkpoint
from lenet.page import ROOT, tab_html, tab_starts
from lenet.pictures.visualize import occlusion_picture, pixels_to_image
from ui.invariance import DIGIT, PHOTO, InvarianceTab, Loaded, Sliders

PIXELS = 1e-5         # max |page - Python| of a transformed input
PROBABILITIES = 1e-4  # of a probability, a curve's point, an occlusion drop or heat
URLS = {"lenet5": "/checkpoints/lenet5.safetensors", "convnet": "/checkpoints/convnet.safetensors"}

LIST = "const list = (a) => Array.from(a);"


def test_the_pages_numbers_are_pythons():
    """web/invariance_tab.json (the sliders' ranges, the occlusion squares) is the module's."""
    assert json.loads(invariance.PAGE_FILE.read_text()) == invariance.page_constants()
    assert invariance.PAGE_FILE.read_text() == invariance.render_page_constants()


# ---------------------------------------------------------------------------- inputs
def seven() -> np.ndarray:
    """A 7 in MNIST's place, white on black with soft edges (drawn at 8x, box-reduced)."""
    k = 8
    big = Image.new("L", (28 * k, 28 * k), 0)
    ImageDraw.Draw(big).line([(8 * k, 6 * k), (20 * k, 6 * k), (12 * k, 23 * k)], fill=255,
                             width=round(2.6 * k))
    return np.asarray(big.reduce(k))


def digits() -> dict[str, torch.Tensor]:
    """Hand-made digits with soft edges: a 7 and a ring (a 0)."""
    return {name: torch.tensor(a, dtype=torch.float32)[None] / 255
            for name, a in (("seven", seven()), ("ring", ring()))}


def photos() -> dict[str, torch.Tensor]:
    """A smooth photo (random colours enlarged bicubically) and a sharp one (pixel noise)."""
    rng = torch.Generator().manual_seed(0)
    coarse = torch.rand(1, 3, 6, 6, generator=rng)
    smooth = F.interpolate(coarse, size=(32, 32), mode="bicubic", align_corners=False)[0].clamp(0, 1)
    return {"smooth": smooth, "sharp": torch.rand(3, 32, 32, generator=rng)}


def js_settings(settings: dict) -> dict:
    """transform()'s keyword arguments in the page's names (lab_transform.js NO_CHANGE)."""
    names = {"shift_x": "shiftX", "shift_y": "shiftY"}
    out = {names.get(k, k): v for k, v in settings.items() if k != "erase"}
    if settings.get("erase"):
        top, left, size = settings["erase"]
        out["erase"] = {"top": top, "left": left, "size": size}
    return out


# Each slider alone, then together; digits only for the stroke.
ALONE = [dict(shift_x=3), dict(shift_x=-8), dict(shift_y=5), dict(shift_x=2.5, shift_y=-1.5),
         dict(rotation=30), dict(rotation=-45), dict(rotation=60), dict(rotation=7),
         dict(scale=0.5), dict(scale=1.35), dict(scale=1.5), dict(noise=0.2), dict(noise=0.5, seed=7),
         dict(erase=(4, 6, 8)), dict(erase=(-3, 20, 16)), dict(erase=(28, 28, 4))]
COMBINED = [dict(shift_x=-4, shift_y=3, rotation=25, scale=1.2),
            dict(rotation=-60, scale=0.65, erase=(10, 10, 5), noise=0.1),
            dict(shift_x=8, shift_y=8, rotation=15, scale=1.1, noise=0.05, erase=(4, 4, 6))]
STROKES = [dict(stroke=1), dict(stroke=2), dict(stroke=-1), dict(stroke=-2),
           dict(stroke=1, rotation=20, shift_x=2, noise=0.1, erase=(12, 3, 6))]

TRANSFORM_JS = """async ({pixels, shape, settings}) => {
  const t = await import('/web/lab_transform.js');
  """ + LIST + """
  return settings.map((s) => list(t.transform(Float32Array.from(pixels), shape, s)));
}"""


@pytest.mark.parametrize("kind", ["digit", "photo"])
def test_the_pages_transform_is_pythons(js_page, kind):
    inputs = digits() if kind == "digit" else photos()
    cases = ALONE + COMBINED + (STROKES if kind == "digit" else [])
    digit = kind == "digit"
    for name, pixels in inputs.items():
        page = js_page.evaluate(TRANSFORM_JS, {
            "pixels": pixels.reshape(-1).tolist(), "shape": list(pixels.shape),
            "settings": [{**js_settings(s), "digit": digit,
                          "fill": 0.0 if digit else invariance.PHOTO_FILL} for s in cases]})
        for settings, got in zip(cases, page):
            expected = transform(pixels, **settings, digit=digit).reshape(-1).numpy()
            worst = np.abs(np.asarray(got) - expected).max()
            assert worst <= PIXELS, (name, settings, worst)


# ---------------------------------------------------------------------------- what it measures
@pytest.fixture(scope="module")
def models() -> dict[str, Classifier]:
    return {name: Classifier.from_checkpoint(default_checkpoint(name)) for name in URLS}


MEASURE_JS = """async ({url, pixels, settings, occlusion}) => {
  const e = await import('/web/engine.js');
  const m = await import('/web/lab_measure.js');
  const t = await import('/web/lab_transform.js');
  """ + LIST + """
  const net = await e.loadNetwork(url);
  const shape = [net.inputShape.channels, net.inputShape.height, net.inputShape.width];
  const shown = t.transform(Float32Array.from(pixels), shape, settings);
  const curve = (name, values) => {
    const c = m.finish(m.sweep(net, Float32Array.from(pixels), name, values, settings));
    return {values: c.values, probabilities: c.probabilities.map(list)};
  };
  const hidden = m.finish(m.occlusion(net, shown, occlusion));
  return {live: list(m.probabilities(net, shown)),
          rotation: curve('rotation', m.sweepValues(60, 5)), shift: curve('shiftX', m.sweepValues(8)),
          occlusion: {...hidden, drop: list(hidden.drop), heat: list(hidden.heat)}};
}"""

MEASURED = [("lenet5", "seven", {}), ("lenet5", "ring", dict(rotation=20, scale=0.8, stroke=1, noise=0.1)),
            ("lenet5", "seven", dict(shift_x=-3, erase=(8, 8, 6))),
            ("convnet", "smooth", {}), ("convnet", "smooth", dict(rotation=-30, shift_y=2, noise=0.05,
                                                                  erase=(0, 10, 9)))]


@pytest.mark.parametrize("name, which, settings", MEASURED)
def test_the_pages_answer_curves_and_occlusion_are_pythons(js_page, models, name, which, settings):
    clf = models[name]
    pixels = (digits() if clf.is_digit_model else photos())[which]
    full = {**settings, "digit": clf.is_digit_model}
    kind = invariance.OCCLUSION["digit" if clf.is_digit_model else "photo"]
    page = js_page.evaluate(MEASURE_JS, {
        "url": URLS[name], "pixels": pixels.reshape(-1).tolist(),
        "settings": {**js_settings(settings), "digit": clf.is_digit_model, "fill": kind["fill"]},
        "occlusion": kind})
    shown = transform(pixels, **full)
    np.testing.assert_allclose(page["live"], probabilities(clf, shown)[0], atol=PROBABILITIES, rtol=0)
    for curve, got in ((rotation_curve(clf, pixels, **full), page["rotation"]),
                       (shift_curve(clf, pixels, **full), page["shift"])):
        assert got["values"] == curve.values.tolist()
        np.testing.assert_allclose(got["probabilities"], curve.probabilities, atol=PROBABILITIES, rtol=0)
    hidden = occlusion_map(clf, shown)
    got = page["occlusion"]
    assert (got["classIndex"], got["size"], got["stride"]) == (hidden.class_index, hidden.size, hidden.stride)
    assert (got["rows"], got["cols"]) == hidden.drop.shape
    assert got["probability"] == pytest.approx(hidden.probability, abs=PROBABILITIES)
    np.testing.assert_allclose(np.reshape(got["drop"], hidden.drop.shape), hidden.drop,
                               atol=PROBABILITIES, rtol=0)
    np.testing.assert_allclose(np.reshape(got["heat"], hidden.heat.shape), hidden.heat,
                               atol=PROBABILITIES, rtol=0)


# ---------------------------------------------------------------------------- the tab itself


# Publish an input as the draw or photo tab does, choose its source, press Load / refresh.
LOAD_JS = """async ({topic, pixels}) => {
  window.publish(topic, {pixels: pixels && Float32Array.from(pixels), picture: null, caption: 'test'});
  const radio = document.querySelector(`input[name=lab-source][value=${topic}]`);
  if (!radio.checked) { radio.checked = true; radio.dispatchEvent(new Event('change')); }
  document.querySelector('.lab-load').click();
}"""

# Move sliders as a visitor's drag does (input events), then wait for the curves and the map.
MOVE_JS = """async (values) => {
  for (const [name, v] of Object.entries(values)) {
    const range = document.getElementById('lab-slider-' + name);
    range.value = String(v);
    range.dispatchEvent(new Event('input', {bubbles: true}));
  }
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  await window.cnnPage.lab.settled;
}"""

MEASURED_JS = """() => {
  """ + LIST + """
  const m = window.cnnPage.lab.measured;
  const curve = (c) => ({values: c.values, probabilities: c.probabilities.map(list)});
  return {shown: list(m.shown), live: list(m.live), rotation: curve(m.rotation), shift: curve(m.shift),
          drop: list(m.occlusion.drop), heat: list(m.occlusion.heat), classIndex: m.occlusion.classIndex,
          status: document.querySelector('#lab-status').innerText,
          top: [...document.querySelectorAll('.lab-top-list li')].map((li) => li.innerText),
          markers: [...document.querySelectorAll('#lab-rotation .chart-marker, #lab-shift .chart-marker')]
                     .map((m) => m.dataset.x),
          caption: document.querySelector('.lab-caption').innerText};
}"""


@pytest.fixture(scope="module")
def python_tab(models):
    return InvarianceTab(models["lenet5"], models["convnet"])


def start_of_the_tab() -> dict:
    """What the app writes into the tab's HTML: both checkpoints, as the page names them."""
    return tab_starts({name: default_checkpoint(name) for name in URLS},
                      lambda path: str(path.resolve().relative_to(ROOT)))["invariance"]


@pytest.fixture
def lab(chromium, js_page):
    """The tab mounted alone in a page of its own (js_page's is shared by the session), as the
    app mounts it: its HTML with its start, then its module's mount()."""
    page = chromium.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(js_page.url)
    page.evaluate(MOUNT_JS, {"html": tab_html("invariance", start_of_the_tab())})
    page.wait_for_function("document.querySelector('#invariance-view').dataset.ready === 'true'")
    yield page
    page.close()
    assert errors == []   # nothing a test did threw in the page


def sliders(**changed) -> dict:
    return asdict(Sliders(**changed))


def python_view(tab, source: str, pixels: torch.Tensor, **changed) -> dict:
    """What the Python lab shows for ``pixels`` with the sliders ``changed``."""
    loaded = Loaded(DIGIT if source == "digit" else PHOTO, pixels, "")
    s = tab._sliders(sliders(**changed))
    shown, _ = tab._moved(loaded, s)
    turned, moved, hidden = tab.measure(loaded, s, shown)
    clf = tab.models[loaded.source]
    return {"shown": shown, "live": probabilities(clf, shown)[0], "rotation": turned, "shift": moved,
            "occlusion": hidden, "classes": clf.classes}


def assert_same_view(page: dict, python: dict) -> None:
    np.testing.assert_allclose(page["shown"], python["shown"].reshape(-1).numpy(), atol=PIXELS, rtol=0)
    np.testing.assert_allclose(page["live"], python["live"], atol=PROBABILITIES, rtol=0)
    for name in ("rotation", "shift"):
        assert page[name]["values"] == python[name].values.tolist()
        np.testing.assert_allclose(page[name]["probabilities"], python[name].probabilities,
                                   atol=PROBABILITIES, rtol=0)
    hidden = python["occlusion"]
    assert page["classIndex"] == hidden.class_index
    np.testing.assert_allclose(page["drop"], hidden.drop.reshape(-1), atol=PROBABILITIES, rtol=0)
    np.testing.assert_allclose(page["heat"], hidden.heat.reshape(-1), atol=PROBABILITIES, rtol=0)


TAB_CASES = [("digit", "seven", {}), ("digit", "seven", dict(rotation=30, scale=0.8, erase_size=5)),
             ("digit", "ring", dict(shift_x=-3, shift_y=2, stroke=1, noise=0.15, erase_size=4,
                                    erase_y=3, erase_x=25)),
             ("photo", "smooth", dict(rotation=-20, shift_x=4, scale=1.25, noise=0.05, erase_size=9,
                                      erase_y=31, erase_x=0))]


@pytest.mark.parametrize("source, which, changed", TAB_CASES)
def test_the_tab_shows_what_python_computes(lab, python_tab, source, which, changed):
    pixels = (digits() if source == "digit" else photos())[which]
    lab.evaluate(LOAD_JS, {"topic": source, "pixels": pixels.reshape(-1).tolist()})
    lab.evaluate(MOVE_JS, changed)
    page = lab.evaluate(MEASURED_JS)
    python = python_view(python_tab, source, pixels, **changed)
    assert_same_view(page, python)
    # the words: the answer (and the untouched one), the top three, the curves' markers, the caption
    p, untouched = python["live"], python_view(python_tab, source, pixels)["live"]
    classes = python["classes"]
    said = lambda q: f"{classes[q.argmax()]} with {100 * q.max():.1f} %"   # noqa: E731
    assert page["status"] == f"{said(p)} (was {said(untouched)} untouched)"
    assert [t.split()[0] for t in page["top"]] == [classes[k] for k in np.argsort(-p)[:3]]
    assert page["markers"] == [f"{changed.get('rotation', 0):g}", f"{changed.get('shift_x', 0):g}"]
    assert f"hiding it costs {classes[python['occlusion'].class_index]} most" in page["caption"]


def test_load_shows_the_latest_drawing_never_an_older_one(lab, python_tab):
    """Draw, open the lab, draw again, press Load / refresh: the new drawing's numbers."""
    first, second = digits()["seven"], digits()["ring"]
    lab.evaluate(LOAD_JS, {"topic": "digit", "pixels": first.reshape(-1).tolist()})
    lab.evaluate(MOVE_JS, {"rotation": 10})
    before = lab.evaluate(MEASURED_JS)
    assert_same_view(before, python_view(python_tab, "digit", first, rotation=10))
    # The draw tab publishes a new drawing; the lab keeps its input until Load / refresh.
    lab.evaluate("(pixels) => window.publish('digit', {pixels: Float32Array.from(pixels), picture: null,"
                 " caption: 'test'})", second.reshape(-1).tolist())
    lab.click(".lab-load")
    lab.evaluate(MOVE_JS, {})
    after = lab.evaluate(MEASURED_JS)
    assert_same_view(after, python_view(python_tab, "digit", second, rotation=10))
    untouched = python_view(python_tab, "digit", second)["live"]
    said = f"(was {untouched.argmax()} with {100 * untouched.max():.1f} % untouched)"
    assert after["status"].endswith(said)


@pytest.mark.parametrize("topic, prompt", [("digit", "Draw a digit in the first tab first."),
                                           ("photo", "Upload a photo in the photo tab first.")])
def test_nothing_to_load_is_one_line(lab, topic, prompt):
    status = "document.querySelector('#lab-status').innerText"
    lab.evaluate(LOAD_JS, {"topic": topic, "pixels": None})
    assert lab.evaluate(status) == prompt
    lab.click(".lab-reset")
    lab.evaluate(MOVE_JS, {"rotation": 5})
    assert lab.evaluate(status) == prompt
    assert lab.evaluate("document.querySelectorAll('#lab-rotation svg, .lab-top-list li').length") == 0


def test_a_typed_number_that_is_not_one_is_refused_in_one_line(lab):
    lab.evaluate(LOAD_JS, {"topic": "digit", "pixels": digits()["seven"].reshape(-1).tolist()})
    lab.evaluate(MOVE_JS, {})
    box = lab.get_by_label("rotation as a number")
    box.fill("")
    box.press("Enter")
    said = lab.locator("#lab-status").inner_text()
    assert said == "⚠️ the rotation must be a number from -60 to 60"
    box.fill("75")                     # past the end: the slider's end
    box.press("Enter")
    lab.evaluate(MOVE_JS, {})
    assert lab.evaluate("document.querySelector('#lab-rotation .chart-marker').dataset.x") == "60"
    assert box.input_value() == "60"


def test_nothing_is_requested_after_the_tab_loaded(lab):
    """Sliders, the keyboard, Reset, another source, Load / refresh: all in the page."""
    requests = []
    lab.on("request", lambda r: requests.append(r.url))
    lab.evaluate(LOAD_JS, {"topic": "photo", "pixels": photos()["smooth"].reshape(-1).tolist()})
    lab.evaluate(MOVE_JS, {"rotation": 20, "noise": 0.1})
    lab.evaluate(LOAD_JS, {"topic": "digit", "pixels": digits()["seven"].reshape(-1).tolist()})
    lab.get_by_label("Rotate (degrees, counter-clockwise)").focus()
    for _ in range(3):
        lab.keyboard.press("ArrowRight")
    lab.evaluate(MOVE_JS, {})
    assert lab.evaluate("document.querySelector('#lab-rotation .chart-marker').dataset.x") == "23"
    lab.click(".lab-reset")
    lab.evaluate(MOVE_JS, {"stroke": 2, "erase_size": 6})
    assert requests == []


def enlarged(image: np.ndarray, side: int) -> np.ndarray:
    k = side // image.shape[0]
    return image.repeat(k, 0).repeat(k, 1).astype(int)


PICTURES_JS = """() => {
  const read = (canvas) => ({width: canvas.width, height: canvas.height,
    rgba: Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data)});
  return {seen: read(document.querySelector('.lab-seen-canvas')),
          occlusion: read(document.querySelector('.lab-occlusion-canvas'))};
}"""


@pytest.mark.parametrize("source, which, changed", [TAB_CASES[1], TAB_CASES[3]])
def test_the_tabs_pictures_are_the_servers(lab, python_tab, source, which, changed):
    """What the network sees, pixel for pixel, and the occlusion map over it as the server drew
    it (visualize.occlusion_picture), within rounding of its blend."""
    pixels = (digits() if source == "digit" else photos())[which]
    lab.evaluate(LOAD_JS, {"topic": source, "pixels": pixels.reshape(-1).tolist()})
    lab.evaluate(MOVE_JS, changed)
    page = lab.evaluate(PICTURES_JS)
    python = python_view(python_tab, source, pixels, **changed)
    seen = np.asarray(pixels_to_image(python["shown"]).convert("RGB"))
    got = np.reshape(page["seen"]["rgba"], (page["seen"]["height"], page["seen"]["width"], 4))[..., :3]
    assert np.array_equal(got, seen)
    side = 8 * max(python["shown"].shape[1:])
    drawn = np.asarray(occlusion_picture(python["shown"], python["occlusion"], size=side)).astype(int)
    got = np.reshape(page["occlusion"]["rgba"], (page["occlusion"]["height"], page["occlusion"]["width"], 4))
    assert got.shape[:2] == drawn.shape[:2]
    assert np.abs(got[..., :3] - drawn).max() <= 1          # PIL's blend rounds its own way
    assert np.abs(drawn - enlarged(seen, side)).max() > 50  # and the map does colour it
