"""End-to-end latency of one request, per model, beside the bare forward pass; RSS over 1,000.

One request = decode the uploaded bytes -> preprocess -> forward with hooks -> every picture
(input view, a feature-map grid per layer, Grad-CAM, saliency) as PIL images.

    python benchmarks/inference_latency.py [--requests 300] [--soak 1000]
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lenet.checkpoint import default_checkpoint  # noqa: E402
from lenet.inference import Classifier, render_pictures  # noqa: E402


def sample_inputs() -> dict[str, bytes]:
    """A sketchpad-sized drawing (800x800 RGBA PNG) and a phone-sized photo (1024x768 JPEG)."""
    sketch = Image.new("RGBA", (800, 800), "white")
    from PIL import ImageDraw
    draw = ImageDraw.Draw(sketch)
    draw.line([(250, 150), (550, 150), (380, 650)], fill="black", width=24)
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 255, (768, 1024, 3), np.uint8)).resize((1024, 768))
    out = {}
    for name, image, fmt in (("lenet5", sketch, "PNG"), ("convnet", photo.convert("RGB"), "JPEG")):
        buffer = io.BytesIO()
        image.save(buffer, fmt)
        out[name] = buffer.getvalue()
    return out


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def request(clf: Classifier, data: bytes):
    result = clf.predict(data)
    return render_pictures(clf, result)


def percentiles(samples):
    return np.percentile(samples, 50), np.percentile(samples, 95)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--soak", type=int, default=1000, help="requests for the RSS check")
    args = p.parse_args()
    inputs = sample_inputs()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"{args.requests} timed requests per model after 20 warm-up")
    print(f"{'model':<9}{'end-to-end p50':>16}{'p95':>9}{'forward p50':>14}{'p95':>9}  (ms)")
    for name, data in inputs.items():
        clf = Classifier.from_checkpoint(default_checkpoint(name))
        tensor = clf.prepare(data)[0]
        for _ in range(20):
            request(clf, data)
        e2e, bare = [], []
        for _ in range(args.requests):
            start = time.perf_counter()
            request(clf, data)
            e2e.append(1000 * (time.perf_counter() - start))
            start = time.perf_counter()
            with torch.inference_mode():
                clf.model(tensor)
            bare.append(1000 * (time.perf_counter() - start))
        (e50, e95), (b50, b95) = percentiles(e2e), percentiles(bare)
        print(f"{name:<9}{e50:>16.2f}{e95:>9.2f}{b50:>14.3f}{b95:>9.3f}")
    for name, data in inputs.items():
        clf = Classifier.from_checkpoint(default_checkpoint(name))
        request(clf, data)
        before = rss_mb()
        for _ in range(args.soak):
            request(clf, data)
        print(f"RSS {name}: {before:.1f} MB before, {rss_mb():.1f} MB after {args.soak} requests")


if __name__ == "__main__":
    main()
