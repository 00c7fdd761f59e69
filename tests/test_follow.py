"""Follow a unit on the live views, in Chromium against the running app: the trace keeps its
unit's outlines while it is read, covers neither the outputs nor "Why?", closes with Escape
however it was opened and leaves a tapped unit in sight on a phone; the keyboard reaches every
control, with a ring one can see, and every layer's units, named in plain words.

Where a test needs to know where a unit is drawn, it works that out from the map's own box on
the screen (a map of h x w values drawn over a box of H x W pixels), not from the page's code."""
import io

import numpy as np
import pytest
import torch
from PIL import Image
from test_draw_view import LAPTOP, PHONE, SEVEN, open_view, stroke

from lenet.inside.inference import Classifier
from lenet.inside.trace import trace
from lenet.net.checkpoint import default_checkpoint

PROJECTOR = {"width": 1024, "height": 768}
MARKS = """() => [...document.querySelectorAll('#draw-view .nv-marks > .nv-mark')].map(m => {
    const r = m.getBoundingClientRect(), round = Math.round;
    return [m.className, round(r.left), round(r.top), round(r.width), round(r.height)]; })"""
RECT = "(e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"


@pytest.fixture(scope="module")
def lenet5():
    return Classifier.from_checkpoint(default_checkpoint("lenet5"))


@pytest.fixture
def view(chromium, app_url):
    """A fresh page on the draw tab at 1366x768 with a 7 drawn."""
    page = chromium.new_page(viewport=LAPTOP)
    open_view(page, app_url)
    stroke(page, SEVEN)
    yield page
    page.close()


def cell(page, selector, y, x):
    """The window's rectangle [left, top, right, bottom] of value (y, x) of the map (a canvas)
    at ``selector``, from the map's box and its size in values."""
    box = page.locator(selector).bounding_box()
    rows, cols = page.locator(selector).evaluate("(c) => [c.height, c.width]")
    h, w = box["height"] / rows, box["width"] / cols
    return [box["x"] + x * w, box["y"] + y * h, box["x"] + (x + 1) * w, box["y"] + (y + 1) * h]


def centre(rect):
    return (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2


def rect_of(page, selector):
    return page.locator(selector).first.evaluate(RECT)


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def inside_window(page, r) -> bool:
    width, height = page.evaluate("() => [innerWidth, innerHeight]")
    return r[0] >= 0 and r[1] >= 0 and r[2] <= width and r[3] <= height


def trace_shown(page, view="#draw-view") -> bool:
    return page.evaluate(f"() => !document.querySelector('{view} .nv-trace').hidden")


def same_rect(a, b, tolerance=1.5) -> bool:
    return all(abs(u - v) <= tolerance for u, v in zip(a, b))


# ---------------------------------------------------------------------------- the trace

def test_the_traced_units_outlines_stay_while_its_trace_is_read(view):
    c3 = 'canvas[data-layer="C3"][data-channel="5"]'
    view.mouse.click(*centre(cell(view, c3, 4, 6)))
    assert trace_shown(view)
    traced = view.evaluate(MARKS)
    kinds = sorted(m[0] for m in traced)
    # C3 reads a window of all six S2 maps; its field is outlined on the input.
    assert kinds == ["nv-mark nv-mark-field"] + ["nv-mark nv-mark-reads"] * 6 + ["nv-mark nv-mark-unit"]
    unit = next(m for m in traced if m[0].endswith("unit"))
    assert same_rect([unit[1], unit[2], unit[1] + unit[3], unit[2] + unit[4]], cell(view, c3, 4, 6))
    # The pointer goes onto the trace to read it: the outlines stay.
    view.mouse.move(*centre(rect_of(view, "#draw-view .nv-trace")))
    assert view.evaluate(MARKS) == traced
    # Another unit (one the trace does not cover) shows its own outlines while pointed at;
    # leaving it, the traced unit's return.
    panel = rect_of(view, "#draw-view .nv-trace")
    other = next(f'canvas[data-layer="{layer}"] >> nth=0' for layer in ("C1", "S4", "C5")
                 if not overlap(panel, rect_of(view, f'canvas[data-layer="{layer}"]')))
    view.mouse.move(*centre(cell(view, other, 0, 0)))
    assert view.evaluate(MARKS) != traced
    view.mouse.move(*centre(rect_of(view, "#draw-view .nv-trace")))
    assert view.evaluate(MARKS) == traced


def test_the_trace_covers_neither_the_outputs_nor_why_nor_its_unit(view, tmp_path):
    """From the last layers, whose trace used to open over the outputs, at a laptop's and a
    projector's width; then on the photo tab."""
    def check(page, tab, selector):
        canvas = page.locator(f"{tab} {selector}").first
        rows, cols = canvas.evaluate("(c) => [c.height, c.width]")
        unit = cell(page, f"{tab} {selector} >> nth=0", rows // 2, cols // 2)
        page.mouse.click(*centre(unit))
        assert trace_shown(page, tab), selector
        panel = rect_of(page, f"{tab} .nv-trace")
        assert inside_window(page, panel), (selector, panel)
        assert not overlap(panel, unit), selector
        for part in (".nv-output", ".nv-explain"):
            assert not overlap(panel, rect_of(page, f"{tab} {part}")), (selector, part, panel)
        page.keyboard.press("Escape")

    for size in (LAPTOP, PROJECTOR):
        view.set_viewport_size(size)
        for layer in ("C5", "F6", "C3"):
            check(view, "#draw-view", f'canvas[data-layer="{layer}"]')
    view.set_viewport_size(LAPTOP)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(photo)
    view.get_by_role("tab", name="Classify a photo").click()
    view.locator("#photo-view [data-ready=true]").wait_for(state="attached", timeout=30000)
    view.locator("#photo-input input[type=file]").set_input_files(str(photo))
    view.wait_for_function("() => window.cnnPage.photo.state.pixels !== null", timeout=15000)
    for layer in view.evaluate("() => Object.keys(window.cnnPage.photo.view.columns)")[-2:]:
        check(view, "#photo-view", f'canvas[data-layer="{layer}"]')


def test_escape_closes_a_trace_opened_with_the_mouse(view):
    c3 = 'canvas[data-layer="C3"][data-channel="5"]'
    view.mouse.click(*centre(cell(view, c3, 4, 6)))
    assert trace_shown(view)
    focused = view.locator("#draw-view .nv-trace").evaluate("(t) => t.contains(document.activeElement)")
    view.keyboard.press("Escape")
    assert not trace_shown(view)
    # The trace is a dialog: it took the focus, and gave it back to the unit when it closed.
    assert focused
    assert view.evaluate(f"() => document.activeElement === document.querySelector('#draw-view {c3}')")


def test_on_a_phone_the_trace_leaves_the_tapped_unit_in_sight(chromium, app_url):
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = open_view(context.new_page(), app_url)
    try:
        stroke(page, SEVEN)
        for layer, height in (("C3", 0.75), ("C1", 0.3), ("F6", 0.6)):
            canvas = f'#draw-view canvas[data-layer="{layer}"] >> nth=0'
            # The map's top at ``height`` of the screen: lower down, the trace used to cover it.
            page.locator(canvas).evaluate(
                f"(c) => scrollBy(0, c.getBoundingClientRect().top - {height} * innerHeight)")
            page.touchscreen.tap(*centre(cell(page, canvas, 1, 1)))
            assert trace_shown(page), layer
            unit = cell(page, canvas, 1, 1)          # where the unit is now
            assert inside_window(page, unit), layer
            assert not overlap(rect_of(page, "#draw-view .nv-trace"), unit), layer
            page.locator("#draw-view .nv-trace-close").tap()
            assert not trace_shown(page)
    finally:
        context.close()


# ---------------------------------------------------------------------------- the keyboard

def ring_pixels(page, selector) -> tuple[int, int]:
    """How many pixels of the 6-pixel band around the element at ``selector`` change when it
    gets the keyboard's focus, and the element's perimeter."""
    element = page.locator(selector).first
    element.scroll_into_view_if_needed()             # the screenshot sees the viewport only
    page.mouse.move(0, 0)
    element.evaluate("(e) => e.blur()")
    box = element.bounding_box()
    clip = {"x": box["x"] - 6, "y": box["y"] - 6, "width": box["width"] + 12, "height": box["height"] + 12}
    before = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("RGB"), int)
    page.keyboard.press("Shift")                     # the last input was the keyboard's
    element.evaluate("(e) => e.focus()")
    assert element.evaluate("(e) => e === document.activeElement && e.matches(':focus-visible')"), selector
    after = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("RGB"), int)
    band = np.ones(before.shape[:2], bool)
    band[6:-6, 6:-6] = False                         # outside the element's own box
    changed = (np.abs(after - before).max(axis=2) > 60) & band
    return int(changed.sum()), int(2 * (box["width"] + box["height"]))


def test_every_control_of_the_view_shows_a_focus_ring(view):
    controls = [".pad-clear", ".nv-after", ".nv-class-select", ".nv-classes li", ".nv-glossary summary",
                ".nv-softmax summary", 'canvas[data-layer="C1"]', 'canvas[data-layer="F6"]']
    for control in controls:
        changed, perimeter = ring_pixels(view, f"#draw-view {control}")
        assert changed >= perimeter, (control, changed, perimeter)


def test_the_keyboard_reaches_every_layers_units_and_their_traces(view, lenet5):
    # One tab stop per layer, in the order the data flows, between the pad's tools and the outputs.
    view.locator("#draw-view .nv-upload-file").focus()   # the last of the pad's tools: its upload box
    stops = []
    for _ in range(7):
        view.keyboard.press("Tab")
        stops.append(view.evaluate("() => document.activeElement.dataset.layer || null"))
    assert stops == ["C1", "S2", "C3", "S4", "C5", "F6", "output"]
    # On C3: two to the right, one down, the next channel.
    for _ in range(4):
        view.keyboard.press("Shift+Tab")
    for key in ("ArrowRight", "ArrowRight", "ArrowDown", "]"):
        view.keyboard.press(key)
    c3 = '#draw-view canvas[data-layer="C3"][data-channel="1"]'
    assert view.evaluate(f"() => document.activeElement === document.querySelector('{c3}')")
    label = view.locator(c3).get_attribute("aria-label")
    assert label.startswith("C3 after ReLU, channel 1, row 1, column 2"), label
    # The unit is outlined as when pointed at, with its receptive field on the input.
    marks = {m[0].split("-")[-1]: [m[1], m[2], m[1] + m[3], m[2] + m[4]] for m in view.evaluate(MARKS)}
    assert same_rect(marks["unit"], cell(view, c3, 1, 2))
    pixels = view.evaluate("() => Array.from(window.cnnPage.draw.state.pixels)")
    t = trace(lenet5, torch.tensor(pixels, dtype=torch.float32).reshape(1, 1, 28, 28), "C3", 1, 1, 2)
    top, left, bottom, right = t.receptive_field
    field = cell(view, "#draw-view canvas.nv-input", top, left)[:2] + cell(
        view, "#draw-view canvas.nv-input", bottom, right)[2:]
    assert same_rect(marks["field"], field)
    # Enter opens its trace, with Python's sum for that unit; Escape comes back to the unit.
    view.keyboard.press("Enter")
    assert trace_shown(view)
    assert f"{abs(t.pre_activation):.3f}" in view.locator("#draw-view .nv-trace-body").inner_text()
    view.keyboard.press("Escape")
    assert not trace_shown(view)
    assert view.evaluate(f"() => document.activeElement === document.querySelector('{c3}')")
    # A grid of units: down one row of the grid is the unit one row's width further on.
    for _ in range(3):
        view.keyboard.press("Tab")
    f6 = view.locator('#draw-view canvas[data-layer="F6"]')
    view.keyboard.press("ArrowDown")
    label = f6.get_attribute("aria-label")
    assert label.startswith(f"F6 after ReLU, unit {f6.get_attribute('data-cols')}"), label
