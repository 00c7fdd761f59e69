"""Shared by the latency benchmarks: a timer and the inputs every one of them measures."""
from __future__ import annotations

import time

import numpy as np
from PIL import Image, ImageDraw


def timed(fn, repeats: int, warm_up: int = 5) -> np.ndarray:
    """Milliseconds of ``repeats`` calls of ``fn`` after ``warm_up`` untimed ones."""
    for _ in range(warm_up):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(1000 * (time.perf_counter() - start))
    return np.array(samples)


def sample_input(name: str) -> Image.Image:
    """A drawn "7" for the digit models, a smooth random 640x480 photo for the ConvNet."""
    if name != "convnet":
        image = Image.new("L", (112, 112), "white")
        ImageDraw.Draw(image).line([(30, 20), (80, 20), (50, 95)], fill="black", width=9)
        return image
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (48, 64, 3), np.uint8)).resize((640, 480),
                                                                              Image.BICUBIC)
