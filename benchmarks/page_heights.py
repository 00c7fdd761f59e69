"""Every tab's page height (from the top of the page to the end of the tab), as a visitor
sees it, on a laptop (1366x768) and a phone (390x844),
in headless Chromium: the draw tab with a 7 drawn on the pad, the photo tab with a CIFAR-10
ship uploaded, the other tabs as they open. Also whether the page scrolls sideways.

    python benchmarks/page_heights.py [--app-dir DIR] [--screenshots OUT]

Run it on an older checkout with ``--app-dir`` to measure before and after in one sitting;
``--screenshots OUT`` also saves what the screen shows of each tab, at each size, as
``OUT/<width>x<height>-<n>.png`` (the first two at 1366x768 are README's docs/screenshot.png
and docs/photo.png).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from browser import DRAW_ANSWERED, ROOT, TAB_SHOWN, free_port, launch, start_app, stop_app

SIZES = {"laptop 1366x768": (1366, 768), "phone 390x844": (390, 844)}
SHIP = ROOT.parent / "shared" / "data" / "cifar10" / "test" / "ship" / "0001.jpg"
SEVEN = [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)]
# What the page shows once it has settled, as functions run in the page: heights are measured
# then, not after a fixed pause.
DRAW_READY = "() => !!document.querySelector('#draw-view [data-ready=true], #draw-view[data-ready=true]')"
PHOTO_SHOWN = ("() => window.cnnPage?.photo?.state.pixels != null"
               " && document.querySelector('#photo-view .nv-answer').innerText.includes(' with ')")
PICTURES_IN = """() => [...document.querySelectorAll('[role=tabpanel] img')]
    .filter(i => i.offsetParent).every(i => i.complete)"""


def stroke(page, points):
    box = page.locator("canvas.pad").bounding_box()
    at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
    page.mouse.move(*at(*points[0]))
    page.mouse.down()
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        for k in range(1, 7):
            page.mouse.move(*at(ax + (bx - ax) * k / 6, ay + (by - ay) * k / 6))
    page.mouse.up()


def settle(page, condition: str, what: str) -> None:
    """Wait until ``condition`` holds and every picture shown in the open tab has loaded. A
    checkout whose page lacks what a condition reads (``--app-dir``) is measured as it is
    after the timeout, with a note."""
    try:
        page.wait_for_function(condition, timeout=20000)
        page.wait_for_function(PICTURES_IN, timeout=20000)
    except Exception as exc:   # playwright's TimeoutError
        print(f"({what}: not settled, measured as it was: {str(exc).splitlines()[0]})",
              file=sys.stderr)


def tab_names(page) -> list[str]:
    """Every tab, folded into Gradio's "More tabs" menu or not (its hidden measuring row)."""
    return page.evaluate("""() => {
        const hidden = [...document.querySelectorAll('.tab-container.visually-hidden button')];
        const shown = [...document.querySelectorAll('[role=tab]')];
        return (hidden.length ? hidden : shown).map(t => t.innerText.trim()); }""")


def open_tab(page, index: int, name: str) -> None:
    """Click the tab; on a phone Gradio may have folded it into its overflow menu."""
    tab = page.get_by_role("tab", name=name)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
    else:
        page.get_by_label("More tabs").click()
        page.locator(".overflow-dropdown button", has_text=name).click()
    settle(page, TAB_SHOWN.get(name, "() => true"), name)


def measure(url: str, width: int, height: int, chromium,
            shots: Path | None = None) -> dict[str, tuple[int, int]]:
    page = chromium.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    page.locator("canvas.pad").wait_for(timeout=60000)
    settle(page, DRAW_READY, "the draw tab")
    names = tab_names(page)
    out = {}
    for index, name in enumerate(names):
        if index:
            open_tab(page, index, name)
        if index == 0:
            stroke(page, SEVEN)
            settle(page, DRAW_ANSWERED, "the drawn 7")
        if index == 1 and SHIP.exists():
            page.locator("#photo-input input[type=file]").set_input_files(str(SHIP))
            settle(page, PHOTO_SHOWN, "the ship photo")
        # Down to the end of the open tab: the document itself is never shorter than the
        # window, which would hide a page shorter than the screen.
        out[name] = page.evaluate("""() => [Math.round(Math.max(...[...document.querySelectorAll(
            '[role=tabpanel]')].filter(p => p.offsetParent).map(p => p.getBoundingClientRect().bottom))
            + window.scrollY), document.documentElement.scrollWidth]""")
        if shots:
            page.evaluate("() => window.scrollTo(0, 0)")
            page.screenshot(path=str(shots / f"{width}x{height}-{index + 1}.png"))
    page.close()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout whose app.py to run")
    p.add_argument("--screenshots", type=Path, help="a folder for what the screen shows of each tab")
    args = p.parse_args()
    from playwright.sync_api import sync_playwright
    port = free_port()
    proc, _ = start_app(port, script=str(args.app_dir / "app.py"), cwd=args.app_dir)
    try:
        with sync_playwright() as pw:
            chromium = launch(pw)
            for size, (w, h) in SIZES.items():
                if args.screenshots:
                    args.screenshots.mkdir(parents=True, exist_ok=True)
                shown = measure(f"http://127.0.0.1:{port}/", w, h, chromium, args.screenshots)
                for name, (tall, wide) in shown.items():
                    sideways = f"  scrolls sideways ({wide} px)" if wide > w else ""
                    print(f"{size:<16} {name:<40} {tall:6,d} px{sideways}")
            chromium.close()
    finally:
        stop_app(proc)


if __name__ == "__main__":
    main()
