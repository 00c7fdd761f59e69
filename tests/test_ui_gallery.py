"""The test-set gallery tab and the model comparison, through their handlers: what a sheet
shows against the gallery file itself, and a click sending the right picture on."""
import json

import numpy as np
import pytest
import gradio as gr
from PIL import Image

import app
from lenet.checkpoint import default_checkpoint
from lenet.inference import Classifier
from lenet.sheet import labelled_sheet
from helpers import seven_png
from ui.common import shown_input
from ui.gallery import ANY, MISTAKES, RANDOM
from lenet.images import InputError


def click(x, y):
    return gr.SelectData(None, {"index": [x, y], "value": None})


def test_the_sheet_shows_what_the_filters_ask_for():
    _, gallery, _ = app.GALLERY.galleries["convnet"]
    sheet, words, positions = app.GALLERY.show("convnet", RANDOM, "cat", ANY, 3)
    assert positions and all(gallery.in_sample[i] for i in positions)
    assert {gallery.classes[gallery.labels[i]] for i in positions} == {"cat"}
    sheet, words, positions = app.GALLERY.show("lenet5", MISTAKES, ANY, "7", 0)
    assert positions and all(gallery_is_mistake("lenet5", i) for i in positions)
    assert {app.GALLERY.galleries["lenet5"][1].predictions[i] for i in positions} == {7}
    assert words.startswith(f"{len(positions)} of ")
    assert app.GALLERY.show("lenet5", MISTAKES, "1", "1", 0)[0] is None   # never wrong as itself


def gallery_is_mistake(model, i):
    _, gallery, _ = app.GALLERY.galleries[model]
    return gallery.labels[i] != gallery.predictions[i] and gallery.is_mistake[i]


def test_wrong_ones_are_red_and_right_ones_are_not():
    images = [np.full((28, 28), 255, np.uint8)] * 2
    sheet, layout = labelled_sheet(images, [["true 1", "pred 1"], ["true 2", "pred 7"]],
                                   [False, True])
    pixels = np.asarray(sheet).astype(int)
    red = (pixels[..., 0] > 150) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)
    assert not red[:, :layout.cell_w].any() and red[:, layout.cell_w:2 * layout.cell_w].any()
    assert layout.index_at(layout.cell_w * 1.5, 10, 2) == 1
    assert layout.index_at(layout.cell_w * 2.5, 10, 2) is None


def test_clicking_a_test_image_sends_that_image_to_its_tab():
    sheet, _, positions = app.GALLERY.show("lenet5", MISTAKES, ANY, ANY, 0)
    _, layout = labelled_sheet([np.zeros((28, 28), np.uint8)], [["", ""]], [False], tile=84)
    tabs, digit, photo, kept, words = app.GALLERY.pick("lenet5", positions,
                                                 click(layout.cell_w * 2 + 20, 30))  # third
    _, gallery, _ = app.GALLERY.galleries["lenet5"]
    sent = shown_input(digit)     # the draw view's value: the image's pixels, as they are
    assert sent.kind == "gallery"
    assert np.abs(sent.pixels * 255 - gallery.images[positions[2]][..., 0]).max() <= 1e-3
    assert tabs.selected == "draw" and f"#{gallery.indices[positions[2]]}" in words
    _, _, positions = app.GALLERY.show("convnet", RANDOM, ANY, ANY, 0)
    tabs, digit, photo, kept, _ = app.GALLERY.pick("convnet", positions, click(10, 10))
    convnet = app.GALLERY.galleries["convnet"][1]
    sent = json.loads(photo)    # the photo view's value: the test image as it is, channels first
    assert tabs.selected == "photo" and sent["kind"] == "gallery"
    image = convnet.images[positions[0]]
    assert np.abs(np.asarray(sent["pixels"]) * 255 - image.transpose(2, 0, 1).ravel()).max() <= 1e-3
    assert np.array_equal(np.asarray(Image.open(kept)), image)   # kept on the server


@pytest.mark.parametrize("reference", ["/etc/passwd", "/nonexistent/file.png",
                                       "docs/screenshot.png", "convnet:99999999", "lenet5:-1",
                                       "convnet:../../etc/passwd", ""])
def test_only_gallery_references_become_pictures(reference):
    with pytest.raises(InputError, match="^that is not a test-set gallery image$"):
        app.GALLERY.file_for(reference)
