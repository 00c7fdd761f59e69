"""Server-side latency of the building-blocks lab (``lenet.inside.blocks``), 1 torch thread.

One request = the uploaded image (already a PIL image, as Gradio hands it over) to a tensor,
the kernel, ``run_block`` and the channel grid as a PIL image. Target: a 512x512 photo with
10 random 5x5x3 filters, ReLU and max-pool 2 answers in <= 100 ms.

    python benchmarks/blocks_latency.py [--repeats 100]
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps
from timing import photo, sample_input, serving_args, timed

from lenet.inside.blocks import image_to_tensor, make_kernel, run_block
from lenet.pictures.visualize import maps_grid


def digit() -> Image.Image:
    """A 28x28 "7", white on black as the LeNet-5 input view shows it."""
    return ImageOps.invert(sample_input("lenet5")).resize((28, 28), Image.BOX)


def request(image: Image.Image, kernel: str, view: str = "scaled", **block):
    x = image_to_tensor(image)
    result = run_block(x, make_kernel(kernel, x.shape[1]), **block)
    return maps_grid(result.output, view), result


CASES = [  # (what, image, kernel, view, run_block settings)
    ("512x512 photo, 10 random 5x5x3, ReLU, max-pool 2", photo(512, 512), "random", "scaled",
     dict(relu=True, pool="max")),
    ("28x28 digit, Laplacian, padding 1, -|y| view", digit(), "laplacian", "neg_abs",
     dict(padding=1)),
    ("28x28 digit, derivative pair, ReLU", digit(), "derivative_pair", "scaled",
     dict(relu=True)),
    ("512x512 photo, Laplacian, stride 2", photo(512, 512), "laplacian", "neg_abs",
     dict(stride=2)),
    ("512x512 photo, 10 random 5x5x3, padding 2", photo(512, 512), "random", "scaled",
     dict(padding=2)),
    ("4000x3000 photo (reduced to 512), 10 random, ReLU, max", photo(4000, 3000), "random",
     "scaled", dict(relu=True, pool="max")),
]


def main() -> None:
    args = serving_args(__doc__, repeats=100, per="case")
    print(f"{'case':<58}{'p50':>8}{'p95':>8}  (ms)  output, grid")
    for what, image, kernel, view, block in CASES:
        samples = timed(lambda: request(image, kernel, view, **block), args.repeats)
        grid, result = request(image, kernel, view, **block)
        shape = "x".join(map(str, result.output.shape))
        print(f"{what:<58}{np.percentile(samples, 50):>8.1f}{np.percentile(samples, 95):>8.1f}"
              f"        {shape}, {grid.width}x{grid.height}")
    first = CASES[0]
    x = image_to_tensor(first[1])
    kernel = make_kernel("random", 3)
    result = run_block(x, kernel, **first[4])
    parts = {"image_to_tensor": lambda: image_to_tensor(first[1]),
             "run_block": lambda: run_block(x, kernel, **first[4]),
             "maps_grid": lambda: maps_grid(result.output)}
    print("first case by part: " + ", ".join(
        f"{name} {np.percentile(timed(fn, args.repeats), 50):.1f}" for name, fn in parts.items())
        + " ms (p50)")


if __name__ == "__main__":
    main()
