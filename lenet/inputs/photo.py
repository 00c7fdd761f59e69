"""The photo recipe: any picture -> a CIFAR-10-style square, as the app, training on an image
folder and the page (web/upload_photo.js) make it. Transparent areas are laid on white, the
largest centred square is cut, and it is resampled to the network's side with an antialiased
Lanczos-3 in float64 (``lenet.inputs.resample``), then rounded to 8-bit levels as a stored
photo is: arithmetic the page repeats, so a photo gives the same input in both.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from lenet.inputs.images import to_rgba
from lenet.inputs.resample import resize

LEVELS = 255     # photos are 8-bit: the recipe's output is rounded to levels / 255


def photo_to_array(im: Image.Image, size: int) -> np.ndarray:
    """Centre square crop, antialiased resize to ``size``: (size, size, 3) uint8 RGB."""
    return photo_levels(im, size).astype(np.uint8)


def photo_pixels(im: Image.Image, size: int) -> np.ndarray:
    """``photo_to_array`` as the network reads it: (3, size, size) float32 in [0, 1]."""
    return (photo_levels(im, size).astype(np.float32) / LEVELS).transpose(2, 0, 1)


def photo_levels(im: Image.Image, size: int) -> np.ndarray:
    """(size, size, 3) float64 whole numbers in [0, 255]: the resampled square rounded half
    up (as JavaScript's Math.round; the half-to-even rule would differ on exact halves)."""
    pixels = _pixel_bytes(im)
    square = resize(pixels, size, size, box=centre_square(pixels.shape[1], pixels.shape[0]),
                    values=None if pixels.shape[2] == 3 else on_white)
    return np.clip(np.floor(square + 0.5), 0, LEVELS)


def _pixel_bytes(im: Image.Image) -> np.ndarray:
    """(H, W, 3) RGB bytes for an opaque image, (H, W, 4) RGBA bytes for one with any
    transparency (laid on white by ``on_white``, a band at a time)."""
    if is_opaque(im):
        return np.asarray(im if im.mode == "RGB" else im.convert("RGB"))
    rgba = np.asarray(to_rgba(im))
    return rgba[..., :3] if rgba[..., 3].min() == LEVELS else rgba


def on_white(rgba: np.ndarray) -> np.ndarray:
    """(..., 4) RGBA bytes -> (..., 3) RGB levels laid on white: the colour premultiplied by
    its alpha in whole levels (as a canvas stores it, so the page reads the same numbers back
    from one) plus white's share, 255 - alpha."""
    alpha = rgba[..., 3:].astype(np.int32)
    return premultiplied(rgba) + (LEVELS - alpha)


def premultiplied(rgba: np.ndarray) -> np.ndarray:
    """(..., 4) RGBA bytes -> (..., 3) int32: colour * alpha / 255 rounded (never a tie:
    255 is odd)."""
    alpha = rgba[..., 3:].astype(np.int32)
    return (rgba[..., :3].astype(np.int32) * alpha + LEVELS // 2) // LEVELS


def opaque_rgb(im: Image.Image) -> Image.Image:
    """RGB with transparent areas made white, as image viewers show them."""
    pixels = _pixel_bytes(im)
    if pixels.shape[2] == 4:
        pixels = on_white(pixels).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def is_opaque(im: Image.Image) -> bool:
    """Grey or colour with no transparency: what ``opaque_rgb`` would leave as it is."""
    return im.mode in ("L", "RGB") and "transparency" not in im.info


def centre_square(width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the largest centred square."""
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side
