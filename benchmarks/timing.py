"""Shared by the benchmarks: a timer, the serving set-up, rounds taken in turn, and the inputs
every latency benchmark measures."""
from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from pathlib import Path
from typing import Callable

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


def serving_args(doc: str, repeats: int, per: str, warm_up: int = 5) -> argparse.Namespace:
    """Parse ``--repeats`` for a latency benchmark described by ``doc``, run torch on one
    thread as app.py serves, and print the set-up line."""
    import torch
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--repeats", type=int, default=repeats, help=f"timed calls per {per}")
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread; "
          f"{args.repeats} timed calls per {per} after {warm_up} warm-up")
    return args


def in_turn(measures: dict[str, Callable[[], float]], runs: int) -> dict[str, list[float]]:
    """``runs`` values of each measurement, taken in turn within a round rather than one's
    runs after another's: a shared machine's speed drifts over minutes, and each round then
    measures all of them under the same conditions."""
    figures = {name: [] for name in measures}
    for _ in range(runs):
        for name, measure in measures.items():
            figures[name].append(measure())
    return figures


def medians(figures: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(values) for name, values in figures.items()}


def all_at_once(work: Callable[[int, object], None], items: list) -> float:
    """Run ``work(i, item)`` for every item, each on its own thread, all started together;
    the wall-clock seconds until the last one ends."""
    threads = [threading.Thread(target=work, args=(i, item)) for i, item in enumerate(items)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds process ``pid`` has used so far (its /proc stat's fields 14
    and 15): its own work, without the time it waited for a core on a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sample_input(name: str) -> Image.Image:
    """A drawn "7" for the digit models, a smooth random 640x480 photo for the ConvNet."""
    if name != "convnet":
        image = Image.new("L", (112, 112), "white")
        ImageDraw.Draw(image).line([(30, 20), (80, 20), (50, 95)], fill="black", width=9)
        return image
    return photo(640, 480)


def photo(width: int, height: int) -> Image.Image:
    """A smooth random colour image: JPEG-like content, not white noise."""
    small = np.random.default_rng(0).integers(0, 255, (48, 64, 3), np.uint8)
    return Image.fromarray(small).resize((width, height), Image.BICUBIC)
