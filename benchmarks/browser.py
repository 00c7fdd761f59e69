"""Shared by the browser tests and the browser benchmarks: start ``python app.py`` on a free
port, open Debian's Chromium through Playwright, and know when each tab has its results."""
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

# Conditions run in the page (``page.wait_for_function``): tests and benchmarks wait for
# these, never for a fixed time.
DRAW_ANSWERED = ("() => { const a = document.querySelector('#draw-view .nv-answer');"
                 " return !!a && !a.hasAttribute('aria-busy') && a.innerText.includes(' with '); }")
# Each tab's first results, by its title (opening the building blocks or the lab runs them;
# the gallery's sheet and the live views appear when their tab is first shown).
TAB_SHOWN = {
    "Draw a digit": DRAW_ANSWERED,
    "Classify a photo": "() => !!document.querySelector("
                        "'#photo-view [data-ready=true], #photo-view[data-ready=true]')",
    "Test-set gallery": "() => !!document.querySelector('#gallery-view [data-ready=true]"
                        " #gallery-sheet .gl-tile img, #gallery-view[data-ready=true] #gallery-sheet"
                        " .gl-tile img')",
    "Building blocks": "() => !!document.querySelector('#blocks-view [data-ready=true],"
                       " #blocks-view[data-ready=true]')"
                       " && document.querySelector('#blocks-status').innerText.includes('→')",
    # its curves, or its one line asking for a drawing or a photo ("... first.")
    "Invariance lab": "() => (!!document.querySelector('#lab-rotation .chart-marker')"
                      " && !!document.querySelector('#lab-shift .chart-marker'))"
                      " || /first\\.$/.test(document.querySelector('#lab-status')?.innerText || '')",
    "Inside the models": "() => !!document.querySelector('#inside-view[data-ready=true],"
                         " #inside-view [data-ready=true]') && [...document.querySelectorAll("
                         "'#inside-view section[data-model]')].some(s => s.offsetParent)",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, timeout: float = 60, script: str = "app.py",
              cwd: Path = ROOT) -> tuple[subprocess.Popen, float]:
    """``python app.py`` (or ``script``, run in ``cwd``) on ``port``; returns the process and
    the seconds until its page was served."""
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    errors = tempfile.TemporaryFile("w+")  # a file, not a pipe: a chatty server never blocks
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, script], cwd=cwd, env=env,
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


def draw_stroke(page, points, steps=6) -> None:
    """One stroke of the mouse on the draw tab's pad through ``points`` (fractions of the pad),
    ``steps`` moves between each two."""
    pad = page.locator("canvas.pad")
    pad.wait_for(state="visible")      # its tab shown (back from another tab)
    box = pad.bounding_box()
    at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
    page.mouse.move(*at(*points[0]))
    page.mouse.down()
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        for k in range(1, steps + 1):
            page.mouse.move(*at(ax + (bx - ax) * k / steps, ay + (by - ay) * k / steps))
    page.mouse.up()
