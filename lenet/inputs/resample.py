"""Resampling in float64 that the page repeats in JavaScript (web/upload_resample.js): separable
filters written as weight matrices, so that every output pixel is one plain weighted sum.

PIL's LANCZOS works on 8-bit values in fixed point and shrinks large images in two stages
(``reducing_gap``), arithmetic a page cannot repeat; the filters here are the textbook ones
(an antialiased Lanczos-3 whose support widens with the shrink factor, as PIL's, a tent for
smooth backgrounds) in float64, and box reduction by a whole factor, each with one definition
of which input pixels an output pixel reads and with which weight.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

LANCZOS_SUPPORT = 3.0   # Lanczos-3: sinc(x) * sinc(x / 3) for |x| < 3
TENT_SUPPORT = 1.0      # linear interpolation (for upscaling a coarse grid)
BAND = 256              # rows converted to float64 at a time, so a big image costs little memory


def lanczos(x: np.ndarray) -> np.ndarray:
    """sinc(x) * sinc(x / LANCZOS_SUPPORT), 0 outside the support."""
    x = np.abs(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        pix, third = np.pi * x, np.pi * x / LANCZOS_SUPPORT
        value = np.sin(pix) * np.sin(third) / (pix * third)
    return np.where(x < 1e-12, 1.0, np.where(x < LANCZOS_SUPPORT, value, 0.0))


def tent(x: np.ndarray) -> np.ndarray:
    return np.maximum(1 - np.abs(x), 0.0)


KERNELS = {"lanczos": (lanczos, LANCZOS_SUPPORT), "tent": (tent, TENT_SUPPORT)}


def weights(n: int, m: int, kernel: str = "lanczos", start: float = 0.0,
            span: float | None = None) -> np.ndarray:
    """(m, n): how output pixel i of m reads input pixels 0..n-1 when the input span
    [start, start + span) is resampled to m pixels. Pixel centres sit at half-integers; on a
    shrink the kernel is stretched by the shrink factor (antialiasing); each row sums to 1.
    Input pixels outside [0, n) are never read: the rows are normalised over those inside."""
    function = KERNELS[kernel][0]
    span = n if span is None else span
    scale = span / m
    stretch = max(scale, 1.0)
    centres = start + (np.arange(m) + 0.5) * scale
    w = function((np.arange(n)[None, :] + 0.5 - centres[:, None]) / stretch)   # 0 outside
    return w / w.sum(axis=1, keepdims=True)


def resize(a: np.ndarray, height: int, width: int, kernel: str = "lanczos",
           box: tuple[int, int, int, int] | None = None,
           values: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """(H, W) or (H, W, C) array (any dtype) -> (height, width[, C]) float64: the part inside
    ``box`` (left, top, right, bottom) resampled down the columns first (Wy @ a, added up a
    band of rows at a time), then across the rows (@ Wx.T). Rows become float64 a band at a
    time, through ``values`` when given (e.g. RGBA bytes -> RGB laid on white), so a big
    image is never held as float64 whole."""
    left, top, right, bottom = box or (0, 0, a.shape[1], a.shape[0])
    down = weights(bottom - top, height, kernel)                    # (height, bottom - top)
    across = weights(right - left, width, kernel)                   # (width, right - left)
    columns, channels = 0.0, ()
    for y in range(top, bottom, BAND):
        band = a[y:min(y + BAND, bottom), left:right]
        band = np.asarray(band if values is None else values(band), np.float64)
        channels = band.shape[2:]
        columns = columns + down[:, y - top:y - top + len(band)] @ band.reshape(len(band), -1)
    columns = columns.reshape(height, right - left, -1)             # (height, right - left, C)
    return (across @ columns).reshape(height, width, *channels)       # (height, width, C)


def box_reduce(a: np.ndarray, factor: int,
               values: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """(H, W[, C]) -> (ceil(H / factor), ceil(W / factor)) float64: the mean of each
    factor x factor cell of ``a`` (or of ``values(a)``, which must give (rows, W)); cells cut
    by the right or bottom edge average the pixels they have. Each cell sums its columns
    down, then across; rows are converted a band at a time."""
    h, w = a.shape[:2]
    starts_y, starts_x = np.arange(0, h, factor), np.arange(0, w, factor)
    columns = np.empty((len(starts_y), w))
    step = factor * max(1, BAND // factor)                          # bands never split a cell
    for y in range(0, h, step):
        band = a[y:y + step]
        band = np.asarray(band if values is None else values(band), np.float64)
        columns[y // factor:(y + len(band) + factor - 1) // factor] = np.add.reduceat(
            band, np.arange(0, len(band), factor), axis=0)
    sums = np.add.reduceat(columns, starts_x, axis=1)
    counts_y = np.minimum(factor, h - starts_y)
    counts_x = np.minimum(factor, w - starts_x)
    return sums / (counts_y[:, None] * counts_x[None, :])


def area_weights(n: int, m: int) -> np.ndarray:
    """(m, n): output pixel i is the mean of input span [i, i + 1) * n / m, each input pixel
    weighted by how much of it the span covers (area averaging, the pad's fit)."""
    span = n / m
    edges = np.arange(m + 1) * span
    j = np.arange(n)
    covered = np.minimum(edges[1:, None], j + 1) - np.maximum(edges[:-1, None], j)
    return np.maximum(covered, 0) / span


def reduce_factor(height: int, width: int, side: int) -> int:
    """The smallest whole factor that brings the larger side to at most ``side`` pixels."""
    return max(1, math.ceil(max(height, width) / side))
