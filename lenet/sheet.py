"""Labelled sheets of test images, as the course drew them: each image titled with its true
label and the prediction, wrong ones in red. ``tile_at`` maps a click on a sheet back to the
image under it. Arrays in, PIL images out; nothing here loads data or knows about Gradio.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .visualize import _font

RIGHT, WRONG = (40, 40, 40), (200, 20, 20)
LINE = 12   # pixels per caption line


@dataclass(frozen=True)
class SheetLayout:
    columns: int
    tile: int        # pixels of one enlarged image
    cell_w: int
    cell_h: int

    def index_at(self, x: float, y: float, count: int) -> int | None:
        """Which of ``count`` images the point (x, y) of the sheet falls on, or None."""
        col, row = int(x) // self.cell_w, int(y) // self.cell_h
        if x < 0 or y < 0 or col >= self.columns:
            return None
        index = row * self.columns + col
        return index if index < count else None


def labelled_sheet(images: list[np.ndarray], captions: list[list[str]], wrong: list[bool],
                   columns: int = 8, tile: int = 84) -> tuple[Image.Image, SheetLayout]:
    """``images`` ((H, W) or (H, W, 3) uint8) enlarged crisply to about ``tile`` pixels, each
    with its caption lines under it, red where ``wrong``; returns the sheet and its layout."""
    h, w = images[0].shape[:2]
    factor = max(1, tile // max(h, w))
    tile = max(h, w) * factor
    lines = max((len(c) for c in captions), default=1)
    cell_w, cell_h = max(tile, 96) + 6, tile + lines * LINE + 8
    rows = max(1, -(-len(images) // columns))
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), "white")
    draw, font = ImageDraw.Draw(sheet), _font(10)
    for k, (image, caption, bad) in enumerate(zip(images, captions, wrong)):
        x, y = (k % columns) * cell_w, (k // columns) * cell_h
        picture = Image.fromarray(image.squeeze()).convert("RGB")
        picture = picture.resize((w * factor, h * factor), Image.NEAREST)
        sheet.paste(picture, (x + (cell_w - picture.width) // 2, y + 2))
        if bad:  # a red frame as well as red words: visible at a glance
            draw.rectangle([x + (cell_w - picture.width) // 2 - 2, y, x + (cell_w + picture.width) // 2 + 1,
                            y + picture.height + 3], outline=WRONG, width=2)
        for j, line in enumerate(caption):
            draw.text((x + cell_w // 2, y + tile + 5 + j * LINE), line, fill=WRONG if bad else RIGHT,
                      font=font, anchor="ma")
    return sheet, SheetLayout(columns, tile, cell_w, cell_h)
