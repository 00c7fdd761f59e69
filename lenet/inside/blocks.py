"""The course's building blocks on any image: a convolution you choose, ReLU, pooling, and
every output channel as a grey picture, all with ``torch.nn.functional``.

Belongs here: the kernels (hand-set, a seeded random bank, a model's learned filters, a
kernel typed by the user), one block run with every intermediate and its output-size
formula, and the channel grid. Not here: models, checkpoints, Gradio.

Channels: a single-channel kernel on an RGB image is applied to the grey image, the mean of
R, G and B. By linearity that is the same as the kernel, divided by 3, on each channel and
summed, which is how it is stored: every kernel returned is (O, C, kh, kw) for the image it
meets. Three-channel filters on a grey image see it as R = G = B, i.e. their sum over I.
Kernels are applied as ``F.conv2d`` and every CNN applies them: not flipped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from lenet.inputs.preprocess import opaque_rgb, open_image
from lenet.inputs.resample import area_weights
from lenet.inside.prng import Draws
from lenet.net.layers import output_size


class BlockError(ValueError):
    """Settings a user chose that cannot run; the message is one line saying what to do."""


class KernelError(BlockError):
    """A kernel that is not a grid of numbers of the right shape."""


# ---------------------------------------------------------------------------- kernels

FIXED_KERNELS: dict[str, list[list[float]]] = {
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],     # brightness rising to the right
    "sobel_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],     # brightness rising downwards
    "box_blur": [[1 / 9] * 3] * 3,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
}
# The course's pair: the vertical derivative [1, 0, -1]ᵀ and its negative, two output
# channels, so that after ReLU one keeps the edges where brightness falls going down and
# the other those where it rises.
DERIVATIVE_PAIR = [[[1], [0], [-1]], [[-1], [0], [1]]]
KERNEL_NAMES = (*FIXED_KERNELS, "derivative_pair", "random")


def make_kernel(name: str, in_channels: int = 1, *, count: int = 10, size: int = 5,
                seed: int = 0) -> torch.Tensor:
    """A named kernel as (O, in_channels, kh, kw); ``random`` is a bank of ``count`` filters
    of ``size`` x ``size`` x ``in_channels`` drawn from N(0, 1) with ``seed`` (``Draws``, in
    (O, I, kh, kw) order, as web/blocks_math.js draws it)."""
    if name == "random":
        if count < 1 or size < 1:
            raise KernelError(f"a random bank needs count >= 1 and size >= 1, got {count} and {size}")
        # The project's own draws (not torch.randn), so that the page draws the same bank
        numbers = Draws(seed).normal(count * in_channels * size * size)
        return torch.from_numpy(numbers).float().view(count, in_channels, size, size)
    if name == "derivative_pair":
        kernel = torch.tensor(DERIVATIVE_PAIR, dtype=torch.float32)[:, None]  # (2, 1, 3, 1)
    elif name in FIXED_KERNELS:
        kernel = torch.tensor(FIXED_KERNELS[name], dtype=torch.float32)[None, None]
    else:
        raise KernelError(f"unknown kernel {name!r}; choose one of {', '.join(KERNEL_NAMES)}")
    return match_channels(kernel, in_channels)


def learned_kernel(weight: torch.Tensor, in_channels: int | None = None) -> torch.Tensor:
    """A model's first-layer filters (O, I, kh, kw), copied, for an image of ``in_channels``."""
    if not isinstance(weight, torch.Tensor) or weight.dim() != 4:
        raise KernelError("learned filters must be a conv weight of shape (O, I, kh, kw)")
    kernel = weight.detach().float().clone()
    return kernel if in_channels is None else match_channels(kernel, in_channels)


def user_kernel(rows, in_channels: int = 1, shape: tuple[int, int] = (3, 3)) -> torch.Tensor:
    """A kernel typed by the user, ``shape[0]`` rows of ``shape[1]`` numbers -> (1, C, kh, kw).

    Numbers may be given as text ("-0.5"), as a table widget returns them.
    """
    kh, kw = shape
    grid = rows.tolist() if isinstance(rows, (np.ndarray, torch.Tensor)) else rows
    if not isinstance(grid, (list, tuple)) or len(grid) != kh:
        raise KernelError(f"the kernel must have {kh} rows of {kw} numbers")
    values = []
    for r, row in enumerate(grid, 1):
        if not isinstance(row, (list, tuple)) or len(row) != kw:
            raise KernelError(f"row {r} of the kernel must hold {kw} numbers")
        for c, cell in enumerate(row, 1):
            values.append(_number(cell, r, c))
    kernel = torch.tensor(values, dtype=torch.float32).view(1, 1, kh, kw)
    return match_channels(kernel, in_channels)


def _number(cell, row: int, column: int) -> float:
    where = f"row {row}, column {column}"
    if isinstance(cell, bool) or not isinstance(cell, (Real, str)):
        raise KernelError(f"{where} of the kernel is {cell!r}, not a number")
    try:
        value = float(cell)
    except ValueError:
        raise KernelError(f"{where} of the kernel is {cell!r}, not a number") from None
    if not math.isfinite(value):
        raise KernelError(f"{where} of the kernel must be a finite number, not {cell!r}")
    return value


def match_channels(kernel: torch.Tensor, in_channels: int) -> torch.Tensor:
    """(O, I, kh, kw) -> (O, in_channels, kh, kw) as the module docstring explains."""
    out_channels, channels = kernel.shape[:2]
    if channels == in_channels:
        return kernel
    if channels == 1:
        return kernel.expand(-1, in_channels, -1, -1) / in_channels
    if in_channels == 1:
        return kernel.sum(1, keepdim=True)
    raise KernelError(f"a kernel for {channels} channels cannot run on a {in_channels}-channel image")


# ---------------------------------------------------------------------------- one block

@dataclass
class BlockResult:
    """One block's every step; maps are (O, H, W), the batch dimension dropped."""
    image: torch.Tensor            # (1, C, H, W) the input, in [0, 1]
    kernel: torch.Tensor           # (O, C, kh, kw) as applied
    conv: torch.Tensor             # convolution plus bias
    activated: torch.Tensor        # after ReLU (``conv`` itself when ReLU is off)
    pooled: torch.Tensor           # after pooling (``activated`` itself without pooling)
    shapes: dict[str, tuple[int, ...]]   # "input", "conv", then "relu" and "pool" when run
    size_formula: dict[str, str]   # "conv" (and "pool"): the formula with numbers -> shape

    @property
    def output(self) -> torch.Tensor:
        return self.pooled

    def __repr__(self) -> str:
        steps = " -> ".join(f"{k} {'x'.join(map(str, s))}" for k, s in self.shapes.items())
        return f"BlockResult({steps})"


def _formula(what: str, n: tuple[int, int], k: tuple[int, int], stride: int,
             padding: int | None, channels: int) -> tuple[tuple[int, int], str]:
    (h, fh), (w, fw) = (output_size(n[i], k[i], stride, padding) for i in (0, 1))
    if min(n[0] - k[0], n[1] - k[1]) + 2 * (padding or 0) < 0:
        raise BlockError(f"the {k[0]}x{k[1]} {what} is larger than its {n[0]}x{n[1]} input"
                         + ("" if padding is None else f" with padding {padding}")
                         + "; choose a smaller one" + ("" if padding is None else " or pad more"))
    text = fh if fh[:fh.rindex("=")] == fw[:fw.rindex("=")] else f"height {fh}, width {fw}"
    return (h, w), f"{text} → {channels}×{h}×{w}"


def run_block(image: torch.Tensor, kernel: torch.Tensor, bias: float = 0.0, stride: int = 1,
              padding: int = 0, relu: bool = False, pool: str = "none", pool_size: int = 2,
              pool_stride: int = 2) -> BlockResult:
    """Convolve ``image`` (1, C, H, W) with ``kernel``, then optionally ReLU and pool."""
    if image.dim() != 4 or image.shape[0] != 1:
        raise BlockError(f"the image must be one (1, C, H, W) tensor, got {tuple(image.shape)}")
    if kernel.dim() == 2:
        kernel = kernel[None, None]
    if kernel.dim() != 4:
        raise KernelError(f"a kernel must be (O, I, kh, kw) or (kh, kw), got {tuple(kernel.shape)}")
    if stride < 1 or pool_stride < 1 or pool_size < 1 or padding < 0:
        raise BlockError("stride, pool size and pool stride must be at least 1, padding at least 0")
    if pool not in ("none", "max", "avg"):
        raise BlockError(f"pool must be 'none', 'max' or 'avg', not {pool!r}")
    x = image.float()
    weight = match_channels(kernel.float(), x.shape[1])
    out_channels, _, kh, kw = weight.shape
    size, formula = {}, {}
    shapes = {"input": tuple(x.shape[1:])}
    size["conv"], formula["conv"] = _formula("kernel", x.shape[2:], (kh, kw), stride, padding,
                                             out_channels)
    with torch.inference_mode():
        conv = F.conv2d(x, weight, torch.full((out_channels,), float(bias)), stride, padding)
        shapes["conv"] = tuple(conv.shape[1:])
        activated = F.relu(conv) if relu else conv
        if relu:
            shapes["relu"] = shapes["conv"]
        pooled = activated
        if pool != "none":
            _, formula["pool"] = _formula("pooling window", size["conv"], (pool_size,) * 2,
                                          pool_stride, None, out_channels)
            pooling = F.max_pool2d if pool == "max" else F.avg_pool2d
            pooled = pooling(activated, pool_size, pool_stride)
            shapes["pool"] = tuple(pooled.shape[1:])
    return BlockResult(x, weight, conv[0], activated[0], pooled[0], shapes, formula)


# ---------------------------------------------------------------------------- inputs
# The page (web/blocks_image.js) repeats these steps with the same float64 arithmetic in the
# same order, so that a picture becomes the same tensor in both: only the decoding differs.

EXIF_ORIENTATION = 0x0112
MAX_SIDE = 512   # pixels: a picture's longer side at most, as the block takes it


def image_to_tensor(image, grey: bool = False, max_side: int = MAX_SIDE) -> torch.Tensor:
    """Any image (PIL, array, path, bytes) -> (1, C, H, W) float in [0, 1], at most
    ``max_side`` pixels a side (aspect kept, ``fitted_size``, each pixel the average of the
    area it covers). C is 1 for ``grey=True`` or a grey picture (R = G = B in every pixel):
    the mean of R, G and B, matching how single-channel kernels see colour; else 3.
    Transparent areas become white; nothing is inverted, so a drawing stays dark on light.
    """
    if isinstance(image, Image.Image):
        # open_image's exif_transpose copies every pixel (~30 ms at 12 MP) even when the
        # photo is upright; only turn the ones whose EXIF says so
        if image.getexif().get(EXIF_ORIENTATION, 1) != 1:
            image = ImageOps.exif_transpose(image)
    else:
        image = open_image(image)   # decoded in full, as the browser decodes it
    rgb = np.asarray(opaque_rgb(image))                        # (H, W, 3) uint8
    single = grey or is_grey(rgb)
    size = fitted_size(image.width, image.height, max_side)
    if size == (image.width, image.height):
        values = rgb.astype(np.float64)   # whole numbers 0-255: exact
    else:   # rows first, then columns; the first pass reads the bytes (a 12 MP photo as
        # float64 would be 288 MB)
        values = area_resize(area_resize(rgb, size[0], axis=1), size[1], axis=0)
    if single:
        values = (values[..., 0] + values[..., 1] + values[..., 2])[..., None] / 3
    x = torch.from_numpy(values / 255).float()                 # (H, W, C)
    return x.permute(2, 0, 1)[None].contiguous()               # (1, C, H, W)


def is_grey(rgb: np.ndarray) -> bool:
    """Every pixel of (H, W, 3) has R = G = B: a grey picture, whatever its file's mode."""
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


def fitted_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(width, height) scaled so that the longer side is ``max_side`` (kept when it is no
    longer), each side rounded half up and at least 1."""
    if max(width, height) <= max_side:
        return width, height
    factor = max_side / max(width, height)
    return (max(1, math.floor(width * factor + 0.5)), max(1, math.floor(height * factor + 0.5)))


def area_taps(n_in: int, n_out: int) -> list[list[tuple[int, float]]]:
    """For each of ``n_out`` output pixels, (input pixel, weight) for the input pixels its
    span covers: the non-zero entries of ``resample.area_weights``' rows, in input order."""
    weights = area_weights(n_in, n_out)
    return [[(int(j), float(row[j])) for j in np.flatnonzero(row > 0)] for row in weights]


def area_resize(values: np.ndarray, n_out: int, axis: int) -> np.ndarray:
    """``values`` (float64) shrunk to ``n_out`` along ``axis``, each output the area-weighted
    mean of the inputs it covers, summed tap by tap in input order (as the page sums)."""
    weights = area_taps(values.shape[axis], n_out)
    taps = max(len(w) for w in weights)
    shape = [1] * values.ndim
    shape[axis] = n_out
    out = np.zeros([n_out if a == axis else n for a, n in enumerate(values.shape)])
    for t in range(taps):   # a span with fewer taps adds 0 x its first pixel: no change
        index = [w[t][0] if t < len(w) else w[0][0] for w in weights]
        share = np.array([w[t][1] if t < len(w) else 0.0 for w in weights]).reshape(shape)
        out += share * np.take(values, index, axis=axis)
    return out
