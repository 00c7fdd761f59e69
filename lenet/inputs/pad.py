"""The drawing pad's own digit recipe, which the page runs in JavaScript on every pointer move
(``web/pad_recipe.js``); this module is its reference and its Python API.

The pad draws black ink with an 18-pixel round pen on an opaque white 280x280 canvas, so none
of the general recipe's detective work (``preprocess.digit_recipe``: polarity, background,
percentiles, Lanczos) is needed. What is left is MNIST's own recipe in arithmetic that
JavaScript repeats operation for operation in float64:

    ink = 1 - red / 255 -> crop to the ink -> area-average into the 20x20 box at FINE x
    resolution -> stroke brought into MNIST's range with a square max/min filter, refitted
    -> centre of mass to (14, 14) -> 4x4 box average down to 28x28.

The stroke is measured, not assumed from the pad's pen, because API users send drawings with
other pens and canvas sizes. Anything outside ``pad_ink`` and ``pad_recipe`` that the page
must repeat (thresholds, rounding) is a constant here and in the JavaScript file.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from lenet.inputs.images import open_image, to_rgba
from lenet.inputs.preprocess import (
    DIGIT_BOX,
    DIGIT_CANVAS,
    FINE,
    MNIST_CENTRE,
    MNIST_STROKE,
    Digit,
    morph,
    stroke_width,
)

__all__ = ["pad_ink", "pad_digit", "pad_recipe", "PadRecipe"]

DRAWING_PIXELS = 1_000_000   # a drawing's largest size (the pad's is 280x280); more is refused
INK = 0.2             # ink above this counts when cropping and when deciding "nothing drawn"
MIN_INK = 2           # fewer pixels of ink than this: nothing drawn
# Stroke widths, as multiples of MNIST_STROKE. LeNet-5 reads fat strokes better than the
# general recipe's thinning leaves them, so strokes are thinned later and less than there
# (chosen with benchmarks/sketch_accuracy.py on thin, pad and fat pens).
THICKEN_BELOW = 0.8   # thinner strokes are thickened to MNIST_STROKE
THIN_ABOVE = 2.0      # fatter strokes are thinned to THIN_TO
THIN_TO = 1.6
# The fine-pixel coordinate of the centre of coarse pixel 14: (14 + 0.5) * 4 - 0.5 = 57.5.
TARGET = (MNIST_CENTRE + 0.5) * FINE - 0.5
# Symmetric drawings put the centre of mass exactly half-way between two offsets, where the
# last bit of a sum decides; NumPy and JavaScript add in different orders, so ties are
# nudged up by far more than that bit and far less than anything a drawing can do.
TIE = 1e-9


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
    if 2 * int((border > 0.5).sum()) > border.size:
        ink, border = 1 - ink, 1 - border
    paper = float(border.min())
    if paper > 0:
        ink = np.maximum(ink - paper, 0) / (1 - paper)
    return ink


@dataclass
class PadRecipe:
    """The pad recipe's intermediates, to show how a digit was made."""
    digit: Digit                                # what ``pad_digit`` returns
    box: tuple[int, int, int, int] | None = None  # the ink's (top, left, bottom, right), exclusive
    stroke: float = 0.0                         # stroke width as drawn, in 28x28 pixels
    adjusted: str = "kept"                      # the stroke "thickened", "thinned" or "kept"
    fitted: np.ndarray | None = None            # in the DIGIT_BOX box at FINE x resolution
    offset: tuple[int, int] | None = None       # where ``fitted``'s corner lands on ``placed``
    placed: np.ndarray | None = None            # on the 28x28 canvas at FINE x resolution


def pad_digit(ink: np.ndarray) -> Digit:
    """Ink from ``pad_ink`` -> MNIST-style 28x28 (see the module docstring)."""
    return pad_recipe(ink).digit


def drawing_digit(source) -> Digit:
    """A drawing as a user or the page gives it (path, PNG bytes, PIL image, array) through
    the pad's recipe. One larger than ``DRAWING_PIXELS`` is refused before it is decoded."""
    return pad_digit(pad_ink(open_image(source, max_pixels=DRAWING_PIXELS)))


def pad_recipe(ink: np.ndarray) -> PadRecipe:
    """``pad_digit`` keeping every intermediate (see ``PadRecipe``)."""
    ink = np.asarray(ink, np.float64)
    steps = PadRecipe(Digit(np.zeros((DIGIT_CANVAS, DIGIT_CANVAS), np.float32), empty=True))
    if int((ink > INK).sum()) < MIN_INK:
        return steps
    steps.box = _ink_box(ink)
    top, left, bottom, right = steps.box
    side = DIGIT_BOX * FINE
    fine = _fit(ink[top:bottom, left:right], side)
    width = steps.stroke = stroke_width(fine) / FINE
    # Strokes outside MNIST's range are brought into it at FINE x resolution, then the digit
    # is fitted again, since the filter moved its edges. The ink is padded first so that the
    # strokes at the edges grow outwards too.
    if width < THICKEN_BELOW * MNIST_STROKE:
        size = 2 * _nearest((MNIST_STROKE - width) * FINE / 2) + 1
        grown = morph(np.pad(fine, size // 2), size, np.maximum)
        fine = _fit(_crop(grown), side)
        steps.adjusted = "thickened"
    elif width > THIN_ABOVE * MNIST_STROKE:
        size = 2 * _nearest((width - THIN_TO * MNIST_STROKE) * FINE / 2) + 1
        thinned = morph(fine, size, np.minimum)
        if int((thinned > INK).sum()) >= MIN_INK:
            fine = _fit(_crop(thinned), side)
            steps.adjusted = "thinned"
    steps.fitted = fine

    # Centre of mass to (14, 14), as MNIST did, at FINE x resolution; parts pushed over the
    # edge are cut. Box-averaging FINE x FINE cells keeps the placement sub-pixel.
    ys, xs = np.indices(fine.shape)
    mass = fine.sum()
    y0 = _nearest(TARGET - (ys * fine).sum() / mass)
    x0 = _nearest(TARGET - (xs * fine).sum() / mass)
    steps.offset = (y0, x0)
    n = DIGIT_CANVAS * FINE
    placed = steps.placed = np.zeros((n, n))                  # (112, 112)
    top, left = max(y0, 0), max(x0, 0)
    bottom, right = min(y0 + fine.shape[0], n), min(x0 + fine.shape[1], n)
    placed[top:bottom, left:right] = fine[top - y0:bottom - y0, left - x0:right - x0]
    pixels = placed.reshape(DIGIT_CANVAS, FINE, DIGIT_CANVAS, FINE).sum(axis=(1, 3)) / FINE ** 2
    steps.digit = Digit(np.minimum(pixels, 1).astype(np.float32))   # (28, 28)
    return steps


def _nearest(x: float) -> int:
    """Round half up, as JavaScript's Math.floor(x + 0.5), not Python's half-to-even."""
    return math.floor(x + 0.5 + TIE)


def _ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    solid = ink > INK
    rows, cols = np.flatnonzero(solid.any(1)), np.flatnonzero(solid.any(0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _crop(a: np.ndarray) -> np.ndarray:
    top, left, bottom, right = _ink_box(a)
    return a[top:bottom, left:right]


def _fit(a: np.ndarray, side: int) -> np.ndarray:
    """Area-average ``a`` so that its larger side is ``side`` pixels, keeping the aspect."""
    scale = side / max(a.shape)
    height, width = (max(1, _nearest(n * scale)) for n in a.shape)
    return _box_weights(a.shape[0], height) @ a @ _box_weights(a.shape[1], width).T


def _box_weights(n: int, m: int) -> np.ndarray:
    """(m, n): output pixel i is the mean of input span [i, i + 1) * n / m, each input pixel
    weighted by how much of it the span covers."""
    span = n / m
    edges = np.arange(m + 1) * span
    j = np.arange(n)
    covered = np.minimum(edges[1:, None], j + 1) - np.maximum(edges[:-1, None], j)
    return np.maximum(covered, 0) / span
