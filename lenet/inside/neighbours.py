"""What the network thinks an input looks like: the stored test images nearest to it in the
values of its last hidden layer (LeNet-5's F6, the ConvNet's fc1, after their activation), and,
beside them, the nearest in raw pixels. The page does the same search (web/neighbours.js) on the
same file; this module writes the file and is the reference the page is tested against.

    build = build_neighbours(model, meta, x, y)            # x: the test set, uint8
    save_neighbours(neighbours_path(checkpoint), build)
    found = load_neighbours(path).nearest(features, pixels, k=8)
    found.by_features.indices, found.by_pixels.indices     # test-set indices, nearest first

File: ``<model>.neighbours.safetensors``: the images as one PNG strip (lenet.inside.gallery's),
their labels and test-set indices, and their layer values as float16, under 2 MB. Distances
are Euclidean (pixels in [0, 1]); ranks go by the squared distance rounded to float32, then by
test-set index, so that two engines that differ in the last bits of a double agree.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save as serialize_arrays
from torch import nn

from lenet.inside.gallery import images_from_png_strip, png_strip
from lenet.inside.inference import layer_outputs
from lenet.net.checkpoint import atomic_write_bytes
from lenet.net.files import NEIGHBOURS_SUFFIX
from lenet.net.models import normalize

FORMAT_VERSION = 1
META_KEY = "lenet_neighbours"
MAX_BYTES = 2_000_000     # what one file may take (the Space's budget per side file)
# Images stored at most: 5,000 digits keep the page's search within 5 ms per update
# (benchmarks/neighbours_speed.py); CIFAR-10 photos hit the size budget first (~800).
MAX_IMAGES = 5000
K = 8                     # neighbours shown
SEED = 0                  # which test images are stored


class NeighboursError(Exception):
    """A neighbours file that is missing or unreadable; the message says how to make it."""


# ---------------------------------------------------------------------------- which layer

def feature_layer(meta: dict) -> tuple[str, str] | None:
    """(layer, its output after the activation) whose values place an input: the last hidden
    linear layer of the checkpoint's layer table (F6 -> F6_relu, fc1 -> fc1_tanh), or None for
    a model that has none (the dense baseline)."""
    linear = [row for row in meta["layers"] if row["kind"] == "linear"]
    if len(linear) < 2:
        return None
    row = linear[-2]
    return row["name"], row["after_activation"]


@torch.inference_mode()
def features_of(model: nn.Module, meta: dict, pixels: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """(N, C, H, W) pixels (uint8, or float in [0, 1]) -> (N, D) float32: each image's own
    pass (no mirror image) at ``feature_layer``."""
    _, output = feature_layer(meta)
    parts = []
    for start in range(0, len(pixels), batch_size):
        batch = normalize(pixels[start:start + batch_size], meta["mean"], meta["std"])
        _, outputs = layer_outputs(model, batch)
        parts.append(outputs[output].flatten(1).float().numpy())
    return np.concatenate(parts)


# ---------------------------------------------------------------------------- the stored images

@dataclass(frozen=True, eq=False)
class Neighbours:
    """Test images with their layer values, N of them, in test-set order."""
    images: np.ndarray      # (N, H, W, C) uint8, channels last
    labels: np.ndarray      # (N,) int64
    indices: np.ndarray     # (N,) int64, position in the test set
    features: np.ndarray    # (N, D) float32 (stored as float16)
    layer: str              # "F6" / "fc1"
    output: str             # the layer's output after its activation: "F6_relu" / "fc1_tanh"
    meta: dict              # model, dataset, test_size, seed, classes

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        return (f"Neighbours({self.meta.get('model')}, {len(self)} of {self.meta.get('test_size')} "
                f"test images, {self.features.shape[1]} values of {self.layer} each)")

    def nearest(self, features: np.ndarray, pixels: np.ndarray, k: int = K) -> "Nearest":
        """The ``k`` stored images nearest to one input: by its values at ``self.output``
        ((D,) float32) and by its ``pixels`` ((C, H, W) in [0, 1])."""
        features = np.asarray(features, np.float64).reshape(-1)
        if features.shape[0] != self.features.shape[1]:
            raise ValueError(f"{self.layer} has {self.features.shape[1]} values, not {features.shape[0]}")
        by_features = ((self.features.astype(np.float64) - features) ** 2).sum(axis=1)
        return Nearest(self._ranked(by_features, k), self._ranked(self._pixel_distances(pixels), k))

    def _pixel_distances(self, pixels: np.ndarray) -> np.ndarray:
        """Squared distances to every image, the page's way: |a|^2 - 2 a.b / 255 + |b|^2 / 255^2
        with b the stored bytes (its sums of whole numbers are exact)."""
        stored = self.images.transpose(0, 3, 1, 2).reshape(len(self), -1).astype(np.float64)
        a = np.asarray(pixels, np.float64).reshape(-1)
        if a.shape[0] != stored.shape[1]:
            raise ValueError(f"the images have {stored.shape[1]} values, not {a.shape[0]}")
        return a @ a - 2 * (stored @ a) / 255 + (stored ** 2).sum(axis=1) / 255 ** 2

    def _ranked(self, squared: np.ndarray, k: int) -> "Ranked":
        squared = np.maximum(squared, 0).astype(np.float32)
        order = np.lexsort((self.indices, squared))[:k]    # by distance, then test-set index
        return Ranked(positions=order, indices=self.indices[order], labels=self.labels[order],
                      distances=np.sqrt(squared[order].astype(np.float64)))


@dataclass(frozen=True)
class Ranked:
    """Stored images nearest first."""
    positions: np.ndarray   # (k,) positions in the file
    indices: np.ndarray     # (k,) test-set indices
    labels: np.ndarray      # (k,)
    distances: np.ndarray   # (k,) Euclidean


@dataclass(frozen=True)
class Nearest:
    by_features: Ranked
    by_pixels: Ranked


# ---------------------------------------------------------------------------- building

def build_neighbours(model: nn.Module, meta: dict, x: torch.Tensor, y: torch.Tensor,
                     n: int | None = None, seed: int = SEED) -> Neighbours:
    """A seeded random ``n`` of the test set ``x`` (uint8 (N, C, H, W)), ``y`` with their values
    at ``feature_layer(meta)``; ``n`` None: as many as fit in MAX_BYTES, at most MAX_IMAGES."""
    layer = feature_layer(meta)
    if layer is None:
        raise ValueError(f"{meta['model']} has no hidden linear layer to find neighbours in")
    order = np.random.RandomState(seed).permutation(len(x))
    make = lambda count: _chosen(model, meta, x, y, np.sort(order[:count]), layer, seed)  # noqa: E731
    if n is not None:
        return make(min(n, len(x)))
    count = min(MAX_IMAGES, len(x))
    built = make(count)
    # PNG sizes grow about linearly with the count: shrink by the excess until it fits.
    while (size := len(neighbours_bytes(built))) > MAX_BYTES:
        count = int(count * MAX_BYTES / size * 0.995)
        built = make(count)
    return built


def _chosen(model, meta, x, y, keep: np.ndarray, layer: tuple[str, str], seed: int) -> Neighbours:
    chosen = torch.from_numpy(keep)
    features = features_of(model, meta, x[chosen]).astype(np.float16).astype(np.float32)
    return Neighbours(images=x[chosen].permute(0, 2, 3, 1).contiguous().numpy(),
                      labels=y[chosen].numpy().astype(np.int64), indices=keep.astype(np.int64),
                      features=features, layer=layer[0], output=layer[1],
                      meta={"model": meta["model"], "dataset": meta.get("dataset"), "test_size": len(x),
                            "seed": seed, "classes": list(meta["classes"])})


# ---------------------------------------------------------------------------- file

def neighbours_bytes(neighbours: Neighbours) -> bytes:
    arrays = {"labels": neighbours.labels, "indices": neighbours.indices,
              "features": neighbours.features.astype(np.float16),
              "images_png": np.frombuffer(png_strip(neighbours.images), dtype=np.uint8)}
    meta = {"format_version": FORMAT_VERSION, **neighbours.meta, "layer": neighbours.layer,
            "output": neighbours.output, "image_shape": list(neighbours.images.shape[1:])}
    return serialize_arrays({k: np.ascontiguousarray(v) for k, v in arrays.items()},
                            metadata={META_KEY: json.dumps(meta)})


def save_neighbours(path: str | os.PathLike, neighbours: Neighbours) -> int:
    """Write ``neighbours`` to ``path`` atomically; return the file's size in bytes."""
    data = neighbours_bytes(neighbours)
    atomic_write_bytes(path, data)
    return len(data)


def load_neighbours(path: str | os.PathLike) -> Neighbours:
    """Read a file written by ``save_neighbours``, or raise ``NeighboursError`` (one line)."""
    path = Path(path)
    remedy = f"make it with: python -m lenet experiments --model {path.name.removesuffix(NEIGHBOURS_SUFFIX)}"
    if not path.is_file():
        raise NeighboursError(f"neighbours file {path} not found; {remedy}")
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = json.loads((f.metadata() or {})[META_KEY])
            arrays = {name: f.get_tensor(name) for name in ("labels", "indices", "features", "images_png")}
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format version {meta.get('format_version')}")
        n = len(arrays["labels"])
        if len(arrays["indices"]) != n or arrays["features"].ndim != 2 or len(arrays["features"]) != n:
            raise ValueError("arrays of different lengths")
        images = images_from_png_strip(arrays["images_png"].tobytes(), n, meta["image_shape"])
        layer, output = meta.pop("layer"), meta.pop("output")
        meta.pop("image_shape")
        return Neighbours(images=images, labels=arrays["labels"], indices=arrays["indices"],
                          features=arrays["features"].astype(np.float32), layer=layer, output=output,
                          meta=meta)
    except (SafetensorError, OSError, KeyError, ValueError, TypeError,
            Image.DecompressionBombError) as exc:
        raise NeighboursError(f"neighbours file {path} is corrupt or not a lenet neighbours file "
                              f"({type(exc).__name__}); {remedy}") from None
