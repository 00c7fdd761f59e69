"""End to end in real Chromium (Debian's, driven by Playwright). Each test sets up the tab
state it needs; each asserts the exact answer the engine gives the same input alone."""
import json
import tempfile
from pathlib import Path

import pytest
from browser import draw_stroke
from conftest import SHARED_DATA
from playwright.sync_api import expect
from test_draw_view import take

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
    """The page's ConvNet on the 32x32 input the page prepared: the app's own answer (the mean
    of the photo's and its mirror image's logits), and both passes one click away."""
    if not SHIP.exists():
        pytest.skip(f"{SHIP} is absent: a real CIFAR-10 photo is needed")
    from lenet.inside.inference import Classifier
    from lenet.net.checkpoint import default_checkpoint
    expected = Classifier.from_checkpoint(default_checkpoint("convnet")).predict(str(SHIP))
    open_photo_tab(page)
    take(page, "photo", str(SHIP))
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
    # Uploading over it: read and prepared in the page, which sends the server nothing.
    page.joins.clear()
    assert take(page, "photo", str(SHIP.with_name("0002.jpg"))) == []
    assert abs(sum(photo_view(page)["pixels"]) - sum(shown["pixels"])) > 1e-3
    assert page.joins == []


def test_the_photo_network_fits_a_1366x768_screen(chromium, app_url):
    if not SHIP.exists():
        pytest.skip(f"{SHIP} is absent: a real CIFAR-10 photo is needed")
    page = chromium.new_page(viewport={"width": 1366, "height": 768})
    try:
        page.goto(app_url)
        page.locator("#draw-view [data-ready=true]").wait_for(state="attached", timeout=30000)
        open_photo_tab(page)
        take(page, "photo", str(SHIP))
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
    take(page, "photo", str(tmp_path / "red.png"))
    assert photo_view(page)["probabilities"] is not None
    (tmp_path / "notes.png").write_bytes(b"%PDF-1.4 this is a document, not a picture")
    assert take(page, "photo", str(tmp_path / "notes.png")) == []
    assert page.evaluate("() => window.cnnPage.photo.state.kind") == "message"
    shown = photo_view(page)
    assert shown["answer"].startswith("⚠️ this is not an image") and "\n" not in shown["answer"]
    assert shown["probabilities"] is None
    # The page keeps working.
    draw_seven(page)


# ---------------------------------------------------------------------------- building blocks

def test_building_blocks_add_relu_and_max_pooling_to_the_laplacian(page):
    """Computed in the page: the tab's first run, ReLU and max pooling, then the drawing from
    the draw tab, with the engine's shapes and formulas, and not one queue event."""
    draw_seven(page)
    joins = len(page.joins)
    open_tab(page, "Building blocks")
    page.locator("#blocks-view [data-ready=true]").wait_for(state="attached", timeout=30000)
    status = page.locator("#blocks-status")
    shows = "t => document.querySelector('#blocks-status').innerText.includes(t)"
    assert status.inner_text().startswith("Laplacian on sample: input 3×256×256 → conv 1×254×254")
    page.get_by_label("ReLU after the convolution").check()
    page.get_by_role("radio", name="max", exact=True).click()
    page.wait_for_function(shows, arg="pool 1×127×127", timeout=10000)
    assert status.inner_text().endswith("relu 1×254×254 → pool 1×127×127")
    expect(page.locator("#blocks-formulas")).to_contain_text("(254 − 2)/2 + 1 = 127")
    page.get_by_role("radio", name="my drawing").click()
    page.wait_for_function(shows, arg="on my drawing: input 1×", timeout=10000)
    expect(page.locator("#blocks-view [data-picture=pooled] canvas")).to_have_count(1)
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "blocks.png"), full_page=True)
    assert page.joins[joins:] == []          # nothing sent: the page computed it all


# ---------------------------------------------------------------------------- invariance lab

LAB_SAYS = "t => document.querySelector('#lab-status').innerText.startsWith(t)"
# The curves marked at a value and the occlusion map drawn again since ``window.drawn``.
MARKED = ("v => document.querySelector('#lab-rotation .chart-marker')?.dataset.x === v"
          " && document.querySelector('.lab-occlusion-canvas').dataset.drawn !== window.drawn")
ONE = [(0.5, 0.15), (0.5, 0.5), (0.5, 0.85)]


def test_the_lab_loads_the_drawing_and_follows_the_rotation_slider(page):
    """The lab takes the drawing in the page, answers and draws its curves and map there, and
    shows a new drawing (never the old one) once it is loaded again; nothing goes to the server."""
    draw_seven(page)
    open_tab(page, "Invariance lab")
    page.wait_for_function(LAB_SAYS, arg="7 with", timeout=15000)
    # The curves are charts with text, marked at the sliders' values (no turn, no shift yet).
    for box in ("#lab-rotation", "#lab-shift"):
        page.wait_for_function(f"document.querySelector('{box} .chart-marker')?.dataset.x === '0'",
                               timeout=15000)
    page.wait_for_function("document.querySelector('.lab-occlusion-canvas').dataset.drawn")
    assert "7 most of its" in page.locator(".lab-caption").inner_text()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    before = page.locator("#lab-status").inner_text()
    number = page.get_by_label("rotation as a number")
    number.fill("60")
    number.press("Enter")
    page.wait_for_function("b => document.querySelector('#lab-status').innerText !== b", arg=before,
                           timeout=10000)
    assert "(was 7 with" in page.locator("#lab-status").inner_text()
    page.wait_for_function(MARKED, arg="60", timeout=15000)
    # A new drawing, then Load / refresh: the lab shows it.
    open_tab(page, DRAW_TAB)
    page.locator("#draw-view .pad-clear").click()
    draw_stroke(page, ONE)
    page.wait_for_function("document.querySelector('.nv-answer').innerText.startsWith('1 with')")
    open_tab(page, "Invariance lab")
    page.get_by_role("button", name="Load / refresh").click()
    page.wait_for_function("t => document.querySelector('#lab-status').innerText.includes(t)",
                           arg="(was 1 with", timeout=15000)
    assert [u for u in requests if "/gradio_api/" in u and "/file=" not in u] == []
    assert page.joins == []


def test_the_labs_charts_and_map_follow_a_typed_number_and_the_arrow_keys(page):
    """Typed in and confirmed with Enter, or stepped with the arrow keys: the chart's marker and
    the occlusion map follow the slider every time."""
    draw_seven(page)
    open_tab(page, "Invariance lab")
    page.wait_for_function("document.querySelector('#lab-rotation .chart-marker')?.dataset.x === '0'",
                           timeout=15000)
    number = page.get_by_label("rotation as a number")
    page.evaluate("() => { window.drawn = document.querySelector('.lab-occlusion-canvas').dataset.drawn; }")
    number.fill("30")
    number.press("Enter")
    page.wait_for_function(MARKED, arg="30", timeout=15000)
    slider = page.get_by_label("Rotate (degrees, counter-clockwise)")
    page.evaluate("() => { window.drawn = document.querySelector('.lab-occlusion-canvas').dataset.drawn; }")
    slider.focus()
    for _ in range(3):
        slider.press("ArrowRight")
    page.wait_for_function(MARKED, arg="33", timeout=15000)
    assert page.locator("#lab-slider-rotation").input_value() == "33" == number.input_value()


# ---------------------------------------------------------------------------- gallery

# ---------------------------------------------------------------------------- inside, phone

INSIDE_READY = "#inside-view[data-ready=true], #inside-view [data-ready=true]"


def test_inside_the_models_shows_one_model_at_a_time(page):
    """Drawn in the page from the checkpoints: choosing a model sends nothing to the server."""
    open_tab(page, "Inside the models")
    page.locator(INSIDE_READY).first.wait_for(state="attached", timeout=30000)
    shown = page.locator("#inside-view section[data-model]").filter(visible=True)
    expect(shown).to_have_count(1)
    expect(shown.get_by_text("61,706 parameters")).to_have_count(1)
    assert shown.get_by_text("Confusion matrix on the test set (rows: true class)").count() == 1
    assert shown.locator(".filters figure").count() == 6   # LeNet-5 C1
    bar = shown.locator(".colour-bar").first.inner_text()
    assert bar.startswith("−") or bar.startswith("-")        # from the most negative weight
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.get_by_label("ConvNet on CIFAR-10").check()
    expect(shown.get_by_text("258,058 parameters")).to_have_count(1)
    assert shown.locator(".filters figcaption").filter(has_text="#15").count() == 1
    page.get_by_label("One dense layer on MNIST").check()     # no convolution: no filters
    expect(shown.get_by_text("7,850 parameters")).to_have_count(1)
    assert shown.locator(".filters figure").count() == 0
    assert requests == [] and page.joins == []
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "inside.png"), full_page=True)
