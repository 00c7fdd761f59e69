"""How fast the page follows the pen, in headless Chromium: for strokes drawn on the pad,
the ms from pen-up to the final prediction shown, and the updates shown while drawing.
Also the cold start, ``python app.py`` to the first page served, beside that of a bare
Gradio app (``benchmarks/bare_app.py``, no torch, no models) measured in the same run.

    python benchmarks/pad_latency.py [--strokes 8]
"""
from __future__ import annotations

import argparse
import statistics
import time

from browser import OBSERVE, draw, free_port, launch, start_app, stop_app

STROKES = [[(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)], [(0.5, 0.15), (0.5, 0.85)],
           [(0.3, 0.3), (0.5, 0.15), (0.7, 0.3), (0.3, 0.85), (0.75, 0.85)]]


def main() -> None:
    from playwright.sync_api import sync_playwright
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--strokes", type=int, default=8)
    p.add_argument("--pause", type=float, default=0.05, help="seconds between pen moves")
    args = p.parse_args()
    bare, bare_cold = start_app(free_port(), script="benchmarks/bare_app.py")
    stop_app(bare)
    port = free_port()
    proc, cold = start_app(port)
    print(f"cold start to first page served: app.py {cold:.2f} s, bare Gradio app {bare_cold:.2f} s")
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator("canvas.pad").wait_for()
            page.evaluate(OBSERVE)
            results = []
            for k in range(args.strokes):
                page.locator(".pad-clear").click()
                time.sleep(0.5)
                r = draw(page, STROKES[k % len(STROKES)], steps=10, pause=args.pause)
                results.append(r)
                lag = r["pen_up_to_label_ms"]
                print(f"stroke {k + 1}: {r['seconds']:.2f} s drawing, {r['updates']} updates "
                      f"({r['per_second']:.1f}/s), " + (f"label {lag:.0f} ms after pen-up"
                      if lag is not None else "final drawing already shown at pen-up"))
            browser.close()
    finally:
        stop_app(proc)
    lags = [r["pen_up_to_label_ms"] for r in results if r["pen_up_to_label_ms"] is not None]
    rates = [r["per_second"] for r in results]
    print(f"pen-up to label: median {statistics.median(lags):.0f} ms, max {max(lags):.0f} ms "
          f"over {len(lags)} strokes ({len(results) - len(lags)} already current at pen-up); "
          f"first stroke: {results[0]['pen_up_to_label_ms']} ms")
    print(f"updates while drawing: median {statistics.median(rates):.1f}/s, min {min(rates):.1f}/s")


if __name__ == "__main__":
    main()
