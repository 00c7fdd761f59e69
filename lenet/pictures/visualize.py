"""Pictures: feature-map grids, filters, heatmap overlays, tables and training plots.

Everything here takes plain arrays, tensors or dicts and returns PIL images (or rows for a
table); nothing here loads models or knows about Gradio. matplotlib is imported lazily, by
the plotting functions and on the first use of a colour table, so the app starts fast.
"""
from __future__ import annotations

import functools
import io
import math

import numpy as np
import torch
from PIL import Image, ImageOps

from lenet.inside.blocks import BlockError
from lenet.inside.invariance import Occlusion

# ---------------------------------------------------------------------------- plots

def _figure_to_image(fig) -> Image.Image:
    import matplotlib.pyplot as plt
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_training_curves(history: list[dict], title: str) -> Image.Image:
    """Train and validation loss, and validation accuracy, per epoch."""
    plt = _pyplot()
    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax_loss.plot(epochs, [h["train_loss"] for h in history], "o-", label="train")
    ax_loss.plot(epochs, [h["val_loss"] for h in history], "o-", label="validation")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title=f"{title}: loss")
    ax_loss.legend()
    ax_acc.plot(epochs, [100 * h["val_accuracy"] for h in history], "o-", color="tab:green")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title=f"{title}: validation accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    return _figure_to_image(fig)


def plot_lr_sweep(runs: dict[float, dict], title: str) -> Image.Image:
    """Per-step training loss and periodic validation loss for each learning rate."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, (lr, run) in enumerate(sorted(runs.items(), reverse=True)):
        color = f"C{i}"
        ax.plot(range(1, len(run["train"]) + 1), run["train"], color=color, alpha=0.35,
                lw=0.8, label=f"lr {lr:g} train")
        if run["val"]:
            steps, losses = zip(*run["val"])
            ax.plot(steps, losses, "o-", color=color, label=f"lr {lr:g} validation")
    ax.set(xlabel="step (batch of 64)", ylabel="cross-entropy loss",
           title=f"{title}: one epoch per learning rate", ylim=(0, 3))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _figure_to_image(fig)


# ---------------------------------------------------------------------------- colour maps

# DIVERGING, matplotlib's RdBu_r: negative blue, zero white, positive red, sign and size at a
# glance. HEAT, inferno: dark to bright, for heatmaps that are zero or positive.
DIVERGING, HEAT = "RdBu_r", "inferno"   # matplotlib's names


@functools.cache
def colour_table(name: str) -> np.ndarray:
    """matplotlib's colour map ``name`` as a read-only (256, 3) uint8 table. Built on first
    use: matplotlib's colour maps (not pyplot) are not imported with this module."""
    from matplotlib import colormaps
    table = colormaps[name](np.linspace(0, 1, 256), bytes=True)[:, :3]
    table.flags.writeable = False
    return table


def diverging_rgb(values: np.ndarray, scale: float) -> np.ndarray:
    """Signed values -> (..., 3) uint8; ``scale`` maps to the ends of the colour map."""
    t = np.clip(values / (scale if scale > 0 else 1.0), -1, 1)
    return colour_table(DIVERGING)[np.round((t + 1) * 127.5).astype(np.uint8)]


def heat_rgb(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> (..., 3) uint8 through ``HEAT``."""
    return colour_table(HEAT)[np.round(np.clip(values, 0, 1) * 255).astype(np.uint8)]


def enlarge_by(image: Image.Image, factor: int) -> Image.Image:
    """``image`` a whole ``factor`` times larger, every pixel a crisp square (nearest)."""
    return ImageOps.scale(image, factor, resample=Image.NEAREST)


def enlarge(image: Image.Image, size: int) -> Image.Image:
    """Nearest-neighbour upscale, a whole number of times, to at most about ``size`` pixels
    on the longer side, so every input pixel stays a crisp square."""
    return enlarge_by(image, max(1, size // max(image.size)))


# ---------------------------------------------------------------------------- grids

@functools.lru_cache(maxsize=4)
def _font(size: int):
    from PIL import ImageFont
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


GRID_GAP, GRID_CAPTION = 3, 12   # pixels between tiles; caption strip under each tile


def _grid_layout(layer: str, channels: int, h: int, w: int, tile: int, columns: int | None):
    columns = columns or min(channels, 16 if channels > 32 else 8)
    factor = max(1, tile // max(h, w))
    tw, th = w * factor, h * factor
    caption_w = 6 * len(f"{layer} #{channels - 1}")  # about 6 pixels a character at size 10
    cell_w, cell_h = max(tw, caption_w) + GRID_GAP, th + GRID_CAPTION + GRID_GAP
    return columns, -(-channels // columns), factor, tw, th, cell_w, cell_h


@functools.lru_cache(maxsize=64)
def _grid_background(layer: str, channels: int, h: int, w: int, tile: int,
                     columns: int | None) -> np.ndarray:
    """The white sheet with every caption drawn: the same for every request of a layer."""
    from PIL import ImageDraw
    columns, rows, _, _, th, cell_w, cell_h = _grid_layout(layer, channels, h, w, tile, columns)
    image = Image.new("RGB", (columns * cell_w, rows * cell_h), "white")
    draw, font = ImageDraw.Draw(image), _font(10)
    for c in range(channels):
        y, x = (c // columns) * cell_h, (c % columns) * cell_w
        draw.text((x, y + th), f"{layer} #{c}", fill=(60, 60, 60), font=font)
    background = np.asarray(image).copy()
    background.flags.writeable = False
    return background


def feature_map_grid(maps: np.ndarray, layer: str, tile: int = 64,
                     columns: int | None = None) -> Image.Image:
    """One captioned tile per channel of ``maps`` (C, H, W), a shared diverging scale.

    Tiles are nearest-neighbour upscaled to about ``tile`` pixels; 1x1 maps become squares.
    Captions are drawn once per layer layout and cached; a request only pastes tiles.
    """
    channels, h, w = maps.shape
    if max(h, w) < 4:  # C5's 1x1 maps: small squares, not 64-pixel blocks
        tile = 24
    columns, rows, factor, tw, th, cell_w, cell_h = _grid_layout(layer, channels, h, w, tile,
                                                                 columns)
    sheet = _grid_background(layer, channels, h, w, tile, columns).copy()
    tiles = np.full((rows * columns, th, tw, 3), 255, np.uint8)
    colours = diverging_rgb(maps, float(np.abs(maps).max()))
    tiles[:channels] = colours.repeat(factor, axis=1).repeat(factor, axis=2)
    cells = sheet.reshape(rows, cell_h, columns, cell_w, 3)   # a view: the sheet is contiguous
    cells[:, :th, :, :tw] = tiles.reshape(rows, columns, th, tw, 3).transpose(0, 2, 1, 3, 4)
    return Image.fromarray(sheet)


def grid_cell_at(shape: tuple[int, int, int], layer: str, px: int, py: int, tile: int = 64,
                 columns: int | None = None) -> tuple[int, int | None, int | None] | None:
    """What is under pixel (``px``, ``py``) of ``feature_map_grid``'s picture of maps of
    ``shape``: (channel, y, x), (channel, None, None) on a tile's caption, None elsewhere."""
    channels, h, w = shape
    if max(h, w) < 4:
        tile = 24
    columns, rows, factor, tw, th, cell_w, cell_h = _grid_layout(layer, channels, h, w, tile,
                                                                 columns)
    col, row = int(px) // cell_w, int(py) // cell_h
    channel = row * columns + col
    if px < 0 or py < 0 or col >= columns or row >= rows or channel >= channels:
        return None
    dx, dy = int(px) - col * cell_w, int(py) - row * cell_h
    if dx >= tw or dy >= th:
        return (channel, None, None) if dy < th + GRID_CAPTION and dx < cell_w - GRID_GAP else None
    return channel, dy // factor, dx // factor


def filter_tiles(weight: np.ndarray) -> tuple[np.ndarray, float, float]:
    """First-layer filters (O, I, kh, kw) as (O, kh, kw, 3) uint8 pictures and the values at
    the ends of their colour scale: RGB filters as colour images, each channel scaled from the
    lowest weight to the highest; grey ones signed, blue -m to red +m."""
    if weight.shape[1] == 3:
        lo, hi = float(weight.min()), float(weight.max())
        tiles = ((weight - lo) / max(hi - lo, 1e-12) * 255).astype(np.uint8).transpose(0, 2, 3, 1)
        return tiles, lo, hi
    top = float(np.abs(weight).max())
    return diverging_rgb(weight[:, 0], top), -top, top


def filter_grid(weight: np.ndarray, tile: int = 60) -> Image.Image:
    """``filter_tiles`` on one sheet, eight to a row, white gaps of 4 pixels (``make_grid``);
    each tile enlarged (nearest) a whole number of times to about ``tile`` pixels."""
    from torchvision.utils import make_grid  # here, as in maps_grid: start-up stays fast
    kh, kw = weight.shape[2:]
    tiles = torch.from_numpy(filter_tiles(weight)[0]).permute(0, 3, 1, 2)   # (O, 3, kh, kw)
    tiles = torch.nn.functional.interpolate(tiles, scale_factor=max(1, tile // max(kh, kw)),
                                            mode="nearest")
    sheet = make_grid(tiles, nrow=8, padding=4, pad_value=255)
    if len(tiles) == 1:   # make_grid returns a lone tile as it is, without the white frame
        sheet = torch.nn.functional.pad(sheet, (4, 4, 4, 4), value=255)
    return Image.fromarray(sheet.permute(1, 2, 0).numpy())


def heat_overlay(base: Image.Image, heat: np.ndarray, size: int = 224,
                 strength: float = 0.6) -> Image.Image:
    """``heat`` (H, W) in [0, 1] coloured and blended over ``base``, both enlarged crisply."""
    base = enlarge(base.convert("RGB"), size)
    heat_image = Image.fromarray(np.round(np.clip(heat, 0, 1) * 255).astype(np.uint8), "L")
    heat_image = heat_image.resize(base.size, Image.BILINEAR)
    colour = heat_image.copy()
    colour.putpalette(colour_table(HEAT).tobytes())  # L -> P: the map
    mask = heat_image.point(lambda v: round(v * strength))  # more heat, more colour
    return Image.composite(colour.convert("RGB"), base, mask)


# ---------------------------------------------------------------------------- tables

# ---------------------------------------------------------------------------- pictures

def pixels_to_image(pixels: torch.Tensor) -> Image.Image:
    """(C, H, W) in [0, 1] -> a grey or RGB PIL image."""
    a = pixels.detach().clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(a[..., 0] if a.shape[2] == 1 else a, "L" if a.shape[2] == 1 else "RGB")


def occlusion_picture(pixels: torch.Tensor, occlusion: Occlusion, size: int = 112) -> Image.Image:
    """The occlusion heat over the input: the share of the class's probability lost when the
    squares over each pixel are hidden (1 = all of it), so the colour means the same for
    every input; a gain in probability stays uncoloured."""
    share = occlusion.heat / max(occlusion.probability, 1e-12)
    return heat_overlay(pixels_to_image(pixels), np.clip(share, 0, 1), size)


# ---------------------------------------------------------------------------- pictures

def scale_each(maps: torch.Tensor) -> torch.Tensor:
    """Every map (C, H, W) scaled to [0, 1] on its own; a constant map becomes 0."""
    lo = maps.amin(dim=(1, 2), keepdim=True)
    spread = maps.amax(dim=(1, 2), keepdim=True) - lo
    return torch.where(spread > 0, (maps - lo) / spread.clamp_min(1e-12), torch.zeros_like(maps))


def maps_grid(maps, view: str = "scaled", nrow: int | None = None, padding: int = 2,
              pad_value: float = 1.0) -> Image.Image:
    """Every channel of ``maps`` (C, H, W) as a grey tile, laid out by ``make_grid``.

    "scaled": each map to [0, 1] on its own (bright = large). "neg_abs": −|y|, then scaled,
    the course's view of the Laplacian: edges (large |y|) dark on a light, flat background.
    ``nrow`` tiles per row (default: a near-square grid); white gaps of ``padding`` pixels.
    """
    if view not in ("scaled", "neg_abs"):
        raise BlockError(f"view must be 'scaled' or 'neg_abs', not {view!r}")
    maps = torch.as_tensor(maps).float()
    if maps.dim() == 2:
        maps = maps[None]
    if view == "neg_abs":
        maps = -maps.abs()
    tiles = scale_each(maps)[:, None]                          # (C, 1, H, W)
    nrow = nrow or math.ceil(math.sqrt(len(tiles)))
    # Imported here: torchvision costs about a second to import, which the app's start-up
    # should not pay for one layout helper (the app's warm-up calls this once instead).
    from torchvision.utils import make_grid
    grid = make_grid(tiles, nrow=nrow, padding=padding, pad_value=pad_value)[0]  # grey: one plane
    return Image.fromarray(grid.mul(255).round_().to(torch.uint8).numpy(), "L")
