"""The four experiments under the draw and photo views (web/experiments.js), in Chromium on
the static site (and, for the requests, in both shells), as a student would use them in
sequence: switch parts off and see the answer and the marks; draw, Clear, upload, take a test
image from the gallery; flip the answer and draw again; climb a unit after a new input. The
numbers are checked against PyTorch on the same pixels (the page's engine is not the
reference), the panels against what the tab shows now. Each test opens its own page."""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import torch
from browser import DRAW_ANSWERED, draw_stroke
from PIL import Image, ImageDraw

from lenet.inside.neighbours import load_neighbours
from lenet.net.checkpoint import averages_mirror, load_checkpoint
from lenet.net.files import experiments_path, neighbours_path
from lenet.net.models import forward_stages

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINTS = ROOT / "checkpoints"
READY = "(id) => !!document.querySelector(`#${id}-view [data-ready=true], #${id}-view[data-ready=true]`)"
SEVEN = [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)]
ONE = [(0.5, 0.15), (0.5, 0.85)]
STORED = pytest.mark.skipif(not experiments_path(CHECKPOINTS / "lenet5.safetensors").is_file(),
                            reason="waits for lenet5.experiments.safetensors (python -m lenet experiments)")
CHANGED = json.loads((ROOT / "web" / "flip.json").read_text())["changed"]   # one 8-bit level
STATE = """(tab) => { const t = window.cnnPage[tab], run = t.view.run, x = t.experiments;
    return {pixels: t.state.pixels && Array.from(t.state.pixels), shown: run && Array.from(run.pixels),
            probabilities: run && Array.from(run.probabilities), off: run && run.off, top: run && run.top,
            outputs: run ? Object.fromEntries(Object.entries(run.outputs)
                .map(([k, v]) => [k, Array.from(v.data)])) : {},
            answer: document.querySelector(`#${tab}-view .nv-answer`).innerText,
            live: document.querySelector(`#${tab}-view .ex-live`).innerText,
            marks: [...document.querySelectorAll(`#${tab}-view .nv-mark-off`)]
                .map(m => [m.dataset.layer, +m.dataset.channel]),
            flipped: x.flip.showing(),
            flipBox: document.querySelector(`#${tab}-view .ex-flip-result`).innerText,
            tryLine: document.querySelector(`#${tab}-view .ex-flip-try`).innerText,
            ascent: x.wants.result && Array.from(x.wants.result.pixels),
            ascentValue: x.wants.result && x.wants.result.value,
            wantsBox: document.querySelector(`#${tab}-view .ex-wants-result`).innerText,
            neighbours: [...document.querySelectorAll(`#${tab}-view .ex-neighbour-row`)].map(r =>
                [...r.querySelectorAll('figcaption')].map(f => f.innerText)),
            neighboursText: document.querySelector(`#${tab}-view .ex-neighbours-rows`).innerText,
            bars: [...document.querySelectorAll(`#${tab}-view .ex-rank`)].map(b =>
                [b.dataset.layer, +b.dataset.channel, b.getAttribute('aria-label')])}; }"""


# ---------------------------------------------------------------------------- references
class Reference:
    """A checkpoint's model in PyTorch, run stage by stage with the listed parts' outputs set
    to zero: the independent reference for what the page computes."""

    def __init__(self, name):
        self.model, self.meta = load_checkpoint(CHECKPOINTS / f"{name}.safetensors")
        self.model.eval()
        self.shape = tuple(self.meta["input_shape"])
        self.mirror = averages_mirror(self.meta)

    def normalised(self, pixels):
        x = torch.tensor(np.asarray(pixels, np.float32).reshape(1, *self.shape))
        mean = torch.tensor(self.meta["mean"]).view(1, -1, 1, 1)
        std = torch.tensor(self.meta["std"]).view(1, -1, 1, 1)
        return (x - mean) / std

    def run(self, pixels, off=None):
        """(every named output of the image's own pass, the probabilities of the answer)."""
        off = off or {}
        with torch.no_grad():
            outputs, logits = self._pass(self.normalised(pixels), off)
            if self.mirror:
                _, mirrored = self._pass(torch.flip(self.normalised(pixels), dims=[3]), off)
                logits = (logits + mirrored) / 2
        return outputs, torch.softmax(logits[0], 0).numpy()

    def _pass(self, x, off):
        outputs = {}
        for name, stage in forward_stages(self.model):
            x = stage(x).clone()
            if name in off:
                x[:, off[name]] = 0
            if name:
                outputs[name] = x[0].numpy().ravel()
        return outputs, x


@pytest.fixture(scope="module")
def lenet5():
    return Reference("lenet5")


@pytest.fixture(scope="module")
def convnet():
    return Reference("convnet")


# ---------------------------------------------------------------------------- the page
@pytest.fixture
def page(chromium, site_url):
    """The static site at 1366x900, its draw tab ready and its four experiments opened."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(site_url)
    page.wait_for_function(READY, arg="draw", timeout=60000)
    open_experiments(page, "draw")
    yield page
    context.close()


def open_experiments(page, tab):
    for summary in page.locator(f"#{tab}-view details.ex-part > summary").all():
        summary.click()


# The bars are ranked after the view is painted and after the pen lifts (web/experiments.js):
# what a test reads is the page once they are.
SETTLED = "(tab) => !document.querySelector(`#${tab}-view .ex-bars[aria-busy=true]`)"


def state(page, tab="draw"):
    page.wait_for_function(SETTLED, arg=tab, timeout=30000)
    return page.evaluate(STATE, tab)


def drawn(page, points=SEVEN):
    page.locator("#draw-view canvas.pad").scroll_into_view_if_needed()   # the mouse draws where it is seen
    draw_stroke(page, points)
    page.wait_for_function(DRAW_ANSWERED, timeout=30000)
    return state(page)


def switch_off_by_click(page, layer, channel):
    page.locator(f'#draw-view canvas.nv-map[data-layer="{layer}"][data-channel="{channel}"]').click()


def unit_cell(page, layer, unit):
    """The page position of unit ``unit`` in a grid of units (view_columns.js lays them out
    row by row, ``data-cols`` to a row)."""
    grid = page.locator(f'#draw-view canvas.nv-units[data-layer="{layer}"]')
    grid.scroll_into_view_if_needed()
    box, cols = grid.bounding_box(), int(grid.get_attribute("data-cols"))
    rows = -(-int(grid.get_attribute("data-units")) // cols)
    return (box["x"] + (unit % cols + 0.5) * box["width"] / cols,
            box["y"] + (unit // cols + 0.5) * box["height"] / rows)


def close_to(a, b, tol=1e-4):
    return np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max() <= tol


def inside(mark, target):
    return (abs(mark["x"] - target["x"]) <= 1.5 and abs(mark["y"] - target["y"]) <= 1.5
            and abs(mark["width"] - target["width"]) <= 1.5 and abs(mark["height"] - target["height"]) <= 1.5)


# ---------------------------------------------------------------------------- switch parts off
def test_parts_switched_off_by_click_match_pytorch_and_are_marked(page, lenet5):
    before = drawn(page)
    page.locator("#draw-view .ex-lesion-mode").check()
    switch_off_by_click(page, "C3", 5)
    page.mouse.click(*unit_cell(page, "F6", 17))
    shown = state(page)
    assert shown["off"] == {"C3": [5], "F6": [17]}
    outputs, probabilities = lenet5.run(shown["pixels"], {"C3": [5], "F6": [17]})
    for name, values in outputs.items():
        assert close_to(shown["outputs"][name], values), name
    assert close_to(shown["probabilities"], probabilities, 1e-5)
    assert not close_to(shown["probabilities"], before["probabilities"], 1e-6)   # it did change
    # Marked where they are drawn: the C3 map and the F6 unit's cell; no trace opened.
    assert sorted(shown["marks"]) == [["C3", 5], ["F6", 17]]
    mark = page.locator('#draw-view .nv-mark-off[data-layer="C3"]').bounding_box()
    assert inside(mark, page.locator('#draw-view .nv-map[data-layer="C3"][data-channel="5"]').bounding_box())
    cell = page.locator('#draw-view .nv-mark-off[data-layer="F6"]').bounding_box()
    x, y = unit_cell(page, "F6", 17)
    assert abs(cell["x"] + cell["width"] / 2 - x) < 1 and abs(cell["y"] + cell["height"] / 2 - y) < 1
    assert page.locator("#draw-view .nv-trace").is_hidden()
    assert shown["answer"].endswith("(2 parts switched off)")
    assert shown["live"].startswith("F6 unit 17 switched off: the answer is now")
    # A second click switches it back on; "Turn all back on" ends the rest.
    switch_off_by_click(page, "C3", 5)
    assert state(page)["off"] == {"F6": [17]}
    page.locator("#draw-view .ex-lesion-reset").click()
    shown = state(page)
    assert shown["off"] == {} and shown["marks"] == [] and "switched off" not in shown["answer"]
    assert close_to(shown["probabilities"], lenet5.run(shown["pixels"])[1], 1e-5)


def test_a_toggle_repaints_the_view_as_a_full_repaint_would(page):
    """The view repaints only the maps whose values or colour scale changed: after switching
    off the C1 channel that holds C1's largest value (so that every C1 map's scale changes while
    the input, before it, stays the same), every map and grid of units equals a full repaint."""
    drawn(page)
    found = page.evaluate("""() => {
      const d = window.cnnPage.draw, view = d.view, net = d.main, input = net.normalize(d.state.pixels);
      const grab = () => [...view.host.querySelectorAll('canvas.nv-map, canvas.nv-units')].map((c) =>
        Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data).join());
      const before = net.forward(input);
      view.show(before);
      const shown = before.outputs[net.shownAfter('C1')], plane = shown.shape[1] * shown.shape[2];
      let top = 0;
      shown.data.forEach((v, i) => { if (Math.abs(v) > Math.abs(shown.data[top])) top = i; });
      const first = grab();
      view.show(net.forward(input, {off: {C1: [Math.floor(top / plane)]}, reuse: before}));
      const toggled = grab();
      view.painted = new WeakMap();   // forget what is painted: every canvas painted anew
      view.show(view.run);
      return {first, toggled, full: grab()};
    }""")
    assert found["toggled"] == found["full"]
    changed = sum(a != b for a, b in zip(found["first"], found["toggled"]))
    assert 0 < changed < len(found["full"])   # some maps changed, the input's did not


def test_the_set_switched_off_persists_across_clear_and_a_new_drawing(page, lenet5):
    drawn(page)
    page.locator("#draw-view .ex-lesion-mode").check()
    switch_off_by_click(page, "C1", 2)
    page.locator("#draw-view .pad-clear").click()
    blank = state(page)
    assert blank["off"] is None and blank["marks"] == []   # nothing shown, nothing marked
    shown = drawn(page, ONE)
    assert shown["off"] == {"C1": [2]} and shown["marks"] == [["C1", 2]]
    assert close_to(shown["probabilities"], lenet5.run(shown["pixels"], {"C1": [2]})[1], 1e-5)


def test_the_keyboard_switches_parts_off_and_the_mode_off_opens_the_trace(page):
    drawn(page)
    page.locator("#draw-view .ex-lesion-mode").focus()
    page.keyboard.press("Space")                       # the mode's box, by the keyboard
    page.locator('#draw-view canvas.nv-map[data-layer="C1"][data-channel="0"]').focus()
    page.keyboard.press("Enter")                       # C1 channel 0 off
    page.keyboard.press("]")                           # the next channel ...
    page.keyboard.press("Enter")                       # ... off too
    assert state(page)["off"] == {"C1": [0, 1]}
    assert page.locator("#draw-view .nv-trace").is_hidden()
    # The live region said what happened, in words.
    assert state(page)["live"].startswith("C1 channel 1 switched off: the answer is now")
    page.locator("#draw-view .ex-lesion-mode").focus()
    page.keyboard.press("Space")                       # the mode off: Enter opens the trace again
    page.locator('#draw-view canvas.nv-map[data-layer="C3"][data-channel="0"]').focus()
    page.keyboard.press("Enter")
    assert page.locator("#draw-view .nv-trace").is_visible()
    assert state(page)["off"] == {"C1": [0, 1]}


def assert_bars_are_pytorchs(shown, lenet5):
    """The bars of ``shown`` (state()) rank each channel of C1 and C3 by the drop of the
    answer's probability PyTorch gives with it off too, on top of the parts shown off."""
    top, off = shown["top"], shown["off"]
    _, base = lenet5.run(shown["pixels"], off)
    for layer, count in (("C1", 6), ("C3", 16)):
        also = lambda k: {**off, layer: sorted({*off.get(layer, []), k})}  # noqa: E731
        drops = [base[top] - lenet5.run(shown["pixels"], also(k))[1][top] for k in range(count)]
        rows = [(k, label) for name, k, label in shown["bars"] if name == layer]
        assert sorted(k for k, _ in rows) == list(range(count))
        # Ranked largest drop first, each with its drop in points (0.1 of a percentage point).
        ranked = [k for k, _ in rows]
        assert [drops[k] for k in ranked] == sorted(drops, reverse=True) or \
            np.all(np.diff([drops[k] for k in ranked]) <= 1e-6)
        for k, label in rows:
            said = float(re.search(r"this input (-?[\d.]+) pts", label.replace("−", "-")).group(1))
            assert abs(said - 100 * drops[k]) <= 0.051, (layer, k)


def test_the_bars_rank_each_channel_by_the_drop_pytorch_gives(page, lenet5):
    shown = drawn(page)
    assert_bars_are_pytorchs(shown, lenet5)
    # A bar is a button: pressing it switches its channel off.
    page.locator('#draw-view .ex-rank[data-layer="C3"]').first.click()
    first = shown["bars"][[b[0] for b in shown["bars"]].index("C3")][1]
    assert state(page)["off"] == {"C3": [first]}
    # Ranked again once the view is painted: the drops on top of that channel off.
    assert_bars_are_pytorchs(state(page), lenet5)


def test_the_bars_wait_for_the_pen_and_the_neighbours_follow_it(page, lenet5):
    """While the pen is down the bars are not ranked (dimmed, saying so) and the neighbours
    follow each frame; when it lifts, both are the final drawing's."""
    stored = load_neighbours(neighbours_path(CHECKPOINTS / "lenet5.safetensors"))
    first = drawn(page)
    box = page.locator("#draw-view canvas.pad").bounding_box()   # a second stroke on the first
    at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
    page.mouse.move(*at(0.5, 0.15))
    page.mouse.down()
    for k in range(1, 9):
        page.mouse.move(*at(0.5, 0.15 + 0.7 * k / 8))
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")   # one frame on
    during = page.evaluate(STATE, "draw")
    bars = page.locator("#draw-view .ex-bars")
    assert bars.get_attribute("aria-busy") == "true" and "when the pen lifts" in bars.inner_text()
    assert during["bars"] == first["bars"]                   # not ranked while drawing
    assert during["pixels"] != first["pixels"]               # though the view follows the pen
    classes = lenet5.meta["classes"]
    nearest = stored.nearest(lenet5.run(during["pixels"])[0][stored.output], np.asarray(during["pixels"]))
    assert during["neighbours"][0] == [classes[k] for k in nearest.by_features.labels]
    page.mouse.move(*at(0.55, 0.9))
    page.mouse.up()
    page.wait_for_function(DRAW_ANSWERED, timeout=30000)
    shown = state(page)
    assert page.locator("#draw-view .ex-bars").get_attribute("aria-busy") is None
    assert_bars_are_pytorchs(shown, lenet5)
    nearest = stored.nearest(lenet5.run(shown["pixels"])[0][stored.output], np.asarray(shown["pixels"]))
    assert shown["neighbours"] == [[classes[k] for k in nearest.by_features.labels],
                                   [classes[k] for k in nearest.by_pixels.labels]]


@STORED
def test_the_bars_show_the_stored_test_set_drops(page):
    from lenet.inside.experiments import load_experiments
    stored = load_experiments(experiments_path(CHECKPOINTS / "lenet5.safetensors"))
    shown = drawn(page)
    page.wait_for_function("() => document.querySelector('#draw-view .ex-bars').innerText"
                           ".includes('all on:')")
    shown = state(page)
    for layer, k, label in shown["bars"]:
        said = float(re.search(r"test set (-?[\d.]+) pts", label.replace("−", "-")).group(1))
        expected = 100 * (stored.lesion.baseline - stored.lesion.accuracies[layer][k])
        assert abs(said - expected) <= 0.051, (layer, k)


# ---------------------------------------------------------------------------- flip the answer
def test_a_flip_is_shown_in_every_layer_and_goes_when_the_student_draws_again(page, lenet5):
    original = drawn(page)["pixels"]
    page.locator("#draw-view .ex-flip-target").select_option("3")
    page.locator("#draw-view .ex-flip-go").click()
    page.wait_for_function("() => window.cnnPage.draw.experiments.flip.showing()", timeout=30000)
    shown = state(page)
    # The view shows the changed input, and PyTorch on those pixels answers 3.
    changed = np.asarray(shown["shown"])
    outputs, probabilities = lenet5.run(changed)
    assert int(probabilities.argmax()) == 3 and shown["top"] == 3
    assert close_to(shown["outputs"]["C1"], outputs["C1"])
    assert shown["answer"].startswith("3 with ") and "the changed input" in shown["answer"]
    assert shown["pixels"] == original   # the tab's own input is kept
    count = int((np.abs(changed - np.asarray(original)) >= CHANGED).sum())
    assert f"the search changed {count} pixels" in shown["flipBox"]
    # The input before, after, and the change.
    assert page.locator("#draw-view .ex-flip-result canvas.ex-picture").count() == 3
    # Back to the original, and to the change again.
    page.locator("#draw-view .ex-flip-back").click()
    assert state(page)["shown"] == original and not state(page)["flipped"]
    page.locator("#draw-view .ex-flip-back").click()
    assert state(page)["flipped"]
    # Drawing again: the flip belonged to the old drawing and goes.
    after = drawn(page, [(0.2, 0.5), (0.8, 0.5)])
    assert not after["flipped"] and after["flipBox"] == "" and after["shown"] == after["pixels"]
    assert page.locator("#draw-view .ex-flip-back").is_hidden()
    assert "the changed input" not in after["answer"]


def test_the_students_own_try_counts_the_pixels_they_changed(page):
    start = drawn(page, ONE)
    assert start["top"] == 1
    page.locator("#draw-view .ex-flip-target").select_option("7")
    assert "change your drawing by hand until it says 7" in state(page)["tryLine"]
    shown = drawn(page, [(0.25, 0.15), (0.5, 0.15)])   # a bar on top: a 7
    assert shown["top"] == 7
    count = int((np.abs(np.asarray(shown["pixels"]) - np.asarray(start["pixels"])) >= CHANGED).sum())
    assert shown["tryLine"].startswith("You made it say 7 (")
    assert f"by changing {count} pixels" in shown["tryLine"]
    assert "search for a change to compare" in shown["tryLine"]


# ---------------------------------------------------------------------------- what a unit wants
def test_an_ascent_raises_its_unit_and_goes_with_a_new_input(page, lenet5):
    shown = drawn(page)
    page.locator('#draw-view canvas.nv-map[data-layer="C1"][data-channel="3"]').click()
    page.keyboard.press("Escape")   # the trace the click opened
    assert page.locator("#draw-view .ex-wants-unit").inner_text().startswith("Chosen: C1 channel 3, row")
    unit = page.evaluate("() => window.cnnPage.draw.experiments.wants.unit")
    page.locator("#draw-view .ex-wants-input").click()
    page.wait_for_function("() => window.cnnPage.draw.experiments.wants.result !== null", timeout=30000)
    climbed = state(page)
    side = int(np.sqrt(len(climbed["outputs"]["C1"]) / 6))       # C1: 6 square maps
    at = (unit["channel"] * side + unit["y"]) * side + unit["x"]
    value = lenet5.run(climbed["ascent"])[0]["C1"][at]
    assert abs(value - climbed["ascentValue"]) <= 1e-4
    assert value > lenet5.run(shown["pixels"])[0]["C1"][at]
    assert "value is" in climbed["wantsBox"]
    # A new input (Clear, then a drawing): the ascent from the old one goes.
    page.locator("#draw-view .pad-clear").click()
    assert state(page)["ascent"] is None and state(page)["wantsBox"] == ""
    drawn(page, ONE)
    page.locator("#draw-view .ex-wants-grey").click()
    page.wait_for_function("() => window.cnnPage.draw.experiments.wants.result !== null", timeout=30000)
    assert "from grey" in state(page)["wantsBox"]
    # Even an ascent from grey goes with the input it was shown beside.
    page.locator("#draw-view .pad-clear").click()
    assert state(page)["ascent"] is None and state(page)["wantsBox"] == ""


@STORED
def test_the_nine_stored_crops_of_the_chosen_channel_are_shown(page):
    drawn(page)
    page.locator('#draw-view canvas.nv-map[data-layer="C3"][data-channel="4"]').click()
    page.keyboard.press("Escape")
    page.wait_for_function("() => document.querySelectorAll('#draw-view .ex-crops canvas').length === 9")
    page.mouse.click(*unit_cell(page, "F6", 3))
    page.keyboard.press("Escape")
    page.wait_for_function("() => document.querySelector('#draw-view .ex-wants-crops').innerText"
                           ".startsWith('No test images are stored for F6')")


# ---------------------------------------------------------------------------- neighbours
def test_the_neighbours_follow_every_input_and_equal_pythons(page, lenet5):
    stored = load_neighbours(neighbours_path(CHECKPOINTS / "lenet5.safetensors"))
    for points in (SEVEN, ONE):
        if points is ONE:
            page.locator("#draw-view .pad-clear").click()
            assert "Draw or show an input" in state(page)["neighboursText"]
        shown = drawn(page, points)
        page.wait_for_function("() => document.querySelectorAll('#draw-view .ex-neighbour-row').length === 2")
        shown = state(page)
        outputs, _ = lenet5.run(shown["pixels"])
        nearest = stored.nearest(outputs[stored.output], np.asarray(shown["pixels"]))
        classes = lenet5.meta["classes"]
        assert shown["neighbours"] == [[classes[k] for k in nearest.by_features.labels],
                                       [classes[k] for k in nearest.by_pixels.labels]]


# ---------------------------------------------------------------------------- one state
def test_an_upload_and_a_gallery_hand_over_blank_every_result(page, tmp_path):
    path = tmp_path / "five.png"
    five = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(five).line([(140, 30), (70, 30), (65, 95), (130, 100), (135, 160), (60, 170)],
                              fill=0, width=14)
    five.save(path)
    for replace in ("upload", "gallery"):
        drawn(page)
        page.locator("#draw-view .ex-flip-go").click()
        page.wait_for_function("() => window.cnnPage.draw.experiments.flip.showing()", timeout=30000)
        page.locator('#draw-view canvas.nv-map[data-layer="C1"][data-channel="1"]').click()
        page.keyboard.press("Escape")
        page.locator("#draw-view .ex-wants-input").click()
        page.wait_for_function("() => window.cnnPage.draw.experiments.wants.result !== null", timeout=30000)
        if replace == "upload":
            page.locator("#draw-view input.nv-upload-file").set_input_files(str(path))
        else:
            page.locator('[role=tab][data-tab-id="gallery"]').click()
            page.wait_for_function(READY, arg="gallery", timeout=60000)
            page.locator("#gallery-view .gl-tile").first.click()
        page.wait_for_function("(k) => window.cnnPage.draw.state.kind === k", arg=replace, timeout=30000)
        shown = state(page)
        assert not shown["flipped"] and shown["flipBox"] == "" and shown["shown"] == shown["pixels"]
        assert shown["ascent"] is None and shown["wantsBox"] == ""
        # The bars and the neighbours are those of the new input.
        page.wait_for_function("() => document.querySelectorAll('#draw-view .ex-neighbour-row').length === 2")
        assert f"probability of {shown['top']} " in page.locator("#draw-view .ex-bars").inner_text()
        page.locator("#draw-view .pad-clear").click()


# ---------------------------------------------------------------------------- the photo tab
def test_the_photo_tab_switches_off_and_flips_as_pytorch_says(chromium, site_url, convnet):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(site_url)
    page.wait_for_function(READY, arg="draw", timeout=60000)
    page.locator('[role=tab][data-tab-id="gallery"]').tap()
    page.wait_for_function(READY, arg="gallery", timeout=60000)
    page.locator("#gallery-view .gl-model").select_option("convnet")
    page.wait_for_function("() => document.querySelector('#gallery-view .gl-model').value === 'convnet'")
    page.locator("#gallery-view .gl-tile").first.tap()
    page.wait_for_function("() => window.cnnPage?.photo?.state.kind === 'gallery'", timeout=60000)
    open_experiments(page, "photo")
    page.locator("#photo-view .ex-lesion-mode").tap()
    page.locator('#photo-view canvas.nv-map[data-layer="conv2"][data-channel="7"]').tap()
    shown = state(page, "photo")
    assert shown["off"] == {"conv2": [7]}
    outputs, probabilities = convnet.run(shown["pixels"], {"conv2": [7]})
    assert close_to(shown["outputs"]["fc1"], outputs["fc1"])
    assert close_to(shown["probabilities"], probabilities, 1e-5)
    # All 128 of conv2's channels ranked, and nothing wider than the phone.
    assert sum(1 for b in shown["bars"] if b[0] == "conv2") == 128
    page.locator("#photo-view .ex-all > summary").last.tap()
    wide = page.evaluate("() => [...document.querySelectorAll('#photo-view .ex-panel *')]"
                         ".filter(e => e.getBoundingClientRect().right > innerWidth + 0.5).length")
    assert wide == 0
    target = (shown["top"] + 1) % 10
    page.locator("#photo-view .ex-flip-target").select_option(str(target))
    page.locator("#photo-view .ex-flip-go").tap()
    page.wait_for_function("() => window.cnnPage.photo.experiments.flip.showing()", timeout=60000)
    flipped = state(page, "photo")
    _, probabilities = convnet.run(flipped["shown"], {"conv2": [7]})
    assert int(probabilities.argmax()) == target == flipped["top"]
    context.close()


def test_with_your_own_model_the_stored_experiments_say_they_are_not_stored(page):
    own = str(CHECKPOINTS / "lenet5-classic.safetensors")
    page.locator("#draw-view input.nv-own-file").set_input_files(own)
    page.wait_for_function("() => !!document.querySelector('#draw-view .nv-own-back:not([hidden])')",
                           timeout=30000)
    page.wait_for_function(READY, arg="draw", timeout=30000)
    open_experiments(page, "draw")
    shown = drawn(page)
    assert "not stored for your own model" in shown["neighboursText"]
    assert len([b for b in shown["bars"] if b[0] == "C1"]) == 6   # computed in the page: still there


# ---------------------------------------------------------------------------- nothing sent
def test_the_experiments_ask_the_server_for_nothing_but_files(chromium, shell_url):
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    asked = []
    page.on("request", lambda r: asked.append(r))
    page.goto(shell_url)
    page.wait_for_function(READY, arg="draw", timeout=60000)
    loaded = len(asked)
    open_experiments(page, "draw")
    drawn(page)
    page.locator("#draw-view .ex-lesion-mode").check()
    switch_off_by_click(page, "C3", 1)
    page.locator("#draw-view .ex-flip-go").click()
    page.wait_for_function("() => window.cnnPage.draw.experiments.flip.showing()", timeout=30000)
    page.locator("#draw-view .ex-lesion-mode").uncheck()
    page.locator('#draw-view canvas.nv-map[data-layer="C1"][data-channel="1"]').click()
    page.locator("#draw-view .ex-wants-grey").click()
    page.wait_for_function("() => window.cnnPage.draw.experiments.wants.result !== null", timeout=30000)
    page.wait_for_function("() => document.querySelectorAll('#draw-view .ex-neighbour-row').length === 2")
    after = [r for r in asked[loaded:] if urlsplit(r.url).scheme in ("http", "https")]
    # Only GETs of static files (the stored experiments' files, read when a panel first needs
    # them) and, in the Gradio shell, its own heartbeat.
    bad = [(r.method, r.url) for r in after if r.method != "GET" or "/queue/" in r.url or "/run/" in r.url
           or "/call/" in r.url]
    assert bad == []
    context.close()


# ---------------------------------------------------------------------------- readable
@pytest.mark.parametrize("size", ["laptop", "projector", "projector at 125 %", "phone"])
def test_the_open_experiments_are_readable_and_cut_nothing_off(chromium, site_url, size):
    # The checks of test_tabs_readable.py (text of 13 px or more, nothing outside the screen
    # sideways) with every experiment open and showing its results, on both tabs.
    from test_tabs_readable import CUT_OFF, SIZES, SMALL_TEXT
    phone = size == "phone"
    context = chromium.new_context(viewport=SIZES[size], is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.goto(site_url)
    page.wait_for_function(READY, arg="draw", timeout=60000)
    open_experiments(page, "draw")
    drawn(page)
    page.locator('#draw-view canvas.nv-map[data-layer="C3"][data-channel="4"]').click()
    page.keyboard.press("Escape")
    page.locator("#draw-view .ex-flip-go").click()
    page.locator("#draw-view .ex-wants-grey").click()
    page.wait_for_function("() => window.cnnPage.draw.experiments.wants.result !== null", timeout=30000)
    for details in page.locator("#draw-view .ex-all > summary").all():
        details.click()
    problems = {"draw": page.evaluate(SMALL_TEXT, 13) + page.evaluate(CUT_OFF)}
    page.locator('[role=tab][data-tab-id="photo"]').click()
    page.wait_for_function(READY, arg="photo", timeout=60000)
    open_experiments(page, "photo")
    page.evaluate("""async () => { const t = window.cnnPage.photo;
        t.state.pixels = new Float32Array(3 * 32 * 32).map((_, i) => (i % 97) / 96); t.update(); }""")
    page.wait_for_function(SETTLED, arg="photo", timeout=30000)
    for details in page.locator("#photo-view .ex-all > summary").all():
        details.click()
    problems["photo"] = page.evaluate(SMALL_TEXT, 13) + page.evaluate(CUT_OFF)
    context.close()
    assert problems == {"draw": [], "photo": []}
