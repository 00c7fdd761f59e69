"""One state across tabs, in Chromium against the running app: what each panel shows after a
gallery hand-over, an upload, Clear or a removed photo is what the tab shows now, in the order
a class would do these things. Uploads and hand-overs stay in the page (web/upload_box.js,
web/shared.js). Each test opens its own page."""
import pytest
from PIL import Image, ImageDraw
from test_draw_view import SEVEN, box_holds, published, state, stroke, take

DRAW_READY = "#draw-view [data-ready=true]"
PHOTO_READY = "#photo-view [data-ready=true]"
CAPTIONS = "(view) => [...document.querySelectorAll(`${view} .nv-explained`)].map(e => e.innerText)"
TOP = "the top class"


@pytest.fixture
def page(chromium, app_url):
    page = chromium.new_page(viewport={"width": 1366, "height": 768})
    page.joins = []   # test_draw_view's stroke counts the queue requests a stroke sends
    page.on("request", lambda r: page.joins.append(r.url) if "/queue/join" in r.url else None)
    page.goto(app_url)
    page.locator(DRAW_READY).wait_for(state="attached", timeout=30000)
    yield page
    page.close()


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """A 5 drawn black on white, a made-up photo (a red boat on blue water) and blank paper."""
    folder = tmp_path_factory.mktemp("pictures")
    five = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(five).line([(140, 30), (70, 30), (65, 95), (130, 100), (135, 160), (60, 170)],
                              fill=0, width=14)
    five.save(folder / "five.png")
    boat = Image.new("RGB", (96, 64), (170, 200, 235))
    ImageDraw.Draw(boat).rectangle([0, 40, 95, 63], fill=(30, 70, 140))
    ImageDraw.Draw(boat).polygon([(20, 38), (76, 38), (66, 48), (30, 48)], fill=(190, 40, 30))
    boat.save(folder / "boat.png")
    Image.new("RGB", (120, 90), (250, 250, 250)).save(folder / "blank.png")
    return {name: str(folder / f"{name}.png") for name in ("five", "boat", "blank")}


def open_tab(page, name):
    page.get_by_role("tab", name=name).click()


def pick_tile(page, model_title):
    """Send the first test image of ``model_title``'s gallery to its tab; its number."""
    open_tab(page, "Test-set gallery")
    page.locator("#gallery-sheet .gl-tile img").first.wait_for(timeout=30000)
    if model_title not in page.locator("#gallery-words").inner_text():
        page.get_by_label("Model", exact=True).select_option(label=model_title)
        page.wait_for_function("t => document.querySelector('#gallery-words').innerText.includes(t)",
                               arg=model_title, timeout=15000)
    tile = page.locator("#gallery-sheet .gl-tile").first
    number = tile.get_attribute("aria-label").split(":")[0].removeprefix("test image ")
    tile.click()
    page.wait_for_function("n => document.querySelector('#gallery-words').innerText"
                           ".includes(`Sent test image #${n}`)", arg=number, timeout=15000)
    return number


def photo_shown(page):
    return {**page.evaluate("""() => ({answer: document.querySelector('#photo-view .nv-answer').innerText,
        words: document.querySelector('#photo-view .nv-caveat').innerText})"""),
            "box": box_holds(page, "#photo-input")}


def test_the_photo_tab_starts_after_a_digit_was_sent_before_it_was_ever_opened(page, pictures):
    pick_tile(page, "LeNet-5 on MNIST")
    open_tab(page, "Classify a photo")
    page.locator(PHOTO_READY).wait_for(state="attached", timeout=30000)
    assert "could not start" not in photo_shown(page)["answer"]
    take(page, "photo", pictures["boat"])
    assert " with " in photo_shown(page)["answer"]


def test_a_hand_over_empties_the_draw_tabs_upload_box(page, pictures):
    take(page, "draw", pictures["five"])
    assert state(page)["note"].startswith("Showing your upload")
    assert box_holds(page, "#digit-upload")
    number = pick_tile(page, "LeNet-5 on MNIST")
    page.wait_for_function("n => document.querySelector('#draw-view .nv-padnote').innerText"
                           ".includes(`#${n}`)", arg=number, timeout=15000)
    assert not box_holds(page, "#digit-upload")
    said = published(page, "digit")
    assert said["caption"].startswith(f"test image #{number} (") and said["picture"] == [28, 28]
    assert said["pixels"] == state(page)["pixels"]


def test_a_hand_over_empties_the_photo_box_and_the_tab_says_which_test_image_it_shows(page, pictures):
    open_tab(page, "Classify a photo")
    page.locator(PHOTO_READY).wait_for(state="attached", timeout=30000)
    take(page, "photo", pictures["boat"])
    assert photo_shown(page)["box"] and "Showing your photo." in photo_shown(page)["words"]
    assert published(page, "photo")["picture"] == [96, 64]   # the photo as uploaded
    number = pick_tile(page, "ConvNet on CIFAR-10")
    page.wait_for_function("() => window.cnnPage.photo.state.kind === 'gallery'", timeout=15000)
    assert not photo_shown(page)["box"]
    assert f"Showing test image #{number} (" in photo_shown(page)["words"]
    said = published(page, "photo")
    assert said["caption"].startswith(f"test image #{number} (") and said["picture"] == [256, 256]
    assert len(said["pixels"]) == 3 * 32 * 32


def test_clear_resets_every_caption(page):
    stroke(page, SEVEN)
    page.wait_for_function("() => window.cnnPage.draw.view.run !== null")
    top = state(page)["answer"].split(" with ")[0]
    assert page.evaluate(CAPTIONS, "#draw-view") == [f"“{top}”"] * 2
    page.locator("#draw-view .pad-clear").click()
    assert page.evaluate(CAPTIONS, "#draw-view") == [TOP] * 2


def test_removing_a_photo_resets_every_caption(page, pictures):
    open_tab(page, "Classify a photo")
    page.locator(PHOTO_READY).wait_for(state="attached", timeout=30000)
    take(page, "photo", pictures["boat"])
    assert page.evaluate(CAPTIONS, "#photo-view") != [TOP] * 2
    page.locator("#photo-input").get_by_role("button", name="Remove the photo").click()
    assert page.evaluate("() => window.cnnPage.photo.state.pixels") is None
    assert page.evaluate(CAPTIONS, "#photo-view") == [TOP] * 2
    assert not photo_shown(page)["box"] and published(page, "photo")["pixels"] is None


def test_an_upload_of_blank_paper_after_a_drawing_resets_every_caption(page, pictures):
    stroke(page, SEVEN)
    page.wait_for_function("() => window.cnnPage.draw.view.run !== null")
    assert page.evaluate(CAPTIONS, "#draw-view") != [TOP] * 2
    take(page, "draw", pictures["blank"])
    assert page.evaluate("() => window.cnnPage.draw.state.kind") == "message"
    assert state(page)["answer"] == "No digit found in that picture: nothing drawn."
    assert page.evaluate(CAPTIONS, "#draw-view") == [TOP] * 2


def test_a_photo_upload_is_read_in_the_page_and_sends_nothing_to_the_server(page, pictures):
    from lenet.inside.inference import Classifier
    from lenet.net.checkpoint import default_checkpoint
    open_tab(page, "Classify a photo")
    page.locator(PHOTO_READY).wait_for(state="attached", timeout=30000)
    assert take(page, "photo", pictures["boat"]) == []
    expected = Classifier.from_checkpoint(default_checkpoint("convnet")).predict(pictures["boat"])
    assert photo_shown(page)["answer"].startswith(f"{expected.label} with ")


@pytest.mark.parametrize("tab, box, name", [("Draw a digit", "#digit-upload", "Upload a picture…"),
                                            ("Classify a photo", "#photo-input", "Upload a photo…")])
def test_each_upload_box_has_a_visible_label_and_takes_the_keyboards_focus(page, tab, box, name):
    open_tab(page, tab)
    page.locator(f"{box} .nv-upload-file").wait_for(state="attached", timeout=30000)
    control = page.get_by_label(name, exact=True)   # the file input, named by its label
    assert page.locator(f"{box} .nv-upload-choose").is_visible()
    assert control.evaluate("e => e.type === 'file' && e.tabIndex === 0 && !e.disabled")
    control.focus()
    assert page.evaluate("() => document.activeElement.matches('.nv-upload-file')")


def hand(page, how, box, path):
    """The picture at ``path`` dropped on ``box`` or pasted (Ctrl+V) into the page, as the
    browser delivers them; then the tabs' readings, awaited."""
    import base64
    from pathlib import Path
    page.evaluate("""([how, box, text]) => {
        const transfer = new DataTransfer();
        const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], 'picture.png', {type: 'image/png'}));
        const options = {bubbles: true, cancelable: true};
        const event = how === 'drop' ? new DragEvent('drop', {...options, dataTransfer: transfer})
            : new ClipboardEvent('paste', {...options, clipboardData: transfer});
        (how === 'drop' ? document.querySelector(box) : document.activeElement).dispatchEvent(event);
    }""", [how, box, base64.b64encode(Path(path).read_bytes()).decode()])
    page.evaluate("() => Promise.all([window.cnnPage.draw.reading(), window.cnnPage.photo?.reading()])")


def test_a_picture_dropped_on_the_box_or_pasted_is_taken_by_the_tab_shown(page, pictures):
    hand(page, "drop", "#digit-upload", pictures["five"])
    assert state(page)["note"] == "Showing your upload. Draw here to replace it."
    assert page.locator("#draw-view .nv-own-note").inner_text() == ""   # not taken for a model
    open_tab(page, "Classify a photo")
    page.locator(PHOTO_READY).wait_for(state="attached", timeout=30000)
    hand(page, "paste", "#photo-input", pictures["boat"])
    assert photo_shown(page)["box"] and "Showing your photo." in photo_shown(page)["words"]
    # The draw tab, not shown, kept its upload.
    assert page.evaluate("() => window.cnnPage.draw.state.caption") == "your upload"
    assert published(page, "digit")["caption"] == "your upload"
