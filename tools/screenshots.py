"""The README's screenshots of the live views: a drawn 7 on a laptop (1366x768), on a
projector (1024x768, with and without Large text) and on a phone (390x844), and a photo.

    python tools/screenshots.py [--photo PATH] [--out docs]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "benchmarks")]

from browser import DRAW_ANSWERED, draw_stroke, free_port, launch, start_app, stop_app  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

SEVEN = [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)]   # fractions of the pad
SHOTS = {   # file -> (width, height, large text, phone)
    "screenshot.png": (1366, 768, False, False),
    "projector.png": (1024, 768, False, False),
    "projector-large-text.png": (1024, 768, True, False),
    "phone.png": (390, 844, False, True),
}


def draw(page, points) -> None:
    draw_stroke(page, points, steps=8)
    page.wait_for_function(DRAW_ANSWERED)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--photo", type=Path, default=ROOT.parent / "shared/data/cifar10/test/ship/0001.jpg")
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    args = p.parse_args()
    port = free_port()
    proc, _ = start_app(port)
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            for name, (width, height, large, phone) in SHOTS.items():
                context = browser.new_context(viewport={"width": width, "height": height},
                                              is_mobile=phone, has_touch=phone)
                page = context.new_page()
                page.goto(f"http://127.0.0.1:{port}/")
                page.locator("#draw-view [data-ready=true]").wait_for(state="attached", timeout=30000)
                if large:
                    page.locator("#large-text input").check()
                page.evaluate("document.fonts.ready.then(() => true)")   # no text reflows mid-stroke
                draw(page, SEVEN)
                page.screenshot(path=str(args.out / name))
                context.close()
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("tab", name="Classify a photo").click()
            page.locator("#photo-view [data-ready=true]").wait_for(state="attached", timeout=30000)
            page.locator("#photo-input input[type=file]").set_input_files(str(args.photo))
            page.wait_for_function("() => window.cnnPage.photo.state.pixels !== null")
            page.screenshot(path=str(args.out / "photo.png"))
            browser.close()
    finally:
        stop_app(proc)


if __name__ == "__main__":
    main()
