"""The invariance lab's handlers, called directly on the committed checkpoints, against the
engine's plain prediction of the same drawing or photo and hand-shifted pixels."""
import io
from dataclasses import asdict

import gradio as gr
import numpy as np
import pytest
from helpers import drawing_value, pad_pixels, seven_png
from PIL import Image

from lenet.inside.inference import Classifier
from lenet.inside.invariance import transform
from lenet.net.checkpoint import default_checkpoint
from lenet.pictures.visualize import pixels_to_image
from ui.invariance import DIGIT, PHOTO, InvarianceTab, Loaded, Sliders


def sliders(**changed) -> dict:
    """Every slider by name, at the value that changes nothing unless ``changed``."""
    return asdict(Sliders(**changed))


@pytest.fixture(scope="module")
def models():
    return {DIGIT: Classifier.from_checkpoint(default_checkpoint("lenet5")),
            PHOTO: Classifier.from_checkpoint(default_checkpoint("convnet"))}


@pytest.fixture(scope="module")
def tab(models):
    return InvarianceTab(models[DIGIT], models[PHOTO])


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A smooth 160x120 photo (random colours, enlarged) saved as JPEG, as an upload's path."""
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 255, (12, 16, 3), np.uint8)).resize((160, 120),
                                                                                Image.BICUBIC)
    path = tmp_path_factory.mktemp("photo") / "photo.jpg"
    image.save(path)
    return str(path)


def sources(photo):
    return {DIGIT: (drawing_value(seven_png()), None), PHOTO: (None, photo)}


@pytest.mark.parametrize("source", [DIGIT, PHOTO])
def test_untouched_input_gives_the_plain_prediction(tab, models, photo, source):
    drawing, upload = sources(photo)[source]
    shown = tab.load(source, drawing, upload, **sliders())
    plain = (models[source].predict_pixels(pad_pixels(seven_png()).numpy()) if source == DIGIT
             else models[source].predict(upload))
    live = tab.step(shown.loaded, **sliders())
    assert list(live.confidences) == list(models[source].classes)
    np.testing.assert_allclose(list(live.confidences.values()), plain.probabilities, atol=1e-5)
    top, p = plain.top(1)[0]
    words = f"**{top}** with {100 * p:.1f} %"
    assert live.status == f"{words} (was {words} untouched)"
    # loading shows the same live outputs
    assert shown.status == live.status and shown.confidences == live.confidences
    assert np.array_equal(np.asarray(live.seen), np.asarray(plain.input_image))
    assert 'data-x="0"' in shown.rotation and 'data-x="0"' in shown.shift
    assert shown.occlusion.size[0] >= 224
    assert all(f"■ {name}" in shown.rotation for name in models[source].classes)  # the key, as text
    assert f"**{top}**" in shown.caption


@pytest.mark.parametrize("source", [DIGIT, PHOTO])
def test_curves_at_zero_equal_the_plain_prediction(tab, models, photo, source):
    drawing, upload = sources(photo)[source]
    loaded = tab.load(source, drawing, upload, **sliders()).loaded
    plain = (models[source].predict_pixels(pad_pixels(seven_png()).numpy()) if source == DIGIT
             else models[source].predict(upload))
    turned, moved, hidden = tab.measure(loaded, Sliders())
    np.testing.assert_allclose(turned.probabilities[list(turned.values).index(0)],
                               plain.probabilities, atol=1e-5)
    np.testing.assert_allclose(moved.probabilities[list(moved.values).index(0)],
                               plain.probabilities, atol=1e-5)
    assert hidden.class_index == plain.index
    assert hidden.probability == pytest.approx(plain.probabilities[plain.index], abs=1e-5)


@pytest.mark.parametrize("source", [DIGIT, PHOTO])
def test_the_live_prediction_is_a_point_on_each_curve(tab, photo, source):
    drawing, upload = sources(photo)[source]
    loaded = tab.load(source, drawing, upload, **sliders()).loaded
    turned_by_30 = sliders(rotation=30, scale=0.8, erase_size=5, noise=0.2)   # noise too
    live = list(tab.step(loaded, **turned_by_30).confidences.values())
    turned, moved, _ = tab.measure(loaded, Sliders(**turned_by_30))
    np.testing.assert_allclose(turned.probabilities[list(turned.values).index(30)], live, atol=1e-5)
    np.testing.assert_allclose(moved.probabilities[list(moved.values).index(0)], live, atol=1e-5)
    # The curves mark the sliders' own values: rotation 30, no shift.
    curves = tab.curves(loaded, **turned_by_30)
    assert 'data-x="30"' in curves.rotation and 'data-x="0"' in curves.shift
    assert 'data-x="3"' in tab.curves(loaded, **sliders(shift_x=3)).shift


def test_a_shift_of_three_moves_the_picture_three_columns(tab, models):
    loaded = tab.load(DIGIT, drawing_value(seven_png()), None, **sliders()).loaded
    moved = tab.step(loaded, **sliders(shift_x=3))
    seen, label = moved.seen, moved.confidences
    pixels = pad_pixels(seven_png())
    expected = pixels_to_image(transform(pixels, shift_x=3))
    assert np.array_equal(np.asarray(seen), np.asarray(expected))
    # independently: the untouched picture three columns to the right, paper coming in
    untouched = np.asarray(pixels_to_image(pixels)).astype(int)
    by_hand = np.zeros_like(untouched)
    by_hand[:, 3:] = untouched[:, :-3]
    assert np.abs(np.asarray(seen).astype(int) - by_hand).max() <= 1
    assert list(label.values()) != pytest.approx(
        list(tab.step(loaded, **sliders()).confidences.values()), abs=1e-6)


def test_sliders_change_the_prediction_live(tab):
    loaded = tab.load(DIGIT, drawing_value(seven_png()), None, **sliders()).loaded
    still = tab.step(loaded, **sliders()).confidences["7"]
    for changed in (dict(rotation=60), dict(scale=0.5), dict(stroke=2), dict(noise=0.5),
                    dict(erase_size=16)):
        moved = tab.step(loaded, **sliders(**changed))
        assert moved.confidences["7"] != pytest.approx(still, abs=1e-4)


@pytest.mark.parametrize("source, prompt", [(DIGIT, "Draw a digit in the first tab first."),
                                            (PHOTO, "Upload a photo in the photo tab first.")])
def test_an_empty_source_asks_for_one(tab, source, prompt):
    shown = tab.load(source, None, None, **sliders())
    assert shown.status == prompt and "\n" not in shown.status
    assert shown.seen is shown.confidences is shown.loaded is None
    assert (shown.rotation, shown.shift, shown.occlusion, shown.caption) == (None, None, None, "")
    assert tab.step(None, **sliders()).status.startswith("Choose your drawing")


def test_a_blank_drawing_asks_for_a_digit(tab):
    buffer = io.BytesIO()
    Image.new("RGB", (112, 112), "white").save(buffer, "PNG")
    assert tab.load(DIGIT, drawing_value(buffer.getvalue()), None,
                    **sliders()).status.startswith("Draw a digit")


def test_stroke_on_a_photo_is_ignored_with_a_note(tab, photo):
    shown = tab.load(PHOTO, None, photo, **sliders(stroke=2))
    assert isinstance(shown.loaded, Loaded)
    assert shown.stroke.interactive is False and shown.stroke.value == 0   # the slider is disabled
    live = tab.step(shown.loaded, **sliders(stroke=2))
    assert "digits only" in live.status and "\n" not in live.status
    assert live.confidences == tab.step(shown.loaded, **sliders()).confidences  # the photo as it was


def test_bad_settings_are_one_line_messages(tab, photo):
    loaded = tab.load(PHOTO, None, photo, **sliders()).loaded
    live = tab.step(loaded, **sliders(scale=0))
    assert live.status.startswith("⚠️") and "scale" in live.status
    assert live.seen is live.confidences is None
    assert tab.load(PHOTO, None, "no-such-photo.jpg", **sliders()).status.startswith("⚠️")


def test_the_tab_is_the_page_and_asks_the_server_nothing(tab):
    """In the app the lab is the page's (web/invariance_tab.js): one HTML component naming
    both checkpoints and its module, and not one event a visitor could start."""
    start = {"models": [{"name": "lenet5", "path": "checkpoints/lenet5.safetensors", "title": "LeNet-5",
                         "digits": True},
                        {"name": "convnet", "path": "checkpoints/convnet.safetensors", "title": "ConvNet",
                         "digits": False}]}
    with gr.Blocks() as demo:
        tab.build(start)
    html = [b for b in demo.blocks.values() if isinstance(b, gr.HTML)]
    assert len(html) == 1 and html[0].elem_id == "invariance-view"
    assert "invariance_tab.js" in html[0].html_template and "convnet.safetensors" in html[0].html_template
    assert not demo.fns
