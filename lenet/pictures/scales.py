"""Pictures that carry a colour scale: the scale itself as a labelled bar, and every learned
kernel of a conv layer on one diverging scale.

Built on ``visualize``'s colour maps (``DIVERGING``, ``HEAT``: matplotlib's RdBu_r and
inferno) so a bar beside a feature map, Grad-CAM, saliency or kernel picture shows exactly the
colours of that picture. Takes arrays
or tensors and returns PIL images; nothing here loads models or knows about Gradio.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from lenet.pictures.visualize import _font, diverging_rgb, heat_rgb

# ---------------------------------------------------------------------------- colour bars

def map_range(maps: np.ndarray) -> tuple[float, float]:
    """(minimum, maximum) of ``maps``: the ends of their ``colour_bar``."""
    return float(np.min(maps)), float(np.max(maps))


def colour_bar(lo: float, hi: float, kind: str = "diverging", width: int = 224,
               height: int = 28) -> Image.Image:
    """A horizontal colour scale from ``lo`` (left) to ``hi`` (right), values written under it.

    "diverging" colours as ``feature_map_grid`` and ``kernel_grid`` do: symmetric around
    zero, ±max(|lo|, |hi|) at the colour map's ends, so with a picture's own minimum and
    maximum the bar shows exactly its colours; 0 is marked where it falls inside. "heat"
    runs ``HEAT`` from ``lo`` to ``hi`` (Grad-CAM and saliency, scaled to [0, 1]).
    """
    if kind not in ("diverging", "heat"):
        raise ValueError(f"kind must be 'diverging' or 'heat', not {kind!r}")
    lo, hi = float(lo), float(hi)
    if lo > hi:
        raise ValueError(f"lo ({lo}) is above hi ({hi})")
    values = np.linspace(lo, hi, width)
    if kind == "diverging":
        row = diverging_rgb(values, max(abs(lo), abs(hi)))
    else:
        t = (values - lo) / (hi - lo) if hi > lo else np.zeros(width)
        row = heat_rgb(t)
    bar = max(4, height - 14)  # the rest is one line of text
    sheet = np.full((height, width, 3), 255, np.uint8)
    sheet[:bar] = row
    image = Image.fromarray(sheet)
    draw, font, ink = ImageDraw.Draw(image), _font(10), (60, 60, 60)
    left, right = _number(lo), _number(hi)
    draw.text((0, bar + 3), left, fill=ink, font=font)
    draw.text((width, bar + 3), right, fill=ink, font=font, anchor="ra")
    if kind == "diverging" and lo < 0 < hi:
        x = round(-lo / (hi - lo) * (width - 1))
        if font.getlength(left) + 10 < x < width - font.getlength(right) - 10:
            draw.line([(x, bar), (x, bar + 2)], fill=ink)
            draw.text((x, bar + 3), "0", fill=ink, font=font, anchor="ma")
    return image


def with_colour_bar(image: Image.Image, lo: float, hi: float, kind: str = "diverging",
                    gap: int = 4) -> Image.Image:
    """``image`` with its ``colour_bar`` (as wide as the image, at least 112 px) under it."""
    bar = colour_bar(lo, hi, kind, width=max(112, min(image.width, 320)))
    sheet = Image.new("RGB", (max(image.width, bar.width), image.height + gap + bar.height),
                      "white")
    sheet.paste(image.convert("RGB"), ((sheet.width - image.width) // 2, 0))
    sheet.paste(bar, ((sheet.width - bar.width) // 2, image.height + gap))
    return sheet


def _number(v: float) -> str:
    """Three significant digits, compact exponent: 0.0123, 2.35, -1.2e3."""
    text = f"{v:.3g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return "0" if text in ("-0", "0") else text


# ---------------------------------------------------------------------------- kernels

def kernel_grid(weight, title: str | None = None, in_names=None,
                max_side: int = 1000) -> Image.Image:
    """Every kernel of a conv layer (O, I, kh, kw): one row per output channel, one column
    per input channel, all on one diverging scale, ±max|w| of the whole layer.

    Tiles are as large as fit in ``max_side`` pixels (at most 40); when the rows do not fit
    they wrap into bands side by side, each with its column captions. Input columns are
    named ``in_names`` (default R, G, B for three inputs, else their numbers). The scale
    for a ``colour_bar`` is ±``np.abs(weight).max()``.
    """
    w = np.asarray(weight.detach().cpu() if hasattr(weight, "detach") else weight, np.float64)
    outs, ins, kh, kw = w.shape
    names = list(in_names or (("R", "G", "B") if ins == 3 else map(str, range(ins))))
    layout = _kernel_layout(outs, ins, kh, kw, max_side, title)
    colours = diverging_rgb(w, float(np.abs(w).max()))           # (O, I, kh, kw, 3)
    p = layout.pixels
    sheet = np.full((layout.height, layout.width, 3), 255, np.uint8)
    for b in range(layout.bands):
        x, rows = layout.band_x(b), min(layout.rows, outs - b * layout.rows)
        sheet[layout.top - 1:layout.top + rows * layout.cell, x - 1:x + ins * layout.cell] = 170
    for o in range(outs):
        for i in range(ins):
            x, y = layout.tile(o, i)
            sheet[y:y + kh * p, x:x + kw * p] = colours[o, i].repeat(p, 0).repeat(p, 1)
    image = Image.fromarray(sheet)
    draw, font, ink = ImageDraw.Draw(image), _font(10), (60, 60, 60)
    draw.text((2, 1), layout.title, fill=ink, font=font)
    for b in range(layout.bands if ins > 1 else 0):   # one input channel needs no caption
        every_column = _every(layout.cell, max(font.getlength(n) for n in names) + 2)
        for i in range(0, ins, every_column):
            x, _ = layout.tile(b * layout.rows, i)
            draw.text((x + kw * p / 2, layout.top - 2), names[i], fill=ink, font=font,
                      anchor="md")
    for o in range(0, outs, _every(layout.cell, 10)):
        x, y = layout.tile(o, 0)
        draw.text((x - 3, y + kh * p / 2), str(o), fill=ink, font=font, anchor="rm")
    return image


def _every(cell: int, needed: float) -> int:
    """Caption every n-th cell, n a power of two, so that captions do not collide."""
    n = 1
    while n * cell < needed:
        n *= 2
    return n


class _KernelLayout:
    """Where each kernel's tile goes: bands of ``rows`` output channels side by side."""

    def __init__(self, outs, ins, kh, kw, pixels, bands, title):
        self.pixels, self.bands, self.title = pixels, bands, title
        self.rows = -(-outs // bands)
        self.cell = max(kh, kw) * pixels + (1 if pixels <= 3 else 2)
        self.label = 6 * len(str(outs - 1)) + 6          # row numbers, about 6 px a digit
        self.band_w = self.label + ins * self.cell + 10
        self.top = 28                                     # title line and column captions
        self.grid_width = bands * self.band_w
        self.width = max(self.grid_width, 6 * len(title) + 8)
        self.height = self.top + self.rows * self.cell + 2

    def band_x(self, band: int) -> int:
        return band * self.band_w + self.label

    def tile(self, o: int, i: int) -> tuple[int, int]:
        """(x, y) of the top-left pixel of kernel (o, i)."""
        return self.band_x(o // self.rows) + i * self.cell, self.top + (o % self.rows) * self.cell


def _kernel_layout(outs, ins, kh, kw, max_side, title=None) -> _KernelLayout:
    """The largest tiles that fit ``max_side``; then the bands closest to a 4:3 picture."""
    title = (f"{title}: " if title else "") + (f"{outs}x{ins} kernels {kh}x{kw} (rows: output "
                                               f"channels, columns: input channels)")
    for pixels in range(max(1, 40 // max(kh, kw)), 0, -1):
        layouts = [_KernelLayout(outs, ins, kh, kw, pixels, bands, title)
                   for bands in range(1, outs + 1)]
        fitting = [t for t in layouts if max(t.width, t.height) <= max_side] or (
            layouts if pixels == 1 else [])
        if fitting:
            return min(fitting, key=lambda t: abs(np.log(t.grid_width / t.height / (4 / 3))))
