"""Write the building-blocks tab's files that the page reads and Python makes, so that each is
made once, in Python:

    python tools/blocks_files.py

web/blocks_tab.json  the tab's menus, ranges, defaults and the words of its messages
                     (ui.blocks.page_constants), one entry a line
web/blocks_sample.png  the sample picture (ui.blocks.sample_picture), lossless

tests/test_blocks_page.py fails while either file differs from what this writes.
"""
from __future__ import annotations

import json
from pathlib import Path

from lenet.inputs.images import png_bytes
from ui.blocks import page_constants, sample_picture

ROOT = Path(__file__).resolve().parent.parent
CONSTANTS = ROOT / "web" / "blocks_tab.json"
SAMPLE = ROOT / "web" / "blocks_sample.png"


def render_constants() -> str:
    return json.dumps(page_constants(), indent=1, ensure_ascii=False) + "\n"


def main() -> None:
    CONSTANTS.write_text(render_constants(), encoding="utf-8")
    SAMPLE.write_bytes(png_bytes(sample_picture()))


if __name__ == "__main__":
    main()
