"""Your own checkpoint on the draw and photo tabs (web/own_model.js), in Chromium against the
running app: a model that train.py trains here on a generated three-class image folder,
chosen on the photo tab, answers for uploaded photos as Python's Classifier does with that
checkpoint (``python -m lenet predict``'s engine); files that are no such checkpoint get one
line and the model shown stays. One page for the module; each test first puts back the
built-in model."""
import base64
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors.torch import load_file, save_file
from test_draw_view import SEVEN, stroke, take

from lenet.inside.inference import Classifier
from lenet.net.checkpoint import META_KEY, default_checkpoint, read_checkpoint

ROOT = Path(__file__).resolve().parent.parent
COLOURS = {"red": (210, 40, 40), "green": (40, 190, 60), "blue": (40, 70, 220)}
PHOTO = "#photo-view"
DRAW = "#draw-view"


def square(rng, colour, size=32) -> Image.Image:
    """A coloured square at a random place on dark noise."""
    image = rng.integers(0, 90, (size, size, 3))
    side = size // 2
    y, x = rng.integers(0, size - side, 2)
    image[y:y + side, x:x + side] = np.add(colour, rng.integers(-25, 25, 3))
    return Image.fromarray(image.clip(0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    """train.py run as a user runs it on their own folder (train/<class>/, test/<class>/):
    its checkpoint, and photos to upload (one test image per class and a larger photo that
    the photo recipe crops and resamples)."""
    folder = tmp_path_factory.mktemp("own_folder")
    rng = np.random.default_rng(0)
    for split, count in (("train", 24), ("test", 4)):
        for name, colour in COLOURS.items():
            (folder / split / name).mkdir(parents=True)
            for i in range(count):
                square(rng, colour).save(folder / split / name / f"{i}.png")
    out = folder / "runs"
    subprocess.run([sys.executable, "train.py", "--model", "convnet", "--data-dir", str(folder),
                    "--epochs", "2", "--batch-size", "16", "--out", str(out), "--threads", "1"],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    square(rng, COLOURS["green"], size=80).resize((96, 64)).save(folder / "wide.png")
    photos = [folder / "test" / name / "0.png" for name in COLOURS] + [folder / "wide.png"]
    return {"checkpoint": out / "convnet.safetensors", "photos": [str(p) for p in photos]}


@pytest.fixture(scope="module")
def page(chromium, app_url):
    page = chromium.new_page(viewport={"width": 1366, "height": 768})
    page.joins = []   # test_draw_view's stroke counts the queue requests a stroke sends
    page.on("request", lambda r: page.joins.append(r.url) if "/queue/join" in r.url else None)
    page.goto(app_url)
    page.locator(f"{DRAW} [data-ready=true]").wait_for(state="attached", timeout=30000)
    yield page
    page.close()


def open_tab(page, name, view):
    page.get_by_role("tab", name=name).click()
    page.locator(f"{view} [data-ready=true]").wait_for(state="attached", timeout=30000)


def builtin(page, view):
    """The built-in model back in ``view``, if another is shown."""
    back = page.locator(f"{view} .nv-own-back")
    if back.is_visible():
        back.click()
        page.wait_for_function("v => !document.querySelector(`${v} .nv-own-back`)?.checkVisibility()"
                               " && !!document.querySelector(`${v} [data-ready=true]`)", arg=view)


def choose(page, view, path):
    """``path`` given to ``view``'s file control; the line under it once it has its answer."""
    name = Path(path).name
    page.locator(f"{view} .nv-own-file").set_input_files(path)
    return said(page, view, name)


def drop(page, view, name, data: bytes = b"", zeros: int = 0):
    """A file made in the page, ``data`` then ``zeros`` zero bytes, dropped on ``view`` as a
    visitor drops one; the line it gets."""
    page.evaluate("""([view, name, text, zeros]) => {
        const transfer = new DataTransfer();
        const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes, new Uint8Array(zeros)], name));
        document.querySelector(`${view} .nv-wrap`).dispatchEvent(
            new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }""", [view, name, base64.b64encode(data).decode(), zeros])
    return said(page, view, name)


def said(page, view, name):
    page.wait_for_function("([v, n]) => document.querySelector(`${v} [data-ready=true]`)"
                           " && document.querySelector(`${v} .nv-own-note`)?.innerText.includes(n)",
                           arg=[view, name], timeout=15000)
    return page.locator(f"{view} .nv-own-note").inner_text()


def photo_answer(page, path) -> dict:
    """``path`` uploaded on the photo tab (read in the page, test_draw_view.take): the classes
    of the network that answered, the names on its output rows, and its probabilities."""
    assert take(page, "photo", path) == []
    return shown_now(page)


def assert_answers_as(clf, shown, path):
    expected = clf.predict(path)
    assert shown["classes"] == shown["rows"] == list(expected.classes)
    assert np.abs(np.array(shown["probabilities"]) - expected.probabilities).max() < 1e-4
    assert shown["answer"].startswith(f"{expected.label} with ")


def test_a_model_trained_on_your_own_folder_answers_on_the_photo_tab_as_python_does(page, own):
    open_tab(page, "Classify a photo", PHOTO)
    builtin(page, PHOTO)
    requests = []
    record = lambda request: requests.append(request)  # noqa: E731
    page.on("request", record)
    line = choose(page, PHOTO, own["checkpoint"])
    page.remove_listener("request", record)
    clf = Classifier.from_checkpoint(own["checkpoint"])
    assert clf.classes == ("blue", "green", "red")   # the folder's, as train.py found them
    assert line == ("Your model (convnet, from convnet.safetensors) knows 3 classes: blue, green, red; "
                    "it always answers with one of them.")
    # Read in the page: nothing went to the server (a static file such as words.json may be
    # read again, never sent).
    assert [r.url for r in requests if r.method != "GET" or "upload" in r.url] == []
    assert not page.locator(f"{PHOTO} .nv-builtin-words").first.is_visible()
    for path in own["photos"]:
        assert_answers_as(clf, photo_answer(page, path), path)

    # A file that cannot be used leaves your model in place; then back to the built-in one.
    line = drop(page, PHOTO, "notes.safetensors", b"my notes, not a model")
    assert "keeps your model (convnet)" in line
    assert_answers_as(clf, photo_answer(page, own["photos"][0]), own["photos"][0])
    builtin(page, PHOTO)
    assert_answers_as(Classifier.from_checkpoint(default_checkpoint("convnet")),
                      photo_answer(page, own["photos"][1]), own["photos"][1])


def test_the_photo_shown_stays_when_the_model_changes(page, own):
    """A photo uploaded before a model is chosen is answered by that model, still in its box;
    and by the built-in model again once it is back."""
    open_tab(page, "Classify a photo", PHOTO)
    builtin(page, PHOTO)
    path = own["photos"][3]
    photo_answer(page, path)
    choose(page, PHOTO, own["checkpoint"])
    clf = Classifier.from_checkpoint(own["checkpoint"])
    assert_answers_as(clf, shown_now(page), path)
    assert page.locator("#photo-input .nv-upload-thumb").is_visible()
    builtin(page, PHOTO)
    assert_answers_as(Classifier.from_checkpoint(default_checkpoint("convnet")), shown_now(page), path)


def shown_now(page) -> dict:
    """What the photo tab answers now, as ``photo_answer`` reads it."""
    return page.evaluate("""() => { const tab = window.cnnPage.photo;
        return {name: tab.net.name, classes: tab.net.classes,
            rows: [...document.querySelectorAll('#photo-view .nv-class')].map(e => e.innerText),
            probabilities: Array.from(tab.view.run.probabilities),
            answer: document.querySelector('#photo-view .nv-answer').innerText}; }""")


def altered(own, tmp_path, change) -> bytes:
    """The own checkpoint's bytes with ``change`` made to its description."""
    _, meta = read_checkpoint(own["checkpoint"])
    change(meta)
    path = tmp_path / "altered.safetensors"
    save_file(load_file(own["checkpoint"]), path, metadata={META_KEY: json.dumps(meta)})
    return path.read_bytes()


def gelu(meta):
    """The first activation made a kind the page does not know."""
    rows = meta["layers"]
    next(row for row in rows if row["name"] == rows[0]["after_activation"])["kind"] = "gelu"


def test_files_that_are_no_such_checkpoint_get_one_line_and_the_built_in_model_stays(page, own,
                                                                                    tmp_path):
    open_tab(page, "Classify a photo", PHOTO)
    builtin(page, PHOTO)
    text = tmp_path / "notes.safetensors"
    text.write_text("These are my notes, renamed.\n")
    lines = [choose(page, PHOTO, text),
             choose(page, PHOTO, default_checkpoint("lenet5")),   # a digit model: 1x28x28
             drop(page, PHOTO, "gelu.safetensors", altered(own, tmp_path, gelu)),
             drop(page, PHOTO, "shapeless.safetensors",
                  altered(own, tmp_path, lambda meta: meta.pop("input_shape"))),
             drop(page, PHOTO, "huge.safetensors", zeros=21 * 2**20)]
    reasons = ["not a lenet checkpoint", "1×28×28", "gelu", "input shape", "the limit is 20 MB"]
    for line, reason in zip(lines, reasons):
        assert line.startswith("⚠️") and "\n" not in line and reason in line, line
        assert line.endswith("The view keeps the built-in model (convnet).")
    builtin_clf = Classifier.from_checkpoint(default_checkpoint("convnet"))
    assert_answers_as(builtin_clf, photo_answer(page, own["photos"][3]), own["photos"][3])


def test_the_draw_tab_rebuilds_on_another_digit_model_and_refuses_a_photo_model(page, own):
    open_tab(page, "Draw a digit", DRAW)
    builtin(page, DRAW)
    assert "3×32×32" in choose(page, DRAW, own["checkpoint"])
    classic = default_checkpoint("lenet5-classic")
    choose(page, DRAW, classic)
    clf = Classifier.from_checkpoint(classic)
    columns = page.evaluate("() => [...document.querySelectorAll('#draw-view .nv-col')]"
                            ".map(c => c.dataset.column)")
    shown = [row["name"] for row in clf.meta["layers"]
             if row["kind"] in ("conv", "maxpool", "avgpool", "linear")]
    assert columns == ["pad", "input", *shown, "explain"]
    stroke(page, SEVEN)
    page.wait_for_function("() => window.cnnPage.draw.view.run !== null")
    drawn = page.evaluate("() => { const tab = window.cnnPage.draw; return {name: tab.main.name,"
                          " pixels: Array.from(tab.state.pixels),"
                          " probabilities: Array.from(tab.view.run.probabilities)}; }")
    assert drawn["name"] == "lenet5-classic"
    expected = clf.predict_pixels(np.array(drawn["pixels"], np.float32).reshape(1, 28, 28))
    assert np.abs(np.array(drawn["probabilities"]) - expected.probabilities).max() < 1e-4
    builtin(page, DRAW)
