"""Bring committed checkpoints' metadata up to what ``save_checkpoint`` writes today (the layer
table, the Grad-CAM layer, the test-time rule), without retraining and without touching a
byte of the tensors: only the JSON header of the safetensors file is written again.

    python tools/checkpoint_meta.py                       # every checkpoints/<model>.safetensors
    python tools/checkpoint_meta.py runs/lenet5.safetensors

tests/test_committed_checkpoints.py fails while a committed file's metadata is out of date.
"""
from __future__ import annotations

import argparse
import json
import struct
from pathlib import Path

from lenet.net.checkpoint import META_KEY, atomic_write_bytes, load_checkpoint, self_description
from lenet.net.models import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
HEADER_ALIGNMENT = 8   # safetensors pads its JSON header with spaces to a multiple of 8


def split(raw: bytes) -> tuple[dict, bytes]:
    """A safetensors file -> (its JSON header, the tensor bytes after it)."""
    (length,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + length]), raw[8 + length:]


def join(header: dict, data: bytes) -> bytes:
    """The inverse of ``split``; the tensors' offsets count from the end of the header, so the
    same data bytes stay valid under a header of any length."""
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % HEADER_ALIGNMENT)
    return struct.pack("<Q", len(text)) + text + data


def refresh(path: Path) -> bool:
    """Rewrite ``path``'s metadata as ``save_checkpoint`` would; True when it had to change
    (a file whose metadata is already current is left byte for byte as it is)."""
    model, meta = load_checkpoint(path)
    described = self_description(model, meta)
    if described == meta:
        return False
    header, data = split(path.read_bytes())
    header["__metadata__"][META_KEY] = json.dumps(described)
    atomic_write_bytes(path, join(header, data))
    return True


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", type=Path,
                        default=[ROOT / "checkpoints" / f"{n}.safetensors" for n in REGISTRY],
                        help="checkpoints to refresh (default: the committed ones)")
    for path in parser.parse_args(argv).paths:
        print(f"{path}: {'rewritten' if refresh(path) else 'already up to date'}")


if __name__ == "__main__":
    main()
