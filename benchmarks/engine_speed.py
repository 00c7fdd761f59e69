"""Speed of the page's JavaScript engine (web/engine.js) in headless Chromium: the engine of a
git revision (HEAD by default, checked out in a temporary worktree) beside the working tree's,
in the same page, on the same inputs, measured in turns.

Rows: one forward pass (the median of many) of LeNet-5 and of the ConvNet (whose answer
includes its mirror image's pass), and the invariance lab's work for the ConvNet on a photo:
the rotation and shift curves and the occlusion map (web/lab_measure.js), about 124 passes;
and the building blocks' heavy case (web/blocks_math.js): a 512x512 photo, 10 random 5x5x3 filters.

    python benchmarks/engine_speed.py [--revision HEAD] [--passes 60] [--labs 5]
"""
from __future__ import annotations

import argparse
import functools
import http.server
import subprocess
import tempfile
import threading
from pathlib import Path

from browser import launch
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "/before"   # URL prefix under which the revision's files are served

# One engine (its web/ at `web`) timed in the page: medians in ms.
TIME_JS = """async ({web, passes, labs}) => {
  const shared = await import(web + 'shared.js');
  shared.setFiles('/');
  const e = await import(web + 'engine.js'), lab = await import(web + 'lab_measure.js');
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const timeIt = (f, n) => {
    f();   // once to warm the JIT
    const times = [];
    for (let i = 0; i < n; i++) { const t = performance.now(); f(); times.push(performance.now() - t); }
    return median(times);
  };
  const out = {};
  for (const name of ['lenet5', 'convnet']) {
    const net = await e.loadNetwork('/checkpoints/' + name + '.safetensors');
    const {channels, height, width} = net.inputShape, n = channels * height * width;
    const pixels = Float32Array.from({length: n}, (_, i) => (Math.sin(i * 0.37) + 1) / 2);
    const input = net.normalize(pixels);
    out[name + ' forward'] = timeIt(() => net.forward(input), passes);
    if (name === 'convnet') {
      const settings = {digit: false, fill: 0.5};
      out['convnet lab curves + occlusion'] = timeIt(() => {
        lab.finish(lab.sweep(net, pixels, 'rotation', lab.sweepValues(60, 5), settings));
        lab.finish(lab.sweep(net, pixels, 'shiftX', lab.sweepValues(8), settings));
        lab.finish(lab.occlusion(net, pixels, {size: 8, stride: 3, fill: 0.5}));
      }, labs);
    }
  }
  // the building blocks' heavy case: a 512x512 photo through a random bank of 10 5x5x3 filters
  const blocks = await import(web + 'blocks_math.js');
  const size = 3 * 512 * 512;
  const photo = {shape: [3, 512, 512], data: Float32Array.from({length: size}, (_, i) => (i % 251) / 250)};
  const bank = blocks.makeKernel('random', 3, {fixed: {}, pair: []});
  out['blocks 512x512, 10 random 5x5x3'] = timeIt(() => blocks.runBlock(photo, bank), labs);
  return out;
}"""


def serve(before: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """The working tree's root, with the revision's tree under BEFORE: one origin, so both
    engines load the same checkpoint files."""
    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                          ".js": "text/javascript", ".safetensors": "application/octet-stream"}

        def translate_path(self, path):
            if path.startswith(BEFORE + "/"):
                return str(before / path[len(BEFORE) + 1:].split("?")[0])
            return super().translate_path(path)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Handler, directory=str(ROOT)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def measure(url: str, passes: int, labs: int, turns: int = 2) -> dict[str, dict[str, float]]:
    """{row: {"before": ms, "now": ms}}: each engine timed `turns` times, alternating, the
    best median of each kept (the machine is shared: the least disturbed turn)."""
    engines = {"before": f"{BEFORE}/web/", "now": "/web/"}
    best: dict[str, dict[str, float]] = {}
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.goto(f"{url}/tests/")   # any page of the origin: the modules come by import()
        for _ in range(turns):
            for which, web in engines.items():
                for row, ms in page.evaluate(TIME_JS, {"web": web, "passes": passes, "labs": labs}).items():
                    cell = best.setdefault(row, {})
                    cell[which] = min(ms, cell.get(which, float("inf")))
        browser.close()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revision", default="HEAD", help="the engine to compare with (git revision)")
    parser.add_argument("--passes", type=int, default=60, help="forward passes per median")
    parser.add_argument("--labs", type=int, default=5, help="lab runs per median")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(before),
                        args.revision], check=True)
        server, url = serve(before)
        try:
            rows = measure(url, args.passes, args.labs)
        finally:
            server.shutdown()
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)],
                           check=True)
    print(f"Page engine in headless Chromium, median ms ({args.revision} vs working tree)")
    print(f"{'':34}{args.revision:>10}{'now':>10}{'speed-up':>10}")
    for row, cell in rows.items():
        print(f"{row:34}{cell['before']:10.2f}{cell['now']:10.2f}{cell['before'] / cell['now']:9.2f}x")


if __name__ == "__main__":
    main()
