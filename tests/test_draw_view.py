"""The draw tab's live view in Chromium, against the running app: every number the page
computes is checked against the Python engine on the same pixels, and every panel against
what is shown. Each test opens its own page, so none depends on another's state."""
import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

from lenet.inputs.pad import pad_digit, pad_ink, pad_recipe
from lenet.inside.gallery import gallery_path, load_gallery
from lenet.inside.inference import Classifier
from lenet.inside.trace import trace
from lenet.net.checkpoint import default_checkpoint

SEVEN = [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)]
ONE = [(0.5, 0.15), (0.5, 0.85)]
LAPTOP, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def lenet5():
    return Classifier.from_checkpoint(default_checkpoint("lenet5"))


@pytest.fixture
def view(chromium, app_url):
    """A fresh page on the draw tab at 1366x768, its network loaded; requests to the queue
    are recorded in ``page.joins``."""
    page = chromium.new_page(viewport=LAPTOP)
    yield open_view(page, app_url)
    page.close()


def open_view(page, url):
    page.joins = []
    page.on("request", lambda r: page.joins.append(r.url) if "/queue/join" in r.url else None)
    page.goto(url)
    page.locator("#draw-view [data-ready=true], #draw-view[data-ready=true]").first.wait_for(
        state="attached", timeout=30000)
    return page


def stroke(page, points, steps=6):
    """One stroke on the pad through ``points`` (fractions of the pad); returns the queue
    requests sent between pointer-down and pointer-up."""
    box = page.locator("canvas.pad").bounding_box()
    at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
    page.mouse.move(*at(*points[0]))
    before = len(page.joins)
    page.mouse.down()
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        for k in range(1, steps + 1):
            page.mouse.move(*at(ax + (bx - ax) * k / steps, ay + (by - ay) * k / steps))
    sent = page.joins[before:]
    page.mouse.up()
    return sent


def state(page) -> dict:
    """What the page shows: its input pixels, every layer, the answer, the panels' words."""
    return page.evaluate("""() => {
        const tab = window.cnnPage.draw;
        const run = tab.view.run;
        const outputs = {};
        if (run) for (const [k, v] of Object.entries(run.outputs)) outputs[k] = Array.from(v.data);
        return {
            pixels: tab.state.pixels ? Array.from(tab.state.pixels) : null, outputs,
            probabilities: run ? Array.from(run.probabilities) : null,
            answer: document.querySelector('.nv-answer').innerText,
            compare: [...document.querySelectorAll('.nv-models li')].map(li => li.innerText),
            note: document.querySelector('.nv-padnote').hidden ? null
                : document.querySelector('.nv-padnote').innerText,
            trace: document.querySelector('.nv-trace').hidden ? null
                : document.querySelector('.nv-trace-body').innerText,
        }; }""")


def pad_png(page) -> bytes:
    url = page.evaluate("() => document.querySelector('canvas.pad').toDataURL('image/png')")
    return base64.b64decode(url.partition(",")[2])


def python_answer(clf, pixels):
    """The Python engine on the same 28x28 pixels: every layer's output and the softmax."""
    tensor = torch.from_numpy(np.asarray(pixels, np.float32).reshape(1, 1, 28, 28))
    with torch.inference_mode():
        logits, outputs = clf.forward(tensor)
    return {k: v[0].numpy().ravel() for k, v in outputs.items()}, torch.softmax(logits[0], 0).numpy()


# ---------------------------------------------------------------------------- the numbers

def test_a_drawn_seven_is_the_python_engines_seven_at_every_layer(view, lenet5):
    stroke(view, SEVEN)
    shown = state(view)
    # The page's recipe on the pad's own pixels is Python's recipe on the same pixels.
    expected = pad_digit(pad_ink(Image.open(io.BytesIO(pad_png(view))))).pixels
    assert np.abs(np.asarray(shown["pixels"]) - expected.ravel()).max() <= 1e-5
    layers, probabilities = python_answer(lenet5, expected)
    assert set(shown["outputs"]) == set(layers)
    for name, values in layers.items():
        assert np.abs(np.asarray(shown["outputs"][name]) - values).max() <= 1e-4, name
    assert np.abs(np.asarray(shown["probabilities"]) - probabilities).max() <= 1e-5
    top = int(probabilities.argmax())
    assert top == 7 and shown["answer"] == f"7 with {100 * probabilities[top]:.1f} %"
    # The answer is announced: HTML text in a live region, not busy once the pen is up.
    live = view.locator(".nv-answer")
    assert live.get_attribute("aria-live") == "polite" and live.get_attribute("aria-busy") is None


def test_nothing_is_sent_to_the_server_while_the_pen_moves(view):
    sent = stroke(view, SEVEN, steps=10)
    assert sent == []
    # The recorder does see the queue: a request to it made by the page is caught.
    before = len(view.joins)
    view.evaluate("() => fetch('gradio_api/queue/join', {method: 'POST', body: '{}'}).catch(() => {})")
    assert len(view.joins) == before + 1
    updates = view.evaluate("() => window.cnnPage.draw.updates()")
    assert updates >= 2 * 10   # every pointer move recomputed the network


def test_the_trace_of_a_clicked_c3_unit_is_lenet_trace(view, lenet5):
    stroke(view, SEVEN)
    shown = state(view)
    canvas = view.locator('canvas[data-layer="C3"][data-channel="5"]')
    box = canvas.bounding_box()
    y, x = 4, 6                                  # the unit's row and column in C3's 10x10 map
    view.mouse.click(box["x"] + (x + 0.5) * box["width"] / 10, box["y"] + (y + 0.5) * box["height"] / 10)
    words = state(view)["trace"]
    tensor = torch.from_numpy(np.asarray(shown["pixels"], np.float32).reshape(1, 1, 28, 28))
    t = trace(lenet5, tensor, "C3", 5, y, x)
    assert words.startswith("C3 after ReLU, channel 5, row 4, column 6")
    top, left, bottom, right = t.receptive_field
    assert f"input rows {top}–{bottom}, columns {left}–{right}" in words
    assert "(pre-activation)" in words and f"{t.pre_activation:.3f}".replace("-", "−") in words
    assert f"= {t.value:.3f}".replace("-", "−") in words
    assert f"{t.bias:.3f}".lstrip("-") in words
    # Hovering outlined what the unit reads (S2, all six channels) and its receptive field.
    assert view.locator(".nv-mark-reads").count() == 6 and view.locator(".nv-mark-field").count() == 1


def test_the_network_fits_a_1366x768_screen(view):
    stroke(view, SEVEN)
    outside = view.evaluate("""() => {
        const bad = [];
        const parts = ['canvas.pad', '.nv-answer', 'canvas.nv-input', '.nv-classes li:last-child',
            '.nv-cam canvas', '.nv-sal canvas', '.nv-class-select',
            ...['C1', 'S2', 'C3', 'S4', 'C5', 'F6', 'explain'].map(n => `[data-column="${n}"]`)];
        for (const s of parts) {
            const r = document.querySelector(s).getBoundingClientRect();
            if (r.width === 0 || r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight)
                bad.push(s + ' ' + JSON.stringify([r.left, r.top, r.right, r.bottom]));
        }
        return bad; }""")
    assert outside == []
    assert view.evaluate("() => document.documentElement.scrollWidth") <= LAPTOP["width"]


def test_every_word_of_the_view_is_html_text_of_13_px_or_more(view):
    stroke(view, SEVEN)
    view.locator('canvas[data-layer="C1"][data-channel="0"]').click()
    small = view.evaluate("""() => {
        const bad = [];
        const walker = document.createTreeWalker(document.querySelector('#draw-view'), NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const node = walker.currentNode, parent = node.parentElement;
            if (!node.textContent.trim() || !parent.offsetParent) continue;
            const size = parseFloat(getComputedStyle(parent).fontSize);
            if (size < 13) bad.push(`${size}px: ${node.textContent.trim().slice(0, 30)}`);
        }
        return bad; }""")
    assert small == []


# ---------------------------------------------------------------------------- one state

def test_clear_blanks_every_panel_and_closes_the_trace(view):
    stroke(view, SEVEN)
    view.locator('canvas[data-layer="S4"][data-channel="0"]').click()
    assert state(view)["trace"] is not None
    view.locator(".pad-clear").click()
    shown = state(view)
    assert shown["answer"] == "Draw a digit on the pad." and shown["pixels"] is None
    assert shown["trace"] is None and shown["probabilities"] is None
    assert all(text.endswith(": ") or ":" in text and not text.split(":")[1].strip()
               for text in shown["compare"])
    assert view.evaluate("() => [...document.querySelectorAll('.nv-p')].every(p => !p.innerText)")


def test_an_open_trace_and_the_comparison_follow_a_new_drawing(view, lenet5):
    stroke(view, SEVEN)
    before = state(view)
    assert all("7 with" in text for text in before["compare"])
    view.locator(".nv-classes li").nth(7).click()      # the output unit of "7"
    assert "output · “7”" in state(view)["trace"]
    view.locator(".pad-clear").click()
    stroke(view, ONE)
    after = state(view)
    assert after["answer"].startswith("1 with")
    assert all("1 with" in text for text in after["compare"])
    # Clear closed the trace; reopened on the new drawing, it holds the new drawing's logit.
    view.locator(".nv-classes li").nth(7).click()
    _, probabilities = python_answer(lenet5, after["pixels"])
    assert f"{100 * probabilities[7]:.2f} %" in state(view)["trace"]


# ---------------------------------------------------------------------------- uploads

def seven_file(folder, name="seven.png"):
    """A 7 drawn black on white, as a visitor's scan."""
    from PIL import ImageDraw
    image = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(image).line([(60, 40), (150, 40), (90, 170)], fill=0, width=14)
    image.save(folder / name)
    return str(folder / name)


def take(page, tab, path, box=None) -> list[str]:
    """``path`` chosen in the upload box of ``tab`` ("draw" or "photo") as a visitor chooses
    a file; what the page sent the server until the tab had read it: every request but a GET
    of a static file."""
    requests = []

    def record(request):
        requests.append(request)
    page.on("request", record)
    box = box or {"draw": "#digit-upload", "photo": "#photo-input"}[tab]
    page.locator(f"{box} input[type=file]").set_input_files(path)
    # The tab's reading of the file, awaited (an app whose server prepares uploads has none:
    # there, wait for the input the server sends).
    if page.evaluate("t => window.cnnPage[t].reading === undefined", tab):
        page.wait_for_function("t => window.cnnPage[t].state.pixels !== null", arg=tab, timeout=15000)
    page.evaluate("t => window.cnnPage[t].reading?.()", tab)
    page.remove_listener("request", record)
    return [f"{r.method} {r.url}" for r in requests if not static(r)]


def static(request) -> bool:
    """A request that sends nothing: a GET of one of the page's files, or the page's own data."""
    if request.url.startswith(("data:", "blob:")):
        return True
    return request.method == "GET" and "/gradio_api/file=" in request.url


def box_holds(page, box) -> bool:
    """Whether the upload box shows a picture."""
    return page.locator(f"{box} .nv-upload-thumb").is_visible()


def published(page, topic):
    """What the tab published for the other tabs (web/shared.js): the pixels, the picture's
    size and the caption (None: nothing published)."""
    return page.evaluate("""async (topic) => {
        const shared = await import(new URL('gradio_api/file=web/shared.js', location.href).href);
        const v = shared.latestOf(topic);
        return v && {pixels: v.pixels && Array.from(v.pixels), caption: v.caption,
                     picture: v.picture && [v.picture.width, v.picture.height]}; }""", topic)


def test_an_upload_is_read_in_the_page_and_sends_nothing_to_the_server(view, lenet5, tmp_path):
    path = seven_file(tmp_path)
    assert take(view, "draw", path) == []
    shown = state(view)
    # The page's recipe and network name the digit that Python's Classifier names for the file.
    expected = lenet5.predict(path)
    assert shown["note"] == "Showing your upload. Draw here to replace it."
    assert shown["answer"].startswith(f"{expected.label} with ")
    assert box_holds(view, "#digit-upload")
    # The other tabs get the same input, and the picture as uploaded.
    said = published(view, "digit")
    assert said["caption"] == "your upload" and said["picture"] == [200, 200]
    assert said["pixels"] == shown["pixels"]


@pytest.mark.parametrize("kind", ["white on black", "photo of paper"])
def test_the_answer_for_an_uploaded_digit_is_pythons(view, lenet5, tmp_path, kind):
    """The label the page shows for a file is the label Python's Classifier gives the file."""
    from PIL import ImageDraw, ImageFilter
    if kind == "white on black":
        image = Image.new("L", (160, 120), 0)
        ImageDraw.Draw(image).arc([50, 15, 110, 60], 200, 90, fill=255, width=10)     # a 3
        ImageDraw.Draw(image).arc([50, 55, 110, 105], 270, 160, fill=255, width=10)
        name = "three.png"
    else:
        image = Image.new("RGB", (400, 300), (205, 200, 190))
        ImageDraw.Draw(image).line([(200, 50), (200, 250)], fill=(40, 40, 60), width=16)  # a 1
        image = image.filter(ImageFilter.GaussianBlur(2))
        name = "one.jpg"
    image.save(tmp_path / name)
    path = str(tmp_path / name)
    take(view, "draw", path)
    expected = lenet5.predict(path)
    assert state(view)["answer"].startswith(f"{expected.label} with ")


def test_a_drawing_after_an_upload_replaces_it_and_empties_the_box(view, lenet5, tmp_path):
    stroke(view, ONE)
    take(view, "draw", seven_file(tmp_path))
    assert state(view)["note"].startswith("Showing your upload")
    # The pad no longer shows the old drawing.
    assert np.asarray(Image.open(io.BytesIO(pad_png(view))).convert("L")).min() == 255
    stroke(view, ONE)
    shown = state(view)
    assert shown["note"] is None and shown["answer"].startswith("1 with")
    assert not box_holds(view, "#digit-upload")
    said = published(view, "digit")
    assert said["caption"] == "your drawing" and said["picture"] == [280, 280]


def test_clear_after_an_upload_empties_the_box_and_every_panel(view, tmp_path):
    take(view, "draw", seven_file(tmp_path))
    assert box_holds(view, "#digit-upload") and state(view)["probabilities"] is not None
    view.locator(".pad-clear").click()
    shown = state(view)
    assert shown["answer"] == "Draw a digit on the pad." and shown["pixels"] is None
    assert shown["note"] is None and shown["probabilities"] is None
    assert not box_holds(view, "#digit-upload")
    assert published(view, "digit") == {"pixels": None, "caption": "", "picture": None}


def test_a_bad_file_is_one_line_and_the_old_answer_goes(view, tmp_path):
    stroke(view, SEVEN)
    (tmp_path / "notes.png").write_bytes(b"%PDF-1.4 a document, not a picture")
    assert take(view, "draw", str(tmp_path / "notes.png")) == []
    shown = state(view)
    assert shown["answer"].startswith("⚠️ ") and "\n" not in shown["answer"]
    assert shown["probabilities"] is None and shown["pixels"] is None
    assert not box_holds(view, "#digit-upload")
    assert published(view, "digit")["pixels"] is None
    stroke(view, SEVEN)   # the tab keeps working
    assert state(view)["answer"].startswith("7 with")


def test_a_gallery_mistake_keeps_the_galleries_own_answer(view):
    """One of LeNet-5's mistakes in the gallery: the draw tab must say what the gallery says,
    since the image is taken as it is."""
    gallery = load_gallery(gallery_path(default_checkpoint("lenet5")))
    i = int(np.flatnonzero(gallery.is_mistake)[0])
    number = int(gallery.indices[i])
    true, predicted = (gallery.classes[v[i]] for v in (gallery.labels, gallery.predictions))
    view.get_by_role("tab", name="Test-set gallery").click()
    view.locator("#gallery-sheet .gl-tile").first.wait_for(timeout=30000)
    view.get_by_text("mistakes only").click()
    view.get_by_text("Filter by true or predicted class").click()
    for label, name in (("True class", true), ("Predicted class", predicted)):
        view.get_by_label(label).select_option(name)
    pool = np.flatnonzero(gallery.is_mistake & (gallery.labels == gallery.labels[i])
                          & (gallery.predictions == gallery.predictions[i]))
    assert len(pool) <= 9                         # all of them on one grid
    view.wait_for_function(f"document.querySelector('#gallery-words').innerText"
                           f".startsWith('{len(pool)} of {len(pool)} mistakes')", timeout=15000)
    tile = view.locator(f"#gallery-sheet .gl-tile[data-position='{i}']")
    said_true, said_pred = tile.inner_text().split("\n")
    assert said_true == f"true {true}" and said_pred.startswith(f"pred {predicted} ")
    assert abs(float(said_pred.split()[2].rstrip("\u00a0%")) - 100 * gallery.confidences[i]) <= 0.5
    tile.click()
    view.wait_for_function("document.querySelector('#gallery-words').innerText"
                           f".includes('Sent test image #{number}')", timeout=15000)
    view.wait_for_function("() => !document.querySelector('.nv-padnote').hidden", timeout=15000)
    shown = state(view)
    assert f"#{number}" in shown["note"]
    assert shown["answer"] == f"{predicted} with {100 * gallery.confidences[i]:.1f} %"
    assert abs(max(shown["probabilities"]) - float(gallery.confidences[i])) <= 2e-3
    assert np.abs(np.asarray(shown["pixels"]) - gallery.images[i].ravel() / 255).max() <= 1e-5


# ---------------------------------------------------------------------------- a phone

def test_on_a_phone_a_finger_draws_and_nothing_scrolls_sideways(chromium, app_url):
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = open_view(context.new_page(), app_url)
    try:
        box = page.locator("canvas.pad").bounding_box()
        cdp = context.new_cdp_session(page)

        def touch(kind, fx=None, fy=None):
            points = [] if fx is None else [{"x": box["x"] + fx * box["width"],
                                             "y": box["y"] + fy * box["height"]}]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        touch("touchStart", 0.5, 0.15)
        for k in range(1, 8):
            touch("touchMove", 0.5, 0.15 + 0.7 * k / 7)
        touch("touchEnd")
        page.wait_for_function("() => document.querySelector('.nv-answer').innerText.startsWith('1 with')",
                               timeout=10000)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        # The columns are stacked in the order the data flows.
        tops = page.evaluate("""() => ['pad', 'input', 'C1', 'S2', 'C3', 'S4', 'C5', 'F6', 'output']
            .map(n => document.querySelector(`[data-column="${n}"]`).getBoundingClientRect().top)""")
        assert tops == sorted(tops)
    finally:
        context.close()


def test_the_softmax_is_typeset_with_this_drawings_numbers_and_the_words_are_defined(view, lenet5):
    stroke(view, SEVEN)
    shown = state(view)
    view.get_by_text("How the ten logits become probabilities (the softmax)").click()
    maths = view.locator(".nv-softmax math").first
    assert maths.get_attribute("display") == "block"
    _, probabilities = python_answer(lenet5, shown["pixels"])
    assert f"{100 * probabilities[7]:.1f} %" in maths.text_content()
    view.get_by_text("What am I looking at? The words of this view").click()
    terms = view.locator(".nv-words-list dt").all_inner_texts()
    assert terms[:3] == ["Input", "Feature map and channel", "Kernel"]
    assert {"ReLU and tanh", "Pooling", "Logits", "Softmax", "Grad-CAM", "Saliency",
            "Receptive field", "Padding", "Fully connected layer"} <= set(terms)


# ---------------------------------------------------------------------------- the recipe's steps

def canvas_values(page, selector) -> np.ndarray:
    """A canvas's red channel in [0, 1] (the steps are painted in greys: 0 black, 1 white)."""
    width, height, data = page.evaluate("""(s) => { const c = document.querySelector(s);
        const rgba = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        return [c.width, c.height, Array.from(rgba)]; }""", selector)
    return np.asarray(data, np.float64).reshape(height, width, 4)[..., 0] / 255


def test_the_drawings_steps_beside_the_input_are_the_python_recipes(view):
    stroke(view, SEVEN)
    recipe = pad_recipe(pad_ink(Image.open(io.BytesIO(pad_png(view)))))
    fitted = canvas_values(view, "#draw-view .nv-steps li:nth-child(2) canvas")
    placed = canvas_values(view, "#draw-view .nv-steps li:nth-child(3) canvas")
    assert fitted.shape == recipe.fitted.shape and np.abs(fitted - recipe.fitted).max() <= 1 / 255
    assert placed.shape == recipe.placed.shape and np.abs(placed - recipe.placed).max() <= 1 / 255
    # The list and its words stay inside the input's column (C1's maps start right after it).
    spill = view.evaluate("""() => { const list = document.querySelector('#draw-view .nv-steps');
        const right = list.closest('.nv-col').getBoundingClientRect().right;
        return [list, ...list.querySelectorAll('li, span')]
          .map((e) => e.getBoundingClientRect().right - right); }""")
    assert max(spill) <= 0.5, spill
    # The ink's box, outlined on the pad, is the recipe's crop (pad pixels, 280 a side).
    box = view.evaluate("""() => { const b = document.querySelector('#draw-view .nv-inkbox');
        return [b.style.top, b.style.left, b.style.height, b.style.width].map(parseFloat); }""")
    top, left, bottom, right = recipe.box
    assert box == pytest.approx([100 * top / 280, 100 * left / 280, 100 * (bottom - top) / 280,
                                 100 * (right - left) / 280], abs=1e-3)   # CSS keeps 6 digits


def test_a_dot_is_too_little_to_read_and_shows_no_answer(view):
    box = view.locator("canvas.pad").bounding_box()
    view.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)   # one dot
    shown = state(view)
    assert view.locator("canvas.pad").bounding_box() == box   # nothing moved the pad under the pen
    assert shown["answer"] == "Too little to read"
    assert shown["note"].startswith("Too little ink to read")
    assert shown["probabilities"] is None
    assert all(li.endswith(":") for li in shown["compare"])   # the other models say nothing either
    stroke(view, SEVEN)   # a digit drawn after it is read again
    assert " with " in state(view)["answer"] and state(view)["note"] is None
