"""Self-describing checkpoints: weights in safetensors, everything else as JSON metadata.

A checkpoint holds what is needed to rebuild and use the model without training code:
architecture name, classes, input shape, normalisation, metrics and per-epoch history.
Loading never unpickles. Writing goes to a temporary file that is renamed into place, so an
interrupted write never leaves a half-written checkpoint behind.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as serialize_tensors
from torch import nn

from lenet.net.files import META_KEY
from lenet.net.models import REGISTRY, layer_table

FORMAT_VERSION = 1


class CheckpointError(Exception):
    """A checkpoint that is missing, corrupt or does not match its architecture."""


def default_checkpoint(model_name: str) -> Path:
    return Path(__file__).resolve().parents[2] / "checkpoints" / f"{model_name}.safetensors"


def atomic_write_bytes(path: str | os.PathLike, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and a rename; readers
    see the old file or the whole new one. ``durable``: on disk before the rename (fsync);
    a cache that can be written again skips that."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(path: str | os.PathLike, model: nn.Module, meta: dict) -> None:
    """Save ``model``'s weights and ``meta`` (JSON-serialisable) to ``path`` atomically."""
    if meta.get("model") not in REGISTRY:
        raise ValueError(f"meta['model'] must be one of {sorted(REGISTRY)}")
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write_bytes(path, serialize_tensors(tensors, metadata={
        META_KEY: json.dumps(self_description(model, meta))}))


def self_description(model: nn.Module, meta: dict) -> dict:
    """``meta`` with what makes the file readable without this code (the page's JavaScript
    engine rebuilds the network from it): the layer table, the model's Grad-CAM layer from
    its spec, and the test-time rule."""
    rule = meta.get("mirror_average", mirror_average_for(meta.get("hyperparameters", {})))
    return {"format_version": FORMAT_VERSION, **meta, "layers": layer_table(model),
            "cam_layer": REGISTRY[meta["model"]].cam_layer, "mirror_average": bool(rule)}


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict]:
    """Return ``(tensors, meta)`` from a checkpoint file, or raise ``CheckpointError``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta = json.loads(header[META_KEY])
    except (SafetensorError, OSError, KeyError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"checkpoint {path} is corrupt or not a lenet checkpoint "
                              f"({type(exc).__name__})") from None
    if meta.get("format_version") != FORMAT_VERSION or meta.get("model") not in REGISTRY:
        raise CheckpointError(f"checkpoint {path} has an unknown format or architecture")
    return tensors, meta


def load_checkpoint(path: str | os.PathLike) -> tuple[nn.Module, dict]:
    """Rebuild the model described by the checkpoint, load its weights, put it in eval mode."""
    tensors, meta = read_checkpoint(path)
    model = REGISTRY[meta["model"]].build(num_classes=len(meta["classes"]))
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError:
        raise CheckpointError(f"checkpoint {path}: weights do not fit the "
                              f"{meta['model']} architecture") from None
    return model.eval(), meta


def mirror_average_for(hyperparameters: dict) -> bool:
    """The test-time rule, decided once, when a model is saved: a model trained on mirror
    images too (random horizontal flips) answers with the mean of an image's and its mirror
    image's logits."""
    return bool(hyperparameters.get("flip", False))


def averages_mirror(meta: dict) -> bool:
    """Whether this checkpoint's model answers with the mean of an image's and its mirror
    image's logits, as its ``mirror_average`` states (``models.answer_logits`` applies it);
    a checkpoint that states nothing answers in one pass."""
    return bool(meta.get("mirror_average", False))


def answer_accuracy(meta: dict) -> float:
    """The test accuracy of the answers the app gives: averaged with the mirror images
    (recorded as ``mirror_test_accuracy``) for a model that averages, else ``test_accuracy``."""
    return meta["mirror_test_accuracy"] if averages_mirror(meta) else meta["test_accuracy"]


def missing_checkpoint_hint(model_name: str, path: str | os.PathLike, error: Exception) -> str:
    """One line for a user whose checkpoint cannot be used: what is wrong, what to run."""
    return f"{error}. Make it with: python train.py --model {model_name} --out {Path(path).parent}"
