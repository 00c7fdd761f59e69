"""Accuracy of the committed LeNet-5 on MNIST test digits redrawn as users draw them.

Each digit is re-rendered by ``lenet.inputs.synth`` (canvas 280-800 px, small to large, anywhere,
thin pen to fat marker, as sketchpad / transparent layer / white-on-black / paper photo) and
goes through the app's preprocessing. The same digits unaltered give the reference.

The same digits are also drawn as the page's pad draws them (``pad_drawing``: the digit's
centre line traced with the pad's one 18-pixel round pen, antialiased, black on a white
280x280 canvas, small to large, anywhere on it) and prepared both by the pad's own recipe
(``lenet.inputs.pad``) and by the general one, side by side.

    python benchmarks/sketch_accuracy.py [--digits 2000] [--data-dir ../shared/data]
"""
from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np
import torch
from PIL import Image, ImageDraw

from lenet.inputs import synth
from lenet.inputs.pad import pad_digit, pad_ink
from lenet.inputs.preprocess import Digit, digit_from_image
from lenet.inside.inference import NOTHING_DRAWN, Classifier
from lenet.net.checkpoint import default_checkpoint
from lenet.net.models import normalize
from lenet.training.data import default_data_dir, load_split

PAD_SIDE = 280          # the page's pad, in canvas pixels
PAD_PEN = 18            # its pen's width, in canvas pixels (round caps and joins)
PAD_HEIGHTS = (60, 250)  # how tall people draw a digit on it, in canvas pixels
SUPERSAMPLE = 4         # pad drawings are drawn at 4x and box-reduced: antialiased edges


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--digits", type=int, default=2000)
    p.add_argument("--data-dir", default=default_data_dir())
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    x, y, _ = load_split("mnist", args.data_dir, train=False)
    clf = Classifier.from_checkpoint(default_checkpoint("lenet5"))
    rng = np.random.default_rng(args.seed)
    pad_rng = np.random.default_rng([args.seed, 1])   # apart, so the lines above stay as they were
    picks = rng.choice(len(x), args.digits, replace=False)
    right, total, plain = Counter(), Counter(), 0
    start = time.perf_counter()
    for k, i in enumerate(picks):
        digit, label = x[i, 0].numpy(), str(int(y[i]))
        fmt = synth.FORMATS[k % len(synth.FORMATS)]
        total[fmt] += 1
        right[fmt] += clf.predict(synth.render(digit, rng, fmt)).label == label
        plain += clf.predict(Image.fromarray(digit)).label == label
        drawing = pad_drawing(digit, pad_rng)
        right["pad recipe"] += label_of(clf, pad_digit(pad_ink(drawing))) == label
        right["general recipe"] += label_of(clf, digit_from_image(drawing)) == label
    for fmt in synth.FORMATS:
        print(f"{fmt:<12} {100 * right[fmt] / total[fmt]:6.2f} %  ({total[fmt]} digits)")
    print(f"redrawn digits: {100 * sum(right[f] for f in synth.FORMATS) / args.digits:.2f} % "
          f"of {args.digits}")
    print(f"same digits unaltered: {100 * plain / args.digits:.2f} %")
    print(f"drawn on the pad ({PAD_SIDE}x{PAD_SIDE}, {PAD_PEN} px pen, {PAD_HEIGHTS[0]}-"
          f"{PAD_HEIGHTS[1]} px tall): pad recipe {100 * right['pad recipe'] / args.digits:.2f} %,"
          f" general recipe {100 * right['general recipe'] / args.digits:.2f} %  "
          f"({time.perf_counter() - start:.0f} s)")


def label_of(clf: Classifier, digit: Digit) -> str:
    """The classifier's answer for a prepared digit, as ``clf.predict`` would give it."""
    if digit.empty:
        return NOTHING_DRAWN
    tensor = normalize(torch.from_numpy(digit.pixels)[None, None], clf.mean, clf.std)
    with torch.inference_mode():
        return clf.classes[int(clf.logits(tensor)[0].argmax())]


# ---------------------------------------------------------------------------- pad drawings

def pad_drawing(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """One 28x28 uint8 MNIST digit as drawn on the pad: ``pad_points`` traced with the pad's
    pen (a disc on every point, drawn at SUPERSAMPLE x and reduced), black on white RGB."""
    canvas = Image.new("L", (PAD_SIDE * SUPERSAMPLE,) * 2, 255)
    draw, r = ImageDraw.Draw(canvas), PAD_PEN / 2 * SUPERSAMPLE
    for row, col in pad_points(digit, rng) * SUPERSAMPLE:
        draw.ellipse([col - r, row - r, col + r, row + r], fill=0)
    return canvas.reduce(SUPERSAMPLE).convert("RGB")


def pad_points(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, 2) row and column on the pad, in canvas pixels, of a digit's centre line (the
    digit enlarged 4x and thinned), PAD_HEIGHTS tall, anywhere the pen stays on the pad."""
    big = np.asarray(Image.fromarray(digit).resize((112, 112), Image.BICUBIC)) > 100
    points = np.argwhere(thin(big)).astype(np.float64)
    # MNIST digits fill a 20x20 box, 80 pixels here; scale that box to the drawn height.
    points *= rng.uniform(*PAD_HEIGHTS) / 80
    low, high = points.min(0) - PAD_PEN / 2, points.max(0) + PAD_PEN / 2
    room = PAD_SIDE - (high - low)
    return points - low + np.where(room > 0, rng.uniform(0, 1, 2) * np.maximum(room, 0), room / 2)


def thin(a: np.ndarray) -> np.ndarray:
    """Zhang and Suen's thinning: a boolean shape -> its one-pixel-wide centre line."""
    a = a.copy()
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            p = np.pad(a, 1)
            # The 8 neighbours clockwise from north.
            n = [p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:],
                 p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2]]
            count = sum(v.astype(int) for v in n)
            crossings = sum((~n[k] & n[(k + 1) % 8]).astype(int) for k in range(8))
            north, east, south, west = n[0], n[2], n[4], n[6]
            if step == 0:
                kept = (north & east & south) | (east & south & west)
            else:
                kept = (north & east & west) | (north & south & west)
            removed = a & (count >= 2) & (count <= 6) & (crossings == 1) & ~kept
            if removed.any():
                a &= ~removed
                changed = True
    return a


if __name__ == "__main__":
    main()
