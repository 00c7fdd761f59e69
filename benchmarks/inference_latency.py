"""End-to-end latency of one request, per model, beside the bare forward pass; RSS over 1,000.

One request = decode the uploaded bytes -> preprocess -> forward keeping every layer -> every
picture (a feature-map grid per layer, a strip per fully connected layer, Grad-CAM, saliency)
as PIL images. One trace = what the page's trace panel computes for a click on a value of
the deepest conv layer (C3 / conv2): the trace itself, its words, the channel opened large,
the receptive field and the patch x kernel picture, from the request's own input.

    python benchmarks/inference_latency.py [--requests 300] [--soak 1000]
"""
from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lenet.inside.inference import Classifier
from lenet.inside.trace import describe, trace
from lenet.net.checkpoint import default_checkpoint
from lenet.pictures.prediction import render_pictures


def sample_inputs() -> list[tuple[str, str, bytes]]:
    """(model, what, bytes): what the app's pad sends (a 112x112 PNG), an 800x800 sketchpad
    export, a 640x480 photo and a 12-megapixel phone photo (JPEG)."""
    from PIL import ImageDraw
    rng = np.random.default_rng(0)
    cases = []
    for side in (112, 800):
        sketch = Image.new("RGBA", (side, side), "white")
        s = side / 112
        ImageDraw.Draw(sketch).line([(30 * s, 20 * s), (80 * s, 20 * s), (50 * s, 95 * s)],
                                    fill="black", width=round(9 * s))
        cases.append(("lenet5", f"{side}x{side} PNG sketch", sketch, "PNG"))
    for w, h in ((640, 480), (4000, 3000)):
        small = Image.fromarray(rng.integers(0, 255, (48, 64, 3), np.uint8))
        cases.append(("convnet", f"{w}x{h} JPEG photo", small.resize((w, h), Image.BICUBIC), "JPEG"))
    out = []
    for name, what, image, fmt in cases:
        buffer = io.BytesIO()
        image.save(buffer, fmt)
        out.append((name, what, buffer.getvalue()))
    return out


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def request(clf: Classifier, data: bytes):
    result = clf.predict(data)
    return render_pictures(clf, result, clf.heatmaps(result))


def trace_click(clf: Classifier, result, layer: str):
    """The CLI's trace of one value: channel 0 at the middle of ``layer``'s map, in words."""
    _, h, w = clf.shapes[layer]
    t = trace(clf, result.tensor, layer, 0, h // 2, w // 2)
    return describe(t, terms=8)


def percentiles(samples):
    return np.percentile(samples, 50), np.percentile(samples, 95)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--soak", type=int, default=1000, help="requests for the RSS check")
    args = p.parse_args()
    torch.set_num_threads(1)  # as app.py runs it
    inputs = sample_inputs()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread; "
          f"{args.requests} timed requests per input after 20 warm-up")
    print(f"{'model':<9}{'input':<24}{'end-to-end p50':>15}{'p95':>8}{'trace p50':>11}{'p95':>7}"
          f"{'forward p50':>13}{'p95':>7}  (ms)")
    models = {name: Classifier.from_checkpoint(default_checkpoint(name)) for name in ("lenet5", "convnet")}
    for name, what, data in inputs:
        clf = models[name]
        tensor = clf.prepare(data)[0]
        for _ in range(20):
            request(clf, data)
        e2e, bare, traced = [], [], []
        layer = clf.cam_layer
        for _ in range(args.requests):
            start = time.perf_counter()
            request(clf, data)
            e2e.append(1000 * (time.perf_counter() - start))
            result = clf.predict(data)
            start = time.perf_counter()
            trace_click(clf, result, layer)
            traced.append(1000 * (time.perf_counter() - start))
            start = time.perf_counter()
            with torch.inference_mode():
                clf.model(tensor)
            bare.append(1000 * (time.perf_counter() - start))
        (e50, e95), (b50, b95), (t50, t95) = percentiles(e2e), percentiles(bare), percentiles(traced)
        print(f"{name:<9}{what:<24}{e50:>15.2f}{e95:>8.2f}{t50:>11.2f}{t95:>7.2f}"
              f"{b50:>13.3f}{b95:>7.3f}")
    for name, what, data in inputs[::2]:
        clf = models[name]
        request(clf, data)
        before = rss_mb()
        for _ in range(args.soak):
            request(clf, data)
        print(f"RSS {name} ({what}): {before:.1f} MB before, {rss_mb():.1f} MB after "
              f"{args.soak} requests")


if __name__ == "__main__":
    main()
