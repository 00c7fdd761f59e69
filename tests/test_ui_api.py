"""The API steps (ui/api.py), called directly: the softmax panel's words."""
import numpy as np
import torch
from helpers import random_classifier
from PIL import Image

from lenet.inside.inference import Classifier
from ui.api import softmax_words


def lopsided_photo() -> Image.Image:
    """A colour photo whose mirror image is a different input."""
    pixels = np.random.RandomState(0).randint(0, 256, (48, 64, 3)).astype(np.uint8)
    pixels[:, :20] = (250, 20, 20)
    return Image.fromarray(pixels)


def test_the_softmax_panel_writes_out_both_passes_and_their_mean():
    """A model trained with flips answers with the mean of the photo's logits and its mirror
    image's: the panel writes out all three, each worked out here by a plain forward pass."""
    one_pass = random_classifier("convnet")
    flipped = Classifier(one_pass.model, {**one_pass.meta, "mirror_average": True})
    result = flipped.predict(lopsided_photo())
    with torch.no_grad():
        own = one_pass.model(result.tensor)[0].numpy()
        mirror = one_pass.model(result.tensor.flip(3))[0].numpy()
    words = softmax_words(result)
    assert "mirror image" in words
    for values in (own, mirror, (own + mirror) / 2):
        assert f"airplane: {values[0]:+.2f}" in words
    assert "mirror" not in softmax_words(one_pass.predict(lopsided_photo()))
