"""Where a checkpoint's companions live and what its header says, without torch: the page
(``lenet.page``) is assembled from these alone, so that the app serves its first page before
torch is imported."""
from __future__ import annotations

import json
from pathlib import Path

from safetensors import safe_open

META_KEY = "lenet"   # the checkpoint's JSON metadata (lenet.net.checkpoint writes it)
GALLERY_SUFFIX = ".gallery.safetensors"
# The stored experiments (lenet.inside.experiments) and nearest neighbours (lenet.inside.neighbours).
EXPERIMENTS_SUFFIX = ".experiments.safetensors"
NEIGHBOURS_SUFFIX = ".neighbours.safetensors"
SNAPSHOTS_SUFFIX = ".snapshots.safetensors"   # weights during training (lenet.training.snapshots)
# Every file that lives beside a checkpoint and is not one.
SIDE_SUFFIXES = (GALLERY_SUFFIX, EXPERIMENTS_SUFFIX, NEIGHBOURS_SUFFIX, SNAPSHOTS_SUFFIX)


def checkpoint_meta(path: str | Path) -> dict:
    """A checkpoint's metadata, read from its header alone (no weights, no torch)."""
    with safe_open(str(path), framework="numpy") as f:
        return json.loads((f.metadata() or {})[META_KEY])


def gallery_path(checkpoint: str | Path) -> Path:
    """``checkpoints/lenet5.safetensors`` -> ``checkpoints/lenet5.gallery.safetensors``."""
    return _beside(checkpoint, GALLERY_SUFFIX)


def experiments_path(checkpoint: str | Path) -> Path:
    """``checkpoints/lenet5.safetensors`` -> ``checkpoints/lenet5.experiments.safetensors``."""
    return _beside(checkpoint, EXPERIMENTS_SUFFIX)


def neighbours_path(checkpoint: str | Path) -> Path:
    """``checkpoints/lenet5.safetensors`` -> ``checkpoints/lenet5.neighbours.safetensors``."""
    return _beside(checkpoint, NEIGHBOURS_SUFFIX)


def snapshots_path(checkpoint: str | Path) -> Path:
    """``checkpoints/lenet5.safetensors`` -> ``checkpoints/lenet5.snapshots.safetensors``."""
    return _beside(checkpoint, SNAPSHOTS_SUFFIX)


def is_side_file(path: str | Path) -> bool:
    """Whether ``path`` is one of a checkpoint's companions (gallery, experiments,
    neighbours) rather than a checkpoint."""
    return Path(path).name.endswith(SIDE_SUFFIXES)


def side_files(checkpoint: str | Path) -> list[Path]:
    """The companions of ``checkpoint`` that exist: what a shell serves or copies with it."""
    return [p for p in (_beside(checkpoint, s) for s in SIDE_SUFFIXES) if p.is_file()]


def _beside(checkpoint: str | Path, suffix: str) -> Path:
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.name.removesuffix(".safetensors") + suffix)
