"""Turn whatever a user gives into a model input: sketches and scans into MNIST-style digits,
photos into CIFAR-10-style 32x32 crops. Pure functions on PIL images and NumPy arrays.

Digits follow the recipe MNIST itself was made with (``mnist_recipe``): ink cropped, fitted
into a 20x20 box keeping its aspect ratio (antialiased), then placed in 28x28 so that its
centre of mass sits at the centre. Stroke width is brought into MNIST's range first, so a
hairline drawn on a big canvas does not vanish and a marker stroke does not become a blob.
Uploads (``digit_recipe``) and the pad (``lenet.inputs.pad``) take these steps with these
constants; their ``DigitRules`` say what differs. tools/recipe_constants.py writes the
constants the page repeats to web/digit_recipe.json.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image

# Opening images lives in ``images``; its names stay importable from here.
from lenet.inputs.images import MAX_BYTES, MAX_PIXELS, InputError, open_image, to_rgba

__all__ = ["InputError", "open_image", "to_rgba", "MAX_BYTES", "MAX_PIXELS", "Digit",
           "DigitRecipe", "photo_to_array", "opaque_rgb", "centre_square", "ink_map",
           "ink_and_polarity", "stroke_width", "morph", "digit_from_image", "digit_recipe",
           "DigitRules", "RecipeSteps", "UPLOADS", "mnist_recipe"]

DIGIT_BOX = 20                   # MNIST: the digit's larger side, in pixels
DIGIT_CANVAS = 28
MNIST_CENTRE = 14.0              # mean centre of mass of MNIST digits (row and column) is 14.0
MNIST_STROKE = 2.6               # median MNIST stroke width in pixels (2 * area / boundary)
INK_SIDE = 256                   # ink is found on images reduced to at most this side
FINE = 4                         # work at 4x the final resolution when adjusting strokes
TARGET = (MNIST_CENTRE + 0.5) * FINE - 0.5   # coarse pixel 14's centre in fine pixels: 57.5
INK = 0.2                        # ink above this counts when cropping and for "nothing drawn"
MIN_INK = 2                      # fewer pixels of ink than this: nothing drawn
SOLID = 0.5                      # ink above this is solid: for stroke widths, and for the
                                 # pad's paper (lenet.inputs.pad.pad_ink)


@dataclass
class Digit:
    """A digit ready for LeNet-5: ``pixels`` (28, 28) float32 in [0, 1], ink = 1."""
    pixels: np.ndarray
    empty: bool = False


# ---------------------------------------------------------------------------- photos

def photo_to_array(im: Image.Image, size: int) -> np.ndarray:
    """Centre square crop, antialiased resize to ``size``: (size, size, 3) uint8 RGB."""
    if is_opaque(im):  # shrunk first: the same numbers, without a full-size RGBA copy
        return np.asarray(im.resize((size, size), Image.LANCZOS, box=centre_square(*im.size),
                                    reducing_gap=3.0).convert("RGB"))
    rgb = opaque_rgb(im)
    return np.asarray(rgb.resize((size, size), Image.LANCZOS, box=centre_square(*rgb.size),
                                 reducing_gap=3.0))


def opaque_rgb(im: Image.Image) -> Image.Image:
    """RGB with transparent areas made white, as image viewers show them."""
    rgba = to_rgba(im)
    if rgba.getextrema()[3][0] < 255:
        rgba = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    return rgba.convert("RGB")


def is_opaque(im: Image.Image) -> bool:
    """Grey or colour with no transparency: what ``opaque_rgb`` would leave as it is, so a
    large image can be shrunk before anything copies all of its pixels."""
    return im.mode in ("L", "RGB") and "transparency" not in im.info


def centre_square(width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the largest centred square."""
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


# ---------------------------------------------------------------------------- digits

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
    grey_image = im.convert("L") if is_opaque(im) else _flattened_grey(im)
    grey = np.asarray(grey_image.reduce(_factor(grey_image)), dtype=np.float32) / 255
    # Polarity: the border is background (paper, canvas); ink is whatever differs from it.
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    dark_ink = bool(np.median(border) > 0.5)
    if dark_ink:
        grey = 1 - grey
    ink = grey - _background(grey)
    peak = float(np.percentile(ink, 99.9))
    if peak < 0.15:  # no contrast: a blank canvas, an empty page
        return np.zeros_like(grey), dark_ink
    # Paper texture and sensor noise stay below the floor: four robust standard deviations
    # above the paper's level (the paper is the majority, so the median is paper).
    paper = float(np.median(ink))
    noise = 1.4826 * float(np.median(np.abs(ink - paper)))
    floor = float(np.clip(paper + 4 * noise, 0.05 * peak, 0.5 * peak))
    return np.clip((ink - floor) / (peak - floor), 0, 1), dark_ink


def _flattened_grey(im: Image.Image) -> Image.Image:
    """Any image as grey, transparent areas filled with the colour that contrasts with the
    opaque pixels (see ``ink_map``)."""
    rgba = to_rgba(im)
    alpha = rgba.getchannel("A")
    if alpha.getextrema()[0] < 255:
        grey_small = np.asarray(rgba.convert("L").reduce(_factor(rgba)), dtype=np.float32)
        opaque = np.asarray(alpha.reduce(_factor(rgba))) > 127
        fill = "black" if opaque.any() and grey_small[opaque].mean() > 127 else "white"
        rgba = Image.alpha_composite(Image.new("RGBA", rgba.size, fill), rgba)
    return rgba.convert("L")


def _background(grey: np.ndarray, cells: int = 6) -> np.ndarray:
    """Smooth background level: a low percentile per cell of a coarse grid, interpolated.

    Ink is the bright minority after the polarity flip, so a cell's 5th percentile is its
    paper, and uneven light across a photographed page is followed rather than taken for
    ink. A 3x3 median over the grid discards cells that a fat stroke fills.
    """
    cells = min(cells, min(grey.shape) // 8)
    if cells < 3:
        return np.full_like(grey, np.percentile(grey, 5))
    bh, bw = grey.shape[0] // cells, grey.shape[1] // cells
    blocks = grey[:bh * cells, :bw * cells].reshape(cells, bh, cells, bw).transpose(0, 2, 1, 3)
    grid = np.percentile(blocks.reshape(cells, cells, bh * bw), 5, axis=2).astype(np.float32)
    padded = np.pad(grid, 1, mode="edge")
    grid = np.median(np.stack([padded[dy:dy + cells, dx:dx + cells]
                               for dy in range(3) for dx in range(3)]), axis=0)
    if grid.max() - grid.min() < 1e-3:
        return np.full_like(grey, grid.mean())
    smooth = Image.fromarray(grid.astype(np.float32)).resize((grey.shape[1], grey.shape[0]),
                                                             Image.BILINEAR)
    return np.asarray(smooth, dtype=np.float32)


def _factor(im: Image.Image) -> int:
    return max(1, -(-max(im.size) // INK_SIDE))


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
    """What the digit recipes do differently; their steps are one (``mnist_recipe``).
    Stroke limits are multiples of MNIST_STROKE."""
    thicken_below: float       # thinner strokes are thickened to MNIST_STROKE
    thin_above: float          # fatter strokes are thinned to ``thin_to``
    thin_to: float
    fit: Callable[[np.ndarray, int], np.ndarray]   # resample so the larger side is n pixels
    nearest: Callable[[float], int]                # rounds filter sizes and offsets
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
        size = 2 * rules.nearest((MNIST_STROKE - width) * FINE / 2) + 1
        grown = morph(np.pad(fine, size // 2) if rules.grow_outwards else fine, size, np.maximum)
        fine = rules.fit(_cut(grown, _ink_box(grown)), side)
        steps.adjusted = "thickened"
    elif width > rules.thin_above * MNIST_STROKE:
        size = 2 * rules.nearest((width - rules.thin_to * MNIST_STROKE) * FINE / 2) + 1
        thinned = morph(fine, size, np.minimum)
        if int((thinned > INK).sum()) >= MIN_INK:  # a thinning that erases the digit is undone
            fine = rules.fit(_cut(thinned, _ink_box(thinned)), side)
            steps.adjusted = "thinned"
    steps.fitted = fine
    mass = fine.sum()
    if mass == 0:  # a guard: fitting ink above INK leaves some mass
        return steps
    steps.placed, steps.offset = _centred(fine, mass, rules.nearest)
    # Box-averaging FINE x FINE cells keeps the placement sub-pixel without blurring the digit.
    cells = steps.placed.reshape(DIGIT_CANVAS, FINE, DIGIT_CANVAS, FINE)
    pixels = cells.sum(axis=(1, 3)) / FINE ** 2
    steps.digit = Digit(np.minimum(pixels, 1).astype(np.float32))   # (28, 28)
    return steps


def _centred(fine: np.ndarray, mass: float, nearest) -> tuple[np.ndarray, tuple[int, int]]:
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


# ---------------------------------------------------------------------------- uploads

def _lanczos_fit(a: np.ndarray, side: int) -> np.ndarray:
    """Resize so the larger side is ``side`` pixels, keeping the aspect ratio: float32
    Lanczos, as sharp as a photo or scan allows, clipped to [0, 1]."""
    scale = side / max(a.shape)
    h, w = (max(1, round(n * scale)) for n in a.shape)
    im = Image.fromarray(a.astype(np.float32))
    return np.clip(np.asarray(im.resize((w, h), Image.LANCZOS), dtype=np.float32), 0, 1)


# Uploads are thinned sooner and further than pad drawings (lenet.inputs.pad.PAD), and halves
# are rounded to even, Python's way: the page does not repeat this recipe.
UPLOADS = DigitRules(thicken_below=0.7, thin_above=1.6, thin_to=1.3, fit=_lanczos_fit,
                     nearest=round, grow_outwards=False)


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
