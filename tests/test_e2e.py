"""End to end in real Chromium (Debian's, driven by Playwright). Each test sets up the tab
state it needs; each asserts the exact answer the engine gives the same input alone."""
import shutil
import time

import numpy as np
import pytest
from PIL import Image

from browser import CHROMIUM, OBSERVE, draw, free_port, launch, start_app, stop_app
from conftest import SHARED_DATA

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not shutil.which(CHROMIUM) and not shutil.which("chromium"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)",
                allow_module_level=True)

SEVEN = [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)]
DRAW_TAB, PHOTO_TAB = "Draw a digit (MNIST · LeNet-5)", "Classify a photo (CIFAR-10 · ConvNet)"
SHIP = SHARED_DATA / "cifar10" / "test" / "ship" / "0001.jpg"   # a 32x32 CIFAR-10 test photo

# Every request the page sends to the queue, by endpoint name; and every toast shown.
COUNT_REQUESTS = """() => {
  const names = {};
  for (const d of window.gradio_config.dependencies) names[d.id] = d.api_name;
  window.__joins = [];
  const send = window.fetch;
  window.fetch = function (url, options) {
    if (String(url).includes('/queue/join') && options && options.body) {
      try { window.__joins.push(names[JSON.parse(options.body).fn_index]); } catch (e) {}
    }
    return send.apply(this, arguments);
  };
}"""


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    port = free_port()
    proc, cold = start_app(port)
    print(f"\ncold start: {cold:.2f} s")
    shots = tmp_path_factory.mktemp("screenshots")
    try:
        with sync_api.sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator("canvas.pad").wait_for(timeout=30000)
            page.locator("#lenet5-seen").wait_for(state="attached", timeout=30000)
            page.evaluate(OBSERVE)
            page.evaluate(COUNT_REQUESTS)
            page.shots, page.url_root = shots, f"http://127.0.0.1:{port}/"
            yield page
            browser.close()
    finally:
        stop_app(proc)
        assert proc.returncode is not None


@pytest.fixture
def page(browser_page):
    """The page, scrolled to the top with the request log emptied."""
    browser_page.evaluate("() => { window.__joins = []; window.scrollTo(0, 0); }")
    return browser_page


def label_text(page, tab: int):
    model = ("lenet5", "convnet")[tab]
    return page.locator(f'#{model}-top3 [data-testid="label-output-value"]')


def open_tab(page, name: str):
    page.get_by_role("tab", name=name).click()
    time.sleep(0.3)


def clear_pad(page):
    open_tab(page, DRAW_TAB)
    page.locator(".pad-clear").click()
    page.get_by_text("Draw a digit on the pad.").first.wait_for(timeout=10000)


def pictures_shown(page, tab: int) -> int:
    """How many of the tab's pictures (input, Grad-CAM, saliency, maps) hold an image that
    is not broken (below the fold on a phone the browser may not have loaded it yet)."""
    return page.evaluate("""(tab) => {
        const panel = document.querySelectorAll('[role=tabpanel]')[tab] || document;
        return [...panel.querySelectorAll('.crisp img')].filter(i => i.getAttribute('src')
            && !(i.complete && i.naturalWidth === 0)).length; }""", tab)


def wait_for_pictures(page, tab: int, count: int):
    deadline = time.time() + 15
    while pictures_shown(page, tab) < count and time.time() < deadline:
        time.sleep(0.2)
    assert pictures_shown(page, tab) == count


def upload_seven(page, tmp_path) -> str:
    """Open the draw tab's upload and send it a picture of a 7; returns the file's path."""
    from PIL import ImageDraw
    image = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(image).line([(60, 40), (150, 40), (90, 170)], fill=0, width=14)
    image.save(tmp_path / "seven.png")
    page.get_by_text("…or upload a picture of a digit").click()
    page.locator("input[type=file]").first.set_input_files(str(tmp_path / "seven.png"))
    return str(tmp_path / "seven.png")


def overlaps(page) -> list[str]:
    """Titles or buttons that sit on top of a visible picture."""
    return page.evaluate("""() => {
        const bad = [];
        for (const block of document.querySelectorAll('.picture')) {
            const img = block.querySelector('img');
            if (!img || !img.offsetParent) continue;
            const r = img.getBoundingClientRect();
            const on = (e) => { const b = e.getBoundingClientRect();
                return b.width > 0 && b.bottom > r.top + 1 && b.top < r.bottom - 1
                    && b.right > r.left + 1 && b.left < r.right - 1; };
            const label = block.querySelector('label');
            if (label && on(label)) bad.push('title: ' + label.innerText);
            for (const b of block.querySelectorAll('button, .icon-button'))
                if (!b.contains(img) && on(b)) bad.push('button: ' + (b.ariaLabel || b.title));
        }
        return bad; }""")


def height(page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


# ---------------------------------------------------------------------------- draw tab

def test_a_drawn_seven_reads_7_with_every_picture_and_nothing_covering_them(page):
    clear_pad(page)
    empty_height = height(page)
    time.sleep(0.5)
    page.evaluate("() => { window.__joins = []; }")
    timings = draw(page, SEVEN, steps=8)
    label_text(page, 0).wait_for(timeout=10000)
    assert label_text(page, 0).inner_text().strip() == "7"
    wait_for_pictures(page, 0, 10)  # input, Grad-CAM, saliency, C1 S2 C3 S4 C5, F6, output
    assert overlaps(page) == []
    full_height = height(page)
    page.screenshot(path=str(page.shots / "drawn.png"), full_page=True)
    print(f"\npen-up to label {timings['pen_up_to_label_ms']} ms, "
          f"{timings['updates']} updates while drawing")
    # One pen-up asks for the pictures once; the label follows the pen (several times).
    assert page.evaluate("window.__joins").count("sketch_pictures") == 1
    clear_pad(page)
    assert pictures_shown(page, 0) == 0
    assert abs(full_height - empty_height) <= 4 and abs(height(page) - empty_height) <= 4


def test_the_pad_draws_on_the_first_drag_again_after_clear(page):
    clear_pad(page)
    draw(page, [(0.5, 0.15), (0.5, 0.85)], steps=6)
    label_text(page, 0).wait_for(timeout=10000)
    assert label_text(page, 0).inner_text().strip() == "1"
    ink = page.evaluate("""() => {
        const c = document.querySelector('canvas.pad');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let dark = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) dark++;
        return dark; }""")
    assert ink > 500  # the drag drew, with no tool to pick first


def test_explaining_another_class_of_an_uploaded_digit_keeps_its_pictures(page, tmp_path):
    clear_pad(page)
    upload_seven(page, tmp_path)
    page.get_by_text("with").first.wait_for(timeout=10000)
    assert label_text(page, 0).inner_text().strip() == "7"
    wait_for_pictures(page, 0, 10)
    before = page.evaluate("[...document.querySelectorAll('.heat img')].map(i => i.src)")
    page.get_by_label("Grad-CAM and saliency explain which class?").first.click()
    page.get_by_role("option", name="3", exact=True).click()
    deadline = time.time() + 10
    while time.time() < deadline and page.evaluate(
            "[...document.querySelectorAll('.heat img')].map(i => i.src)") == before:
        time.sleep(0.2)
    after = page.evaluate("[...document.querySelectorAll('.heat img')].map(i => i.src)")
    assert after != before and len(after) == 2      # new heatmaps, for the upload
    assert pictures_shown(page, 0) == 10            # nothing blanked
    page.get_by_label("Grad-CAM and saliency explain which class?").first.click()
    page.get_by_role("option", name="top prediction").click()
    page.get_by_text("…or upload a picture of a digit").click()


def test_a_finger_draws_too(page):
    """Touch input through the browser's own touch events (what a phone sends)."""
    clear_pad(page)
    box = page.locator("canvas.pad").bounding_box()
    cdp = page.context.new_cdp_session(page)
    points = [(0.5, 0.15 + 0.07 * k) for k in range(11)]

    def touch(kind, fx=None, fy=None):
        where = [] if fx is None else [{"x": box["x"] + fx * box["width"],
                                         "y": box["y"] + fy * box["height"]}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": where})
    touch("touchStart", *points[0])
    for fx, fy in points[1:]:
        touch("touchMove", fx, fy)
    touch("touchEnd")
    label_text(page, 0).wait_for(timeout=10000)
    assert label_text(page, 0).inner_text().strip() == "1"


def click_pixel(page, selector: str, px: float, py: float):
    """Click natural pixel (px, py) of the image in ``selector``, which the page shows scaled
    to fit its box (object-fit: contain), as Gradio's own click coordinates assume."""
    image = page.locator(f"{selector} img")
    image.scroll_into_view_if_needed()
    page.wait_for_function(f"document.querySelector('{selector} img').naturalWidth > 0")
    box = image.bounding_box()
    nw, nh = page.evaluate(f"(() => {{ const i = document.querySelector('{selector} img');"
                           f" return [i.naturalWidth, i.naturalHeight]; }})()")
    r = min(box["width"] / nw, box["height"] / nh, 1)
    left, top = box["x"] + (box["width"] - nw * r) / 2, box["y"] + (box["height"] - nh * r) / 2
    page.mouse.click(left + px * r, top + py * r)


def trace_words(page, start: str) -> str:
    """The trace panel's words once they start with ``start``."""
    words = page.locator("#lenet5-trace-words")
    deadline = time.time() + 10
    while time.time() < deadline and not words.inner_text().startswith(start):
        time.sleep(0.2)
    return words.inner_text()


def test_open_a_channel_click_a_pixel_and_read_the_sum(page, tmp_path):
    """Click C3's channel 5 in its grid, then pixel (4, 6) of the large map: the panel's sum
    must be the model's own, recomputed here from the same uploaded picture."""
    from lenet.checkpoint import default_checkpoint
    from lenet.inference import Classifier
    from lenet.trace import trace
    from lenet.trace_view import big_factor
    from lenet.visualize import _grid_layout
    clear_pad(page)
    upload_seven(page, tmp_path)
    wait_for_pictures(page, 0, 10)
    columns, _, factor, _, _, cell_w, cell_h = _grid_layout("C3", 16, 10, 10, 64, None)
    click_pixel(page, "#lenet5-C3", 5 * cell_w + 3 * factor, 2 * factor)   # channel 5
    assert trace_words(page, "C3 #5 at row 2, column 3").startswith("C3 #5 at row 2, column 3")
    k = big_factor((10, 10))
    click_pixel(page, "#lenet5-big", 6 * k + k // 2, 4 * k + k // 2)        # y 4, x 6
    words = trace_words(page, "C3 #5 at row 4, column 6")
    assert words.startswith("C3 #5 at row 4, column 6")
    clf = Classifier.from_checkpoint(default_checkpoint("lenet5"))
    expected = trace(clf, clf.predict(str(tmp_path / "seven.png")).tensor, "C3", 5, 4, 6)
    shown = float(words.split("= pre-activation")[1].split()[0])
    assert shown == pytest.approx(expected.pre_activation, abs=1e-5)
    assert f"rows {expected.receptive_field[0]}–{expected.receptive_field[2]}" in words
    page.locator("#lenet5-big").scroll_into_view_if_needed()
    page.screenshot(path=str(page.shots / "trace.png"), full_page=True)
    page.get_by_text("…or upload a picture of a digit").click()


# ---------------------------------------------------------------------------- photo tab

def test_a_ship_photo_reads_ship_shown_large_and_once(page):
    if not SHIP.exists():
        pytest.skip(f"{SHIP} is absent: a real CIFAR-10 photo is needed")
    open_tab(page, PHOTO_TAB)
    upload = page.locator("input[type=file]").last
    upload.set_input_files(str(SHIP))
    label = label_text(page, 1)
    label.wait_for(timeout=15000)
    assert label.inner_text().strip() == "ship"
    # The answer is the mean of the photo's and its mirror image's logits, written out.
    from lenet.checkpoint import default_checkpoint
    from lenet.inference import Classifier
    expected = Classifier.from_checkpoint(default_checkpoint("convnet")).predict(SHIP.read_bytes())
    softmax = page.locator("#convnet-softmax").inner_text()
    assert "mirror image" in softmax
    for values in (expected.own_logits, expected.mirror_logits, expected.logits):
        assert f"ship: {values[8]:+.2f}" in softmax, softmax
    wait_for_pictures(page, 1, 9)
    # A 32x32 photo fills its box instead of sitting in it as a speck.
    width = page.evaluate("() => document.querySelector('#photo-input img')"
                          ".getBoundingClientRect().width")
    assert width >= 200
    page.screenshot(path=str(page.shots / "photo.png"), full_page=True)
    # Uploading over it: one label request and one pictures request, not two of each.
    page.evaluate("() => { window.__joins = []; }")
    upload.set_input_files(str(SHIP.with_name("0002.jpg")))
    time.sleep(2.5)
    joins = page.evaluate("window.__joins")
    assert joins.count("classify_photo") == 1 and joins.count("photo_pictures") == 1, joins


def test_a_bad_upload_gets_one_message_and_leaves_no_broken_image(page, tmp_path):
    open_tab(page, PHOTO_TAB)
    (tmp_path / "notes.png").write_bytes(b"%PDF-1.4 this is a document, not a picture")
    page.locator("input[type=file]").last.set_input_files(str(tmp_path / "notes.png"))
    page.get_by_text("not an image").first.wait_for(timeout=15000)
    time.sleep(1.5)
    toasts = page.locator('[data-testid="toast-body"]').count()
    assert toasts == 1
    broken = page.evaluate("""() => [...document.querySelectorAll('#photo-input img')]
        .filter(i => i.offsetParent && !(i.complete && i.naturalWidth > 0)).length""")
    assert broken == 0
    # The page keeps working.
    clear_pad(page)
    draw(page, SEVEN, steps=6)
    label_text(page, 0).wait_for(timeout=10000)
    assert label_text(page, 0).inner_text().strip() == "7"


# ---------------------------------------------------------------------------- building blocks

def test_building_blocks_add_relu_and_max_pooling_to_the_laplacian(page):
    open_tab(page, "Building blocks")
    status = page.locator("#blocks-status")
    deadline = time.time() + 10      # opening the tab runs the defaults
    while time.time() < deadline and not status.inner_text().startswith("Laplacian on sample"):
        time.sleep(0.2)
    assert status.inner_text().startswith("Laplacian on sample: input 3×256×256 → conv 1×254×254")
    page.get_by_label("ReLU after the convolution").check()
    page.get_by_role("radio", name="max", exact=True).click()
    deadline = time.time() + 10
    while time.time() < deadline and "pool 1×127×127" not in status.inner_text():
        time.sleep(0.2)
    assert status.inner_text().endswith("relu 1×254×254 → pool 1×127×127")
    assert "(254 − 2)/2 + 1 = 127" in page.locator("#blocks-formulas").inner_text()
    page.screenshot(path=str(page.shots / "blocks.png"), full_page=True)


# ---------------------------------------------------------------------------- invariance lab

def test_the_lab_loads_the_drawing_and_follows_the_rotation_slider(page):
    clear_pad(page)
    draw(page, SEVEN, steps=6)
    label_text(page, 0).wait_for(timeout=10000)
    open_tab(page, "Invariance lab")
    status = page.locator("#lab-status")
    deadline = time.time() + 15
    while time.time() < deadline and not status.inner_text().startswith("7 with"):
        time.sleep(0.2)
    assert status.inner_text().startswith("7 with")
    for box in ("#lab-rotation", "#lab-shift", "#lab-occlusion"):
        page.wait_for_function(f"document.querySelector('{box} img')?.getAttribute('src')")
    before = status.inner_text()
    rotate = page.get_by_label("Rotate (degrees, counter-clockwise)")
    number = rotate.locator("xpath=ancestor::div[contains(@class, 'block')][1]//input[@type='number']")
    number.fill("60")
    number.press("Enter")
    deadline = time.time() + 10
    while time.time() < deadline and status.inner_text() == before:
        time.sleep(0.2)
    assert status.inner_text() != before and "(was 7 with" in status.inner_text()
    page.screenshot(path=str(page.shots / "invariance.png"), full_page=True)


# ---------------------------------------------------------------------------- gallery

def test_a_mistake_from_the_gallery_is_analysed_in_the_draw_tab(page, tmp_path):
    import io
    from lenet.checkpoint import default_checkpoint
    from lenet.gallery import gallery_path, load_gallery
    from lenet.inference import Classifier
    open_tab(page, "Test-set gallery")
    page.get_by_text("only the mistakes").click()
    page.get_by_text("mistakes of").first.wait_for(timeout=10000)
    words = page.locator("#gallery-words").inner_text()
    gallery = load_gallery(gallery_path(default_checkpoint("lenet5")))
    mistakes = int(gallery.is_mistake.sum())
    assert words.startswith(f"24 of {mistakes} mistakes of LeNet-5")
    click_pixel(page, "#gallery-sheet", 40, 40)                   # the first tile
    page.wait_for_function("document.querySelector('#gallery-words').innerText"
                           ".includes('Sent test image #')", timeout=10000)
    index = int(page.locator("#gallery-words").inner_text().split("#")[1].split()[0])
    i = int(np.flatnonzero(gallery.indices == index)[0])
    assert gallery.is_mistake[i]
    buffer = io.BytesIO()
    gallery.picture(i).save(buffer, "PNG")
    expected = Classifier.from_checkpoint(default_checkpoint("lenet5")).predict(buffer.getvalue())
    # The page is shared with earlier tests, so an older answer may still be shown: wait for
    # this image's answer by its content.
    label = label_text(page, 0)
    deadline = time.time() + 15
    while time.time() < deadline and (not label.count()
                                       or label.inner_text().strip() != expected.label):
        time.sleep(0.2)
    assert page.evaluate("document.querySelector('[role=tab][aria-selected=true]').innerText") \
        == DRAW_TAB
    assert label.inner_text().strip() == expected.label
    page.screenshot(path=str(page.shots / "gallery.png"), full_page=True)


# ---------------------------------------------------------------------------- inside, phone

def test_inside_the_models_shows_tables_and_plots(page):
    open_tab(page, "Inside the models")
    for parameters in ("61,706 parameters", "258,058 parameters", "7,850 parameters"):
        page.get_by_text(parameters).first.wait_for(timeout=10000)
    assert page.get_by_text("Confusion matrix on the test set").count() == 4
    page.screenshot(path=str(page.shots / "inside.png"), full_page=True)


def test_on_a_phone_nothing_covers_the_pictures(browser_page):
    context = browser_page.context.browser.new_context(viewport={"width": 390, "height": 844},
                                                       is_mobile=True, has_touch=True)
    phone = context.new_page()
    try:
        phone.goto(browser_page.url_root)
        phone.locator("canvas.pad").wait_for(timeout=30000)
        phone.locator("#lenet5-seen").wait_for(state="attached", timeout=30000)
        phone.evaluate(OBSERVE)
        draw(phone, SEVEN, steps=6)
        label_text(phone, 0).wait_for(timeout=10000)
        wait_for_pictures(phone, 0, 10)
        assert overlaps(phone) == []
        widest = phone.evaluate("Math.max(...[...document.querySelectorAll('.crisp img')]"
                                ".map(i => i.getBoundingClientRect().right))")
        assert widest <= 390
        phone.screenshot(path=str(browser_page.shots / "phone.png"), full_page=True)
    finally:
        context.close()
