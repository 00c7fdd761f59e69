"""The drawing pad's own digit recipe, which the page runs in JavaScript on every pointer move
(``web/pad_recipe.js``); this module is its reference and its Python API.

The pad draws black ink with an 18-pixel round pen on an opaque white 280x280 canvas, so none
of the general recipe's detective work (``upload_digit.digit_recipe``: polarity, background,
percentiles, Lanczos) is needed. What is left is MNIST's own recipe in arithmetic that
JavaScript repeats operation for operation in float64:

    ink = 1 - red / 255 -> crop to the ink -> area-average into the 20x20 box at FINE x
    resolution -> stroke brought into MNIST's range with a square max/min filter, refitted
    -> centre of mass to (14, 14) -> 4x4 box average down to 28x28.

The stroke is measured, not assumed from the pad's pen, because API users send drawings with
other pens and canvas sizes. The steps and their constants are ``digit_steps.mnist_recipe``'s;
``PAD`` holds what is the pad's own. tools/recipe_constants.py writes every number the page
repeats to web/digit_recipe.json, which web/pad_recipe.js reads.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from lenet.inputs.digit_steps import (
    SOLID,
    Digit,
    DigitRules,
    RecipeSteps,
    fitted_size,
    mnist_recipe,
)
from lenet.inputs.images import open_image, to_rgba
from lenet.inputs.resample import area_weights

__all__ = ["pad_ink", "pad_digit", "pad_recipe", "drawing_digit", "PAD"]

DRAWING_PIXELS = 1_000_000   # a drawing's largest size (the pad's is 280x280); more is refused


def pad_ink(image) -> np.ndarray:
    """A pad drawing (PIL image or uint8 array, any size) -> ink (H, W) float64 in [0, 1].

    ink = 1 - red / 255: the pad draws pure black on pure white, so the red channel is the
    grey level. Transparent pixels are paper (the drawing is laid on white). For API users'
    drawings two cheap fixes follow: paper that is mostly ink-coloured along the border means
    light ink on dark paper and is flipped, and grey paper (the border's lightest pixel) is
    taken down to 0. White paper passes through both unchanged.
    """
    if not isinstance(image, Image.Image):
        image = Image.fromarray(np.asarray(image))
    rgba = np.asarray(to_rgba(image))
    ink = (rgba[..., 3] / 255) * (1 - rgba[..., 0] / 255)
    border = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
    if 2 * int((border > SOLID).sum()) > border.size:
        ink, border = 1 - ink, 1 - border
    paper = float(border.min())
    if paper > 0:
        ink = np.maximum(ink - paper, 0) / (1 - paper)
    return ink


def pad_digit(ink: np.ndarray) -> Digit:
    """Ink from ``pad_ink`` -> MNIST-style 28x28 (see the module docstring)."""
    return pad_recipe(ink).digit


def drawing_digit(source) -> Digit:
    """A drawing as a user or the page gives it (path, PNG bytes, PIL image, array) through
    the pad's recipe. One larger than ``DRAWING_PIXELS`` is refused before it is decoded."""
    return pad_digit(pad_ink(open_image(source, max_pixels=DRAWING_PIXELS)))


def pad_recipe(ink: np.ndarray) -> RecipeSteps:
    """``pad_digit`` keeping every intermediate (see ``digit_steps.RecipeSteps``)."""
    return mnist_recipe(np.asarray(ink, np.float64), PAD)


def _fit(a: np.ndarray, side: int) -> np.ndarray:
    """Area-average ``a`` so that its larger side is ``side`` pixels, keeping the aspect."""
    height, width = fitted_size(a.shape, side)
    return area_weights(a.shape[0], height) @ a @ area_weights(a.shape[1], width).T


# LeNet-5 reads fat strokes better than the upload recipe's thinning leaves them, so pad strokes
# are thinned later and less (chosen with benchmarks/sketch_accuracy.py on thin, pad and fat
# pens). The ink is area-averaged and halves rounded up, arithmetic that JavaScript repeats
# exactly in float64.
PAD = DigitRules(thicken_below=0.8, thin_above=2.0, thin_to=1.6, fit=_fit, grow_outwards=True)
