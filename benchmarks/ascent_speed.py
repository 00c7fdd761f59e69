"""Speed of "what a unit wants" in headless Chromium: 100 steps of the page's gradient ascent
(web/ascent.js) on one unit, beside references timed in the same page, in turns: 100 plain
forward passes, and 100 forward passes each with the unit's gradient (the ascent's own
arithmetic, without its decay, blur and clipping). LeNet-5 is the target; the ConvNet's
figures are for information.

Each run is timed twice: wall-clock (performance.now) and the page's main-thread CPU time
(the DevTools protocol's ThreadTime), which a machine shared with other work inflates much
less than the wall clock: on an idle core the two agree.

Target: 100 ascent steps <= 1 s on LeNet-5 (median).

    python benchmarks/ascent_speed.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from browser import launch
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
STEPS = 100
TARGET_MS = 1000
# The units timed: channel 0 at the centre of each conv layer, and class 0's logit.
UNITS = {"lenet5": ["C1", "C3", "output"], "convnet": ["conv2", "fc2"]}

# Builds window.benchRows: {row: () => void}, every row of one model.
SETUP_JS = """async ({name, layers, steps}) => {
  (await import('/web/shared.js')).setFiles('/');
  const e = await import('/web/engine.js'), a = await import('/web/ascent.js');
  const net = await e.loadNetwork('/checkpoints/' + name + '.safetensors');
  const {channels, height, width} = net.inputShape;
  const input = net.normalize(new Float32Array(channels * height * width).fill(0.5));
  const rows = {[steps + ' forward passes']: () => { for (let i = 0; i < steps; i++) net.forward(input); }};
  for (const layer of layers) {
    const unit = {layer, channel: 0, ...a.unitCentre(net, layer)};
    const shape = net.layers.find((l) => l.name === layer).shape, [, , W = 1] = shape;
    const seed = new Float32Array(shape.reduce((p, q) => p * q, 1));
    seed[unit.y * W + unit.x] = 1;                 // channel 0's unit, as the ascent's
    rows[`${steps} forward + gradient of ${layer}`] = () => {
      for (let i = 0; i < steps; i++) net.gradient(net.forward(input), layer, seed);
    };
    rows[`ascend ${layer} channel 0, ${steps} steps`] = () => a.ascend(net, unit, {steps});
  }
  window.benchRows = rows;
  return Object.keys(rows);
}"""
RUN_JS = "(row) => { const t = performance.now(); window.benchRows[row](); return performance.now() - t; }"


def thread_ms(cdp) -> float:
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return 1000 * next(m["value"] for m in metrics if m["name"] == "ThreadTime")


def time_rows(page, cdp, rows: list[str], repeats: int) -> dict[str, dict[str, float]]:
    """{row: {"wall": median ms, "cpu": median ms}}: after one warm-up round, the rows in
    turns, so that a busy spell of the machine falls on all of them alike."""
    samples = {row: {"wall": [], "cpu": []} for row in rows}
    for turn in range(repeats + 1):
        for row in rows:
            before = thread_ms(cdp)
            wall = page.evaluate(RUN_JS, row)
            if turn:
                samples[row]["wall"].append(wall)
                samples[row]["cpu"].append(thread_ms(cdp) - before)
    return {row: {k: statistics.median(v) for k, v in s.items()} for row, s in samples.items()}


def measure(repeats: int) -> dict[str, dict[str, dict[str, float]]]:
    """{model: {row: {"wall": ms, "cpu": ms}}}, each model's rows timed in one page."""
    sys.path.insert(0, str(ROOT / "tests"))   # jspage: the repository served statically
    from jspage import serve_root
    server, url = serve_root()
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page()
            page.goto(f"{url}/tests/jspage.html")
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            figures = {}
            for name, layers in UNITS.items():
                rows = page.evaluate(SETUP_JS, {"name": name, "layers": layers, "steps": STEPS})
                figures[name] = time_rows(page, cdp, rows, repeats if name == "lenet5" else 2)
            browser.close()
    finally:
        server.shutdown()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7,
                        help="timed runs per LeNet-5 row, after one warm-up (default 7; the ConvNet 2)")
    args = parser.parse_args()
    figures = measure(args.repeats)
    print(f"Headless Chromium, median ms per row: wall clock and the page's main-thread CPU time; "
          f"target: LeNet-5 ascent, {STEPS} steps <= {TARGET_MS} ms")
    for name, rows in figures.items():
        print(f"\n{name:<44}{'wall':>9}{'CPU':>9}")
        for row, t in rows.items():
            mark = ""
            if name == "lenet5" and row.startswith("ascend"):
                mark = "  meets the target" if t["cpu"] <= TARGET_MS else "  MISSES the target (CPU)"
            print(f"{row:<44}{t['wall']:9.1f}{t['cpu']:9.1f}{mark}")


if __name__ == "__main__":
    main()
