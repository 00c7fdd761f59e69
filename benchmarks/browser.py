"""Shared by the browser test and the browser benchmarks: start ``python app.py`` on a free
port, open Debian's Chromium through Playwright, draw on the pad, time what the page shows."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]

# Records when the pen lifts and every time the "what the network sees" picture changes
# (each server response gives it a new URL), in the page's own clock.
OBSERVE = """() => {
  window.__updates = []; window.__up = null; window.__lastSrc = null;
  const target = document.querySelector('#lenet5-seen');
  new MutationObserver(() => {
    const img = target.querySelector('img');
    const src = img ? img.getAttribute('src') : null;
    if (src && src !== window.__lastSrc) { window.__lastSrc = src; window.__updates.push(performance.now()); }
  }).observe(target, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
  document.querySelector('canvas.pad').addEventListener('pointerup',
      () => { window.__up = performance.now(); });
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, timeout: float = 60,
              script: str = "app.py") -> tuple[subprocess.Popen, float]:
    """``python app.py`` (or ``script``) on ``port``; returns the process and the seconds
    until its page was served."""
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    errors = tempfile.TemporaryFile("w+")  # a file, not a pipe: a chatty server never blocks
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, script], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=errors, text=True)
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            errors.seek(0)
            raise RuntimeError(f"{script} exited: {errors.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                if response.status == 200:
                    return proc, time.perf_counter() - start
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise TimeoutError(f"{script} did not serve its page in time")


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)


def draw(page, points, steps: int = 8, pause: float = 0.0) -> dict:
    """Draw one stroke through ``points`` (fractions of the pad), ``steps`` moves per segment
    with ``pause`` seconds between moves; wait for the page to settle and return its timings:
    seconds drawing, updates shown while drawing, ms from pen-up to the last update after it
    (None when the drawing at pen-up was already the one shown: nothing new to send)."""
    box = page.locator("canvas.pad").bounding_box()
    at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
    page.evaluate("() => { window.__updates = []; }")
    page.mouse.move(*at(*points[0]))
    page.mouse.down()
    start = page.evaluate("() => performance.now()")
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        for k in range(1, steps + 1):
            t = k / steps
            page.mouse.move(*at(ax + (bx - ax) * t, ay + (by - ay) * t))
            if pause:
                time.sleep(pause)
    page.mouse.up()
    deadline = time.perf_counter() + 15
    while time.perf_counter() < deadline:  # until an update after pen-up, then 0.6 s of quiet
        time.sleep(0.2)
        up, updates = page.evaluate("() => [window.__up, window.__updates]")
        now = page.evaluate("() => performance.now()")
        if up is not None and updates and updates[-1] > up and now - updates[-1] > 600:
            break
        if up is not None and now - up > 3000:  # the pad sent nothing new at pen-up: the
            break                               # last update already showed the final drawing
    during = [u for u in updates if u <= up]
    after = [u for u in updates if u > up]
    seconds = (up - start) / 1000
    return {"seconds": seconds, "updates": len(during),
            "per_second": len(during) / seconds if seconds else 0.0,
            "pen_up_to_label_ms": (after[-1] - up) if after else None}
