"""Which files go to the Hugging Face Space, and the `hf upload` command that sends them.

The Space runs app.py, so it gets what the app reads: app.py, ui/, web/, the lenet
package, every checkpoint and gallery file, requirements.txt, README.md (its front matter is
the Space card) and .gitattributes (the LFS rules, for anyone who later pushes to the Space
with git). Tests, benchmarks, docs, train.py, the training curves (the app draws them from
the checkpoints' metadata) and the training logs stay here.

The patterns are `hf upload --include` patterns, matched by huggingface_hub's own matcher
(fnmatch on the path relative to this folder, `*` crossing `/`), so `--list` shows exactly
what the upload sends: the files as they are on disk, committed or not.

    python deploy.py --list                       # the files, one a line; count and size on stderr
    python deploy.py --command YOUR_NAME/SPACE    # the `hf upload` command that sends them
    python deploy.py --copy DIR                   # copy them into DIR, e.g. a clone of the Space
"""
from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from pathlib import Path
from typing import Iterable

from huggingface_hub.utils import filter_repo_objects  # the matcher `hf upload` applies

ROOT = Path(__file__).resolve().parent
INCLUDE = [
    "app.py",
    "README.md",
    "requirements.txt",
    ".gitattributes",
    "ui/*.py",
    "web/*",
    "lenet/*.py",
    "checkpoints/*.safetensors",  # weights and *.gallery.safetensors
]


def upload_set(paths: Iterable[str]) -> list[str]:
    """The paths (relative, '/'-separated) that `hf upload --include INCLUDE` keeps."""
    return sorted(filter_repo_objects(list(paths), allow_patterns=INCLUDE))


def files_on_disk(root: Path = ROOT) -> list[str]:
    """Every file under root, as `hf upload` lists a folder before filtering it."""
    return [p.relative_to(root).as_posix() for p in root.glob("**/*") if p.is_file()]


def upload_command(space_id: str) -> str:
    lines = [f"hf upload {shlex.quote(space_id)} . . --repo-type space"]
    lines += [f"  --include {shlex.quote(pattern)}" for pattern in INCLUDE]
    return " \\\n".join(lines)


def copy_upload_set(dest: Path, files: list[str], root: Path = ROOT) -> None:
    for name in files:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, dest / name)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    action = p.add_mutually_exclusive_group(required=True)
    action.add_argument("--list", action="store_true", help="print the files the upload sends")
    action.add_argument("--command", metavar="SPACE_ID",
                        help="print the `hf upload` command for this Space (e.g. YOUR_NAME/how-a-cnn-sees)")
    action.add_argument("--copy", metavar="DIR", type=Path, help="copy the files into DIR")
    args = p.parse_args()
    if args.command:
        print(upload_command(args.command))
        return
    files = upload_set(files_on_disk())
    if args.copy:
        copy_upload_set(args.copy, files)
    if args.list:
        print("\n".join(files))
    size = sum((ROOT / name).stat().st_size for name in files)
    print(f"{len(files)} files, {size / 1e6:.2f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
