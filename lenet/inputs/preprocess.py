"""Turn whatever a user gives into a model input: sketches and scans into MNIST-style digits,
photos into CIFAR-10-style 32x32 crops. Pure functions on PIL images and NumPy arrays.

Digits follow the recipe MNIST itself was made with: ink cropped, fitted into a 20x20 box
keeping its aspect ratio (antialiased), then placed in 28x28 so that its centre of mass sits
at the centre. Stroke width is brought into MNIST's range first, so a hairline drawn on a big
canvas does not vanish and a marker stroke does not become a blob.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

# Opening images lives in ``images``; its names stay importable from here.
from lenet.inputs.images import MAX_BYTES, MAX_PIXELS, InputError, open_image, to_rgba

__all__ = ["InputError", "open_image", "to_rgba", "MAX_BYTES", "MAX_PIXELS", "Digit",
           "DigitRecipe", "photo_to_array", "opaque_rgb", "centre_square", "ink_map",
           "ink_and_polarity", "stroke_width", "morph", "digit_from_image", "digit_recipe"]

DIGIT_BOX = 20                   # MNIST: the digit's larger side, in pixels
DIGIT_CANVAS = 28
MNIST_CENTRE = 14.0              # mean centre of mass of MNIST digits (row and column) is 14.0
MNIST_STROKE = 2.6               # median MNIST stroke width in pixels (2 * area / boundary)
INK_SIDE = 256                   # ink is found on images reduced to at most this side
FINE = 4                         # work at 4x the final resolution when adjusting strokes


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
    solid = ink > 0.5
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


def _resize(a: np.ndarray, height: int, width: int) -> np.ndarray:
    im = Image.fromarray(a.astype(np.float32))
    return np.asarray(im.resize((max(1, width), max(1, height)), Image.LANCZOS), dtype=np.float32)


def _crop_to_ink(a: np.ndarray, threshold: float) -> np.ndarray:
    solid = a > threshold
    rows, cols = np.flatnonzero(solid.any(1)), np.flatnonzero(solid.any(0))
    return a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _fit(a: np.ndarray, side: int) -> np.ndarray:
    """Resize so the larger side is ``side`` pixels, keeping the aspect ratio."""
    scale = side / max(a.shape)
    h, w = (max(1, round(n * scale)) for n in a.shape)
    return np.clip(_resize(a, h, w), 0, 1)


@dataclass
class DigitRecipe:
    """The digit recipe's intermediates, kept to show how a digit was made."""
    ink: np.ndarray                    # ink map, at most INK_SIDE pixels a side
    dark_ink: bool                     # dark ink on light paper (True) or light on dark
    digit: Digit                       # what ``digit_from_image`` returns
    cropped: np.ndarray | None = None  # the ink's bounding box
    stroke: float = 0.0                # mean stroke width as drawn, in 28x28 pixels
    adjusted: str = "kept"             # the stroke "thickened", "thinned" or "kept"
    fitted: np.ndarray | None = None   # in the DIGIT_BOX box at FINE x resolution
    placed: np.ndarray | None = None   # on the 28x28 canvas at FINE x resolution


def digit_from_image(im: Image.Image) -> Digit:
    """Sketch, scan or photo of one digit -> MNIST-style 28x28 (see the module docstring)."""
    return digit_recipe(im).digit


def digit_recipe(im: Image.Image) -> DigitRecipe:
    """``digit_from_image`` keeping every intermediate (see ``DigitRecipe``)."""
    ink, dark_ink = ink_and_polarity(im)
    steps = DigitRecipe(ink, dark_ink, Digit(np.zeros((DIGIT_CANVAS, DIGIT_CANVAS), np.float32),
                                             empty=True))
    if (ink > 0.2).sum() < 2:
        return steps
    # Fit into the 20-pixel box at FINE x resolution, where strokes are measured and
    # thickened or thinned towards MNIST's width; then fit again, since that moves the edges.
    steps.cropped = _crop_to_ink(ink, 0.2)
    fine = _fit(steps.cropped, DIGIT_BOX * FINE)
    width = steps.stroke = stroke_width(fine) / FINE
    if width < 0.7 * MNIST_STROKE:
        size = 2 * round((MNIST_STROKE - width) * FINE / 2) + 1
        fine = _fit(_crop_to_ink(morph(fine, size, np.maximum), 0.2), DIGIT_BOX * FINE)
        steps.adjusted = "thickened"
    elif width > 1.6 * MNIST_STROKE:
        size = 2 * round((width - 1.3 * MNIST_STROKE) * FINE / 2) + 1
        thinned = morph(fine, size, np.minimum)
        if (thinned > 0.2).sum() >= 2:
            fine = _fit(_crop_to_ink(thinned, 0.2), DIGIT_BOX * FINE)
            steps.adjusted = "thinned"
    steps.fitted = fine

    # Centre of mass to (14, 14), as MNIST did. Placing at FINE x resolution and then
    # box-averaging down keeps the placement sub-pixel without blurring the digit.
    if fine.sum() == 0:
        return steps
    ys, xs = np.indices(fine.shape)
    target = (MNIST_CENTRE + 0.5) * FINE - 0.5  # the fine-pixel coordinate of coarse 14.0
    top = round(target - (ys * fine).sum() / fine.sum())
    left = round(target - (xs * fine).sum() / fine.sum())
    size = DIGIT_CANVAS * FINE
    canvas = steps.placed = np.zeros((size, size), np.float32)
    y0, x0 = max(top, 0), max(left, 0)  # parts pushed over the edge are cut
    y1, x1 = min(top + fine.shape[0], size), min(left + fine.shape[1], size)
    canvas[y0:y1, x0:x1] = fine[y0 - top:y1 - top, x0 - left:x1 - left]
    pixels = canvas.reshape(DIGIT_CANVAS, FINE, DIGIT_CANVAS, FINE).mean(axis=(1, 3))
    steps.digit = Digit(pixels.astype(np.float32))
    return steps
