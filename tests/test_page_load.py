"""Loading the page, in Chromium against ``python app.py``: it starts no event in the server's
queue (each would cost every visitor of a full lecture hall a place in it), and what the
gallery shows first is what its controls ask the server for."""
import pytest

DRAW_READY = "#draw-view [data-ready=true], #draw-view[data-ready=true]"
TILES = "#gallery-sheet .gl-tile"
SHEET = """() => ({words: document.querySelector('#gallery-words').innerText,
    tiles: [...document.querySelectorAll('#gallery-sheet .gl-tile')].map(
        t => [t.getAttribute('aria-label'), t.querySelector('img').getAttribute('src')])})"""


@pytest.fixture
def page(chromium, app_url):
    """A fresh page, loaded until the draw view is ready and the gallery's sheet is shown;
    every POST it sent on the way is in ``page.posts``."""
    page = chromium.new_page(viewport={"width": 1366, "height": 768})
    page.posts = []
    page.on("request", lambda r: page.posts.append(r.url) if r.method == "POST" else None)
    page.goto(app_url)
    page.locator(DRAW_READY).first.wait_for(state="attached", timeout=30000)
    # The sheet shown is the end point: before it was built in, a load event drew it, so a
    # page that still sent one has sent it by now.
    page.get_by_role("tab", name="Test-set gallery").click()
    page.locator(f"{TILES} img").first.wait_for(timeout=30000)
    yield page
    page.close()


def test_loading_the_page_starts_no_queue_event(page):
    assert [url for url in page.posts if "/queue/join" in url] == []
    # Nor is one declared for the page's load (Gradio's own config, as the page reads it).
    loads = page.evaluate("window.gradio_config.dependencies.filter("
                          "d => d.targets.some(t => t[1] === 'load')).length")
    assert loads == 0


def test_the_first_sheet_is_what_its_controls_ask_the_server_for(page):
    first = page.evaluate(SHEET)
    assert len(first["tiles"]) == 9 and "random test images" in first["words"]
    # Away and back: the server's handler draws the sheet for the same controls.
    page.get_by_text("mistakes only").click()
    page.wait_for_function("() => document.querySelector('#gallery-words').innerText"
                           ".includes('mistakes of')", timeout=15000)
    page.get_by_text("random", exact=True).click()
    page.wait_for_function("() => document.querySelector('#gallery-words').innerText"
                           ".includes('random test images')", timeout=15000)
    assert page.evaluate(SHEET) == first
    assert len(page.posts) >= 2     # both redraws went through the server
