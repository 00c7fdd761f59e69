"""The invariance lab: move, turn, scale, thicken, blur with noise or hide part of the input
and watch the prediction; curves of every class against the angle or the shift; an
occlusion map (Zeiler & Fergus). Pixels are (C, H, W) or (N, C, H, W) in [0, 1], before
normalisation; each curve and map is one batched forward pass.

Belongs here: the input transforms, batched probabilities, curves, occlusion, and the numbers
the page's copy of the lab reads (web/invariance_tab.json; web/lab_*.js compute as this module
does). Not here: loading models (``inference``), pictures (``lenet.pictures``), Gradio.
Nothing is stored on the ``Classifier``, which concurrent requests share.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from lenet.inputs.preprocess import morph
from lenet.inside.prng import Draws
from lenet.net.models import normalize

# What the page's sliders offer; ``transform`` itself accepts more (e.g. 90 degrees).
SHIFT_LIMIT, ROTATION_LIMIT, SCALE_RANGE, STROKE_LIMIT = 8, 60, (0.5, 1.5), 2
NOISE_LIMIT, ERASE_LIMIT = 0.5, 16   # std of the noise; widest erased square, in pixels
ROTATION_STEP = 5                    # degrees between the rotation curve's points
PHOTO_FILL = 0.5   # grey: normalised with the ConvNet's mean 0.5 and std 0.5 it is exactly 0
# The occlusion square's side and stride by kind of input: about a stroke's length, 12x12
# places for a digit; a part of an object, 9x9 places for a photo (the ConvNet costs ~8x more).
OCCLUSION = {"digit": {"size": 6, "stride": 2, "fill": 0.0},
             "photo": {"size": 8, "stride": 3, "fill": PHOTO_FILL}}
# The page's copy of these numbers (web/invariance_tab.js reads it; ``python -m
# lenet.inside.invariance`` writes it, tests/test_lab_page.py holds it equal to this module).
PAGE_FILE = Path(__file__).resolve().parents[2] / "web" / "invariance_tab.json"


class InvarianceError(ValueError):
    """Settings that cannot be applied; the message is one line saying what to do."""


# ---------------------------------------------------------------------------- transforms

def transform(pixels: torch.Tensor, shift_x=0.0, shift_y=0.0, rotation=0.0, scale=1.0,
              stroke: int = 0, noise: float = 0.0, erase: tuple[int, int, int] | None = None,
              *, seed: int = 0, digit: bool | None = None,
              fill: float | None = None) -> torch.Tensor:
    """Stroke, then one affine warp, then the erased square, then noise; same shape as
    ``pixels`` unless a geometric argument is a sequence of N values, which gives N images.

    Shifts are in pixels (+x right, +y down), ``rotation`` in degrees counter-clockwise,
    ``scale`` > 1 enlarges, all about the image centre. ``stroke`` > 0 thickens by grey
    dilation, < 0 thins by erosion (digits only). ``noise`` is the std of Gaussian noise
    drawn from ``Draws(seed)`` (the page draws the same numbers, web/prng.js), one field of
    C*H*W numbers added to every image, so a curve's images differ only by its own slider;
    the result is clipped to [0, 1]. ``erase`` = (top, left, size) sets a square to
    ``fill`` (default: 0, the paper of a digit; grey for a photo). ``digit`` defaults to
    single-channel. Digits are padded with paper (zeros), photos with their border.
    """
    x = pixels.float()
    batched = x.dim() == 4
    x = x if batched else x[None]
    digit = x.shape[1] == 1 if digit is None else digit
    if stroke:
        if not digit or stroke != int(stroke):
            raise InvarianceError("stroke thickness is a whole number of pixels, for digits only")
        # grey dilation or erosion with the digit recipes' own square filter, image by image
        k, op = 2 * abs(int(stroke)) + 1, np.maximum if stroke > 0 else np.minimum
        x = torch.from_numpy(np.stack([[morph(plane, k, op) for plane in image]
                                       for image in x.numpy()]))
    params = [torch.as_tensor(v, dtype=torch.float64).reshape(-1)
              for v in (shift_x, shift_y, rotation, scale)]
    if not (params[3] > 0).all():
        raise InvarianceError("scale must be above 0")
    if any(len(p) > 1 for p in params) or any(
            float(p[0]) != i for p, i in zip(params, (0, 0, 0, 1))):
        x = _warp(x, *params, padding="zeros" if digit else "border")
    if erase is not None:
        top, left, size = (int(v) for v in erase)
        if size < 1:
            raise InvarianceError("the erased square must be at least 1 pixel wide")
        background = fill if fill is not None else 0.0 if digit else PHOTO_FILL
        x = x.clone()  # x may still be the caller's tensor
        x[..., max(top, 0):max(top + size, 0), max(left, 0):max(left + size, 0)] = background
    if noise:
        if noise < 0:
            raise InvarianceError("noise is a standard deviation: 0 or more")
        field = noise * Draws(seed).normal(x[0].numel()).reshape(x.shape[1:])   # float64
        x = (x + torch.from_numpy(field).float()).clamp_(0, 1)
    return x if batched or len(x) > 1 else x[0]


def _warp(x: torch.Tensor, shift_x, shift_y, rotation, scale, padding: str) -> torch.Tensor:
    """One ``affine_grid`` + ``grid_sample`` for N parameter sets (each length 1 or N)."""
    shift_x, shift_y, rotation, scale = torch.broadcast_tensors(shift_x, shift_y, rotation, scale)
    n, (h, w) = max(len(shift_x), len(x)), x.shape[-2:]
    # grid_sample needs, for each output pixel, where to read in the input: the inverse of
    # p_out = scale · R(θ) · p_in + shift, in pixels from the centre (y down, so R's signs
    # are those of a counter-clockwise turn on screen).
    a = torch.deg2rad(rotation)
    cos, sin = torch.cos(a) / scale, torch.sin(a) / scale
    inverse = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    offset = -(inverse @ torch.stack([shift_x, shift_y], -1)[..., None])[..., 0]
    # normalised coordinates run from -1 to 1 over w (h) pixels: one pixel is 2/w (2/h)
    half = torch.tensor([w / 2, h / 2], dtype=torch.float64)
    theta = torch.cat([inverse * half / half[:, None], (offset / half)[..., None]], -1)
    grid = F.affine_grid(theta.float().expand(n, 2, 3), [n, *x.shape[1:]], align_corners=False)
    return F.grid_sample(x.expand(n, -1, -1, -1), grid, mode="bilinear", padding_mode=padding,
                         align_corners=False)


# ---------------------------------------------------------------------------- predictions

def input_pixels(clf, source) -> torch.Tensor | None:
    """Any user input, prepared as ``clf`` predicts it, back in [0, 1]: (C, H, W) or None."""
    tensor, _ = clf.prepare(source)
    return None if tensor is None else torch.from_numpy(clf.pixels(tensor))


def probabilities(clf, pixels_batch: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) or (C, H, W) pixels in [0, 1] -> softmax (N, classes), one forward."""
    x = pixels_batch if pixels_batch.dim() == 4 else pixels_batch[None]
    if tuple(x.shape[1:]) != (clf.channels, clf.height, clf.width):
        raise InvarianceError(f"{clf.name} takes {clf.channels}x{clf.height}x{clf.width} "
                              f"pixels, not {'x'.join(map(str, x.shape[1:]))}")
    x = normalize(x, clf.mean, clf.std)
    if x.shape[1] > 1:
        # oneDNN pools and applies tanh about twice as fast on channels-last colour batches
        # (the ConvNet on 169 occlusions: ~95 -> ~45 ms); the results are the same numbers.
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        return torch.softmax(clf.logits(x), 1).numpy()


@dataclass
class Curve:
    """Every class's probability (N, classes) at each of N values of one transform."""
    values: np.ndarray
    probabilities: np.ndarray
    classes: tuple[str, ...]
    xlabel: str


def sweep(clf, pixels: torch.Tensor, name: str, values, xlabel: str, **settings) -> Curve:
    """Every class's probability with ``transform``'s argument ``name`` swept over
    ``values`` and its other arguments as in ``settings``: one batched forward pass."""
    values = np.asarray(list(values), dtype=np.float64)
    batch = transform(pixels, **{"digit": clf.is_digit_model, **settings, name: values})
    return Curve(values, probabilities(clf, batch), clf.classes, xlabel)


def rotation_curve(clf, pixels: torch.Tensor,
                   angles=range(-ROTATION_LIMIT, ROTATION_LIMIT + 1, ROTATION_STEP),
                   **settings) -> Curve:
    return sweep(clf, pixels, "rotation", angles, "rotation (degrees)", **settings)


def shift_curve(clf, pixels: torch.Tensor, shifts=range(-SHIFT_LIMIT, SHIFT_LIMIT + 1),
                **settings) -> Curve:
    return sweep(clf, pixels, "shift_x", shifts, "horizontal shift (pixels)", **settings)


@dataclass
class Occlusion:
    """Zeiler & Fergus: how much the class's probability drops with a square hidden."""
    drop: np.ndarray        # (rows, cols): p without the square − p with it, square at each place
    heat: np.ndarray        # (H, W): mean drop of the squares covering each pixel (0 if none)
    class_index: int
    probability: float      # p of the class with nothing hidden
    size: int
    stride: int
    fill: float


def occlusion_map(clf, pixels: torch.Tensor, size: int | None = None, stride: int | None = None,
                  fill: float | None = None, class_index: int | None = None) -> Occlusion:
    """Slide a ``size`` square of ``fill`` over ``pixels`` (C, H, W) by ``stride``; one forward
    for the unhidden input and every position. ``class_index`` defaults to the top class."""
    c, h, w = pixels.shape
    kind = OCCLUSION["digit" if clf.is_digit_model else "photo"]
    size, stride = size or kind["size"], stride or kind["stride"]
    fill = kind["fill"] if fill is None else fill
    if not 1 <= size <= min(h, w) or stride < 1:
        raise InvarianceError(f"the square must be 1 to {min(h, w)} pixels and the stride at least 1")
    tops, lefts = range(0, h - size + 1, stride), range(0, w - size + 1, stride)
    batch = pixels.float()[None].repeat(1 + len(tops) * len(lefts), 1, 1, 1)
    for i, (top, left) in enumerate(((t, c) for t in tops for c in lefts), 1):
        batch[i, :, top:top + size, left:left + size] = fill
    probs = probabilities(clf, batch)  # row 0: nothing hidden, in the same pass
    index = int(probs[0].argmax()) if class_index is None else class_index
    drop = probs[0, index] - probs[1:, index]
    # each pixel: the mean drop of every square that covered it (fold sums the windows)
    windows = torch.from_numpy(drop).float()[None, None].expand(1, size * size, -1)
    total = F.fold(windows, (h, w), size, stride=stride)[0, 0]
    count = F.fold(torch.ones_like(windows), (h, w), size, stride=stride)[0, 0]
    heat = torch.where(count > 0, total / count.clamp_min(1), torch.zeros_like(total))
    return Occlusion(drop.reshape(len(tops), len(lefts)), heat.numpy(), index,
                     float(probs[0, index]), size, stride, fill)


# ---------------------------------------------------------------------------- the page's copy

def page_constants() -> dict:
    """The numbers the page's lab (web/invariance_tab.js) computes and offers with."""
    return {"shift_limit": SHIFT_LIMIT, "rotation_limit": ROTATION_LIMIT,
            "rotation_step": ROTATION_STEP, "scale_range": list(SCALE_RANGE),
            "stroke_limit": STROKE_LIMIT, "noise_limit": NOISE_LIMIT, "erase_limit": ERASE_LIMIT,
            "photo_fill": PHOTO_FILL, "occlusion": OCCLUSION}


def render_page_constants() -> str:
    return json.dumps(page_constants(), indent=1) + "\n"


if __name__ == "__main__":   # python -m lenet.inside.invariance: rewrite the page's copy
    PAGE_FILE.write_text(render_page_constants())
