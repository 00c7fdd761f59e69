"""The same page in its two shells, the Gradio app and the static site served by a plain file
server (``shell_url``, tests/conftest.py): every tab mounts, a drawing and an upload on each
live tab get the answer the Python engine gives, a gallery tile goes to its tab, Large text
works and is remembered, the views' style sheet reaches them alone, and after the page has
loaded nothing a visitor does asks the server for anything but static files.

A tab whose module is not in web/ yet (another engineer is moving it into the page) is
skipped with the reason; its test runs as soon as the module lands."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from browser import DRAW_ANSWERED, draw_stroke
from PIL import Image, ImageDraw
from test_tabs_readable import CUT_OFF, SIZES, SMALL_TEXT

from lenet.inside.gallery import load_gallery
from lenet.inside.inference import Classifier
from lenet.page import TABS, gallery_path

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINTS = ROOT / "checkpoints"
READY = "(id) => !!document.querySelector(`#${id}-view[data-ready=true], #${id}-view [data-ready=true]`)"
SELECTED = ("(id) => document.querySelector(`[role=tab][data-tab-id=${id}]`)"
            "?.getAttribute('aria-selected') === 'true'")
FAILED = "could not start in this browser"   # what both loaders write in a tab that failed
ANSWER = "(id) => { const a = document.querySelector(`#${id}-view .nv-answer`);" \
         " return !!a && !a.hasAttribute('aria-busy') && a.innerText.includes(' with '); }"
SHOWN = "([id, kind]) => window.cnnPage?.[id]?.state.kind === kind && window.cnnPage[id].state.pixels != null"
# What the Gradio page itself asks for after load, on its own: the heartbeat, a GET that
# tells the server this visitor is still there (gradio/templates/frontend). Static files:
# the page's own (gradio_api/file=), Gradio's scripts, styles and fonts.
GRADIO_STATIC = ("/gradio_api/file=", "/assets/", "/static/", "/theme.css", "/favicon.ico")
GRADIO_OWN = ("/gradio_api/heartbeat/",)


def landed(tab: str) -> bool:
    return (ROOT / "web" / f"{tab}_tab.js").is_file() and (ROOT / "web" / f"{tab}_tab.html").is_file()


def needs(*tabs: str) -> None:
    missing = [t for t in tabs if not landed(t)]
    if missing:
        pytest.skip(f"waits for the {', '.join(missing)} tab in the page (web/<tab>_tab.js)")


def shell_of(request) -> str:
    return request.node.callspec.params["shell_url"]


@pytest.fixture
def page(chromium, shell_url):
    """A fresh page of the shell, its draw tab ready; ``page.asked(since)``: the requests it made
    after its first ``since`` ones, as (method, url, status or None while unanswered)."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.requests, statuses = [], {}
    page.on("request", lambda r: page.requests.append(r))   # also a stream that never ends
    page.on("response", lambda r: statuses.update({r.request: r.status}))
    page.asked = lambda since: [(r.method, r.url, statuses.get(r)) for r in page.requests[since:]]
    page.goto(shell_url)
    page.wait_for_function(READY, arg="draw", timeout=60000)
    yield page
    context.close()


def open_tab(page, tab: str) -> None:
    page.locator(f'[role=tab][data-tab-id="{tab}"]').click()
    page.wait_for_function(SELECTED, arg=tab)
    page.wait_for_function(READY, arg=tab, timeout=60000)


def answer(page, tab: str) -> str:
    """The class the tab's view names ("7 with 99.2 %" -> "7")."""
    page.wait_for_function(ANSWER, arg=tab, timeout=30000)
    return page.locator(f"#{tab}-view .nv-answer").inner_text().split(" with ")[0].strip()


# ---------------------------------------------------------------------------- inputs
@pytest.fixture(scope="module")
def digit_file(tmp_path_factory) -> Path:
    """A scanned-looking "7": dark ink on off-white paper, larger than the network's input."""
    path = tmp_path_factory.mktemp("upload") / "seven.png"
    image = Image.new("RGB", (180, 220), (236, 232, 224))
    ImageDraw.Draw(image).line([(40, 40), (140, 40), (80, 190)], fill=(30, 30, 40), width=16)
    image.save(path)
    return path


@pytest.fixture(scope="module")
def photo_file(tmp_path_factory) -> Path:
    """The CIFAR-10 test image the ConvNet is surest of in its gallery, enlarged 3x as a photo
    would be: an answer that a last-digit difference in the recipe cannot change."""
    gallery = load_gallery(gallery_path(CHECKPOINTS / "convnet.safetensors"))
    best = max(range(len(gallery)), key=lambda i: float(gallery.confidences[i]))
    path = tmp_path_factory.mktemp("upload") / "test_image.png"
    gallery.picture(best).resize((96, 96), Image.BICUBIC).save(path)
    return path


@pytest.fixture(scope="module")
def python_models():
    return {name: Classifier.from_checkpoint(CHECKPOINTS / f"{name}.safetensors")
            for name in ("lenet5", "convnet")}


# ---------------------------------------------------------------------------- the tabs
def test_the_tab_bar_has_the_six_tabs_in_page_order(page):
    ids = page.eval_on_selector_all("[role=tab][data-tab-id]", "ts => ts.map(t => t.dataset.tabId)")
    titles = page.eval_on_selector_all("[role=tab][data-tab-id]", "ts => ts.map(t => t.innerText.trim())")
    expected = [t for t in TABS if landed(t)]
    assert [i for i in ids if i in expected] == expected
    assert titles == [TABS[i] for i in ids]


@pytest.mark.parametrize("tab", list(TABS))
def test_every_tab_mounts(page, tab):
    needs(tab)
    open_tab(page, tab)
    assert FAILED not in page.locator(f"#{tab}-view").inner_text()


def test_the_views_style_sheet_reaches_the_views_and_nothing_else(page):
    # view.css is nested inside the view's own rule (Gradio's css_template; the site does the
    # same): the answer line is bold inside the draw view, and the same class outside is not.
    weight = "(s) => getComputedStyle(document.querySelector(s)).fontWeight"
    assert page.evaluate(weight, "#draw-view .nv-answer") == "700"
    page.evaluate("() => { const p = document.createElement('p'); p.className = 'nv-answer';"
                  " p.id = 'outside'; p.textContent = 'x'; document.body.append(p); }")
    assert page.evaluate(weight, "#outside") == "400"


def test_the_tab_bar_is_a_tab_list_for_the_keyboard(chromium, site_url):
    # The static shell's own tab bar (Gradio's is Gradio's): arrow keys move along it and
    # round its ends, Home and End go to the first and last, and the panel follows.
    page = chromium.new_page()
    page.goto(site_url)
    page.wait_for_function(READY, arg="draw", timeout=60000)
    ids = page.eval_on_selector_all("[role=tab]", "ts => ts.map(t => t.dataset.tabId)")
    page.locator('[role=tab][data-tab-id="draw"]').focus()
    for key, expected in [("ArrowRight", ids[1]), ("ArrowLeft", ids[0]), ("ArrowLeft", ids[-1]),
                          ("Home", ids[0]), ("End", ids[-1])]:
        page.keyboard.press(key)
        shown = page.evaluate("() => [document.activeElement.dataset.tabId,"
                              " [...document.querySelectorAll('[role=tabpanel]')].filter(p => !p.hidden)"
                              ".map(p => p.id)]")
        assert shown == [expected, [f"panel-{expected}"]], key
    page.close()


@pytest.mark.parametrize("size", [*SIZES, "projector, Large text"])
def test_the_static_shell_is_readable_and_cuts_nothing_off(chromium, site_url, size):
    # The Gradio shell's own test is test_tabs_readable.py; this is the site's shell (its head,
    # tab bar and panels) with the same checks: text of 13 px or more (18 with Large text), no
    # element of the open tab outside the screen sideways.
    large = size.endswith("Large text")
    phone = size == "phone"
    context = chromium.new_context(viewport=SIZES["projector" if large else size], is_mobile=phone,
                                   has_touch=phone)
    page = context.new_page()
    page.goto(site_url)
    page.wait_for_function(READY, arg="draw", timeout=60000)
    if large:
        page.locator("#large-text input").check()
    problems = {}
    for tab in TABS:
        if landed(tab):
            button = page.locator(f'[role=tab][data-tab-id="{tab}"]')
            button.tap() if phone else button.click()
            page.wait_for_function(READY, arg=tab, timeout=60000)
            found = page.evaluate(SMALL_TEXT, 18 if large else 13) + page.evaluate(CUT_OFF)
            if found:
                problems[tab] = found
    context.close()
    assert problems == {}


# ---------------------------------------------------------------------------- what a visitor does
def test_a_drawing_gets_the_answer_python_gives_for_the_same_pixels(page, python_models):
    draw_stroke(page, [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)])
    page.wait_for_function(DRAW_ANSWERED, timeout=30000)
    pixels = np.array(page.evaluate("() => Array.from(window.cnnPage.draw.state.pixels)"), np.float32)
    assert pixels.shape == (28 * 28,) and pixels.max() > 0.5
    assert answer(page, "draw") == python_models["lenet5"].predict_pixels(pixels.reshape(1, 28, 28)).label


@pytest.mark.parametrize("tab", ["draw", "photo"])
def test_an_upload_gets_the_answer_python_gives_for_the_same_file(page, python_models, digit_file,
                                                                  photo_file, tab):
    needs(tab)
    path, model = (digit_file, "lenet5") if tab == "draw" else (photo_file, "convnet")
    open_tab(page, tab)
    page.locator(f"#{tab}-view input.nv-upload-file").set_input_files(str(path))
    page.wait_for_function(SHOWN, arg=[tab, "upload"], timeout=30000)
    assert answer(page, tab) == python_models[model].predict(str(path)).label


@pytest.mark.parametrize("model, tab", [("lenet5", "draw"), ("convnet", "photo")])
def test_a_gallery_tile_is_shown_on_its_tab_with_the_galleries_prediction(page, model, tab):
    needs("gallery", tab)
    open_tab(page, "gallery")
    page.locator("#gallery-view .gl-model").select_option(model)
    tile = page.locator("#gallery-view .gl-tile").first
    page.wait_for_function("(m) => window.cnnPage?.gallery && document.querySelector("
                           "'#gallery-view .gl-model').value === m", arg=model)
    label = tile.get_attribute("aria-label")   # "test image N: true T, predicted P 99 %"
    index, predicted = re.fullmatch(r"test image (\d+): true \S+, predicted (\S+) .*", label).groups()
    tile.click()
    page.wait_for_function(SELECTED, arg=tab)
    page.wait_for_function(SHOWN, arg=[tab, "gallery"], timeout=30000)
    assert page.evaluate("(t) => window.cnnPage[t].state.caption", tab).startswith(f"test image #{index} ")
    # The page's engine on the handed-over pixels agrees with the gallery file (made by PyTorch).
    assert answer(page, tab) == predicted


def test_large_text_is_switched_in_the_page_and_remembered(page):
    caveat = "() => parseFloat(getComputedStyle(document.querySelector('#draw-view .nv-caveat')).fontSize)"
    before = page.evaluate(caveat)
    page.locator("#large-text input").check()
    assert page.evaluate("() => document.documentElement.classList.contains('large-text')")
    assert before < 18 <= page.evaluate(caveat)
    page.reload()
    page.wait_for_function(READY, arg="draw", timeout=60000)
    page.wait_for_function("() => document.documentElement.classList.contains('large-text')")
    assert page.locator("#large-text input").is_checked()
    page.locator("#large-text input").uncheck()
    assert page.evaluate(caveat) == before


# ---------------------------------------------------------------------------- nothing sent
def test_after_load_nothing_a_visitor_does_asks_for_more_than_files(
        request, page, digit_file, photo_file):
    loaded = len(page.requests)
    for tab in TABS:
        if landed(tab):
            open_tab(page, tab)
    open_tab(page, "draw")
    draw_stroke(page, [(0.5, 0.15), (0.5, 0.85)])
    page.wait_for_function(DRAW_ANSWERED, timeout=30000)
    for tab, path in (("draw", digit_file), ("photo", photo_file)):
        open_tab(page, tab)
        page.locator(f"#{tab}-view input.nv-upload-file").set_input_files(str(path))
        page.wait_for_function(SHOWN, arg=[tab, "upload"], timeout=30000)
    if landed("gallery"):
        open_tab(page, "gallery")
        page.locator("#gallery-view .gl-tile").first.click()
        page.wait_for_function(SHOWN, arg=["draw", "gallery"], timeout=30000)
    page.locator("#large-text input").check()
    after = [(method, url, status) for method, url, status in page.asked(loaded)
             if urlsplit(url).scheme in ("http", "https")]   # data: and blob: URLs are the page's own
    gradio = shell_of(request) == "gradio"
    own = [a for a in after if gradio and urlsplit(a[1]).path.startswith(GRADIO_OWN)]
    static = GRADIO_STATIC if gradio else ("/",)
    bad = [a for a in after if a not in own
           and not (a[0] == "GET" and a[2] in (200, 304) and urlsplit(a[1]).path.startswith(static))]
    print(f"\n{shell_of(request)}: {len(after)} requests after load, {len(own)} of them Gradio's own:",
          sorted({urlsplit(a[1]).path.rsplit("/", 1)[0] for a in after}))
    assert bad == []
