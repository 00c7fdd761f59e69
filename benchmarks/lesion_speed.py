"""The lesion lab's speed in headless Chromium, on the static site (``python -m lenet site``),
for LeNet-5 in the draw tab's view and the ConvNet (both passes of its mirror average) in the
photo tab's, each beside its reference in the same run, and the issue's target:

- one toggle: a part switched off or back on, the network recomputed (net.forward with
  ``reuse``: the run before), the whole view redrawn (``view.show``) and the layout that
  causes, median and p95 over many toggles of random parts, and over the first conv layer's
  channels alone (the dearest); the reference: the same toggles with a full pass (net.forward
  without ``reuse``);
- the same toggles as the page makes them, in the tab with the lesion panel open (its
  ``toggle``: the tab's whole update, every panel, the comparison with the other models), up
  to the frame; the bars are ranked after that frame is painted, timed on their own;
- all of the per-input bars (web/lesion.js ``effects``: every channel of the first two conv
  layers off alone); the reference: one full pass per channel;
- with ``--python``: lenet.inside.lesion.accuracies_with_each_off over the whole test set, beside
  the weight-zeroing way (a copy of the model per channel, one full pass) timed on a sample.

The machine's load average is printed with the figures: on a shared machine they scale with it.

    python benchmarks/lesion_speed.py [--toggles 200] [--bars 15] [--python]
"""
from __future__ import annotations

import argparse
import copy
import functools
import http.server
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from browser import launch
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
VIEWS = {"draw": ("lenet5", "mnist"), "photo": ("convnet", "cifar10")}

# One view's figures, in ms. Toggles flip random parts (a seeded choice), each from the run
# before; the reference recomputes the same sets of parts off with a full pass. Every redraw is
# timed with the layout it causes (settle()), which the browser would otherwise do later in
# the same frame.
MEASURE_JS = """async ({tab, pixels, toggles, bars}) => {
  const lesion = await import('./web/lesion.js');
  const shown = window.cnnPage[tab], net = tab === 'draw' ? shown.main : shown.net, view = shown.view;
  const input = net.normalize(Float32Array.from(pixels));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];
  const settle = () => document.body.getBoundingClientRect();
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const parts = Object.entries(net.switchable).flatMap(([l, n]) => Array.from({length: n}, (_, c) => [l, c]));
  const first = lesion.firstConvs(net)[0];
  const flip = (off, [l, c]) => {
    const now = new Set(off[l] ?? []);
    if (now.has(c)) now.delete(c); else now.add(c);
    return {...off, [l]: [...now]};
  };
  const toggleTimes = (pick, reuse) => {
    let off = {}, run = net.forward(input);
    view.show(run);
    const total = [], compute = [];
    for (let k = 0; k < toggles; k++) {
      off = flip(off, pick());
      const t = performance.now();
      run = net.forward(input, reuse ? {off, reuse: run} : {off});
      compute.push(performance.now() - t);
      view.show(run);
      settle();
      total.push(performance.now() - t);
    }
    return {total, compute};
  };
  const anyPart = () => parts[Math.floor(random() * parts.length)];
  const firstPart = () => [first, Math.floor(random() * net.switchable[first])];
  const out = {};
  for (const [label, pick] of [['any part', anyPart], [`${first}'s channels`, firstPart]]) {
    seed = 7;
    const fast = toggleTimes(pick, true);
    seed = 7;
    const full = toggleTimes(pick, false);
    out[`toggle, ${label}`] = {now: [median(fast.total), p95(fast.total)],
                               reference: [median(full.total), p95(full.total)], target: 16};
    out[`  recompute alone, ${label}`] = {now: [median(fast.compute), p95(fast.compute)],
                                   reference: [median(full.compute), p95(full.compute)]};
  }
  const run = net.forward(input), pass = [];
  const timed = (f, n, into) => {
    for (let k = 0; k < n; k++) { const t = performance.now(); f(); into.push(performance.now() - t); }
    return into;
  };
  timed(() => net.forward(input), 20, pass);
  out['one full pass (no redraw)'] = {now: [median(pass), p95(pass)]};
  // Every map changes: the view shows another input, then this one again.
  const other = net.forward(net.normalize(Float32Array.from(pixels, (p) => 1 - p)));
  const redraw = timed(() => { view.show(view.run === run ? other : run); settle(); }, 20, []);
  out['redraw alone, every map new'] = {now: [median(redraw), p95(redraw)]};
  // The page's own toggle, lesion panel open, the tab showing the input.
  const x = shown.experiments, panel = document.querySelector(`#${tab}-view .ex-lesion`);
  panel.open = true;
  Object.assign(shown.state, {kind: 'gallery', pixels: Float32Array.from(pixels)});
  shown.update();
  seed = 7;
  const inTab = timed(() => { const [l, c] = anyPart(); x.lesion.toggle(l, c); settle(); }, toggles, []);
  out['toggle in the tab, up to its frame'] = {now: [median(inTab), p95(inTab)], target: 16};
  const ranked = timed(() => { x.lesion.settle(); settle(); }, bars, []);
  out['  then the bars, after the frame'] = {now: [median(ranked), p95(ranked)]};
  x.lesion.turnAllOn();
  panel.open = false;
  lesion.effects(net, run);   // once to warm the JIT
  const barTimes = timed(() => lesion.effects(net, run), bars, []);
  const t = performance.now();
  for (const l of lesion.firstConvs(net)) {
    for (let c = 0; c < net.switchable[l]; c++) net.forward(input, {off: {[l]: [c]}}).probabilities[run.top];
  }
  out['all bars'] = {now: [median(barTimes), p95(barTimes)], reference: [performance.now() - t, null],
                     target: 50};
  return out;
}"""


def test_pixels(dataset: str, shape) -> np.ndarray:
    """A test image's pixels in [0, 1] (the first of the test set), or a smooth pattern."""
    from lenet.training.data import load_split
    folder = SHARED_DATA / ("MNIST" if dataset == "mnist" else "cifar10")
    if folder.is_dir():
        if dataset == "cifar10":   # one image: the folder reader loads every file it is given
            from PIL import Image
            path = sorted((folder / "test" / "cat").glob("*"))[0]
            return np.asarray(Image.open(path).convert("RGB"), np.float32).transpose(2, 0, 1) / 255
        x, _, _ = load_split(dataset, SHARED_DATA, train=False)
        return x[0].numpy().astype(np.float32) / 255
    size = int(np.prod(shape))
    return ((np.sin(np.arange(size) * 0.37) + 1) / 2).astype(np.float32)


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                          ".js": "text/javascript", ".safetensors": "application/octet-stream"}

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def measure_page(toggles: int, bars: int) -> dict[str, dict]:
    from lenet.page.site import build_site
    found = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        site = build_site(Path(tmp) / "site")
        server, url = serve(site.path)
        try:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(url)
            for tab, (model, dataset) in VIEWS.items():
                page.evaluate(f"async () => (await import('./web/shared.js')).showTab('{tab}')")
                page.locator(f"#{tab}-view[data-ready=true], #{tab}-view [data-ready=true]").first.wait_for(
                    state="attached", timeout=60000)
                pixels = test_pixels(dataset, None).reshape(-1).tolist()
                found[model] = page.evaluate(MEASURE_JS, {"tab": tab, "pixels": pixels,
                                                          "toggles": toggles, "bars": bars})
            browser.close()
        finally:
            server.shutdown()
    return found


def measure_python(sample: int) -> list[str]:
    """accuracies_with_each_off on the whole test set, and the weight-zeroing way on ``sample``
    images, scaled to the whole set: one line per model."""
    import torch

    from lenet.inside.lesion import accuracies_with_each_off, first_convs
    from lenet.net.checkpoint import averages_mirror, default_checkpoint, load_checkpoint
    from lenet.net.models import answer_logits, normalize
    from lenet.training.data import load_split
    lines = []
    for model_name, dataset in VIEWS.values():
        model, meta = load_checkpoint(default_checkpoint(model_name))
        x, y, _ = load_split(dataset, SHARED_DATA, train=False, classes=tuple(meta["classes"]))
        start = time.perf_counter()
        found = accuracies_with_each_off(model, meta, x, y, first_convs(meta))
        fast = time.perf_counter() - start
        start, inputs = time.perf_counter(), normalize(x[:sample], meta["mean"], meta["std"])
        channels = 0
        with torch.no_grad():
            for layer in found.layers:
                for c in range(len(found.accuracies[layer])):
                    copied = copy.deepcopy(model)
                    conv = dict(copied.features.named_children())[layer]
                    conv.weight[c] = 0
                    conv.bias[c] = 0
                    answer_logits(copied, inputs, averages_mirror(meta)).argmax(1)
                    channels += 1
        slow = (time.perf_counter() - start) * len(x) / sample
        lines.append(f"{model_name:8s} accuracies_with_each_off, {channels} channels x {len(x)} test images: "
                     f"{fast:7.1f} s   reference (weight zeroing, {sample} images scaled): {slow:7.1f} s")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toggles", type=int, default=200, help="toggles per median")
    parser.add_argument("--bars", type=int, default=15, help="computations of all bars per median")
    parser.add_argument("--python", action="store_true", help="time the test-set accuracies too")
    parser.add_argument("--sample", type=int, default=500, help="images for the Python reference")
    args = parser.parse_args()
    found = measure_page(args.toggles, args.bars)
    print(f"headless Chromium, 1366x768, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          "ms: median / p95 (reference: the same without the lesion lab's shortcuts)")
    for model, rows in found.items():
        for row, cells in rows.items():
            now = f"{cells['now'][0]:7.2f} / {cells['now'][1]:7.2f}"
            ref = cells.get("reference")
            shown = "" if ref is None else f"   reference {ref[0]:8.2f}"
            if ref and ref[1] is not None:
                shown += f" / {ref[1]:8.2f}"
            if "target" in cells:
                shown += f"   target {cells['target']}"
            print(f"{model:8s} {row:36s} {now}{shown}")
    if args.python:
        for line in measure_python(args.sample):
            print(line)


if __name__ == "__main__":
    main()
