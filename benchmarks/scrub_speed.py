"""'Watch it learn': how long one scrub step takes in headless Chromium, for each snapshots file
(default: every committed ``checkpoints/*.snapshots.safetensors``; or the files named), its
model's tab (draw for digits, photo for photos) mounted as the shells mount it, on a test image
handed over as the gallery does:

- a scrub step: the slider set to another moment, the tab recomputing with that moment's
  network and redrawing every panel (the whole view, "Why?", the experiments, the learn panel
  with its kernels and curve), median and p95 over the moments in turn; target <= 33 ms;
- a new input at a moment (one pixel changed, as a pen move changes it): that moment's pass
  and the redrawn view, then, separately, the curve's passes (one per moment and the trained
  network's), which the panel makes after the view's frame is painted, once per frame;
- the reference in the same run: one plain update of the same tab (``update()``) at the end of
  training on the input shown (the engine resumes the run shown: what redrawing alone costs).

    python benchmarks/scrub_speed.py [--steps 40] [FILE ...]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from browser import launch
from playwright.sync_api import sync_playwright

from lenet.net.files import checkpoint_meta
from lenet.page import ROOT, tab_html, tab_starts
from lenet.training.data import load_split
from lenet.training.snapshots import load_snapshots

CHECKPOINTS = ROOT / "checkpoints"
DATA = ROOT.parent / "shared" / "data"
ROUTE = "/scrub-bench/"   # where the page fetches the file (served by page.route)

# A tab mounted in a bare page as the shells mount it (its element "<tab>-view", the view's
# style sheets linked): tests/test_learn_page.py mounts it the same way.
MOUNT_JS = """async ({html, tab}) => {
  const shared = await import('/web/shared.js');
  shared.setFiles('/');
  for (const sheet of ['page.css', 'view.css']) {
    const link = document.createElement('link');
    link.rel = 'stylesheet'; link.href = '/web/' + sheet; document.head.append(link);
  }
  const holder = document.createElement('div');
  holder.id = tab + '-view';
  holder.innerHTML = html;
  document.body.append(holder);
  const start = JSON.parse(holder.querySelector('[data-start]').dataset.start);
  const module = await import('/web/' + start.module);
  await module.mount({element: holder, start, base: new URL('/web/', location.href)});
  window.handOver = shared.handOver;
}"""

# ``steps`` scrub steps over the moments in turn, then as many plain updates at the end.
MEASURE_JS = """async ({tab, steps}) => {
  const t = window.cnnPage[tab], learn = t.learn, range = document.querySelector(`#${tab}-view .ln-range`);
  const end = learn.steps.length, frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  await learn.moveTo(0);            // the file read and every moment built, once
  const scrub = [], plain = [];
  for (let k = 0; k < steps; k += 1) {
    const position = (k + 1) % end;
    await frame();
    const begin = performance.now();
    range.value = String(position);
    await learn.moveTo(position);   // what the range's input event does
    scrub.push(performance.now() - begin);
  }
  const input = [], curve = [];   // a new input at a moment, as a pen move makes: one pixel changed each time
  await learn.moveTo(Math.floor(end / 2));
  const pixels = Float32Array.from(t.state.pixels);
  for (let k = 0; k < steps; k += 1) {
    await frame();
    pixels[k % pixels.length] = 1 - pixels[k % pixels.length];
    t.state.pixels = Float32Array.from(pixels);
    const begin = performance.now();
    t.update();
    input.push(performance.now() - begin);
    while (document.querySelector(`#${tab}-view .ln-curve`).hasAttribute('aria-busy')) {
      await new Promise((r) => setTimeout(r, 5));
    }
    curve.push(learn.curveMs());   // the remake's own cost, timed by the panel
  }
  await learn.moveTo(end);
  for (let k = 0; k < steps; k += 1) {
    await frame();
    const begin = performance.now();
    t.update();
    plain.push(performance.now() - begin);
  }
  return {scrub, input, curve, plain};
}"""


def tab_start(snapshots: Path, model: str, checkpoint: Path, steps: list[int]) -> tuple[str, dict]:
    """The tab for ``model`` and its start with only that model, its snapshots at ROUTE."""
    named = lambda p: str(Path(p).resolve().relative_to(ROOT))  # noqa: E731
    models = {"lenet5": CHECKPOINTS / "lenet5.safetensors", "convnet": CHECKPOINTS / "convnet.safetensors",
              model: checkpoint}
    tab = "draw" if checkpoint_meta(checkpoint)["dataset"] == "mnist" else "photo"
    entry = next(m for m in tab_starts(models, named)[tab]["models"] if m["name"] == model)
    entry.update(snapshots=(ROUTE + snapshots.name).lstrip("/"), snapshot_steps=steps)
    return tab, {"models": [entry]}


def measure(page, snapshots: Path, steps: int) -> dict[str, np.ndarray]:
    stored = load_snapshots(snapshots)
    model = stored.meta["model"]
    # Its own checkpoint where the page can fetch it (inside the repository), else the committed
    # one of the same model: the moments take only its layer table.
    beside = snapshots.with_name(f"{model}.safetensors")
    served = beside.is_file() and beside.resolve().is_relative_to(ROOT)
    checkpoint = beside if served else CHECKPOINTS / f"{model}.safetensors"
    tab, start = tab_start(snapshots, model, checkpoint, [s.step for s in stored.snapshots])
    data = snapshots.read_bytes()
    page.route(f"**{ROUTE}{snapshots.name}", lambda route: route.fulfill(body=data))
    page.evaluate(MOUNT_JS, {"html": tab_html(tab, start), "tab": tab})
    x, _, _ = load_split(stored.meta["dataset"], DATA, train=False)
    pixels = (x[0].numpy().astype(np.float32) / 255).ravel().tolist()
    page.evaluate("([tab, pixels]) => window.handOver(tab, {pixels, caption: 'test image #0'})",
                  [tab, pixels])
    page.wait_for_function("(tab) => window.cnnPage[tab]?.view.run != null", arg=tab)
    figures = page.evaluate(MEASURE_JS, {"tab": tab, "steps": steps})
    print(f"\n{snapshots.relative_to(ROOT) if snapshots.is_relative_to(ROOT) else snapshots}: {model} in the "
          f"{tab} tab, {len(stored.snapshots)} moments, {len(data) / 1e6:.2f} MB")
    return {k: np.array(v) for k, v in figures.items()}


def main() -> None:
    import sys
    sys.path.insert(0, str(ROOT / "tests"))   # jspage: the repository served statically
    from jspage import serve_root
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("files", nargs="*", type=Path, help="snapshots files (default: the committed ones)")
    p.add_argument("--steps", type=int, default=40, help="scrub steps (and plain updates) per file")
    args = p.parse_args()
    files = [f.resolve() for f in args.files] or sorted(CHECKPOINTS.glob("*.snapshots.safetensors"))
    if not files:
        raise SystemExit("no snapshots file is committed under checkpoints/: name one (train.py writes it)")
    server, url = serve_root()
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            for path in files:
                page = browser.new_page(viewport={"width": 1366, "height": 900})
                page.goto(f"{url}/tests/jspage.html")
                figures = measure(page, path, args.steps)
                print(f"{'':<50}{'p50':>8}{'p95':>8}  (ms)")
                for what, key in (("scrub step: set, recompute, redraw (target <= 33)", "scrub"),
                                  ("new input at a moment: pass + view", "input"),
                                  ("  then the curve's passes, after the paint", "curve"),
                                  ("reference: one plain update", "plain")):
                    v = figures[key]
                    print(f"{what:<50}{np.percentile(v, 50):>8.1f}{np.percentile(v, 95):>8.1f}")
                page.close()
            browser.close()
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
