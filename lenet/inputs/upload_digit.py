"""The digit recipe for uploads: a sketch, scan or photo of one digit, in either polarity, on
any paper -> MNIST-style 28x28. Finding the ink (``ink_and_polarity``: grey, box reduction,
polarity from the border, an uneven background followed, paper noise below a floor) is this
module's; what follows is MNIST's own steps (``digit_steps.mnist_recipe``) with ``UPLOADS``'
rules. Every step is float64 arithmetic that the page repeats (web/upload_digit.js), and its
numbers are written to web/digit_recipe.json by tools/recipe_constants.py.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from lenet.inputs.digit_steps import (
    Digit,
    DigitRules,
    RecipeSteps,
    _cut,
    fitted_size,
    mnist_recipe,
)
from lenet.inputs.images import to_rgba
from lenet.inputs.photo import LEVELS, is_opaque, premultiplied
from lenet.inputs.resample import box_reduce, reduce_factor, resize, weights

INK_SIDE = 256          # ink is found on images reduced to at most this side
CONTRAST = 0.15         # an ink peak below this above the background: nothing drawn
PEAK = 99.9             # the ink's peak is this percentile (a few hot pixels do not count)
NOISE_SIGMAS = 4        # the floor: the paper's level plus this many robust deviations
MAD_TO_SIGMA = 1.4826   # median absolute deviation -> standard deviation, for Gaussian noise
FLOOR_RANGE = (0.05, 0.5)   # ... kept within these fractions of the peak
CELLS = 6               # the background is followed on a grid of at most CELLS x CELLS
CELL_MIN = 8            # pixels a cell needs a side; fewer than 3 cells: one level for all
PAPER = 5.0             # a cell's paper level is this percentile of its pixels
FLAT = 1e-3             # a grid that varies less than this is one level
LUMA = (19595, 38470, 7471)   # ITU-R 601 luma in 16-bit fixed point, PIL's RGB -> "L"


def ink_map(im: Image.Image) -> np.ndarray:
    """Grey ink strength in [0, 1] (1 = ink) for any image, whatever its polarity.

    Transparent areas are filled with the colour that contrasts with the opaque pixels, so
    both black-on-transparent and white-on-transparent drawings keep their strokes. Large
    images are box-reduced to at most ``INK_SIDE`` pixels first: the digit ends up 20 pixels
    tall, and box averaging keeps a thin stroke's ink as a fainter line.
    """
    return ink_and_polarity(im)[0]


def ink_and_polarity(im: Image.Image) -> tuple[np.ndarray, bool]:
    """``ink_map(im)`` and whether the ink was dark on light paper (True) or light on dark."""
    grey = reduced_grey(im) / LEVELS
    # Polarity: the border is background (paper, canvas); ink is whatever differs from it.
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    dark_ink = bool(median(border) > 0.5)
    if dark_ink:
        grey = 1 - grey
    ink = grey - _background(grey)
    values = np.sort(ink, axis=None)
    peak = percentile(values, PEAK)
    if peak < CONTRAST:  # no contrast: a blank canvas, an empty page
        return np.zeros_like(grey), dark_ink
    # Paper texture and sensor noise stay below the floor: robust standard deviations above
    # the paper's level (the paper is the majority, so the median is paper).
    paper = median(values)
    noise = MAD_TO_SIGMA * median(np.abs(ink - paper))
    floor = min(max(paper + NOISE_SIGMAS * noise, FLOOR_RANGE[0] * peak), FLOOR_RANGE[1] * peak)
    return np.clip((ink - floor) / (peak - floor), 0, 1), dark_ink


def reduced_grey(im: Image.Image) -> np.ndarray:
    """The image's grey levels (``luma``) box-reduced to at most INK_SIDE a side, float64 in
    [0, 255]. Transparent areas are filled with the level that contrasts with the opaque
    pixels (see ``ink_map``)."""
    factor = reduce_factor(im.height, im.width, INK_SIDE)
    if is_opaque(im):
        return box_reduce(np.asarray(im.convert("L")), factor)   # PIL's "L" is ``luma``
    rgba = np.asarray(to_rgba(im))
    small = box_reduce(rgba, factor, values=lambda band: luma(band[..., :3]))
    if rgba[..., 3].min() == LEVELS:
        return small
    opacity = box_reduce(rgba[..., 3], factor) / LEVELS
    opaque = opacity > 0.5
    fill = 0.0 if opaque.any() and small[opaque].mean() > LEVELS / 2 else LEVELS
    # The grey of the colour laid on the fill: of the premultiplied colour, plus the fill's share.
    laid = box_reduce(rgba, factor, values=lambda band: luma(premultiplied(band)))
    return laid + fill * (1 - opacity)


def luma(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) levels -> (...) grey levels: ITU-R 601 luma in 16-bit fixed point, rounded,
    as PIL converts RGB to "L"."""
    rgb = rgb.astype(np.int32)
    return (rgb[..., 0] * LUMA[0] + rgb[..., 1] * LUMA[1] + rgb[..., 2] * LUMA[2] + 2**15) >> 16


def _background(grey: np.ndarray) -> np.ndarray:
    """Smooth background level: a low percentile per cell of a coarse grid, interpolated.

    Ink is the bright minority after the polarity flip, so a cell's PAPER percentile is its
    paper, and uneven light across a photographed page is followed rather than taken for
    ink. A 3x3 median over the grid discards cells that a fat stroke fills.
    """
    cells = min(CELLS, min(grey.shape) // CELL_MIN)
    if cells < 3:
        return np.full_like(grey, percentile(np.sort(grey, axis=None), PAPER))
    bh, bw = grey.shape[0] // cells, grey.shape[1] // cells
    blocks = grey[:bh * cells, :bw * cells].reshape(cells, bh, cells, bw).transpose(0, 2, 1, 3)
    ordered = np.sort(blocks.reshape(cells, cells, bh * bw), axis=2)
    grid = np.array([[percentile(ordered[i, j], PAPER) for j in range(cells)]
                     for i in range(cells)])
    padded = np.pad(grid, 1, mode="edge")
    around = np.sort(np.stack([padded[dy:dy + cells, dx:dx + cells]
                               for dy in range(3) for dx in range(3)]), axis=0)
    grid = around[4]                                                 # the median of nine
    if grid.max() - grid.min() < FLAT:
        return np.full_like(grey, grid.mean())
    return resize(grid, grey.shape[0], grey.shape[1], kernel="tent")


def percentile(ordered: np.ndarray, q: float) -> float:
    """The ``q``th percentile of values sorted ascending, interpolated linearly between the
    two nearest ranks (NumPy's default method, written out so the page can repeat it)."""
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def median(values: np.ndarray) -> float:
    ordered = np.sort(values, axis=None)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return float((ordered[middle - 1] + ordered[middle]) / 2)


def lanczos_fit(a: np.ndarray, side: int) -> np.ndarray:
    """Resize so the larger side is ``side`` pixels, keeping the aspect ratio: antialiased
    Lanczos, as sharp as a photo or scan allows, clipped to [0, 1]."""
    height, width = fitted_size(a.shape, side)
    fitted = weights(a.shape[0], height) @ a @ weights(a.shape[1], width).T
    return np.clip(fitted, 0, 1)


# Uploads are thinned sooner and further than pad drawings (lenet.inputs.pad.PAD).
UPLOADS = DigitRules(thicken_below=0.7, thin_above=1.6, thin_to=1.3, fit=lanczos_fit,
                     grow_outwards=False)


@dataclass(kw_only=True)
class DigitRecipe(RecipeSteps):
    """``mnist_recipe``'s steps for an upload, with the ink map they started from."""
    ink: np.ndarray                    # ink map, at most INK_SIDE pixels a side
    dark_ink: bool                     # dark ink on light paper (True) or light on dark

    @property
    def cropped(self) -> np.ndarray | None:
        """The ink's bounding box, or None when nothing was drawn."""
        return None if self.box is None else _cut(self.ink, self.box)


def digit_from_image(im: Image.Image) -> Digit:
    """Sketch, scan or photo of one digit -> MNIST-style 28x28 (see the module docstring)."""
    return digit_recipe(im).digit


def digit_recipe(im: Image.Image) -> DigitRecipe:
    """``digit_from_image`` keeping every intermediate (see ``DigitRecipe``)."""
    ink, dark_ink = ink_and_polarity(im)
    return DigitRecipe(**vars(mnist_recipe(ink, UPLOADS)), ink=ink, dark_ink=dark_ink)
