"""Which files go to the Hugging Face Space, and the `hf upload` command that sends them: the
Gradio app (the default) or, with --static, the page as a static site.

The Space runs app.py, so it gets what the app reads: app.py, ui/, web/, the lenet
package, every checkpoint and the files beside it, requirements.txt, README.md (its front matter is
the Space card) and .gitattributes (the LFS rules, for anyone who later pushes to the Space
with git). Tests, benchmarks, docs, train.py, the training curves (the app draws them from
the checkpoints' metadata) and the training logs stay here.

The patterns are `hf upload --include` patterns, matched by huggingface_hub's own matcher
(fnmatch on the path relative to this folder, `*` crossing `/`), so `--list` shows exactly
what the upload sends: the files as they are on disk, committed or not.

    python deploy.py --list                       # the files, one a line; count and size on stderr
    python deploy.py --command YOUR_NAME/SPACE    # the `hf upload` command that sends them
    python deploy.py --copy DIR                   # copy them into DIR, e.g. a clone of the Space

A static Space (`sdk: static`) is free to create and serves plain files; it gets the site that
`python -m lenet site` writes (index.html, web/, the checkpoints and the files beside them) and a card
of its own, and has no Python behind it, so no Python API:

    python deploy.py --static --list              # the static Space's files
    python deploy.py --static --copy DIR          # build the site and its card into DIR
    python deploy.py --static --command YOUR_NAME/SPACE   # the commands that send them
"""
from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterable

from huggingface_hub.utils import filter_repo_objects  # the matcher `hf upload` applies

from lenet.page import TABS
from lenet.page.site import SiteError, build_site

ROOT = Path(__file__).resolve().parent
INCLUDE = [
    "app.py",
    "README.md",
    "requirements.txt",
    ".gitattributes",
    "ui/*.py",
    "web/*",
    "lenet/*.py",
    "checkpoints/*.safetensors",  # weights and *.gallery/experiments/neighbours.safetensors
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


# ---------------------------------------------------------------------------- the static Space
STATIC_DIR = "space-static"   # where the printed commands build the static Space's files
# The Gradio card's keys that a static Space does not take, or says in its own words.
GRADIO_ONLY = ("sdk", "sdk_version", "python_version", "app_file", "title", "short_description")
STATIC_KEYS = ["title: How a CNN Sees (static)", "sdk: static",
               "short_description: LeNet-5 and a CIFAR-10 CNN, computed in your browser"]
STATIC_TEXT = f"""
# How a CNN sees: the static build

This Space is the static build of How a CNN sees: the same tabs as the Gradio app
({", ".join(TABS.values())}), from the same files. Every number is computed in your browser
from the checkpoints in `checkpoints/`; nothing you draw or upload leaves it.

There is no Python here, so no Python API: for `gradio_client` and the command line, run the
Gradio app (`python app.py`). This folder was written by `python -m lenet site` and
`python deploy.py --static`; run `python -m http.server -d .` in it to try it locally.
"""


def static_card(readme: Path = ROOT / "README.md") -> str:
    """The static Space's README.md: the Gradio card's front matter (emoji, colours, licence,
    tags) with the static SDK and its own title, then its own words."""
    front = readme.read_text().split("---\n")[1]
    kept = [line for line in front.splitlines() if line.split(":")[0] not in GRADIO_ONLY]
    return "---\n" + "\n".join([*STATIC_KEYS, *kept]) + "\n---\n" + STATIC_TEXT


def copy_static(dest: Path) -> list[str]:
    """The static Space's files written into ``dest`` (made if missing; what is there stays,
    as with --copy, so a clone of the Space works): the site, built anew, and its card."""
    with tempfile.TemporaryDirectory(prefix="site-") as tmp:
        site = build_site(Path(tmp) / "site")
        copy_upload_set(dest, list(site.files), root=site.path)
    (dest / "README.md").write_text(static_card())
    return sorted([*site.files, "README.md"])


def static_command(space_id: str) -> str:
    return (f"python deploy.py --static --copy {STATIC_DIR}\n"
            f"hf upload {shlex.quote(space_id)} {STATIC_DIR} . --repo-type space")


def static_main(args) -> None:
    if args.command:
        print(static_command(args.command))
        return
    with tempfile.TemporaryDirectory(prefix="space-static-") as tmp:
        dest = args.copy or Path(tmp)
        try:
            files = copy_static(dest)
        except SiteError as exc:
            sys.exit(f"error: {exc}")
        size = sum((dest / name).stat().st_size for name in files)
    if args.list:
        print("\n".join(files))
    print(f"{len(files)} files, {size / 1e6:.2f} MB (the static site and its card)", file=sys.stderr)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    action = p.add_mutually_exclusive_group(required=True)
    action.add_argument("--list", action="store_true", help="print the files the upload sends")
    action.add_argument("--command", metavar="SPACE_ID",
                        help="print the `hf upload` command for this Space (e.g. YOUR_NAME/how-a-cnn-sees)")
    action.add_argument("--copy", metavar="DIR", type=Path, help="copy the files into DIR")
    p.add_argument("--static", action="store_true",
                   help="a static Space (sdk: static): the site python -m lenet site writes, no Python")
    args = p.parse_args()
    if args.static:
        static_main(args)
        return
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
