"""Opening whatever a user gives as an image: a path, bytes, a file object, a PIL image or an
array; EXIF orientation, the first frame of an animation, 16- and 32-bit grey, palettes and
transparency handled; size limits and one-line ``InputError``s for everything that cannot be
used (empty, not an image, truncated, a decompression bomb, too large). What happens to the
image afterwards (digits, photos) is ``preprocess``'s business.
"""
from __future__ import annotations

import io
import os
import warnings

import numpy as np
from PIL import Image, ImageOps

MAX_PIXELS = 64_000_000          # pixels we accept (256 MB as RGBA), as the file's header declares
MAX_BYTES = 50 * 1024 * 1024     # file size we read at all


class InputError(ValueError):
    """Input that cannot be used; the message is one line a user can act on."""


def open_image(source, target: int = 0, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open ``source`` (path, bytes, file object, PIL image or array) as a loaded PIL image.

    EXIF orientation is applied and animated images give their first frame. ``target`` lets
    JPEG decode at a reduced scale when only that many pixels per side are needed. An image
    whose header declares more than ``max_pixels`` is refused before a pixel is decoded: a
    small file can declare a huge, flat image that costs seconds and gigabytes to decode.
    """
    if isinstance(source, Image.Image):
        return ImageOps.exif_transpose(source)
    if isinstance(source, np.ndarray):
        return _from_array(source)
    if isinstance(source, (str, os.PathLike)):
        try:
            size = os.path.getsize(source)
        except OSError:
            raise InputError(f"cannot read {os.fspath(source)!r}: no such file") from None
        if size == 0:
            raise InputError("the file is empty (0 bytes)")
        if size > MAX_BYTES:
            raise InputError(f"the file is {size / 2**20:.0f} MB; the limit is "
                             f"{MAX_BYTES // 2**20} MB")
    elif isinstance(source, (bytes, bytearray)):
        if not source:
            raise InputError("the file is empty (0 bytes)")
        source = io.BytesIO(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(source)   # reads the header only
            if im.width * im.height > max_pixels:   # JPEG too: a reduced decode still costs
                raise InputError(f"the image is {im.width}x{im.height} pixels; the limit is "
                                 f"{_megapixels(max_pixels)}")
            if im.format == "JPEG" and target:
                im.draft(im.mode, (target, target))  # DCT scaling: a 48 MP photo decodes small
            im.seek(0)
            im.load()
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"the image is too large to decode safely; the limit is "
                         f"{_megapixels(max_pixels)}") from None
    except Image.UnidentifiedImageError:
        raise InputError("this is not an image (PNG, JPEG, GIF, BMP, WebP, TIFF ... work)") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise InputError(f"the image could not be decoded ({_short(exc)}); the file may be "
                         f"truncated or damaged") from None
    if min(im.size) < 1:
        raise InputError("the image has no pixels")
    return ImageOps.exif_transpose(im)


def _megapixels(pixels: int) -> str:
    millions = f"{pixels / 1_000_000:.3g}"
    return f"{millions} megapixel{'' if millions == '1' else 's'}"


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__


def _from_array(array: np.ndarray) -> Image.Image:
    a = np.asarray(array)
    if a.ndim not in (2, 3) or a.size == 0 or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)):
        raise InputError(f"an image array must be (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    if a.dtype != np.uint8:
        a = np.clip(a * 255 if a.dtype.kind == "f" and a.max() <= 1 else a, 0, 255).astype(np.uint8)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    return Image.fromarray(a)


def to_rgba(im: Image.Image) -> Image.Image:
    """Any PIL mode to RGBA, rescaling 16- and 32-bit grey instead of clipping it."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode.startswith("I;16") else max(float(a.max()), 1.0)
        if im.mode == "F" and a.max() <= 1.0:
            top = 1.0
        im = Image.fromarray(np.clip(a / top * 255, 0, 255).astype(np.uint8))
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    return im.convert("RGBA")


def png_bytes(image: Image.Image, **options) -> bytes:
    """``image`` encoded as PNG (``options``: PIL's, such as ``optimize=True``)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()
