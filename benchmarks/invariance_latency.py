"""Latency of the invariance lab on both committed checkpoints: in the page (Chromium, the tab
web/invariance_tab.js mounted on a static page, as a visitor runs it since issue 22) beside
the Python engine it replaced (``lenet.inside.invariance``, 1 torch thread, the server's old
path), in the same run, on the same inputs.

Page rows: a slider step (the input through the sliders, its answer and its picture: what runs
before the next frame), the curves and the occlusion map computed alone (the engine's forward
passes, back to back), and the same as the tab delivers them after a slider step (a slice of
~12 ms at a time between the page's other work: the time until the map is drawn). Python rows:
the live path (transform + probabilities + image), each curve, the occlusion map, and their
total with the map's picture.

    python benchmarks/invariance_latency.py [--repeats 20]
"""
from __future__ import annotations

import numpy as np
import torch
from browser import launch
from timing import sample_input, serving_args, timed

from lenet.inside import invariance
from lenet.inside.inference import Classifier
from lenet.inside.invariance import input_pixels, occlusion_map, probabilities, transform
from lenet.net.checkpoint import default_checkpoint
from lenet.page import ROOT, tab_html, tab_starts
from lenet.pictures.visualize import occlusion_picture, pixels_to_image

MODELS = ("lenet5", "convnet")
SLIDERS = dict(shift_x=3, shift_y=-2, rotation=15, scale=1.1, noise=0.05, erase_size=6, erase_y=7,
               erase_x=7)   # the erased square (4, 4, 6), as the Python rows


# ---------------------------------------------------------------------------- Python (reference)
def python_rows(clf: Classifier, pixels: torch.Tensor) -> dict:
    """The server's old requests for one model, name -> a function doing that request."""
    slider = dict(shift_x=3, shift_y=-2, rotation=15, scale=1.1, noise=0.05, erase=(4, 4, 6))
    if clf.is_digit_model:
        slider["stroke"] = 1

    def live():
        moved = transform(pixels, **slider)
        return probabilities(clf, moved), pixels_to_image(moved)

    def everything():
        invariance.rotation_curve(clf, pixels)
        invariance.shift_curve(clf, pixels)
        occlusion_picture(pixels, occlusion_map(clf, pixels))

    return {"Python: slider (transform + predict + image)": live,
            "Python: rotation curve (25 angles)": lambda: invariance.rotation_curve(clf, pixels),
            "Python: shift curve (17 shifts)": lambda: invariance.shift_curve(clf, pixels),
            "Python: occlusion map": lambda: occlusion_map(clf, pixels),
            "Python: curves + occlusion + picture": everything}


# ---------------------------------------------------------------------------- the page
# The tab mounted on a blank page as either shell mounts it (tests/test_lab_page.py uses it too).
MOUNT_JS = """async ({html}) => {
  const shared = await import('/web/shared.js');
  shared.setFiles('/');
  const holder = document.createElement('div');
  holder.id = 'invariance-view';
  holder.innerHTML = html;
  document.body.append(holder);
  const start = JSON.parse(holder.querySelector('[data-start]').dataset.start);
  const tab = await import('/web/' + start.module);
  await tab.mount({element: holder, start, base: new URL('/web/', location.href)});
  window.publish = shared.publish;
}"""

# One slider step as a drag makes it; the tab's own clock for the step and for the curves.
STEP_JS = """async ({values, rotation}) => {
  const lab = window.cnnPage.lab;
  for (const [name, v] of Object.entries({...values, rotation})) {
    const range = document.getElementById('lab-slider-' + name);
    range.value = String(v);
    range.dispatchEvent(new Event('input'));
  }
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  await lab.settled;
  return lab.timings;
}"""

# The curves and the map alone: the same generators run to their end, back to back.
COMPUTE_JS = """async ({topic, values}) => {
  const m = await import('/web/lab_measure.js'), t = await import('/web/lab_transform.js');
  const tab = await import('/web/invariance_tab.js');
  const lab = window.cnnPage.lab, {net, pixels, shape} = lab.loaded;
  const settings = tab.settingsFor(values, topic), L = tab.LIMITS;
  const began = performance.now();
  m.finish(m.sweep(net, pixels, 'rotation', m.sweepValues(L.rotation_limit, L.rotation_step), settings));
  m.finish(m.sweep(net, pixels, 'shiftX', m.sweepValues(L.shift_limit), settings));
  m.finish(m.occlusion(net, t.transform(pixels, shape, settings), L.occlusion[topic]));
  return performance.now() - began;
}"""


def page_rows(page, topic: str, pixels: torch.Tensor, repeats: int) -> dict[str, np.ndarray]:
    """The page's figures for one input, in ms: each row ``repeats`` samples after one warm-up."""
    page.evaluate("""({topic, pixels}) => {
      window.publish(topic, {pixels: Float32Array.from(pixels), picture: null, caption: 'benchmark'});
      const radio = document.querySelector(`input[name=lab-source][value=${topic}]`);
      radio.checked = true;
      radio.dispatchEvent(new Event('change'));
    }""", {"topic": topic, "pixels": pixels.reshape(-1).tolist()})
    values = {**SLIDERS, "stroke": 1 if topic == "digit" else 0}
    steps = [page.evaluate(STEP_JS, {"values": values, "rotation": 15 + k % 2})
             for k in range(repeats + 1)][1:]
    compute = [page.evaluate(COMPUTE_JS, {"topic": topic, "values": {**values, "rotation": 15}})
               for _ in range(repeats + 1)][1:]
    return {"page: slider step (transform + answer + picture)": np.array([s["live"] for s in steps]),
            "page: curves + occlusion, computing only": np.array(compute),
            "page: curves + occlusion after a step, sliced": np.array([s["curves"] for s in steps])}


def in_the_page(inputs: dict[str, torch.Tensor], repeats: int) -> dict[str, dict[str, np.ndarray]]:
    from jspage import serve_root
    from playwright.sync_api import sync_playwright
    start = tab_starts({name: default_checkpoint(name) for name in MODELS},
                       lambda path: str(path.resolve().relative_to(ROOT)))["invariance"]
    server, url = serve_root()
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page()
            page.goto(f"{url}/tests/jspage.html")
            page.evaluate(MOUNT_JS, {"html": tab_html("invariance", start)})
            figures = {name: page_rows(page, "digit" if name == "lenet5" else "photo", pixels, repeats)
                       for name, pixels in inputs.items()}
            browser.close()
    finally:
        server.shutdown()
    return figures


def row(what: str, samples: np.ndarray) -> None:
    print(f"{what:<52}{np.percentile(samples, 50):>8.1f}{np.percentile(samples, 95):>8.1f}")


def main() -> None:
    import sys
    sys.path.insert(0, str(ROOT / "tests"))   # jspage: the repository served statically
    args = serving_args(__doc__, repeats=20, per="row")
    models = {name: Classifier.from_checkpoint(default_checkpoint(name)) for name in MODELS}
    inputs = {name: input_pixels(clf, sample_input(name)) for name, clf in models.items()}
    page = in_the_page(inputs, args.repeats)
    for name, clf in models.items():
        occlusion = occlusion_map(clf, inputs[name])
        print(f"\n{clf}; occlusion {occlusion.size}x{occlusion.size} square, stride "
              f"{occlusion.stride}: {occlusion.drop.size} places")
        print(f"{'':<52}{'p50':>8}{'p95':>8}  (ms)")
        for what, samples in page[name].items():
            row(what, samples)
        for what, fn in python_rows(clf, inputs[name]).items():
            row(what, timed(fn, args.repeats))


if __name__ == "__main__":
    main()
