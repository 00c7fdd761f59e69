"""Every tab readable on a laptop, a projector and a phone: each tab one tap away, its text
HTML of 13 px or more, nothing scrolling sideways, and no warnings from the page's own code
in the console. Each test opens its own page, so none depends on another's state."""
import pytest
from browser import DRAW_ANSWERED, TAB_SHOWN
from conftest import SHARED_DATA

TABS = ["Draw a digit", "Classify a photo",
        "Test-set gallery", "Building blocks", "Invariance lab", "Inside the models"]
SHIP = SHARED_DATA / "cifar10" / "test" / "ship" / "0001.jpg"
SIZES = {"laptop": {"width": 1366, "height": 768}, "projector": {"width": 1024, "height": 768},
         "phone": {"width": 390, "height": 844}}
DRAW_READY = "#draw-view [data-ready=true], #draw-view[data-ready=true]"
# Text nodes of the open tab (and of the page's title) in a font smaller than 13 px.
SMALL_TEXT = """() => {
    const bad = [];
    const panel = [...document.querySelectorAll('[role=tabpanel]')].find(p => p.offsetParent);
    for (const root of [panel, document.querySelector('#page-title')]) {
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
            if (size < 12.95) bad.push(`${size.toFixed(1)}px ${parent.tagName}: ${words}`);
        }
    }
    return bad; }"""


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


@pytest.fixture(scope="module", params=list(SIZES))
def device(request, chromium):
    """A browser context the size of a laptop, a projector or a phone (a touch screen)."""
    context = chromium.new_context(viewport=SIZES[request.param],
                                   is_mobile=request.param == "phone",
                                   has_touch=request.param == "phone")
    context.size = request.param
    yield context
    context.close()


@pytest.fixture
def screen(device, app_url):
    """A fresh page on the app with a line drawn on the pad (so that the tabs that use the
    drawing, the lab's charts, show it); the page's console warnings in ``page.warnings``."""
    page = device.new_page()
    page.warnings = []
    page.on("console", lambda m: page.warnings.append(m.text) if m.type in ("warning", "error") else None)
    page.goto(app_url)
    page.locator(DRAW_READY).first.wait_for(state="attached", timeout=30000)
    draw_a_line(page)
    page.wait_for_function(DRAW_ANSWERED)
    page.size = device.size
    yield page
    page.close()


@pytest.mark.parametrize("tab", TABS)
def test_each_tab_is_one_tap_away_readable_and_never_wider_than_the_screen(screen, tab):
    button = screen.get_by_role("tab", name=tab)
    assert button.is_visible(), f"{tab} is not on the tab bar on a {screen.size}"
    if screen.size == "phone":
        button.tap()
    else:
        button.click()
    wait_until_shown(screen, tab)
    assert screen.evaluate(SMALL_TEXT) == []
    width = screen.evaluate("() => document.documentElement.scrollWidth")
    assert width <= screen.viewport_size["width"], f"{tab} scrolls sideways: {width} px"


def test_the_pages_own_code_logs_no_warnings(screen):
    for tab in TABS:
        screen.get_by_role("tab", name=tab).click()
        wait_until_shown(screen, tab)
        if tab.startswith("Classify a photo") and SHIP.exists():   # an upload too
            screen.locator("#photo-input input[type=file]").set_input_files(str(SHIP))
            screen.wait_for_function("() => window.cnnPage.photo.state.pixels !== null")
    # Gradio's own client logs "Method not implemented." when it closes the stand-in event
    # stream of an upload's progress (gradio/templates/frontend: its EventSource polyfill's
    # close()); that is the framework's, not the page's, and every upload does it.
    own = [w for w in screen.warnings if w != "Method not implemented."]
    assert own == []
