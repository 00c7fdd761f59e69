"""Loading the page, in Chromium against ``python app.py``: it starts no event in the server's
queue (each would cost every visitor of a full lecture hall a place in it); the gallery draws
its first sheet as Python's handler chooses it, and after that none of its controls sends a
request, a click on a tile included: the image reaches the draw view in the page."""
import pytest

from lenet.inside.gallery import gallery_path, load_gallery
from lenet.net.checkpoint import default_checkpoint
from ui.gallery import ANY, RANDOM, GalleryTab

DRAW_READY = "#draw-view [data-ready=true], #draw-view[data-ready=true]"
GALLERY_READY = "#gallery-view [data-ready=true] .gl-tile img, #gallery-view[data-ready=true] .gl-tile img"
LABELS = ("() => [...document.querySelectorAll('#gallery-sheet .gl-tile')]"
          ".map(t => t.getAttribute('aria-label'))")
# What the draw tab shows, as it publishes it (web/shared.js topic "digit"), and its answer.
DRAWN = """async () => {
  const shared = await import(new URL('gradio_api/file=web/shared.js', window.gradio_config.root).href);
  const shown = shared.latestOf('digit');
  return {caption: shown?.caption, pixels: shown?.pixels && Array.from(shown.pixels),
          answer: document.querySelector('#draw-view .nv-answer').innerText};
}"""


@pytest.fixture
def page(chromium, app_url):
    """A fresh page, loaded until the draw view is ready and the gallery's sheet is shown;
    every POST it sent on the way is in ``page.posts``."""
    page = chromium.new_page(viewport={"width": 1366, "height": 768})
    page.posts = []
    page.on("request", lambda r: page.posts.append(r.url) if r.method == "POST" else None)
    page.goto(app_url)
    page.locator(DRAW_READY).first.wait_for(state="attached", timeout=30000)
    # The sheet shown is the end point: a page that still sent a load event has sent it by now.
    page.get_by_role("tab", name="Test-set gallery").click()
    page.locator(GALLERY_READY).first.wait_for(timeout=30000)
    yield page
    page.close()


def test_loading_the_page_starts_no_queue_event(page):
    assert [url for url in page.posts if "/queue/join" in url] == []
    # Nor is one declared for the page's load (Gradio's own config, as the page reads it).
    loads = page.evaluate("window.gradio_config.dependencies.filter("
                          "d => d.targets.some(t => t[1] === 'load')).length")
    assert loads == 0


def test_no_gallery_control_sends_a_request_and_a_click_reaches_the_draw_view(page):
    lenet5 = load_gallery(gallery_path(default_checkpoint("lenet5")))
    python = GalleryTab({"lenet5": ("LeNet-5", lenet5, "draw")})
    first = python.show("lenet5", RANDOM, ANY, ANY, 0)
    labels = [f"test image {t['index']}: true {t['truth']}, predicted {t['guess']} {t['confidence']}"
              for t in first.tiles]
    assert page.evaluate(LABELS) == labels
    sent = []
    page.on("request", lambda r: sent.append(r.url))
    tab = page.locator("#gallery-view")
    tab.get_by_label("Model", exact=True).select_option(label="ConvNet on CIFAR-10")
    tab.get_by_label("mistakes only").check()
    tab.get_by_text("Filter by true or predicted class").click()
    tab.get_by_label("True class").select_option("cat")
    tab.get_by_label("Predicted class").select_option("dog")
    tab.get_by_label("Shuffle (seed)").fill("12")
    tab.get_by_role("button", name="Shuffle", exact=True).click()
    assert "mistakes of ConvNet on CIFAR-10" in tab.locator("#gallery-words").inner_text()
    # Back to the first settings: the same sheet again.
    tab.get_by_label("Model", exact=True).select_option(label="LeNet-5 on MNIST")
    tab.get_by_label("random", exact=True).check()
    tab.get_by_label("Shuffle (seed)").fill("0")
    assert page.evaluate(LABELS) == labels
    tile = first.tiles[4]
    page.locator("#gallery-sheet .gl-tile").nth(4).click()
    caption = f"test image #{tile['index']} ({tile['caption']})"
    page.wait_for_function("c => document.querySelector('#gallery-words').innerText"
                           ".includes(`Sent ${c} to the draw tab.`)", arg=caption, timeout=10000)
    page.locator("#draw-view .pad").wait_for(state="visible", timeout=10000)   # the draw tab is open
    assert sent == []
    drawn = page.evaluate(DRAWN)
    assert drawn["caption"] == caption
    assert [round(255 * v) for v in drawn["pixels"]] == lenet5.images[tile["position"]].ravel().tolist()
    assert drawn["answer"].startswith(f"{tile['guess']} with ")
