"""The draw tab's live view in headless Chromium on this machine, beside the server round trip
it replaced, in one run.

The page: its compute per update (pad recipe, LeNet-5 and the two variants, Grad-CAM and
saliency, every picture redrawn; p50/p95 ms), updates per second while drawing (strokes
driven by Playwright's mouse, and by pointer events dispatched in the page at 120 Hz, as a
fast pen sends them), the frames the page painted meanwhile (the interval between animation
frames: 16.7 ms is 60 a second; a longer one is a stutter), requests to the server per
drawing, and pen-up -> final view painted; each with the four experiments' panels closed, then
open (the bars wait for pen-up, the neighbours follow at most once a frame: their lookup is
timed on its own). The reference: pen-up -> label through ``/classify_sketch``
(gradio_client, the same drawing's PNG), as the page used to ask after every stroke. Also the
cold start, ``python app.py`` to the first page served, beside a bare Gradio app
(``benchmarks/bare_app.py``). The machine's load average is printed with the figures.

    python benchmarks/live_view.py [--strokes 20]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from browser import free_port, launch, start_app, stop_app

LETTERS = [[(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)], [(0.5, 0.15), (0.5, 0.85)],
           [(0.3, 0.3), (0.5, 0.15), (0.7, 0.3), (0.3, 0.85), (0.75, 0.85)]]

# Dispatch one stroke of pointer events in the page at ``hz``, as a pen would send them, and
# measure what the page did: updates while the pen was down, and pen-up -> final view painted.
IN_PAGE_STROKE = """async ([points, hz, steps]) => {
  const pad = document.querySelector('canvas.pad');
  const r = pad.getBoundingClientRect();
  const at = ([fx, fy]) => ({clientX: r.left + fx * r.width, clientY: r.top + fy * r.height,
                             pointerId: 7, pointerType: 'pen', bubbles: true, isPrimary: true});
  const draw = window.cnnPage.draw;
  document.querySelector('.pad-clear').click();
  const before = draw.updates();
  const wait = (ms) => new Promise((ok) => setTimeout(ok, ms));
  const frames = [];
  let pen = true;
  const frame = (t) => { frames.push(t); if (pen) requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  pad.dispatchEvent(new PointerEvent('pointerdown', at(points[0])));
  const start = performance.now();
  for (let i = 0; i + 1 < points.length; i += 1) {
    for (let k = 1; k <= steps; k += 1) {
      const p = [points[i][0] + (points[i + 1][0] - points[i][0]) * k / steps,
                 points[i][1] + (points[i + 1][1] - points[i][1]) * k / steps];
      pad.dispatchEvent(new PointerEvent('pointermove', at(p)));
      await wait(1000 / hz);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const during = draw.updates() - before;
  pen = false;
  const up = performance.now();
  pad.dispatchEvent(new PointerEvent('pointerup', at(points[points.length - 1])));
  await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
  return {perSecond: during / seconds, penUpMs: performance.now() - up,
          frames: frames.slice(1).map((t, i) => t - frames[i]),
          answer: document.querySelector('.nv-answer').innerText};
}"""

# The neighbours' lookup alone for the input shown, as the panel makes it on each update.
LOOKUP = """async (n) => { const x = window.cnnPage.draw.experiments, data = x.neighbours.stored.data;
  const times = [];
  for (let k = 0; k < n; k += 1) {
    const t = performance.now(); data.nearest(x.run, x.run.pixels); times.push(performance.now() - t);
  }
  return times; }"""


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def measure_drawing(page, joins, strokes: int) -> dict:
    """Strokes through the browser's input pipeline (Playwright's mouse), then a fast pen's
    (pointer events dispatched in the page at 120 Hz): updates per second, each update's cost,
    the frames painted while the pen moved, pen-up to the final view, requests sent."""
    driven, pngs, requests = [], [], 0
    first_update = page.evaluate("window.cnnPage.draw.updates()")
    for k in range(strokes):
        page.locator(".pad-clear").click()
        points = LETTERS[k % len(LETTERS)]
        box = page.locator("canvas.pad").bounding_box()
        at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
        page.mouse.move(*at(*points[0]))
        before, sent = page.evaluate("window.cnnPage.draw.updates()"), len(joins)
        page.mouse.down()
        start = time.perf_counter()
        for (ax, ay), (bx, by) in zip(points, points[1:]):
            for s in range(1, 9):
                page.mouse.move(*at(ax + (bx - ax) * s / 8, ay + (by - ay) * s / 8))
        seconds = time.perf_counter() - start
        requests += len(joins) - sent
        page.mouse.up()
        driven.append((page.evaluate("window.cnnPage.draw.updates()") - before) / seconds)
        pngs.append(page.evaluate("document.querySelector('canvas.pad').toDataURL('image/png')"))
    # these strokes' own updates, of the last 1,000 the tab keeps
    made = min(1000, page.evaluate("window.cnnPage.draw.updates()") - first_update)
    costs = page.evaluate(f"window.cnnPage.draw.costs.slice(-{made})")
    fast = [page.evaluate(IN_PAGE_STROKE, [LETTERS[k % 3], 120, 15]) for k in range(strokes)]
    return {"driven": driven, "pngs": pngs, "requests": requests, "costs": costs, "fast": fast,
            "frames": [gap for f in fast for gap in f["frames"]]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--strokes", type=int, default=20)
    args = p.parse_args()
    from playwright.sync_api import sync_playwright
    bare, bare_cold = start_app(free_port(), script="benchmarks/bare_app.py")
    stop_app(bare)
    port = free_port()
    proc, cold = start_app(port)
    url = f"http://127.0.0.1:{port}/"
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            joins = []
            page.on("request", lambda r: joins.append(r.url) if "/queue/join" in r.url else None)
            page.goto(url)
            page.locator("#draw-view [data-ready=true]").wait_for(state="attached", timeout=60000)
            # The page's own start-up requests (its queued "load" events) are in before the
            # count starts: polled, with a deadline, since they may already have been sent.
            loads = page.evaluate("window.gradio_config.dependencies.filter(d => d.queue !== false"
                                  " && d.targets.some(t => t[1] === 'load')).length")
            deadline = time.perf_counter() + 10
            while len(joins) < loads and time.perf_counter() < deadline:
                page.wait_for_timeout(20)   # lets Playwright deliver the request events
            baseline = len(joins)

            closed = measure_drawing(page, joins, args.strokes)
            after_requests = len(joins) - baseline
            page.evaluate("document.querySelectorAll('#draw-view details.ex-part')"
                          ".forEach((d) => { d.open = true; })")
            page.wait_for_function("() => document.querySelectorAll('#draw-view .ex-neighbour-row')"
                                   ".length === 2", timeout=30000)
            opened = measure_drawing(page, joins, args.strokes)
            lookups = page.evaluate(LOOKUP, 200)
            browser.close()
            pngs = closed["pngs"]

        # 3. The reference: the same drawings' PNGs through the server's /classify_sketch.
        from gradio_client import Client
        client = Client(url, download_files=False, verbose=False)
        client.predict(pngs[0], api_name="/classify_sketch")  # first-call costs
        round_trips = []
        for png in pngs:
            start = time.perf_counter()
            client.predict(png, api_name="/classify_sketch")
            round_trips.append(1000 * (time.perf_counter() - start))
    finally:
        stop_app(proc)

    print(f"{args.strokes} strokes per way, headless Chromium, 1366x768, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for label, found in (("panels closed", closed), ("panels open", opened)):
        costs, gaps = found["costs"], found["frames"]
        print(f"{label}:")
        print(f"  page compute per update       p50 {statistics.median(costs):6.2f} ms   "
              f"p95 {percentile(costs, 0.95):6.2f} ms   ({len(costs)} updates)")
        print(f"  updates/s, Playwright's mouse  median {statistics.median(found['driven']):6.1f}   "
              f"min {min(found['driven']):6.1f}   (bounded by how fast Playwright moves the mouse)")
        rates = [f["perSecond"] for f in found["fast"]]
        print(f"  updates/s, 120 Hz pen events   median {statistics.median(rates):6.1f}   "
              f"min {min(rates):6.1f}")
        print(f"  frame interval while drawing  p50 {statistics.median(gaps):6.2f} ms   "
              f"p95 {percentile(gaps, 0.95):6.2f} ms   max {max(gaps):6.2f} ms   (16.7 ms: 60 a second)")
        ups = [f["penUpMs"] for f in found["fast"]]
        print(f"  pen-up -> final view painted   p50 {statistics.median(ups):6.2f} ms   "
              f"max {max(ups):6.2f} ms")
        print(f"  requests while the pen moved   {found['requests']} in {args.strokes} drawings")
    print(f"neighbours lookup per update    p50 {statistics.median(lookups):6.2f} ms   "
          f"p95 {percentile(lookups, 0.95):6.2f} ms   (target: 5 ms)")
    print(f"requests from the first stroke to the last pen-up, panels closed, Clear included: "
          f"{after_requests}")
    print(f"cold start to the first page: app.py {cold:.2f} s, bare Gradio app {bare_cold:.2f} s")
    print(f"reference: pen-up -> label through /classify_sketch   p50 "
          f"{statistics.median(round_trips):6.1f} ms   p95 {percentile(round_trips, 0.95):6.1f} ms")


if __name__ == "__main__":
    main()
