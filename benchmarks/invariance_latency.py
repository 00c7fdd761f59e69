"""Server-side latency of the invariance lab (``lenet.inside.invariance``) on both committed
checkpoints, 1 torch thread.

Rows: the live slider path (transform + probabilities + the transformed image), each curve,
the occlusion map alone and with its picture, and the total of the two curves and the
occlusion map with its picture (the page draws the curves as SVG text). Target: that total <= 150 ms.

    python benchmarks/invariance_latency.py [--repeats 100]
"""
from __future__ import annotations

import numpy as np
import torch
from timing import sample_input, serving_args, timed

from lenet.inside import invariance
from lenet.inside.inference import Classifier
from lenet.inside.invariance import input_pixels, occlusion_map, probabilities, transform
from lenet.net.checkpoint import default_checkpoint
from lenet.pictures.visualize import occlusion_picture, pixels_to_image


def lab(clf: Classifier, pixels: torch.Tensor) -> dict:
    """The lab's requests for one model, name -> a function doing that request."""
    slider = dict(shift_x=3, shift_y=-2, rotation=15, scale=1.1, noise=0.05, erase=(4, 4, 6))
    if clf.is_digit_model:
        slider["stroke"] = 1

    def live():
        moved = transform(pixels, **slider)
        return probabilities(clf, moved), pixels_to_image(moved)

    def everything():   # the page draws the curves as SVG text: no picture to time for them
        invariance.rotation_curve(clf, pixels)
        invariance.shift_curve(clf, pixels)
        occlusion_picture(pixels, occlusion_map(clf, pixels))

    return {
        "slider: transform + predict + image": live,
        "rotation curve (25 angles)": lambda: invariance.rotation_curve(clf, pixels),
        "shift curve (17 shifts)": lambda: invariance.shift_curve(clf, pixels),
        "occlusion map": lambda: occlusion_map(clf, pixels),
        "occlusion map + overlay": lambda: occlusion_picture(pixels, occlusion_map(clf, pixels)),
        "total: curves + occlusion, pictures": everything,
    }


def main() -> None:
    args = serving_args(__doc__, repeats=100, per="row")
    totals = []
    for name in ("lenet5", "convnet"):
        clf = Classifier.from_checkpoint(default_checkpoint(name))
        pixels = input_pixels(clf, sample_input(name))
        occlusion = occlusion_map(clf, pixels)
        print(f"\n{clf}; occlusion {occlusion.size}x{occlusion.size} square, stride "
              f"{occlusion.stride}: {occlusion.drop.size} places in one batch")
        print(f"{'':<40}{'p50':>8}{'p95':>8}  (ms)")
        rows = lab(clf, pixels)
        for what, fn in rows.items():
            samples = timed(fn, args.repeats)
            print(f"{what:<40}{np.percentile(samples, 50):>8.1f}{np.percentile(samples, 95):>8.1f}")
        totals.append(rows["total: curves + occlusion, pictures"])
    both = timed(lambda: [fn() for fn in totals], args.repeats)
    print(f"\n{'both models, total':<40}{np.percentile(both, 50):>8.1f}{np.percentile(both, 95):>8.1f}")


if __name__ == "__main__":
    main()
