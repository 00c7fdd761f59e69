"""Synthetic user drawings made from real MNIST digits, to test digit preprocessing.

Each MNIST test digit is redrawn the way people hand digits to the app: on a canvas of 280
to 800 pixels, small or large, anywhere on it, with a thin pen or a fat marker, and handed
over as a Gradio sketchpad composite, a transparent PNG layer, white-on-black, or a photo of
paper (grey gradient, noise, JPEG). Preprocessing that recovers MNIST's look recovers the
digit's label.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from lenet.inputs.preprocess import morph

FORMATS = ("sketchpad", "transparent", "inverted", "photo")


def render(digit: np.ndarray, rng: np.random.Generator, fmt: str | None = None) -> Image.Image:
    """One 28x28 uint8 MNIST digit -> a PIL image as a user might give it."""
    fmt = fmt or FORMATS[rng.integers(len(FORMATS))]
    canvas = int(rng.integers(280, 801))
    box = int(canvas * rng.uniform(0.2, 0.9))            # the digit's 28x28 frame, in pixels
    big = np.asarray(Image.fromarray(digit).resize((box, box), Image.BICUBIC),
                     dtype=np.float32) / 255
    ink = big > rng.uniform(0.3, 0.7)                     # higher threshold: thinner strokes
    if rng.random() < 0.35:                               # a fat marker
        ink = morph(ink.astype(np.float32), 2 * int(rng.integers(1, box // 25 + 2)) + 1,
                     np.maximum) > 0.5
    full = np.zeros((canvas, canvas), bool)
    top, left = (int(rng.integers(0, canvas - box + 1)) for _ in range(2))
    full[top:top + box, left:left + box] = ink
    return _as_format(full, fmt, rng)


def _as_format(ink: np.ndarray, fmt: str, rng: np.random.Generator) -> Image.Image:
    h, w = ink.shape
    if fmt == "sketchpad":      # Gradio 6 Sketchpad composite: opaque white, pure black ink
        rgba = np.full((h, w, 4), 255, np.uint8)
        rgba[ink, :3] = 0
        return Image.fromarray(rgba, "RGBA")
    if fmt == "transparent":    # a layer: transparent everywhere but the ink
        rgba = np.zeros((h, w, 4), np.uint8)
        rgba[ink, 3] = 255
        return Image.fromarray(rgba, "RGBA")
    if fmt == "inverted":       # white chalk on a black board, greyscale
        return Image.fromarray(np.where(ink, 255, 0).astype(np.uint8), "L")
    if fmt == "photo":          # grey paper, uneven light, dark ink, sensor noise, JPEG
        light = np.linspace(rng.uniform(0.65, 0.8), rng.uniform(0.85, 0.95), w)[None, :]
        grey = np.repeat(light, h, 0) - ink * rng.uniform(0.45, 0.6)
        grey += rng.normal(0, 0.02, grey.shape)
        rgb = np.clip(grey[..., None] * np.array([1.0, 0.97, 0.92]) * 255, 0, 255)
        buffer = io.BytesIO()
        Image.fromarray(rgb.astype(np.uint8), "RGB").save(buffer, "JPEG", quality=70)
        return Image.open(io.BytesIO(buffer.getvalue()))
    raise ValueError(f"unknown format {fmt!r}; one of {FORMATS}")
