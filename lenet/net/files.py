"""Where a checkpoint's companions live and what its header says, without torch: the page
(``lenet.page``) is assembled from these alone, so that the app serves its first page before
torch is imported."""
from __future__ import annotations

import json
from pathlib import Path

from safetensors import safe_open

META_KEY = "lenet"   # the checkpoint's JSON metadata (lenet.net.checkpoint writes it)
GALLERY_SUFFIX = ".gallery.safetensors"


def checkpoint_meta(path: str | Path) -> dict:
    """A checkpoint's metadata, read from its header alone (no weights, no torch)."""
    with safe_open(str(path), framework="numpy") as f:
        return json.loads((f.metadata() or {})[META_KEY])


def gallery_path(checkpoint: str | Path) -> Path:
    """``checkpoints/lenet5.safetensors`` -> ``checkpoints/lenet5.gallery.safetensors``."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.name.removesuffix(".safetensors") + GALLERY_SUFFIX)
