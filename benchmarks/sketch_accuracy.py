"""Accuracy of the committed LeNet-5 on MNIST test digits redrawn as users draw them.

Each digit is re-rendered by ``lenet.synth`` (canvas 280-800 px, small to large, anywhere,
thin pen to fat marker, as sketchpad / transparent layer / white-on-black / paper photo) and
goes through the app's preprocessing. The same digits unaltered give the reference.

    python benchmarks/sketch_accuracy.py [--digits 2000] [--data-dir ../shared/data]
"""
from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np
from PIL import Image

from lenet import synth
from lenet.checkpoint import default_checkpoint
from lenet.data import default_data_dir, load_split
from lenet.inference import Classifier


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--digits", type=int, default=2000)
    p.add_argument("--data-dir", default=default_data_dir())
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    x, y, _ = load_split("mnist", args.data_dir, train=False)
    clf = Classifier.from_checkpoint(default_checkpoint("lenet5"))
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(x), args.digits, replace=False)
    right, total, plain = Counter(), Counter(), 0
    start = time.perf_counter()
    for k, i in enumerate(picks):
        digit, label = x[i, 0].numpy(), str(int(y[i]))
        fmt = synth.FORMATS[k % len(synth.FORMATS)]
        total[fmt] += 1
        right[fmt] += clf.predict(synth.render(digit, rng, fmt)).label == label
        plain += clf.predict(Image.fromarray(digit)).label == label
    for fmt in synth.FORMATS:
        print(f"{fmt:<12} {100 * right[fmt] / total[fmt]:6.2f} %  ({total[fmt]} digits)")
    print(f"redrawn digits: {100 * sum(right.values()) / args.digits:.2f} % of {args.digits}")
    print(f"same digits unaltered: {100 * plain / args.digits:.2f} %  "
          f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
