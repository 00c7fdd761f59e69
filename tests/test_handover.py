"""One state across tabs, in Chromium against the running app: what each panel shows after a
gallery hand-over, an upload, Clear or a removed photo is what the tab shows now, in the order
a class would do these things. Each test opens its own page."""
import pytest
from PIL import Image, ImageDraw
from test_draw_view import SEVEN, state, stroke

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
        page.get_by_label("Model", exact=True).filter(visible=True).first.click()
        page.get_by_role("option", name=model_title).click()
        page.wait_for_function("t => document.querySelector('#gallery-words').innerText.includes(t)",
                               arg=model_title, timeout=15000)
    tile = page.locator("#gallery-sheet .gl-tile").first
    number = tile.get_attribute("aria-label").split(":")[0].removeprefix("test image ")
    tile.click()
    page.wait_for_function("n => document.querySelector('#gallery-words').innerText"
                           ".includes(`Sent test image #${n}`)", arg=number, timeout=15000)
    return number


def photo_shown(page):
    return page.evaluate("""() => ({answer: document.querySelector('#photo-view .nv-answer').innerText,
        words: document.querySelector('#photo-view .nv-caveat').innerText,
        box: !!document.querySelector('#photo-input img')})""")


def test_the_photo_tab_starts_after_a_digit_was_sent_before_it_was_ever_opened(page, pictures):
    pick_tile(page, "LeNet-5 on MNIST")
    open_tab(page, "Classify a photo")
    page.locator(PHOTO_READY).wait_for(state="attached", timeout=30000)
    assert "could not start" not in photo_shown(page)["answer"]
    page.locator("#photo-input input[type=file]").set_input_files(pictures["boat"])
    page.wait_for_function("() => window.cnnPage.photo.state.pixels !== null", timeout=15000)
    assert " with " in photo_shown(page)["answer"]


def test_a_hand_over_empties_the_draw_tabs_upload_box(page, pictures):
    page.get_by_text("…or upload a picture of a digit").click()
    page.locator("#digit-upload input[type=file]").set_input_files(pictures["five"])
    page.wait_for_function("() => document.querySelector('#draw-view .nv-padnote').innerText"
                           ".startsWith('Showing your upload')", timeout=15000)
    assert page.locator("#digit-upload img").count() == 1
    number = pick_tile(page, "LeNet-5 on MNIST")
    page.wait_for_function("n => document.querySelector('#draw-view .nv-padnote').innerText"
                           ".includes(`#${n}`)", arg=number, timeout=15000)
    page.wait_for_function("() => !document.querySelector('#digit-upload img')", timeout=10000)


def test_a_hand_over_empties_the_photo_box_and_the_tab_says_which_test_image_it_shows(page, pictures):
    open_tab(page, "Classify a photo")
    page.locator(PHOTO_READY).wait_for(state="attached", timeout=30000)
    page.locator("#photo-input input[type=file]").set_input_files(pictures["boat"])
    page.wait_for_function("() => window.cnnPage.photo.state.kind === 'upload'", timeout=15000)
    assert photo_shown(page)["box"] and "Showing your photo" in photo_shown(page)["words"]
    number = pick_tile(page, "ConvNet on CIFAR-10")
    page.wait_for_function("() => window.cnnPage.photo.state.kind === 'gallery'", timeout=15000)
    page.wait_for_function("() => !document.querySelector('#photo-input img')", timeout=10000)
    assert f"Showing test image #{number}" in photo_shown(page)["words"]


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
    page.locator("#photo-input input[type=file]").set_input_files(pictures["boat"])
    page.wait_for_function("() => window.cnnPage.photo.state.kind === 'upload'", timeout=15000)
    assert page.evaluate(CAPTIONS, "#photo-view") != [TOP] * 2
    page.locator("#photo-input").get_by_role("button", name="Remove Image").click()
    page.wait_for_function("() => window.cnnPage.photo.state.pixels === null", timeout=15000)
    assert page.evaluate(CAPTIONS, "#photo-view") == [TOP] * 2


def test_an_upload_of_blank_paper_after_a_drawing_resets_every_caption(page, pictures):
    stroke(page, SEVEN)
    page.wait_for_function("() => window.cnnPage.draw.view.run !== null")
    assert page.evaluate(CAPTIONS, "#draw-view") != [TOP] * 2
    page.get_by_text("…or upload a picture of a digit").click()
    page.locator("#digit-upload input[type=file]").set_input_files(pictures["blank"])
    page.wait_for_function("() => window.cnnPage.draw.state.kind === 'message'", timeout=15000)
    assert state(page)["answer"].startswith("No digit found")
    assert page.evaluate(CAPTIONS, "#draw-view") == [TOP] * 2
