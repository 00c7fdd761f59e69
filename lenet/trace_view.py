"""Pictures of one traced value (``lenet.trace``): a channel's map shown large, the receptive
field outlined on the network's input, and the input patch, kernel and products side by side
with their numbers. Plain arrays and ``Trace`` objects in, PIL images out; no Gradio here.
"""
from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw

from .scales import with_colour_bar
from .trace import Trace
from .visualize import _font, diverging_rgb, enlarge

BIG = 280         # pixels: the longer side of a channel's map opened large
CELL = 30         # pixels per number in the patch / kernel / products tiles
SMALL_CELL = 12   # ... when there are too many input channels for numbers
MARK = (20, 20, 20)


def channel_scale(values: np.ndarray) -> float:
    return float(np.abs(values).max()) or 1.0


def big_factor(shape: tuple[int, int], size: int = BIG) -> int:
    """How many screen pixels one value of a (H, W) map gets when it is opened large."""
    return max(1, size // max(shape))


def channel_picture(values: np.ndarray, mark: tuple[int, int] | None = None,
                    size: int = BIG) -> Image.Image:
    """One channel's (H, W) map, enlarged crisply, with ``mark`` = (y, x) outlined and a
    colour bar of its real range. Click positions map back with ``big_factor``."""
    k = big_factor(values.shape, size)
    image = enlarge(Image.fromarray(diverging_rgb(values, channel_scale(values))), k * max(values.shape))
    if mark is not None:
        y, x = mark
        ImageDraw.Draw(image).rectangle([x * k, y * k, (x + 1) * k - 1, (y + 1) * k - 1],
                                        outline=MARK, width=max(1, k // 8))
    return with_colour_bar(image, float(values.min()), float(values.max()))


def receptive_field_picture(input_image: Image.Image, box: tuple[int, int, int, int],
                            size: int = 224) -> Image.Image:
    """The network's input, enlarged, with the receptive field [top, left, bottom, right]
    (inclusive input pixels) outlined."""
    image = enlarge(input_image.convert("RGB"), size)
    k = image.width // input_image.width
    top, left, bottom, right = box
    draw = ImageDraw.Draw(image)
    draw.rectangle([left * k, top * k, (right + 1) * k - 1, (bottom + 1) * k - 1],
                   outline=(255, 200, 0), width=3)
    draw.rectangle([left * k - 1, top * k - 1, (right + 1) * k, (bottom + 1) * k],
                   outline=(0, 0, 0), width=1)
    return image


def trace_picture(t: Trace, max_rows: int = 16) -> Image.Image | None:
    """conv: one row per input channel, columns input patch | kernel | products, numbers in
    the cells when they fit; pool: the window with the winner outlined. Linear layers have
    nothing spatial to show: None (their sum is in the words)."""
    if t.kind == "linear":
        return None
    if t.kind == "pool":
        return _tiles([[t.inputs[0]]], ["window"], [f"{t.source} #{t.channel}"], CELL,
                      winner=t.winner)
    order = np.argsort(-np.abs(t.products).sum(axis=(1, 2)))[:max_rows]
    order.sort()
    rows = [[t.inputs[c], t.weights[c], t.products[c]] for c in order]
    cell = CELL if len(rows) <= 6 and t.inputs.shape[-1] <= 5 else SMALL_CELL
    names = [f"{t.source} ch {c}" for c in order]
    return _tiles(rows, ["input patch", "kernel", "input x kernel"], names, cell)


@functools.lru_cache(maxsize=4096)
def _number_mask(text: str, size: int) -> Image.Image:
    """``text`` rendered once as a mask; pasting it is much cheaper than drawing text, and a
    trace writes up to a few hundred numbers."""
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    mask = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(mask).text((-left, -top), text, fill=255, font=font)
    return mask


def _tiles(rows: list[list[np.ndarray]], headers: list[str], names: list[str], cell: int,
           winner: tuple[int, int] | None = None) -> Image.Image:
    """A table of small maps: each column on one diverging scale, numbers written when the
    cells are big enough."""
    font = _font(9 if cell < 20 else 10)
    kh, kw = rows[0][0].shape
    tile_w, tile_h, gap, left, head = kw * cell, kh * cell, 10, 86, 16
    width = left + len(headers) * (tile_w + gap)
    height = head + len(rows) * (tile_h + gap)
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    scales = [max(float(np.abs(r[j]).max()) for r in rows) or 1.0 for j in range(len(headers))]
    for j, title in enumerate(headers):
        draw.text((left + j * (tile_w + gap), 2), title, fill=(60, 60, 60), font=font)
    for i, row in enumerate(rows):
        y0 = head + i * (tile_h + gap)
        draw.text((2, y0 + tile_h // 2 - 5), names[i], fill=(60, 60, 60), font=font)
        for j, values in enumerate(row):
            x0 = left + j * (tile_w + gap)
            colours = diverging_rgb(values, scales[j]).repeat(cell, 0).repeat(cell, 1)
            sheet.paste(Image.fromarray(colours), (x0, y0))
            if cell >= 20:
                for (r, c), v in np.ndenumerate(values):
                    mask = _number_mask(f"{v:.2f}", font.size)
                    dark = abs(v) > 0.6 * scales[j]
                    at = (x0 + c * cell + (cell - mask.width) // 2,
                          y0 + r * cell + (cell - mask.height) // 2)
                    sheet.paste((255, 255, 255) if dark else (30, 30, 30), at, mask)
            if winner is not None:
                r, c = winner
                draw.rectangle([x0 + c * cell, y0 + r * cell, x0 + (c + 1) * cell - 1,
                                y0 + (r + 1) * cell - 1], outline=MARK, width=2)
    return sheet
