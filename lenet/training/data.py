"""Datasets as uint8 tensors in memory, the course's validation split, normalisation.

Everything is decoded once into ``(N, C, H, W)`` uint8 tensors; batches are slices of those
tensors (on any device), and normalisation runs on whole batches. There is no per-sample
PIL work and no DataLoader in the training loop. Augmentation lives in ``augment``,
training code in ``engine``.
"""
from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lenet.inputs.preprocess import photo_to_array


@functools.cache
def image_suffixes() -> tuple[str, ...]:
    """The suffixes of the files read as images: torchvision's ``IMG_EXTENSIONS`` and GIF,
    which the app reads too. torchvision (about a second) is imported on first use."""
    from torchvision.datasets.folder import IMG_EXTENSIONS
    return (*IMG_EXTENSIONS, ".gif")


class DataError(Exception):
    """A dataset that cannot be found or read; the message tells the user what to do."""


def default_data_dir() -> str:
    """``../shared/data`` when it exists (this project's training machine), else ``data``."""
    shared = Path(__file__).resolve().parents[3] / "shared" / "data"
    return str(shared) if shared.is_dir() else "data"


# ---------------------------------------------------------------------------- loading

def load_split(dataset: str, root: str | os.PathLike, train: bool,
               classes: tuple[str, ...] | None = None):
    """Return ``(images uint8 (N, C, H, W), labels int64 (N,), class names)``.

    ``dataset`` is ``"mnist"`` or ``"cifar10"``. For CIFAR-10, ``root`` may be an image-folder
    tree (``train/<class>/*.jpg`` and ``test/<class>/*.jpg``, directly or under ``cifar10/``);
    otherwise torchvision's loader is used, which downloads into ``root`` when it can.
    """
    root = Path(root)
    if dataset == "mnist":
        return _load_mnist(root, train)
    if dataset == "cifar10":
        folder = find_image_folder(root)
        if folder is not None:
            return load_image_folder(folder / ("train" if train else "test"), size=32,
                                     classes=classes)
        return _load_torchvision_cifar10(root, train)
    raise DataError(f"unknown dataset {dataset!r}; expected 'mnist' or 'cifar10'")


def find_image_folder(root: Path) -> Path | None:
    for candidate in (root, root / "cifar10"):
        if (candidate / "train").is_dir() and (candidate / "test").is_dir():
            return candidate
    return None


def _load_mnist(root: Path, train: bool):
    from torchvision.datasets import MNIST
    try:
        ds = MNIST(root=str(root), train=train, download=True)
    except Exception as exc:  # torchvision raises RuntimeError/URLError/OSError offline
        raise DataError(
            f"MNIST is not under {root}/MNIST/raw/ and could not be downloaded "
            f"({type(exc).__name__}); put the four IDX files there or pass --data-dir") from None
    x = ds.data.unsqueeze(1).contiguous()  # (N, 1, 28, 28) uint8
    return x, ds.targets.long(), tuple(str(d) for d in range(10))


def _load_torchvision_cifar10(root: Path, train: bool):
    from torchvision.datasets import CIFAR10
    try:
        ds = CIFAR10(root=str(root), train=train, download=True)
    except Exception as exc:
        raise DataError(
            f"CIFAR-10 is not under {root} and could not be downloaded ({type(exc).__name__}); "
            f"pass --data-dir pointing at torchvision's root or at a folder holding "
            f"train/<class>/ and test/<class>/ images") from None
    x = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()  # (N, 3, 32, 32) uint8
    return x, torch.tensor(ds.targets, dtype=torch.long), tuple(ds.classes)


def load_image_folder(split_dir: Path, size: int, classes: tuple[str, ...] | None = None):
    """Decode ``split_dir/<class>/<image>`` into RGB uint8, centre-cropped to ``size``."""
    if not split_dir.is_dir():
        raise DataError(f"{split_dir} is missing; an image-folder dataset needs "
                        f"train/<class>/ and test/<class>/ subfolders")
    from torchvision.datasets.folder import find_classes
    try:
        found = tuple(find_classes(split_dir)[0])   # the subfolders' names, sorted
    except FileNotFoundError:   # not one subfolder: the errors below say so
        found = ()
    classes = classes or found
    if set(classes) != set(found):
        raise DataError(f"{split_dir} has classes {list(found)}, expected {list(classes)}")
    files, labels = [], []
    for index, name in enumerate(classes):
        paths = sorted(p for p in (split_dir / name).iterdir()
                       if p.suffix.lower() in image_suffixes())
        files += paths
        labels += [index] * len(paths)
    if not files:
        raise DataError(f"{split_dir} holds no images")
    x = np.empty((len(files), size, size, 3), dtype=np.uint8)

    def decode(i: int) -> None:
        try:
            with Image.open(files[i]) as im:
                x[i] = photo_to_array(im, size)  # the app's recipe: train as it predicts
        except OSError as exc:
            raise DataError(f"cannot read {files[i]}: {exc}") from None

    # PIL releases the GIL while decoding, so threads overlap file reads and JPEG work.
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) * 2)) as pool:
        list(pool.map(decode, range(len(files)), chunksize=256))
    return (torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(),
            torch.tensor(labels, dtype=torch.long), classes)


# ---------------------------------------------------------------------------- splits

def validation_split(n: int, n_val: int = 1024, seed: int = 0):
    """The course's split: a NumPy RandomState(seed) permutation, the first ``n_val`` held out.

    Small datasets (tests, dry runs) keep a fifth for validation instead.
    """
    n_val = min(n_val, n // 5)
    perm = torch.from_numpy(np.random.RandomState(seed).permutation(n))
    return perm[n_val:], perm[:n_val]


# ---------------------------------------------------------------------------- batches

