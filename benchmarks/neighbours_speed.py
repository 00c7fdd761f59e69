"""Speed of the nearest-neighbours lookup (web/neighbours.js) in headless Chromium: what one
update costs while a student draws (both searches, in the last hidden layer's values and in
raw pixels, over every stored test image), beside one forward pass of the same network on the
same input as the reference, for LeNet-5 (digits) and the ConvNet (photos). Target: <= 5 ms.

Inputs imitate a drawing in progress: a stored test digit revealed row by row (a digit is
mostly blank, so the pixel search reads few columns); photos come whole (dense: the worst case).

    python benchmarks/neighbours_speed.py [--repeats 200]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from browser import launch
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("lenet5", "convnet")
TARGET_MS = 5

TIME_JS = """async ({name, repeats}) => {
  (await import('/web/shared.js')).setFiles('/');
  const {loadNetwork} = await import('/web/engine.js');
  const {loadNeighbours} = await import('/web/neighbours.js');
  const net = await loadNetwork(`/checkpoints/${name}.safetensors`);
  let t = performance.now();
  const stored = await loadNeighbours(`checkpoints/${name}.neighbours.safetensors`);
  const load = performance.now() - t;
  const {channels, height, width} = net.inputShape, plane = height * width;
  // Update i shows the first rows of stored digit i (mod their count): a drawing growing. A
  // photo comes whole, with a little noise (never one of the stored ones exactly).
  const inputs = Array.from({length: repeats}, (_, i) => {
    const pixels = stored.pixels((7 * i) % stored.size), rows = 1 + (i % height);
    if (channels === 3) return pixels.map((v, p) => Math.min(1, v + ((p * 7919 + i) % 13) / 255));
    pixels.fill(0, rows * width, plane);
    return pixels;
  });
  const lookup = [], forward = [];
  stored.nearest(net.forward(net.normalize(inputs[0])), inputs[0]);   // warm the JIT
  for (const pixels of inputs) {
    t = performance.now();
    const run = net.forward(net.normalize(pixels));
    forward.push(performance.now() - t);
    t = performance.now();
    stored.nearest(run, pixels);
    lookup.push(performance.now() - t);
  }
  return {size: stored.size, layer: stored.layer, load, lookup, forward};
}"""


def measure(repeats: int) -> dict[str, dict]:
    sys.path.insert(0, str(ROOT / "tests"))   # jspage: the repository served statically
    from jspage import serve_root
    server, url = serve_root()
    try:
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page()
            page.goto(f"{url}/tests/jspage.html")
            found = {name: page.evaluate(TIME_JS, {"name": name, "repeats": repeats}) for name in MODELS}
            browser.close()
    finally:
        server.shutdown()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed updates per model")
    args = parser.parse_args()
    # The machine may be shared: the best update (the least disturbed) is printed beside p50/p95.
    load = os.getloadavg()[0]
    print(f"{args.repeats} updates per model; load average {load:.1f} on {os.cpu_count()} cores")
    print(f"{'':<44}{'p50':>8}{'p95':>8}{'best':>8}  (ms; target: lookup <= {TARGET_MS} ms)")
    for name, found in measure(args.repeats).items():
        print(f"\n{name}: {found['size']} stored test images, {found['layer']} values "
              f"(file read and prepared once: {found['load']:.0f} ms)")
        for what, key in (("lookup: 8 nearest by values + 8 by pixels", "lookup"),
                          ("reference: one forward pass", "forward")):
            samples = np.array(found[key])
            print(f"{what:<44}{np.percentile(samples, 50):>8.2f}{np.percentile(samples, 95):>8.2f}"
                  f"{samples.min():>8.2f}")


if __name__ == "__main__":
    main()
