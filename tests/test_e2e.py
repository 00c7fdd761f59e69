"""End to end in real Chromium (Debian's, driven by Playwright). Each test sets up the tab
state it needs; each asserts the exact answer the engine gives the same input alone."""
import json
import tempfile
from pathlib import Path

import pytest
from browser import draw_stroke
from conftest import SHARED_DATA
from playwright.sync_api import expect

SEVEN = [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)]
DRAW_TAB, PHOTO_TAB = "Draw a digit", "Classify a photo"
SHIP = SHARED_DATA / "cifar10" / "test" / "ship" / "0001.jpg"   # a 32x32 CIFAR-10 test photo

@pytest.fixture
def page(chromium, app_url):
    """A fresh page on the app at 1280x1000, with every request to the queue recorded."""
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(app_url)
    page.locator("#draw-view [data-ready=true]").wait_for(state="attached", timeout=30000)
    names = {d["id"]: d["api_name"] for d in page.evaluate("window.gradio_config.dependencies")}
    page.joins = []

    def sent(request):
        if "/queue/join" in request.url:
            page.joins.append(names.get(json.loads(request.post_data or "{}").get("fn_index")))
    page.on("request", sent)
    yield page
    page.close()


def open_tab(page, name: str):
    tab = page.get_by_role("tab", name=name)
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")


def draw_seven(page):
    """A 7 on the draw tab's pad, read by the page's own network."""
    open_tab(page, DRAW_TAB)
    draw_stroke(page, SEVEN)
    page.wait_for_function("document.querySelector('.nv-answer').innerText.startsWith('7 with')")


# ---------------------------------------------------------------------------- photo tab

def photo_view(page) -> dict:
    return page.evaluate("""() => { const p = window.cnnPage.photo, run = p.view.run;
        return {answer: document.querySelector('#photo-view .nv-answer').innerText,
                pixels: p.state.pixels ? Array.from(p.state.pixels) : null,
                probabilities: run ? Array.from(run.probabilities) : null,
                mirror: [...document.querySelectorAll('#photo-view .nv-mirror-table tbody tr')]
                    .map(tr => tr.innerText)}; }""")


def open_photo_tab(page):
    open_tab(page, PHOTO_TAB)
    page.locator("#photo-view [data-ready=true]").wait_for(state="attached", timeout=30000)


def test_a_ship_photo_reads_ship_with_both_passes_written_out(page):
    """The page's ConvNet on the server's 32x32 input: the app's own answer (the mean of the
    photo's and its mirror image's logits), and both passes one click away."""
    if not SHIP.exists():
        pytest.skip(f"{SHIP} is absent: a real CIFAR-10 photo is needed")
    from lenet.inside.inference import Classifier
    from lenet.net.checkpoint import default_checkpoint
    expected = Classifier.from_checkpoint(default_checkpoint("convnet")).predict(str(SHIP))
    open_photo_tab(page)
    page.locator("#photo-input input[type=file]").set_input_files(str(SHIP))
    page.wait_for_function("() => window.cnnPage.photo.state.pixels !== null", timeout=15000)
    shown = photo_view(page)
    top = int(expected.probabilities.argmax())
    assert shown["answer"] == f"ship with {100 * expected.probabilities[top]:.1f} %"
    assert max(abs(a - b) for a, b in zip(shown["probabilities"], expected.probabilities)) <= 1e-5
    page.locator("#photo-view .nv-mirror summary").click()
    ship = photo_view(page)["mirror"][8].split()
    assert ship[0] == "ship" and [float(v.replace("−", "-")) for v in ship[1:]] == pytest.approx(
        [expected.own_logits[8], expected.mirror_logits[8], expected.logits[8]], abs=0.006)
    # The output unit's trace says how the answer uses this photo's logit.
    page.locator('#photo-view .nv-classes li').nth(8).click()
    words = page.locator("#photo-view .nv-trace-body").inner_text()
    mean = f"{expected.logits[8]:.3f}".replace("-", "−")
    assert words.startswith("fc2 · “ship”") and f"/ 2 = {mean}" in words
    # Uploading over it: one request, which prepares the input; the page does the rest.
    page.joins.clear()
    page.locator("#photo-input input[type=file]").set_input_files(str(SHIP.with_name("0002.jpg")))
    before = sum(shown["pixels"])
    page.wait_for_function(f"() => Math.abs(window.cnnPage.photo.state.pixels.reduce((a, b) => a + b)"
                           f" - {before}) > 1e-3", timeout=15000)
    assert page.joins == ["prepare_photo"]


def test_the_photo_network_fits_a_1366x768_screen(chromium, app_url):
    if not SHIP.exists():
        pytest.skip(f"{SHIP} is absent: a real CIFAR-10 photo is needed")
    page = chromium.new_page(viewport={"width": 1366, "height": 768})
    try:
        page.goto(app_url)
        page.locator("#draw-view [data-ready=true]").wait_for(state="attached", timeout=30000)
        open_photo_tab(page)
        page.locator("#photo-input input[type=file]").set_input_files(str(SHIP))
        page.wait_for_function("() => window.cnnPage.photo.state.pixels !== null", timeout=15000)
        outside = page.evaluate("""() => {
            const view = document.querySelector('#photo-view'), bad = [];
            const parts = ['.nv-answer', 'canvas.nv-input', '.nv-classes li:last-child',
                '.nv-cam canvas', '.nv-sal canvas', '.nv-class-select',
                ...['conv1', 'pool1', 'conv2', 'pool2', 'fc1', 'fc2', 'explain']
                    .map(n => `[data-column="${n}"]`)];
            for (const s of parts) {
                const r = view.querySelector(s).getBoundingClientRect();
                if (r.width === 0 || r.left < 0 || r.top < 0 || r.right > innerWidth
                    || r.bottom > innerHeight) bad.push(s);
            }
            const photo = document.querySelector('#photo-input').getBoundingClientRect();
            if (photo.bottom > innerHeight || photo.right > innerWidth) bad.push('the photo');
            return bad; }""")
        assert outside == []
        names = page.locator("#photo-view .nv-class").all_inner_texts()
        assert names == ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                         "ship", "truck"]
    finally:
        page.close()


def test_a_bad_upload_gets_one_message_and_the_old_answer_goes(page, tmp_path):
    open_photo_tab(page)
    from PIL import Image  # any photo first: its answer must go when the bad upload comes
    Image.new("RGB", (48, 40), (200, 60, 40)).save(tmp_path / "red.png")
    page.locator("#photo-input input[type=file]").set_input_files(str(tmp_path / "red.png"))
    page.wait_for_function("() => window.cnnPage.photo.state.pixels !== null", timeout=15000)
    (tmp_path / "notes.png").write_bytes(b"%PDF-1.4 this is a document, not a picture")
    page.locator("#photo-input input[type=file]").set_input_files(str(tmp_path / "notes.png"))
    page.wait_for_function("() => window.cnnPage.photo.state.kind === 'message'", timeout=15000)
    shown = photo_view(page)
    assert shown["answer"].startswith("⚠️ this is not an image") and "\n" not in shown["answer"]
    assert shown["probabilities"] is None
    # The page keeps working.
    draw_seven(page)


# ---------------------------------------------------------------------------- building blocks

def test_building_blocks_add_relu_and_max_pooling_to_the_laplacian(page):
    open_tab(page, "Building blocks")
    status = page.locator("#blocks-status")
    shows = "t => document.querySelector('#blocks-status').innerText.includes(t)"
    page.wait_for_function(shows, arg="Laplacian on sample", timeout=10000)  # opening runs it
    assert status.inner_text().startswith("Laplacian on sample: input 3×256×256 → conv 1×254×254")
    page.get_by_label("ReLU after the convolution").check()
    page.get_by_role("radio", name="max", exact=True).click()
    page.wait_for_function(shows, arg="pool 1×127×127", timeout=10000)
    assert status.inner_text().endswith("relu 1×254×254 → pool 1×127×127")
    expect(page.locator("#blocks-formulas")).to_contain_text("(254 − 2)/2 + 1 = 127")
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "blocks.png"), full_page=True)


# ---------------------------------------------------------------------------- invariance lab

def test_the_lab_loads_the_drawing_and_follows_the_rotation_slider(page):
    draw_seven(page)
    open_tab(page, "Invariance lab")
    page.wait_for_function("document.querySelector('#lab-status').innerText.startsWith('7 with')",
                           timeout=15000)
    # The curves are charts with text, marked at the sliders' values (no turn, no shift yet).
    for box in ("#lab-rotation", "#lab-shift"):
        page.wait_for_function(f"document.querySelector('{box} .chart-marker')?.dataset.x === '0'")
    page.wait_for_function("document.querySelector('#lab-occlusion img')?.getAttribute('src')")
    before = page.locator("#lab-status").inner_text()
    rotate = page.get_by_label("Rotate (degrees, counter-clockwise)")
    number = rotate.locator("xpath=ancestor::div[contains(@class, 'block')][1]//input[@type='number']")
    number.fill("60")
    number.press("Enter")
    page.wait_for_function("b => document.querySelector('#lab-status').innerText !== b", arg=before,
                           timeout=10000)
    assert "(was 7 with" in page.locator("#lab-status").inner_text()


MARKED = ("v => document.querySelector('#lab-rotation .chart-marker')?.dataset.x === v"
          " && document.querySelector('#lab-occlusion img')?.getAttribute('src') !== window.occluded")


def test_the_labs_charts_and_map_follow_a_typed_number_and_the_arrow_keys(page):
    """Typed in and confirmed with Enter, or stepped with the arrow keys: the chart's marker and
    the occlusion map follow the slider every time, not only when a drag is released."""
    draw_seven(page)
    open_tab(page, "Invariance lab")
    page.wait_for_function("document.querySelector('#lab-rotation .chart-marker')?.dataset.x === '0'",
                           timeout=15000)
    rotate = page.get_by_label("Rotate (degrees, counter-clockwise)")
    number = rotate.locator("xpath=ancestor::div[contains(@class, 'block')][1]//input[@type='number']")
    page.evaluate("() => { window.occluded = document.querySelector('#lab-occlusion img').src; }")
    number.fill("30")
    number.press("Enter")
    page.wait_for_function(MARKED, arg="30", timeout=15000)
    slider = rotate.locator("xpath=ancestor::div[contains(@class, 'block')][1]//input[@type='range']")
    page.evaluate("() => { window.occluded = document.querySelector('#lab-occlusion img').src; }")
    slider.focus()
    for _ in range(3):
        slider.press("ArrowRight")
    page.wait_for_function(MARKED, arg="33", timeout=15000)


# ---------------------------------------------------------------------------- gallery

# ---------------------------------------------------------------------------- inside, phone

def test_inside_the_models_shows_one_model_at_a_time(page):
    open_tab(page, "Inside the models")
    page.get_by_text("61,706 parameters").first.wait_for(timeout=10000)
    assert page.get_by_text("Confusion matrix on the test set (rows: true class)").count() == 1
    assert page.locator(".filters figure").filter(visible=True).count() == 6   # LeNet-5 C1
    bar = page.locator(".colour-bar").filter(visible=True).inner_text()
    assert bar.startswith("−") or bar.startswith("-")        # from the most negative weight
    page.get_by_label("ConvNet on CIFAR-10").check()
    page.get_by_text("258,058 parameters").first.wait_for(timeout=10000)
    assert page.locator(".filters figcaption").filter(has_text="#15").count() == 1
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "inside.png"), full_page=True)
