"""Test-set galleries: random test images and the model's mistakes, with true label,
prediction and confidence, in a small file beside each checkpoint.

The app shows them without the dataset (a Hugging Face Space does not have it):

    gallery = load_gallery(gallery_path(default_checkpoint("lenet5")))
    for i in gallery.mistake_positions():
        gallery.picture(i), gallery.caption(i)      # PIL image, "true 9, predicted 4 (71 %)"

File: ``<model>.gallery.safetensors``, safetensors tensors plus JSON metadata, read without
pickle. The images are stored as one lossless PNG (the images stacked vertically) inside a
uint8 tensor: raw pixels of the four galleries would take about 3.3 MB, over the 2 MB the
Space should carry; PNG brings CIFAR-10 pictures to ~70 % and MNIST digits to ~20 %.
This module evaluates and stores; it does not train and does not draw grids.
"""
from __future__ import annotations

import io
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

from lenet.inputs.images import png_bytes
from lenet.net.checkpoint import atomic_write_bytes, averages_mirror
from lenet.net.files import GALLERY_SUFFIX as SUFFIX
from lenet.net.files import gallery_path  # noqa: F401  (where the app and the CLI find it)
from lenet.training.engine import evaluate

FORMAT_VERSION = 1
META_KEY = "lenet_gallery"
N_RANDOM = 300
# Mistakes kept per dataset (None: every one). MNIST models make a few dozen to a few
# hundred; the ConvNet makes ~2,400 on CIFAR-10, which would not fit the size budget.
MISTAKES = {"mnist": None, "cifar10": 300}
ARRAYS = ("labels", "predictions", "confidences", "probabilities", "indices", "is_mistake",
          "in_sample")


class GalleryError(Exception):
    """A gallery file that is missing or unreadable; the message says how to make it."""


@dataclass(frozen=True, eq=False)
class Gallery:
    """Test images with what the model made of them, N of them, in test-set order.

    ``images`` are (N, H, W, C) uint8, channels last as PIL, NumPy and Gradio show
    images (C is 1 for MNIST, 3 for CIFAR-10). ``in_sample`` marks the seeded random sample
    (mistakes appear in it at the model's real error rate); ``is_mistake`` marks every wrong
    prediction kept, whether sampled or not.
    """
    images: np.ndarray         # (N, H, W, C) uint8
    labels: np.ndarray         # (N,) int64, true class
    predictions: np.ndarray    # (N,) int64, argmax of the logits
    confidences: np.ndarray    # (N,) float32, softmax probability of the predicted class
    probabilities: np.ndarray  # (N, K) float32 (stored as float16: enough to show)
    indices: np.ndarray        # (N,) int64, position in the test set
    is_mistake: np.ndarray     # (N,) bool
    in_sample: np.ndarray      # (N,) bool
    classes: tuple[str, ...]
    meta: dict                 # model, dataset, test_size, test_mistakes, test_accuracy (of
                               # the app's answers: mirror_average says how), seed

    def __len__(self) -> int:
        return len(self.labels)

    def sample_positions(self) -> np.ndarray:
        """Positions of the random test images."""
        return np.flatnonzero(self.in_sample)

    def mistake_positions(self) -> np.ndarray:
        """Positions of the misclassified test images."""
        return np.flatnonzero(self.is_mistake)

    def picture(self, i: int) -> Image.Image:
        image = self.images[i]
        return Image.fromarray(image[..., 0], "L") if image.shape[-1] == 1 else Image.fromarray(image, "RGB")

    def caption(self, i: int) -> str:
        true, pred = self.classes[self.labels[i]], self.classes[self.predictions[i]]
        return f"true {true}, predicted {pred} ({100 * self.confidences[i]:.0f} %)"

    def __repr__(self) -> str:
        return (f"Gallery({self.meta.get('model')}, {len(self)} images: "
                f"{int(self.in_sample.sum())} random, {int(self.is_mistake.sum())} mistakes "
                f"of {self.meta.get('test_mistakes')} in the test set)")


# ---------------------------------------------------------------------------- building

def build_gallery(model: nn.Module, meta: dict, x: torch.Tensor, y: torch.Tensor,
                  n_random: int = N_RANDOM, n_mistakes: int | None = None, seed: int = 0,
                  batch_size: int = 1000) -> Gallery:
    """Evaluate ``model`` on the test set ``x`` (uint8 (N, C, H, W)), ``y``; keep a seeded
    random sample of ``n_random`` images and ``n_mistakes`` of the mistakes (None: all).

    ``meta`` is the checkpoint's: its mean and std, classes, model and dataset names.
    """
    # The app's answers: averaged with the mirror images for a model that does.
    answers = evaluate(model, x, y, mean=meta["mean"], std=meta["std"], batch_size=batch_size,
                       mirror=averages_mirror(meta))
    predictions, probabilities = answers["predictions"], answers["probabilities"]
    wrong = (predictions != y).numpy()
    rng = np.random.RandomState(seed)
    sample = rng.choice(len(x), min(n_random, len(x)), replace=False)
    mistakes = np.flatnonzero(wrong)
    if n_mistakes is not None and n_mistakes < len(mistakes):
        mistakes = rng.choice(mistakes, n_mistakes, replace=False)
    keep = np.union1d(sample, mistakes)  # sorted: test-set order
    chosen = torch.from_numpy(keep)
    probs = probabilities[chosen]
    preds = predictions[chosen]
    return Gallery(
        images=x[chosen].permute(0, 2, 3, 1).contiguous().numpy(),
        labels=y[chosen].numpy().astype(np.int64), predictions=preds.numpy().astype(np.int64),
        confidences=probs.gather(1, preds[:, None])[:, 0].numpy().astype(np.float32),
        probabilities=probs.numpy().astype(np.float32), indices=keep.astype(np.int64),
        is_mistake=wrong[keep], in_sample=np.isin(keep, sample),
        classes=tuple(meta["classes"]),
        meta={"model": meta["model"], "dataset": meta.get("dataset"), "test_size": len(x),
              "test_mistakes": int(wrong.sum()), "test_accuracy": float(1 - wrong.mean()),
              "n_random": len(sample), "seed": seed, "mirror_average": averages_mirror(meta)})


# ---------------------------------------------------------------------------- file

def png_strip(images: np.ndarray) -> bytes:
    """(N, H, W, C) uint8 -> one lossless PNG of the images stacked vertically (also the
    format of the experiments' and neighbours' files)."""
    n, h, w, c = images.shape
    strip = images.reshape(n * h, w, c)  # one tall picture: PNG compresses across images
    return png_bytes(Image.fromarray(strip[..., 0] if c == 1 else strip), optimize=True)


def images_from_png_strip(data: bytes, n: int, shape) -> np.ndarray:
    """``png_strip``'s bytes -> (n, h, w, c) uint8; ValueError when the picture does not fit."""
    h, w, c = shape
    with Image.open(io.BytesIO(data)) as png:
        pixels = np.asarray(png.convert("L" if c == 1 else "RGB"))
    return pixels.reshape(n, h, w, c)


def save_gallery(path: str | os.PathLike, gallery: Gallery) -> int:
    """Write ``gallery`` to ``path`` atomically; return the file's size in bytes."""
    arrays = {name: np.ascontiguousarray(getattr(gallery, name)) for name in ARRAYS}
    arrays["probabilities"] = arrays["probabilities"].astype(np.float16)
    arrays["images_png"] = np.frombuffer(png_strip(gallery.images), dtype=np.uint8)
    meta = {"format_version": FORMAT_VERSION, **gallery.meta, "classes": list(gallery.classes),
            "image_shape": list(gallery.images.shape[1:])}
    data = serialize_arrays(arrays, metadata={META_KEY: json.dumps(meta)})
    atomic_write_bytes(path, data)
    return len(data)


def load_gallery(path: str | os.PathLike) -> Gallery:
    """Read a gallery written by ``save_gallery``, or raise ``GalleryError`` (one line)."""
    path = Path(path)
    remedy = f"make it with: python -m lenet gallery --model {path.name.removesuffix(SUFFIX)}"
    if not path.is_file():
        raise GalleryError(f"gallery {path} not found; {remedy}")
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = json.loads((f.metadata() or {})[META_KEY])
            arrays = {name: f.get_tensor(name) for name in (*ARRAYS, "images_png")}
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format version {meta.get('format_version')}")
        return _gallery(arrays, meta)
    except (SafetensorError, OSError, KeyError, ValueError, TypeError, IndexError,
            Image.DecompressionBombError) as exc:
        raise GalleryError(f"gallery {path} is corrupt or not a lenet gallery "
                           f"({type(exc).__name__}); {remedy}") from None


def _gallery(arrays: dict[str, np.ndarray], meta: dict) -> Gallery:
    """Check the arrays agree with each other and the metadata, then decode the images."""
    h, w, c = meta["image_shape"]
    classes = tuple(meta.pop("classes"))
    n = len(arrays["labels"])
    if any(len(arrays[name]) != n for name in ARRAYS) or \
            arrays["probabilities"].shape != (n, len(classes)):
        raise ValueError("arrays of different lengths")
    for name in ("labels", "predictions"):
        if n and not 0 <= arrays[name].min() <= arrays[name].max() < len(classes):
            raise ValueError(f"{name} out of range")
    images = images_from_png_strip(arrays.pop("images_png").tobytes(), n, (h, w, c))
    arrays["probabilities"] = arrays["probabilities"].astype(np.float32)
    return Gallery(images=images, classes=classes, meta=meta,
                   **{name: arrays[name] for name in ARRAYS})
