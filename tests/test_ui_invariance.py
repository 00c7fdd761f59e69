"""The invariance lab's handlers, called directly on the committed checkpoints, against the
engine's plain prediction of the same drawing or photo and hand-shifted pixels."""
import io

import numpy as np
import pytest
from helpers import drawing_value, pad_pixels, seven_png
from PIL import Image

from lenet.inside.inference import Classifier
from lenet.inside.invariance import transform
from lenet.net.checkpoint import default_checkpoint
from lenet.pictures.visualize import pixels_to_image
from ui.invariance import DIGIT, IDENTITY, PHOTO, SLIDERS, InvarianceTab, Loaded


def sliders(**changed) -> tuple:
    values = dict(zip(SLIDERS, IDENTITY))
    values.update(changed)
    return tuple(values[name] for name in SLIDERS)


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
    *view, rotation, shift, occlusion, caption, loaded, _, _, _ = tab.load(
        source, drawing, upload, *sliders())
    plain = (models[source].predict_pixels(pad_pixels(seven_png()).numpy()) if source == DIGIT
             else models[source].predict(upload))
    status, seen, label = tab.step(loaded, *sliders())
    assert list(label) == list(models[source].classes)
    np.testing.assert_allclose(list(label.values()), plain.probabilities, atol=1e-5)
    top, p = plain.top(1)[0]
    words = f"**{top}** with {100 * p:.1f} %"
    assert status == f"{words} (was {words} untouched)"
    assert view[0] == status and view[2] == label       # loading shows the same live outputs
    assert np.array_equal(np.asarray(seen), np.asarray(plain.input_image))
    assert 'data-x="0"' in rotation and 'data-x="0"' in shift and occlusion.size[0] >= 224
    assert all(f"■ {name}" in rotation for name in models[source].classes)   # the key, as text
    assert f"**{top}**" in caption


@pytest.mark.parametrize("source", [DIGIT, PHOTO])
def test_curves_at_zero_equal_the_plain_prediction(tab, models, photo, source):
    drawing, upload = sources(photo)[source]
    loaded = tab.load(source, drawing, upload, *sliders())[7]
    plain = (models[source].predict_pixels(pad_pixels(seven_png()).numpy()) if source == DIGIT
             else models[source].predict(upload))
    turned, moved, hidden = tab.measure(loaded, *sliders())
    np.testing.assert_allclose(turned.probabilities[list(turned.values).index(0)],
                               plain.probabilities, atol=1e-5)
    np.testing.assert_allclose(moved.probabilities[list(moved.values).index(0)],
                               plain.probabilities, atol=1e-5)
    assert hidden.class_index == plain.index
    assert hidden.probability == pytest.approx(plain.probabilities[plain.index], abs=1e-5)


@pytest.mark.parametrize("source", [DIGIT, PHOTO])
def test_the_live_prediction_is_a_point_on_each_curve(tab, photo, source):
    drawing, upload = sources(photo)[source]
    loaded = tab.load(source, drawing, upload, *sliders())[7]
    turned_by_30 = sliders(rotation=30, scale=0.8, erase_size=5)
    live = list(tab.step(loaded, *turned_by_30)[2].values())
    turned, moved, _ = tab.measure(loaded, *turned_by_30)
    np.testing.assert_allclose(turned.probabilities[list(turned.values).index(30)], live, atol=1e-5)
    np.testing.assert_allclose(moved.probabilities[list(moved.values).index(0)], live, atol=1e-5)
    # The curves mark the sliders' own values: rotation 30, no shift.
    _, _, _, rotation, shift, *_ = tab.curves(loaded, *turned_by_30)
    assert 'data-x="30"' in rotation and 'data-x="0"' in shift
    shifted = sliders(shift_x=3)
    assert 'data-x="3"' in tab.curves(loaded, *shifted)[4]


def test_a_shift_of_three_moves_the_picture_three_columns(tab, models):
    loaded = tab.load(DIGIT, drawing_value(seven_png()), None, *sliders())[7]
    _, seen, label = tab.step(loaded, *sliders(shift_x=3))
    pixels = pad_pixels(seven_png())
    expected = pixels_to_image(transform(pixels, shift_x=3))
    assert np.array_equal(np.asarray(seen), np.asarray(expected))
    # independently: the untouched picture three columns to the right, paper coming in
    untouched = np.asarray(pixels_to_image(pixels)).astype(int)
    by_hand = np.zeros_like(untouched)
    by_hand[:, 3:] = untouched[:, :-3]
    assert np.abs(np.asarray(seen).astype(int) - by_hand).max() <= 1
    assert list(label.values()) != pytest.approx(
        list(tab.step(loaded, *sliders())[2].values()), abs=1e-6)


def test_sliders_change_the_prediction_live(tab):
    loaded = tab.load(DIGIT, drawing_value(seven_png()), None, *sliders())[7]
    still = tab.step(loaded, *sliders())[2]["7"]
    for changed in (dict(rotation=60), dict(scale=0.5), dict(stroke=2), dict(noise=0.5),
                    dict(erase_size=16)):
        assert tab.step(loaded, *sliders(**changed))[2]["7"] != pytest.approx(still, abs=1e-4)


@pytest.mark.parametrize("source, prompt", [(DIGIT, "Draw a digit in the first tab first."),
                                            (PHOTO, "Upload a photo in the photo tab first.")])
def test_an_empty_source_asks_for_one(tab, source, prompt):
    status, seen, label, *curves, loaded, _, _, _ = tab.load(source, None, None, *sliders())
    assert status == prompt and "\n" not in status
    assert seen is label is loaded is None and curves == [None, None, None, ""]
    assert tab.step(None, *sliders())[0].startswith("Choose your drawing")


def test_a_blank_drawing_asks_for_a_digit(tab):
    buffer = io.BytesIO()
    Image.new("RGB", (112, 112), "white").save(buffer, "PNG")
    assert tab.load(DIGIT, drawing_value(buffer.getvalue()), None,
                    *sliders())[0].startswith("Draw a digit")


def test_stroke_on_a_photo_is_ignored_with_a_note(tab, photo):
    *_, loaded, stroke, _, _ = tab.load(PHOTO, None, photo, *sliders(stroke=2))
    assert isinstance(loaded, Loaded)
    assert stroke.interactive is False and stroke.value == 0    # the slider is disabled
    status, seen, label = tab.step(loaded, *sliders(stroke=2))
    assert "digits only" in status and "\n" not in status
    assert label == tab.step(loaded, *sliders())[2]             # the photo as it was


def test_bad_settings_are_one_line_messages(tab, photo):
    loaded = tab.load(PHOTO, None, photo, *sliders())[7]
    status, seen, label = tab.step(loaded, *sliders(scale=0))
    assert status.startswith("⚠️") and "scale" in status and seen is label is None
    assert tab.load(PHOTO, None, "no-such-photo.jpg", *sliders())[0].startswith("⚠️")
