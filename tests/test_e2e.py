"""End to end in real Chromium (Debian's, driven by Playwright): draw on the pad and see a
label, clear it, upload a photo and see a label, upload junk and see a message."""
import shutil
import time

import numpy as np
import pytest
from PIL import Image


from browser import CHROMIUM, OBSERVE, draw, free_port, launch, start_app, stop_app

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not shutil.which(CHROMIUM) and not shutil.which("chromium"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)",
                allow_module_level=True)

SEVEN = [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
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
            page.evaluate(OBSERVE)
            page.shots = shots
            yield page
            browser.close()
    finally:
        stop_app(proc)
        assert proc.returncode is not None


def label_text(page, index=0):
    return page.locator('[data-testid="label-output-value"]').nth(index)


def test_drawing_shows_a_label_and_the_network_input(page):
    timings = draw(page, SEVEN, steps=8)
    label = label_text(page)
    label.wait_for(timeout=10000)
    assert label.inner_text().strip() in list("0123456789")
    assert page.locator("#lenet5-seen img").count() == 1
    path = page.shots / "drawn.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"\npen-up to label {timings['pen_up_to_label_ms']} ms, "
          f"{timings['updates']} updates while drawing; screenshot {path}")
    # When the pen lifts, the feature maps of all five LeNet-5 layers arrive too.
    page.wait_for_function("document.querySelectorAll('.maps img').length >= 5", timeout=10000)


def test_the_pad_draws_on_the_first_drag_again_after_clear(page):
    page.locator(".pad-clear").click()
    page.get_by_text("Draw a digit on the pad.").first.wait_for(timeout=10000)
    assert label_text(page).count() == 0 or not label_text(page).is_visible()
    draw(page, [(0.5, 0.15), (0.5, 0.85)], steps=6)
    label_text(page).wait_for(timeout=10000)
    ink = page.evaluate("""() => {
        const c = document.querySelector('canvas.pad');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let dark = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) dark++;
        return dark; }""")
    assert ink > 500  # the drag drew, with no tool to pick first


def test_uploading_a_photo_shows_a_label(page, tmp_path):
    page.get_by_role("tab", name="Classify a photo (CIFAR-10 · ConvNet)").click()
    image = np.zeros((200, 300, 3), np.uint8)
    image[:100] = (90, 150, 230)   # sky
    image[100:] = (40, 110, 60)    # grass
    Image.fromarray(image).save(tmp_path / "photo.png")
    page.locator("input[type=file]").last.set_input_files(str(tmp_path / "photo.png"))
    label = label_text(page, 1)
    label.wait_for(timeout=15000)
    assert label.inner_text().strip() in ("airplane", "automobile", "bird", "cat", "deer",
                                          "dog", "frog", "horse", "ship", "truck")
    page.screenshot(path=str(page.shots / "photo.png"), full_page=True)


def test_a_bad_upload_gets_a_message_and_the_page_keeps_working(page, tmp_path):
    (tmp_path / "notes.png").write_bytes(b"%PDF-1.4 this is a document, not a picture")
    page.locator("input[type=file]").last.set_input_files(str(tmp_path / "notes.png"))
    page.get_by_text("not an image").first.wait_for(timeout=15000)
    page.get_by_role("tab", name="Draw a digit (MNIST · LeNet-5)").click()
    page.locator(".pad-clear").click()
    time.sleep(0.5)
    draw(page, SEVEN, steps=6)
    label_text(page).wait_for(timeout=10000)


def test_inside_the_models_shows_tables_and_plots(page):
    page.get_by_role("tab", name="Inside the models").click()
    page.get_by_text("61,706 parameters").first.wait_for(timeout=10000)
    page.get_by_text("258,058 parameters").first.wait_for(timeout=10000)
    assert page.get_by_text("Confusion matrix on the test set").count() == 2
    page.screenshot(path=str(page.shots / "inside.png"), full_page=True)


def test_a_finger_draws_too(page):
    """Touch input through the browser's own touch events (what a phone sends)."""
    page.get_by_role("tab", name="Draw a digit (MNIST · LeNet-5)").click()
    page.locator(".pad-clear").click()
    page.get_by_text("Draw a digit on the pad.").first.wait_for(timeout=10000)
    assert label_text(page).count() == 0 or not label_text(page).is_visible()
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
    label_text(page).wait_for(timeout=10000)
    assert label_text(page).inner_text().strip() in list("0123456789")
