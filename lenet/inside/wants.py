"""What a unit wants, seen in the test set: for every channel of a conv layer (and every class
of the output layer), the k test images on which it reaches its highest values, each cropped
to the input pixels its best position reads (its receptive field), as uint8 pictures small
enough to store beside the checkpoint (lenet/inside/experiments.py writes them). The other
half, the input a unit wants most, is found in the page by gradient ascent (web/ascent.js).

    crops = top_crops(model, meta, x, ["C1", "C3", "output"])
    crops["C3"].indices[5], crops["C3"].crops[5].shape   # 9 test images; (9, 14, 14, 1)

The value ranked is the layer's own output, before its activation (the unit the page
ascends); a conv channel's value on an image is its largest over positions, a linear unit's
(a class's logit) its one value, for the image itself (never averaged with its mirror image).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lenet.inside.inference import Classifier, layer_outputs
from lenet.inside.trace import receptive_field
from lenet.net.models import normalize

__all__ = ["TopCrops", "WantsError", "top_crops", "rankable_layers"]

BATCH = 1000   # test images per forward pass: LeNet-5's C1 for 1,000 images is ~19 MB


class WantsError(ValueError):
    """A layer that cannot be ranked or a k that does not fit; the message says what can."""


@dataclass(frozen=True, eq=False)
class TopCrops:
    """One layer's k best test images per channel (unit), highest value first; equal values
    keep the test set's order."""
    indices: np.ndarray     # (channels, k) int64: positions in the test set
    values: np.ndarray      # (channels, k) float32: the channel's largest value on that image
    positions: np.ndarray   # (channels, k, 2) int64: (y, x) where it is reached; (0, 0) for linear
    crops: np.ndarray       # (channels, k, h, w, C) uint8: the receptive field there, 0 outside

    def __repr__(self) -> str:
        channels, k, h, w, c = self.crops.shape
        return f"TopCrops({channels} channels x {k} images, crops {h}x{w}x{c})"


def rankable_layers(model: nn.Module) -> list[str]:
    """The layers whose units can be ranked over a test set: convs and linears, in order."""
    return [name.rsplit(".", 1)[-1] for name, m in model.named_modules()
            if isinstance(m, (nn.Conv2d, nn.Linear))]


def top_crops(model: nn.Module, meta: dict, x: torch.Tensor | np.ndarray, layers,
              k: int = 9) -> dict[str, TopCrops]:
    """The ``k`` images of ``x`` (N, C, H, W pixels: uint8, or floats in [0, 1]) on which each
    channel of each of ``layers`` reaches its highest value, with the receptive field of the
    best position cropped out (zero outside the image). A conv layer's crops are its field's
    size; a linear layer's (the output layer's) are whole images. Floats are ranked as they
    are stored, rounded to uint8, so that values and crops agree. The model is set to eval."""
    clf = Classifier(model, meta)
    valid = rankable_layers(model)
    bad = [name for name in layers if name not in valid]
    if bad:
        raise WantsError(f"{clf.name} has no conv or linear layer {bad[0]!r}; "
                         f"choose from {', '.join(valid)}")
    pixels = _as_uint8(x)
    if pixels.shape[1:] != (clf.channels, clf.height, clf.width):
        raise WantsError(f"{clf.name} takes images (N, {clf.channels}, {clf.height}, {clf.width}), "
                         f"not {tuple(pixels.shape)}")
    if not 1 <= k <= len(pixels):
        raise WantsError(f"k must be 1-{len(pixels)} (the number of images), not {k}")
    best = _best_per_image(clf, pixels, layers)
    return {name: _top(clf, pixels, name, *best[name], k) for name in layers}


def _as_uint8(x) -> np.ndarray:
    """The images as stored pictures, (N, C, H, W) uint8: floats in [0, 1] are rounded."""
    x = x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if x.dtype == np.uint8:
        return x
    return np.clip(np.rint(x.astype(np.float32) * 255), 0, 255).astype(np.uint8)


def _best_per_image(clf: Classifier, pixels: np.ndarray, layers) -> dict[str, tuple]:
    """{layer: (values (N, channels), flat positions (N, channels))}: each channel's largest
    value over positions on every image and where (the first such position, row by row)."""
    found = {name: ([], []) for name in layers}
    with torch.inference_mode():
        for start in range(0, len(pixels), BATCH):
            batch = torch.from_numpy(pixels[start:start + BATCH]).float() / 255
            _, outputs = layer_outputs(clf.model, normalize(batch, clf.mean, clf.std))
            for name in layers:
                out = outputs[name].flatten(2) if outputs[name].dim() == 4 else outputs[name][..., None]
                value, where = out.max(dim=2)                       # (B, channels)
                found[name][0].append(value.numpy())
                found[name][1].append(where.numpy())
    return {name: (np.concatenate(v), np.concatenate(w)) for name, (v, w) in found.items()}


def _top(clf: Classifier, pixels: np.ndarray, layer: str, values: np.ndarray, where: np.ndarray,
         k: int) -> TopCrops:
    """The k best images per channel from each image's best value, and their crops."""
    order = np.argsort(-values, axis=0, kind="stable")[:k].T         # (channels, k), ties in order
    best = np.take_along_axis(values, order.T, axis=0).T
    flat = np.take_along_axis(where, order.T, axis=0).T
    shape = clf.shapes[layer]
    width = shape[2] if len(shape) == 3 else 1
    positions = np.stack([flat // width, flat % width], axis=-1)    # (channels, k, 2)
    crops = np.stack([np.stack([_crop(clf, pixels[i], layer, y, x) for i, (y, x) in zip(row, spots)])
                      for row, spots in zip(order, positions)])
    return TopCrops(order.astype(np.int64), best.astype(np.float32), positions.astype(np.int64), crops)


def _crop(clf: Classifier, image: np.ndarray, layer: str, y: int, x: int) -> np.ndarray:
    """(C, H, W) uint8 -> the (h, w, C) pixels of ``layer``'s receptive field at (y, x), with
    zeros where the field reaches past the image (into the layer's padding)."""
    top, left, bottom, right = receptive_field(clf, layer, int(y), int(x), clip=False)
    out = np.zeros((bottom - top + 1, right - left + 1, image.shape[0]), np.uint8)
    ys = slice(max(top, 0), min(bottom, clf.height - 1) + 1)
    xs = slice(max(left, 0), min(right, clf.width - 1) + 1)
    out[ys.start - top:ys.stop - top, xs.start - left:xs.stop - left] = image[:, ys, xs].transpose(1, 2, 0)
    return out
