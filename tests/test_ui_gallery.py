"""The test-set gallery tab and the model comparison, through their handlers: what a sheet
shows against the gallery file itself, and a click sending the right picture on."""
import base64
import io
import json

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from lenet.inputs.images import InputError
from ui.gallery import ANY, MISTAKES, RANDOM
from ui.view import shown_input


def click(k):
    """The page's "pick" of the k-th tile on the grid (web/gallery.onload.js)."""
    return gr.EventData(None, {"k": k})


def test_the_sheet_shows_what_the_filters_ask_for(built):
    _, gallery, _ = built.gallery.galleries["convnet"]
    positions = built.gallery.show("convnet", RANDOM, "cat", ANY, 3).positions
    assert positions and all(gallery.in_sample[i] for i in positions)
    assert {gallery.classes[gallery.labels[i]] for i in positions} == {"cat"}
    shown = built.gallery.show("lenet5", MISTAKES, ANY, "7", 0)
    words, positions = shown.words, shown.positions
    assert positions and all(gallery_is_mistake(built, "lenet5", i) for i in positions)
    assert {built.gallery.galleries["lenet5"][1].predictions[i] for i in positions} == {7}
    assert words.startswith(f"{len(positions)} of ")
    assert built.gallery.show("lenet5", MISTAKES, "1", "1", 0).tiles == []   # never wrong as itself


def test_each_tile_is_titled_in_html_with_its_own_labels_and_wrong_ones_marked(built):
    _, gallery, _ = built.gallery.galleries["lenet5"]
    shown = built.gallery.show("lenet5", RANDOM, ANY, ANY, 1)
    tiles, positions = shown.tiles, shown.positions
    assert [t["k"] for t in tiles] == list(range(len(positions)))
    for tile, i in zip(tiles, positions):
        assert tile["truth"] == str(gallery.labels[i]) and tile["guess"] == str(gallery.predictions[i])
        assert tile["wrong"] == (gallery.labels[i] != gallery.predictions[i])
        assert tile["confidence"] == f"{100 * gallery.confidences[i]:.0f}\u00a0%"  # kept with its number
        assert tile["index"] == gallery.indices[i]
        shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(tile["src"].split(",")[1]))))
        assert np.array_equal(shown, gallery.images[i][..., 0])


def gallery_is_mistake(built, model, i):
    _, gallery, _ = built.gallery.galleries[model]
    return gallery.labels[i] != gallery.predictions[i] and gallery.is_mistake[i]


def test_clicking_a_test_image_sends_that_image_to_its_tab(built):
    positions = built.gallery.show("lenet5", MISTAKES, ANY, ANY, 0).positions
    picked = built.gallery.pick("lenet5", positions, click(2))  # the third
    _, gallery, _ = built.gallery.galleries["lenet5"]
    sent = shown_input(picked.draw_view)  # the draw view's value: the image's pixels, as they are
    assert sent.kind == "gallery"
    assert np.abs(sent.pixels * 255 - gallery.images[positions[2]][..., 0]).max() <= 1e-3
    assert picked.tabs.selected == "draw" and f"#{gallery.indices[positions[2]]}" in picked.words
    assert picked.photo_view == picked.photo_shown == gr.skip()      # the photo tab untouched
    positions = built.gallery.show("convnet", RANDOM, ANY, ANY, 0).positions
    picked = built.gallery.pick("convnet", positions, click(0))
    convnet = built.gallery.galleries["convnet"][1]
    sent = json.loads(picked.photo_view)  # the photo view's value: the test image, channels first
    assert picked.tabs.selected == "photo" and sent["kind"] == "gallery"
    image = convnet.images[positions[0]]
    assert np.abs(np.asarray(sent["pixels"]) * 255 - image.transpose(2, 0, 1).ravel()).max() <= 1e-3
    assert np.array_equal(np.asarray(Image.open(picked.photo_shown)), image)   # kept on the server


@pytest.mark.parametrize("reference", ["/etc/passwd", "/nonexistent/file.png",
                                       "docs/screenshot.png", "convnet:99999999", "lenet5:-1",
                                       "convnet:../../etc/passwd", ""])
def test_only_gallery_references_become_pictures(reference, built):
    with pytest.raises(InputError, match="^that is not a test-set gallery image$"):
        built.gallery.file_for(reference)
