"""MNIST's own steps for a digit, shared by every digit recipe (uploads:
``lenet.inputs.upload_digit``; the pad: ``lenet.inputs.pad``) and repeated in the page by
web/digit_steps.js: ink cropped, fitted into a 20x20 box keeping its aspect ratio, the stroke
brought into MNIST's range, the centre of mass put at the centre of 28x28, box-averaged.
What differs between recipes is a ``DigitRules``. tools/recipe_constants.py writes the
constants the page repeats to web/digit_recipe.json.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

DIGIT_BOX = 20                   # MNIST: the digit's larger side, in pixels
DIGIT_CANVAS = 28
MNIST_CENTRE = 14.0              # mean centre of mass of MNIST digits (row and column) is 14.0
MNIST_STROKE = 2.6               # median MNIST stroke width in pixels (2 * area / boundary)
FINE = 4                         # work at 4x the final resolution when adjusting strokes
TARGET = (MNIST_CENTRE + 0.5) * FINE - 0.5   # coarse pixel 14's centre in fine pixels: 57.5
INK = 0.2                        # ink above this counts when cropping and for "nothing drawn"
MIN_INK = 2                      # fewer pixels of ink than this: nothing drawn
SOLID = 0.5                      # ink above this is solid: for stroke widths, and for the
                                 # pad's paper (lenet.inputs.pad.pad_ink)


# Symmetric drawings put the centre of mass exactly half-way between two offsets, where the
# last bit of a sum decides; NumPy and JavaScript add in different orders, so ties are
# nudged up by far more than that bit and far less than anything a drawing can do.
TIE = 1e-9


def nearest(x: float) -> int:
    """Round half up, as JavaScript's Math.floor(x + 0.5), not Python's half-to-even."""
    return math.floor(x + 0.5 + TIE)


@dataclass
class Digit:
    """A digit ready for LeNet-5: ``pixels`` (28, 28) float32 in [0, 1], ink = 1."""
    pixels: np.ndarray
    empty: bool = False


# ---------------------------------------------------------------------------- strokes

def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels, 2 * area / boundary length of the binarised ink."""
    solid = ink > SOLID
    area = int(solid.sum())
    if area == 0:
        return 0.0
    p = np.pad(solid, 1)
    inner = p[1:-1, 1:-1] & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    return 2 * area / max(int((solid & ~inner).sum()), 1)


def morph(a: np.ndarray, size: int, op) -> np.ndarray:
    """Separable square max/min filter of odd ``size`` (dilation or erosion)."""
    r = size // 2
    pad_value = 0.0 if op is np.maximum else 1.0
    for axis in (0, 1):
        p = np.pad(a, [(r, r) if ax == axis else (0, 0) for ax in (0, 1)],
                   constant_values=pad_value)
        out = a.copy()
        for shift in range(2 * r + 1):
            out = op(out, np.take(p, range(shift, shift + a.shape[axis]), axis=axis))
        a = out
    return a


# ---------------------------------------------------------------------------- MNIST's steps

@dataclass(frozen=True)
class DigitRules:
    """What the digit recipes do differently; their steps are one (``mnist_recipe``), and
    both round halves up (``nearest``). Stroke limits are multiples of MNIST_STROKE."""
    thicken_below: float       # thinner strokes are thickened to MNIST_STROKE
    thin_above: float          # fatter strokes are thinned to ``thin_to``
    thin_to: float
    fit: Callable[[np.ndarray, int], np.ndarray]   # resample so the larger side is n pixels
                                                   # (``fitted_size``)
    grow_outwards: bool        # pad before thickening, so strokes at the edges grow outwards


@dataclass
class RecipeSteps:
    """``mnist_recipe``'s intermediates, kept to show how a digit was made."""
    digit: Digit                                  # the network's input
    box: tuple[int, int, int, int] | None = None  # the ink's (top, left, bottom, right), exclusive
    stroke: float = 0.0                           # stroke width as drawn, in 28x28 pixels
    adjusted: str = "kept"                        # the stroke "thickened", "thinned" or "kept"
    fitted: np.ndarray | None = None              # in the DIGIT_BOX box at FINE x resolution
    offset: tuple[int, int] | None = None         # where ``fitted``'s corner lands on ``placed``
    placed: np.ndarray | None = None              # on the 28x28 canvas at FINE x resolution


def mnist_recipe(ink: np.ndarray, rules: DigitRules) -> RecipeSteps:
    """Ink (H, W) in [0, 1], 1 = ink -> MNIST-style 28x28, keeping every step: crop to the
    ink, fit into the DIGIT_BOX box at FINE x resolution, bring the stroke into MNIST's range,
    put the centre of mass on (14, 14), box-average FINE x FINE cells. The arithmetic keeps
    the dtype that ``rules.fit`` returns."""
    steps = RecipeSteps(Digit(np.zeros((DIGIT_CANVAS, DIGIT_CANVAS), np.float32), empty=True))
    if int((ink > INK).sum()) < MIN_INK:
        return steps
    steps.box = _ink_box(ink)
    side = DIGIT_BOX * FINE
    fine = rules.fit(_cut(ink, steps.box), side)
    width = steps.stroke = stroke_width(fine) / FINE
    # Strokes outside MNIST's range are brought into it at FINE x resolution, so the filter
    # moves each edge in quarter-pixel steps; then the digit is fitted again, since the
    # filter moved its edges.
    if width < rules.thicken_below * MNIST_STROKE:
        size = 2 * nearest((MNIST_STROKE - width) * FINE / 2) + 1
        grown = morph(np.pad(fine, size // 2) if rules.grow_outwards else fine, size, np.maximum)
        fine = rules.fit(_cut(grown, _ink_box(grown)), side)
        steps.adjusted = "thickened"
    elif width > rules.thin_above * MNIST_STROKE:
        size = 2 * nearest((width - rules.thin_to * MNIST_STROKE) * FINE / 2) + 1
        thinned = morph(fine, size, np.minimum)
        if int((thinned > INK).sum()) >= MIN_INK:  # a thinning that erases the digit is undone
            fine = rules.fit(_cut(thinned, _ink_box(thinned)), side)
            steps.adjusted = "thinned"
    steps.fitted = fine
    mass = fine.sum()
    if mass == 0:  # a guard: fitting ink above INK leaves some mass
        return steps
    steps.placed, steps.offset = _centred(fine, mass)
    # Box-averaging FINE x FINE cells keeps the placement sub-pixel without blurring the digit.
    cells = steps.placed.reshape(DIGIT_CANVAS, FINE, DIGIT_CANVAS, FINE)
    pixels = cells.sum(axis=(1, 3)) / FINE ** 2
    steps.digit = Digit(np.minimum(pixels, 1).astype(np.float32))   # (28, 28)
    return steps


def _centred(fine: np.ndarray, mass: float) -> tuple[np.ndarray, tuple[int, int]]:
    """``fine`` on the (112, 112) canvas with its centre of mass on TARGET, as MNIST placed its
    digits, and the (row, column) of its corner there; parts pushed over the edge are cut."""
    ys, xs = np.indices(fine.shape)
    y0 = nearest(TARGET - (ys * fine).sum() / mass)
    x0 = nearest(TARGET - (xs * fine).sum() / mass)
    n = DIGIT_CANVAS * FINE
    placed = np.zeros((n, n), fine.dtype)
    top, left = max(y0, 0), max(x0, 0)
    bottom, right = min(y0 + fine.shape[0], n), min(x0 + fine.shape[1], n)
    placed[top:bottom, left:right] = fine[top - y0:bottom - y0, left - x0:right - x0]
    return placed, (y0, x0)


def _ink_box(a: np.ndarray) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), exclusive, of the pixels above INK; there must be some."""
    solid = a > INK
    rows, cols = np.flatnonzero(solid.any(1)), np.flatnonzero(solid.any(0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _cut(a: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    return a[box[0]:box[2], box[1]:box[3]]


def fitted_size(shape: tuple[int, int], side: int) -> tuple[int, int]:
    """(height, width) that makes the larger side ``side`` pixels, keeping the aspect ratio."""
    scale = side / max(shape)
    return max(1, nearest(shape[0] * scale)), max(1, nearest(shape[1] * scale))


