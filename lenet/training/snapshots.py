"""Moments of a training run: the weights at a few steps, for replaying how a network learns.

Training only copies the weights at the chosen steps (``SnapshotRecorder``, a few hundred
kilobytes each); the test accuracy and training loss of each moment are measured after
training (``measure_snapshots``), so that the training time stays the training's. What is
measured is the stored half-precision weights, so that anyone reading the file and
evaluating it gets the recorded figures.

The file, ``<model>.snapshots.safetensors`` beside the checkpoint: snapshot k's tensors are
``<k>.<the checkpoint's tensor name>`` (``3.features.C1.weight``) in float16, and the
``lenet`` metadata is JSON with ``"snapshots": [{"step", "loss", "test_accuracy"}, ...]`` in
the order of k, and what a reader needs to rebuild the network (model name, classes,
normalisation, the test-time rule).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as serialize_tensors
from torch import nn

from lenet.net.checkpoint import atomic_write_bytes
from lenet.net.files import META_KEY
from lenet.net.models import REGISTRY
from lenet.training.engine import evaluate

# Steps at which the early changes are seen (the first step already turns the untrained
# network's uniform answers into something); the rest of the run is spread evenly after.
EARLY_STEPS = (1, 10, 30, 100, 300, 1000)
COUNT = 10            # snapshots in a full run, the untrained network and the last step included
LOSS_IMAGES = 5000    # training images (unaugmented, fixed) on which each moment's loss is taken
STORED = torch.float16
FORMAT_VERSION = 1


class SnapshotError(Exception):
    """A snapshot file that is missing, corrupt or not one of this project's."""


def snapshot_steps(total: int, count: int = COUNT) -> list[int]:
    """The steps to keep for a run of ``total`` optimiser steps: 0 (untrained), the early
    steps below ``total``, then evenly spaced steps up to ``total`` itself, ``count`` in all
    (fewer for a run too short to have that many distinct steps)."""
    if total < 1:
        raise ValueError("a run has at least one step")
    marks = [0, *(s for s in EARLY_STEPS if s < total)]
    later = max(1, count - len(marks))
    start = marks[-1]
    marks += [start + round((total - start) * i / later) for i in range(1, later + 1)]
    return sorted(set(marks))


class SnapshotRecorder:
    """Keeps a half-precision CPU copy of the weights at each of ``steps`` (the number of
    optimiser steps taken so far); ``offer(step, model)`` is called at step 0 and after every
    step, and copies only at the chosen ones."""

    def __init__(self, steps: list[int]):
        self.steps = list(steps)
        self.weights: dict[int, dict[str, torch.Tensor]] = {}

    def offer(self, step: int, model: nn.Module) -> None:
        if step in self.steps and step not in self.weights:
            self.weights[step] = {k: v.detach().to("cpu", STORED, copy=True).contiguous()
                                  for k, v in model.state_dict().items()}


@dataclass
class Snapshot:
    """One moment: the step, the training loss and test accuracy of these weights (float32
    copies of the stored half-precision ones) and, when loaded, the network with them."""
    step: int
    loss: float
    test_accuracy: float
    weights: dict[str, torch.Tensor]
    model: nn.Module | None = None

    def record(self) -> dict:
        return {"step": self.step, "loss": self.loss, "test_accuracy": self.test_accuracy}


def model_with(meta: dict, weights: dict[str, torch.Tensor]) -> nn.Module:
    """A fresh network of ``meta``'s model with ``weights`` (any float dtype), in eval mode."""
    model = REGISTRY[meta["model"]].build(num_classes=len(meta["classes"]))
    model.load_state_dict({k: v.float() for k, v in weights.items()}, strict=True)
    return model.eval()


def measure_snapshots(recorder: SnapshotRecorder, meta: dict, x_test, y_test, x_train,
                      y_train) -> list[Snapshot]:
    """Each recorded moment's test accuracy as the app answers (mirror average where
    ``meta`` says so) and its cross-entropy on the first ``LOSS_IMAGES`` of ``x_train``."""
    mirror = bool(meta.get("mirror_average", False))
    x_loss, y_loss = x_train[:LOSS_IMAGES].cpu(), y_train[:LOSS_IMAGES].cpu()
    out = []
    for step in sorted(recorder.weights):
        weights = recorder.weights[step]
        model = model_with(meta, weights)
        accuracy = evaluate(model, x_test, y_test, mean=meta["mean"], std=meta["std"],
                            mirror=mirror)["accuracy"]
        loss = evaluate(model, x_loss, y_loss, mean=meta["mean"], std=meta["std"])["loss"]
        out.append(Snapshot(step, loss, accuracy, weights))
    return out


def snapshots_bytes(snapshots: list[Snapshot], meta: dict) -> bytes:
    tensors = {f"{k}.{name}": t.to(STORED).contiguous()
               for k, snap in enumerate(snapshots) for name, t in snap.weights.items()}
    header = {"format_version": FORMAT_VERSION,
              **{key: meta[key] for key in ("model", "title", "dataset", "classes", "input_shape",
                                            "mean", "std", "mirror_average")},
              "loss_on": f"the first {LOSS_IMAGES} training images, unaugmented",
              "snapshots": [s.record() for s in snapshots]}
    return serialize_tensors(tensors, metadata={META_KEY: json.dumps(header)})


def save_snapshots(path: str | os.PathLike, snapshots: list[Snapshot], meta: dict) -> int:
    """Write the file atomically; returns its size in bytes."""
    data = snapshots_bytes(snapshots, meta)
    atomic_write_bytes(path, data)
    return len(data)


@dataclass
class SnapshotFile:
    meta: dict                  # the file's ``lenet`` metadata
    snapshots: list[Snapshot]   # in order, each with its ``model``


def load_snapshots(path: str | os.PathLike) -> SnapshotFile:
    """Read a snapshot file; each snapshot comes with a network holding its weights."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {})[META_KEY])
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, KeyError, ValueError, RuntimeError) as exc:
        raise SnapshotError(f"{path} is missing, corrupt or not a snapshot file "
                            f"({type(exc).__name__})") from None
    if meta.get("format_version") != FORMAT_VERSION or meta.get("model") not in REGISTRY:
        raise SnapshotError(f"{path} has an unknown format or architecture")
    snapshots = []
    for k, record in enumerate(meta["snapshots"]):
        prefix = f"{k}."
        weights = {name.removeprefix(prefix): t for name, t in tensors.items()
                   if name.startswith(prefix)}
        snapshots.append(Snapshot(record["step"], record["loss"], record["test_accuracy"],
                                  weights, model_with(meta, weights)))
    return SnapshotFile(meta, snapshots)
