"""Speed of "flip the answer" in headless Chromium: the page's search (web/flip.js) on real
test images (the random sample in each committed checkpoint's gallery), each with a seeded
random target class, beside two references from the same run: one step's arithmetic in the
page (a forward pass and the answer's gradient, which each step of the search costs once)
and the same search in PyTorch (lenet/inside/flip.py) on the same inputs. Also the share of
flips found and the median sizes of the changes, and how many steps they took.

Targets: a flip in <= 0.5 s (median) on LeNet-5 and <= 2 s on the ConvNet.

    python benchmarks/flip_speed.py [--inputs 30]
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np
from browser import launch
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = {"lenet5": 500, "convnet": 2000}

# Every input flipped in one page; the first flip of each model warms the JIT and is not kept.
TIME_JS = """async ({name, inputs, targets}) => {
  const {loadNetwork} = await import('/web/engine.js');
  const {flip} = await import('/web/flip.js');
  const net = await loadNetwork('/checkpoints/' + name + '.safetensors');
  const seed = new Float32Array(net.classes.length).fill(1);
  const timeStep = (pixels) => {
    const t = performance.now();
    net.answerGradient(net.forward(net.normalize(pixels)), seed);
    return performance.now() - t;
  };
  flip(net, Float32Array.from(inputs[0]), targets[0]);
  timeStep(Float32Array.from(inputs[0]));
  return inputs.map((x, n) => {
    const pixels = Float32Array.from(x), f = flip(net, pixels, targets[n]);
    return {ms: f.ms, step: timeStep(pixels), found: f.found, steps: f.steps, sizes: f.sizes};
  });
}"""


def test_images(name: str, n: int):
    """(model, meta, pixels (n, C, H, W) float32 in [0, 1], targets (n,)): the gallery's first
    n random test images and a seeded random target class for each."""
    from lenet.inside.gallery import gallery_path, load_gallery
    from lenet.net.checkpoint import default_checkpoint, load_checkpoint
    model, meta = load_checkpoint(default_checkpoint(name))
    gallery = load_gallery(gallery_path(default_checkpoint(name)))
    images = gallery.images[gallery.sample_positions()[:n]]
    pixels = images.transpose(0, 3, 1, 2).astype(np.float32) / 255
    targets = np.random.default_rng(30).integers(0, len(meta["classes"]), n)
    return model.requires_grad_(False), meta, pixels, targets


def python_ms(model, meta, pixels, targets) -> list[float]:
    """The Python search's time per flip, in ms, on the same inputs (one warm-up first), on
    one thread as app.py runs torch (on a shared machine more threads wait on each other)."""
    import torch

    from lenet.inside.flip import flip
    torch.set_num_threads(1)
    flip(model, meta, pixels[0], int(targets[0]))
    return [flip(model, meta, p, int(t)).ms for p, t in zip(pixels, targets)]


def measure(n: int) -> dict[str, dict]:
    """{model: {"page": [per-input results], "python": [ms, ...]}}."""
    sys.path.insert(0, str(ROOT / "tests"))   # jspage: the repository served statically
    from jspage import serve_root
    server, url = serve_root()
    found = {}
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page()
            page.goto(f"{url}/tests/jspage.html")
            for name in TARGET_MS:
                model, meta, pixels, targets = test_images(name, n)
                rows = page.evaluate(TIME_JS, {"name": name, "targets": targets.tolist(),
                                               "inputs": pixels.reshape(n, -1).tolist()})
                found[name] = {"page": rows, "python": python_ms(model, meta, pixels, targets)}
            browser.close()
    finally:
        server.shutdown()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=30, help="test images per model")
    args = parser.parse_args()
    median = statistics.median
    print(f"Flip the answer, headless Chromium, {args.inputs} test images per model, "
          "random targets; medians")
    print(f"{'':9}{'page flip':>11}{'target':>9}{'page step':>11}{'PyTorch flip':>14}"
          f"{'found':>8}{'steps':>7}{'changed':>9}{'L2':>8}{'largest':>9}")
    for name, cell in measure(args.inputs).items():
        rows = cell["page"]
        sizes = {k: median(r["sizes"][k] for r in rows) for k in ("changed", "l2", "largest")}
        flip_ms = median(r["ms"] for r in rows)
        verdict = "ok" if flip_ms <= TARGET_MS[name] else "MISSED"
        print(f"{name:9}{flip_ms:8.0f} ms{'<= ' + str(TARGET_MS[name]):>9}"
              f"{median(r['step'] for r in rows):8.1f} ms{median(cell['python']):11.1f} ms"
              f"{100 * np.mean([r['found'] for r in rows]):7.0f}%{median(r['steps'] for r in rows):7.0f}"
              f"{sizes['changed']:9.0f}{sizes['l2']:8.3f}{sizes['largest']:9.3f}  {verdict}")
    print("page step: one forward pass and the answer's gradient in the page (a search step's "
          "arithmetic); PyTorch flip: lenet/inside/flip.py on the same inputs, one thread")


if __name__ == "__main__":
    main()
