"""The experiments' numbers that need the whole test set, computed once when a checkpoint is
written (train.py) or later (``python -m lenet experiments --model M``) and stored beside it,
so that the page (web/experiments_file.js) shows them without the data set:

- the test accuracy with each channel of the first two conv layers alone switched off
  (lenet.inside.lesion), beside the accuracy with all on;
- the nine test images that excite each channel of those layers, and each class of the output
  layer, most, cropped to the unit's receptive field (lenet.inside.wants).

    experiments = build_experiments(model, meta, x, y)      # x: the test set, uint8
    save_experiments(experiments_path(checkpoint), experiments)

File: ``<model>.experiments.safetensors``, safetensors tensors ``lesion.<layer>`` (float32 per
channel) and ``crops.<layer>`` (uint8 (channels, k, h, w, C)) with ``indices``, ``values``,
``labels`` and ``positions`` of each, plus JSON metadata, read without pickle. The nearest
neighbours have their own file (lenet.inside.neighbours); ``write_side_files`` writes both.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save as serialize_arrays
from torch import nn

from lenet.inside.lesion import LesionAccuracies, accuracies_with_each_off, first_convs
from lenet.inside.neighbours import build_neighbours, feature_layer, save_neighbours
from lenet.inside.wants import TopCrops, top_crops
from lenet.net.checkpoint import atomic_write_bytes, averages_mirror
from lenet.net.files import EXPERIMENTS_SUFFIX, experiments_path, neighbours_path

FORMAT_VERSION = 1
META_KEY = "lenet_experiments"
K = 9                                   # test images kept per channel
CROP_FIELDS = ("indices", "values", "labels", "positions", "crops")


class ExperimentsError(Exception):
    """An experiments file that is missing or unreadable; the message says how to make it."""


@dataclass(frozen=True, eq=False)
class Experiments:
    """A checkpoint's stored experiments."""
    lesion: LesionAccuracies      # test accuracy with each channel of ``lesion.layers`` off
    crops: dict[str, TopCrops]    # layer -> its k best test images per channel
    labels: dict[str, np.ndarray]  # layer -> (channels, k) int64: those images' true classes
    meta: dict                    # model, dataset, test_size, mirror_average, k, classes

    def __repr__(self) -> str:
        layers = ", ".join(f"{name} {len(c.indices)}" for name, c in self.crops.items())
        return (f"Experiments({self.meta.get('model')}: lesion of {', '.join(self.lesion.layers)} "
                f"(all on {100 * self.lesion.baseline:.2f} %), "
                f"{self.meta.get('k')} crops per channel of {layers})")


def crop_layers(meta: dict) -> list[str]:
    """The layers whose top test images are stored: the first two conv layers (those the
    lesion bars rank) and the output layer (one channel per class)."""
    linear = [row["name"] for row in meta["layers"] if row["kind"] == "linear"]
    return [*first_convs(meta), linear[-1]]


def has_experiments(meta: dict) -> bool:
    """Whether a model has channels to switch off (a conv layer); the dense baseline has none."""
    return any(row["kind"] == "conv" for row in meta["layers"])


# ---------------------------------------------------------------------------- building

def build_experiments(model: nn.Module, meta: dict, x: torch.Tensor, y: torch.Tensor,
                      k: int = K) -> Experiments:
    """Both experiments on the test set ``x`` (uint8 (N, C, H, W)), ``y``."""
    lesion = accuracies_with_each_off(model, meta, x, y, first_convs(meta))
    layers = crop_layers(meta)
    crops = top_crops(model, meta, x, layers, k=k)
    labels = {name: y.numpy()[crops[name].indices].astype(np.int64) for name in layers}
    return Experiments(lesion=lesion, crops=crops, labels=labels,
                       meta={"model": meta["model"], "dataset": meta.get("dataset"), "test_size": len(x),
                             "mirror_average": averages_mirror(meta), "k": k,
                             "classes": list(meta["classes"])})


# ---------------------------------------------------------------------------- file

def experiments_bytes(experiments: Experiments) -> bytes:
    lesion = experiments.lesion
    arrays = {f"lesion.{name}": np.asarray(lesion.accuracies[name], np.float32) for name in lesion.layers}
    for name, crops in experiments.crops.items():
        fields = {"indices": crops.indices, "values": crops.values, "labels": experiments.labels[name],
                  "positions": crops.positions, "crops": crops.crops}
        arrays.update({f"{field}.{name}": fields[field] for field in CROP_FIELDS})
    meta = {"format_version": FORMAT_VERSION, **experiments.meta, "baseline": float(lesion.baseline),
            "lesion_layers": list(lesion.layers), "crop_layers": list(experiments.crops)}
    return serialize_arrays({name: np.ascontiguousarray(a) for name, a in arrays.items()},
                            metadata={META_KEY: json.dumps(meta)})


def save_experiments(path: str | os.PathLike, experiments: Experiments) -> int:
    """Write ``experiments`` to ``path`` atomically; return the file's size in bytes."""
    data = experiments_bytes(experiments)
    atomic_write_bytes(path, data)
    return len(data)


def load_experiments(path: str | os.PathLike) -> Experiments:
    """Read a file written by ``save_experiments``, or raise ``ExperimentsError`` (one line)."""
    path = Path(path)
    remedy = f"make it with: python -m lenet experiments --model {path.name.removesuffix(EXPERIMENTS_SUFFIX)}"
    if not path.is_file():
        raise ExperimentsError(f"experiments file {path} not found; {remedy}")
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = json.loads((f.metadata() or {})[META_KEY])
            if meta.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"format version {meta.get('format_version')}")
            layers, baseline = meta.pop("lesion_layers"), meta.pop("baseline")
            lesion = LesionAccuracies(layers=tuple(layers), baseline=float(baseline),
                                      accuracies={name: f.get_tensor(f"lesion.{name}") for name in layers})
            stored = {name: {field: f.get_tensor(f"{field}.{name}") for field in CROP_FIELDS}
                      for name in meta.pop("crop_layers")}
    except (SafetensorError, OSError, KeyError, ValueError, TypeError) as exc:
        raise ExperimentsError(f"experiments file {path} is corrupt or not a lenet experiments file "
                               f"({type(exc).__name__}); {remedy}") from None
    crops = {name: TopCrops(s["indices"], s["values"], s["positions"], s["crops"])
             for name, s in stored.items()}
    return Experiments(lesion=lesion, crops=crops, labels={name: s["labels"] for name, s in stored.items()},
                       meta=meta)


# ---------------------------------------------------------------------------- both files

def write_side_files(model: nn.Module, meta: dict, checkpoint: str | os.PathLike,
                     x: torch.Tensor, y: torch.Tensor, say=print) -> list[Path]:
    """Write what a checkpoint's experiments read beside it: the experiments file (a model with
    conv layers) and the neighbours file (a model with a hidden linear layer); ``say`` gets one
    line per file, and one for what a model does not get. Returns the paths written."""
    written = []
    if has_experiments(meta):
        start = time.perf_counter()
        experiments = build_experiments(model, meta, x, y)
        path = experiments_path(checkpoint)
        size = save_experiments(path, experiments)
        say(f"wrote {path} ({size:,} bytes, {time.perf_counter() - start:.0f} s): {experiments!r}")
        written.append(path)
    else:
        say(f"{meta['model']}: no conv layer, so no experiments file (nothing to switch off or crop)")
    if feature_layer(meta) is not None:
        start = time.perf_counter()
        neighbours = build_neighbours(model, meta, x, y)
        path = neighbours_path(checkpoint)
        size = save_neighbours(path, neighbours)
        say(f"wrote {path} ({size:,} bytes, {time.perf_counter() - start:.0f} s): {neighbours!r}")
        written.append(path)
    else:
        say(f"{meta['model']}: no hidden linear layer, so no neighbours file")
    return written
