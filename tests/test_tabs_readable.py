"""Every tab readable on a laptop, a projector (also zoomed to 125 %, and with "Large text")
and a phone: each tab one tap away, its text HTML of 13 px or more (18 px with Large text),
no element of the open tab outside the screen sideways unless a box of its own scrolls to it,
and no warnings from the page's own code in the console. Each test opens its own page, with
a digit drawn and a photo shown, so none depends on another's state."""
import pytest
from browser import DRAW_ANSWERED, TAB_SHOWN
from PIL import Image, ImageDraw

TABS = ["Draw a digit", "Classify a photo",
        "Test-set gallery", "Building blocks", "Invariance lab", "Inside the models"]
SIZES = {"laptop": {"width": 1366, "height": 768}, "small laptop": {"width": 1280, "height": 800},
         "projector": {"width": 1024, "height": 768},
         "projector at 125 %": {"width": 820, "height": 615},   # 1024x768 zoomed: CSS pixels
         "phone": {"width": 390, "height": 844}}
# The whole network on the first screen at these sizes (the draw and photo views).
FIRST_SCREEN = {"laptop", "small laptop", "projector"}
DRAW_READY = "#draw-view [data-ready=true], #draw-view[data-ready=true]"
PHOTO_READY = "#photo-view [data-ready=true], #photo-view[data-ready=true]"
PHOTO_SHOWN = "() => window.cnnPage?.photo?.state.pixels != null"

# Text nodes of the open tab (and of the page's title) in a font smaller than ``least`` px.
SMALL_TEXT = """(least) => {
    const bad = [];
    const panel = [...document.querySelectorAll('[role=tabpanel]')].find(p => p.offsetParent);
    for (const root of [panel, document.querySelector('#page-head')]) {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const node = walker.currentNode, parent = node.parentElement;
            if (!node.textContent.trim() || parent.getClientRects().length === 0) continue;
            if (parent.closest('.visually-hidden, [aria-hidden=true]')) continue;
            if (parent.closest('svg') && parent.tagName.toLowerCase() === 'title') continue;
            const style = getComputedStyle(parent);
            if (style.visibility === 'hidden' || parseFloat(style.opacity) === 0) continue;
            // Text in an SVG drawing shows at its font size times the drawing's own scale.
            const svg = parent.closest('svg');
            const scale = svg && svg.viewBox.baseVal && svg.viewBox.baseVal.width
                ? svg.getBoundingClientRect().width / svg.viewBox.baseVal.width : 1;
            const size = parseFloat(style.fontSize) * scale;
            const words = node.textContent.trim().slice(0, 40);
            if (size < least - 0.05) bad.push(`${size.toFixed(1)}px ${parent.tagName}: ${words}`);
        }
    }
    return bad; }"""

# Visible elements of the open tab that lie outside the screen sideways, unless a box of their
# own between them and the tab scrolls sideways to them (Gradio's containers hide what
# overflows, so the page itself never scrolls sideways: that alone proves nothing).
CUT_OFF = """() => {
    const bad = [];
    const panel = [...document.querySelectorAll('[role=tabpanel]')].find(p => p.offsetParent);
    const scrolls = (box) => ['auto', 'scroll'].includes(getComputedStyle(box).overflowX)
        && box.scrollWidth > box.clientWidth;
    for (const node of [panel, ...panel.querySelectorAll('*')]) {
        const r = node.getBoundingClientRect();
        if (!r.width || !r.height || getComputedStyle(node).visibility === 'hidden') continue;
        if (r.left >= -0.5 && r.right <= innerWidth + 0.5) continue;
        let held = false;
        for (let box = node.parentElement; box && box !== document.body; box = box.parentElement) {
            if (scrolls(box)) { held = true; break; }
        }
        const name = `${node.tagName}.${node.getAttribute('class')}`;
        if (!held) bad.push(`${name} at ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
    return bad.slice(0, 10); }"""

# The live view's parts, from the pad or photo to Grad-CAM and saliency, that are not wholly
# inside the window.
OFF_SCREEN = """(view) => [...document.querySelectorAll(`${view} .nv-col, ${view} .nv-explain figure`)]
    .filter(e => e.offsetParent).map(e => [e.dataset.column || e.className, e.getBoundingClientRect()])
    .filter(([, r]) => r.top < 0 || r.bottom > innerHeight || r.left < 0 || r.right > innerWidth)
    .map(([name, r]) => `${name} at ${[r.left, r.top, r.right, r.bottom].map(Math.round)}`)"""


def draw_a_line(page):
    box = page.locator("canvas.pad").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    for k in range(1, 7):
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * (0.15 + 0.7 * k / 6))
    page.mouse.up()


def wait_until_shown(page, tab: str) -> None:
    """The tab is the selected one and its first results are on the page."""
    page.wait_for_function("n => [...document.querySelectorAll('[role=tab]')].find("
                           "t => t.innerText.trim() === n)?.getAttribute('aria-selected') === 'true'",
                           arg=tab)
    page.wait_for_function(TAB_SHOWN[tab], timeout=30000)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A made-up photo: a red boat on blue water under a pale sky, 96x64."""
    path = tmp_path_factory.mktemp("photo") / "boat.png"
    image = Image.new("RGB", (96, 64), (170, 200, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 40, 95, 63], fill=(30, 70, 140))
    draw.polygon([(20, 38), (76, 38), (66, 48), (30, 48)], fill=(190, 40, 30))
    image.save(path)
    return path


def open_page(chromium, app_url, size, photo, large=False):
    """A fresh page of ``size`` with a line drawn and ``photo`` shown on the photo tab, back on
    the draw tab; ``large``: with Large text switched on. Console warnings in ``page.warnings``."""
    phone = size == "phone"
    context = chromium.new_context(viewport=SIZES[size], is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.warnings = []
    page.on("console", lambda m: page.warnings.append(m.text) if m.type in ("warning", "error") else None)
    page.goto(app_url)
    page.locator(DRAW_READY).first.wait_for(state="attached", timeout=30000)
    if large:
        page.locator("#large-text input").check()
    page.get_by_role("tab", name="Classify a photo").click()
    # The photo tab loads its network when first opened (1 MB): slow on a loaded machine.
    page.locator(PHOTO_READY).first.wait_for(state="attached", timeout=60000)
    page.locator("#photo-input input[type=file]").set_input_files(str(photo))
    page.wait_for_function(PHOTO_SHOWN, timeout=30000)
    page.get_by_role("tab", name="Draw a digit").click()
    draw_a_line(page)
    page.wait_for_function(DRAW_ANSWERED)
    return page


def open_tab(page, tab, phone):
    button = page.get_by_role("tab", name=tab)
    assert button.is_visible(), f"{tab} is not on the tab bar"
    button.tap() if phone else button.click()
    wait_until_shown(page, tab)


@pytest.mark.parametrize("size", list(SIZES))
def test_every_tab_is_one_tap_away_readable_and_nothing_is_cut_off(chromium, app_url, photo, size):
    page = open_page(chromium, app_url, size, photo)
    problems = {}
    for tab in TABS:
        open_tab(page, tab, size == "phone")
        found = page.evaluate(SMALL_TEXT, 13) + page.evaluate(CUT_OFF)
        if size in FIRST_SCREEN and tab in ("Draw a digit", "Classify a photo"):
            page.evaluate("() => window.scrollTo(0, 0)")
            found += page.evaluate(OFF_SCREEN, "#draw-view" if tab.startswith("Draw") else "#photo-view")
        if found:
            problems[tab] = found
    page.context.close()
    assert problems == {}


def test_large_text_is_18_px_everywhere_and_nothing_is_cut_off_on_a_projector(chromium, app_url, photo):
    page = open_page(chromium, app_url, "projector", photo, large=True)
    before = page.locator("#draw-view canvas.nv-map[data-layer=C1]").first.bounding_box()["width"]
    problems = {}
    for tab in TABS:
        open_tab(page, tab, phone=False)
        found = page.evaluate(SMALL_TEXT, 18) + page.evaluate(CUT_OFF)
        if found:
            problems[tab] = found
    assert problems == {}
    page.locator("#large-text input").uncheck()
    open_tab(page, "Draw a digit", phone=False)
    after = page.locator("#draw-view canvas.nv-map[data-layer=C1]").first.bounding_box()["width"]
    assert before > 1.2 * after, "the maps are no larger with Large text"
    page.context.close()


def test_the_pages_own_code_logs_no_warnings(chromium, app_url, photo):
    page = open_page(chromium, app_url, "laptop", photo)
    for tab in TABS:
        open_tab(page, tab, phone=False)
    # Gradio's own client logs "Method not implemented." when it closes the stand-in event
    # stream of an upload's progress (gradio/templates/frontend: its EventSource polyfill's
    # close()); that is the framework's, not the page's, and every upload does it.
    own = [w for w in page.warnings if w != "Method not implemented."]
    page.context.close()
    assert own == []
