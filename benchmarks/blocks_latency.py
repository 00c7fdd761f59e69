"""Building blocks: how long one setting change takes to be redrawn, now that the page computes
it (web/blocks_tab.js), beside the old way, a request to the server's handler (the API's
``/building_block``: the block in torch, its pictures as PNGs, Gradio's queue), both on the
same running app in the same run.

The page: Chromium changes one setting (alternately two values, so that every change is a
change) through the tab's own ``set``, which recomputes and redraws; timed from the change to
the next frame after it, in the page. The server: ``gradio_client`` calls with the same
settings, timed from call to answer (the pictures not downloaded).

    python benchmarks/blocks_latency.py [--repeats 20]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from browser import ROOT, TAB_SHOWN, free_port, launch, start_app, stop_app
from timing import photo

# The tab's starting settings (ui/blocks.py DEFAULTS, as tools/blocks_files.py writes them)
DEFAULTS = json.loads((ROOT / "web" / "blocks_tab.json").read_text(encoding="utf-8"))["defaults"]

# (what, source, settings, the setting that changes and its two values)
CASES = [
    ("sample 256x256, Laplacian, toggle ReLU", "sample", {}, ("relu", (True, False))),
    ("sample, 10 random 5x5x3, ReLU, max-pool 2, seed 0/1", "sample",
     dict(kernel="N random filters", relu=True, pool="max"), ("seed", (0, 1))),
    ("512x512 photo, 10 random 5x5x3, ReLU, max-pool 2, seed 0/1", "upload",
     dict(kernel="N random filters", relu=True, pool="max"), ("seed", (0, 1))),
    ("512x512 photo, Laplacian, stride 1/2", "upload", {}, ("stride", (2, 1))),
]

CHANGE_JS = """async (changes) => {
  const start = performance.now();
  window.cnnPage.blocks.set(changes);
  await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  return performance.now() - start;
}"""


def page_times(page, settings: dict, name: str, values: tuple, repeats: int) -> np.ndarray:
    page.evaluate("(s) => window.cnnPage.blocks.set(s)", settings)
    times = [page.evaluate(CHANGE_JS, {name: values[i % 2]}) for i in range(repeats + 2)]
    return np.array(times[2:])   # the first two: warm-up


def server_times(client, settings: dict, name: str, values: tuple, repeats: int) -> np.ndarray:
    times = []
    for i in range(repeats + 2):
        start = time.perf_counter()
        client.predict(**{**settings, name: values[i % 2]}, api_name="/building_block")
        times.append(1000 * (time.perf_counter() - start))
    return np.array(times[2:])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=20, help="timed changes per case and side")
    args = p.parse_args()
    from gradio_client import Client, handle_file
    from playwright.sync_api import sync_playwright

    upload = Path(tempfile.mkdtemp()) / "photo.png"
    photo(512, 512).save(upload)
    port = free_port()
    proc, _ = start_app(port, timeout=180)   # a busy machine starts it slowly
    url = f"http://127.0.0.1:{port}/"
    try:
        client = Client(url, download_files=False, verbose=False)
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(url)
            page.get_by_role("tab", name="Building blocks").click()
            page.wait_for_function(TAB_SHOWN["Building blocks"], timeout=60000)
            page.get_by_role("radio", name="upload").click()
            page.locator("#blocks-view input[type=file]").set_input_files(str(upload))
            page.wait_for_function("() => document.querySelector('#blocks-status').innerText"
                                   ".includes('input 3×512×512')")
            print(f"{args.repeats} changes per case; ms, p50 / p95")
            print(f"{'case':<62}{'page':>16}{'server (old)':>18}")
            for what, source, changes, (name, values) in CASES:
                settings = DEFAULTS | changes | {"source": source}
                in_page = page_times(page, settings, name, values, args.repeats)
                api = {**settings, "upload": handle_file(str(upload)) if source == "upload" else None}
                served = server_times(client, api, name, values, args.repeats)
                cell = lambda t: f"{np.percentile(t, 50):7.1f} / {np.percentile(t, 95):6.1f}"  # noqa: E731
                print(f"{what:<62}{cell(in_page):>16}{cell(served):>18}")
            browser.close()
    finally:
        stop_app(proc)


if __name__ == "__main__":
    main()
