"""Training and evaluation loops over tensor-resident data, the device they run on, and the
metrics they report.

Functions here receive everything they use (model, tensors, optimiser, generator); they own
no data loading, no checkpoint I/O and no argument parsing. The loops run wherever the
tensors and the model are: the same code on CPU, CUDA and MPS.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import random
import time
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from lenet.net.models import answer_logits, normalize

DEVICES = ("auto", "cpu", "cuda", "mps")


class DeviceError(Exception):
    """A device that this machine does not have; the message says what to use instead."""


def _available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return torch.backends.mps.is_available()
    return kind == "cpu"


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda, else mps, else cpu; a named device must be present."""
    if name == "auto":
        return torch.device(next(k for k in ("cuda", "mps", "cpu") if _available(k)))
    if name not in DEVICES:
        raise DeviceError(f"unknown device {name!r}; use one of {', '.join(DEVICES)}")
    if not _available(name):
        have = ", ".join(k for k in ("cuda", "mps", "cpu") if _available(k))
        raise DeviceError(f"--device {name}: this machine (torch {torch.__version__}) has no "
                          f"{name.upper()} device; it has {have}; use --device auto or cpu")
    return torch.device(name)


def describe_device(device: torch.device) -> str:
    """``cuda (NVIDIA H100 80GB HBM3)``, ``cpu (2 threads)``, ``mps``."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type


def keep_freed_memory() -> bool:
    """Let the C library's malloc keep freed memory for reuse instead of returning it.

    A training step frees and allocates the same multi-megabyte activation buffers again and
    again. By default glibc maps each such block afresh and unmaps it when freed, and every
    page is then faulted in and zeroed by the kernel again: a third of LeNet-5's step at
    batch 256 on 2 cores (1.6 million page faults per 100,000 images; 240,000 with this).
    Fixed mmap and trim thresholds keep those blocks in the heap. Process-wide, like
    ``torch.set_num_threads``; returns False, changing nothing, where malloc is not glibc's.
    """
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3          # glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, 32 * 2**20)    # glibc's upper limit on 64 bits
                and mallopt(m_trim_threshold, 2**30))


def prepare_model(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` on ``device`` for training, its conv weights channels-last.

    Channels-last (NHWC) is the layout oneDNN and cuDNN convolve and pool in natively; with
    NCHW, every convolution and pooling reorders its input and output. Checkpoints are saved
    contiguous (NCHW) whatever the training layout, and ``serving_copy`` brings it back.
    """
    return model.to(device, memory_format=torch.channels_last)


def serving_copy(model: nn.Module) -> nn.Module:
    """``model`` as a loaded checkpoint is: on the CPU, NCHW. The same weights in another
    layout or on a GPU round differently, so the recorded test figures are measured here."""
    return model.cpu().to(memory_format=torch.contiguous_format)


def set_seed(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch generator for shuffling and augmentation.

    The generator is a CPU one whatever the device: random numbers are drawn on the CPU and
    moved, so a seed shuffles and augments alike everywhere."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def train_one_epoch(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
                    optimizer: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
                    batch_size: int, mean, std, generator: torch.Generator,
                    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
                    max_batches: int | None = None,
                    on_step: Callable[[int, float], None] | None = None,
                    label_smoothing: float = 0.0) -> dict:
    """One pass over shuffled ``x`` (uint8). Returns mean loss, per-step losses, images/s and
    the seconds (wall and CPU) it took. ``label_smoothing``: cross-entropy against targets that give that
    much of their weight to all classes evenly."""
    model.train()
    order = torch.randperm(len(x), generator=generator).to(x.device)
    starts = range(0, len(x), batch_size)
    if max_batches is not None:
        starts = starts[:max_batches]
    losses, seen = [], 0
    start_time, start_cpu = time.perf_counter(), time.process_time()
    for step, start in enumerate(starts):
        idx = order[start:start + batch_size]
        xb = x[idx]
        if augment is not None:
            xb = augment(xb)
        inputs = normalize(xb, mean, std).contiguous(memory_format=torch.channels_last)
        targets = y[idx]
        loss = F.cross_entropy(model(inputs), targets, label_smoothing=label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        value = loss.item()
        if not np.isfinite(value):
            raise FloatingPointError(f"training diverged (loss {value}) at step {step}; "
                                     f"try a smaller --lr")
        losses.append(value)
        seen += len(idx)
        if on_step is not None:
            on_step(step, value)
    elapsed = time.perf_counter() - start_time
    # CPU time of the process (all threads): on a machine shared with other work the wall
    # seconds grow with the load, the CPU seconds much less.
    return {"loss": float(np.mean(losses)), "step_losses": losses,
            "images_per_s": seen / max(elapsed, 1e-9), "seconds": elapsed,
            "cpu_seconds": time.process_time() - start_cpu}


@torch.inference_mode()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, mean, std,
             batch_size: int = 1000, mirror: bool = False) -> dict:
    """Mean cross-entropy, accuracy, predictions and probabilities (softmax) of ``model`` on
    uint8 ``x``; with ``mirror``, of the logits averaged with the mirror images'
    (``models.answer_logits``)."""
    model.eval()
    total_loss, preds, probs = 0.0, [], []
    for start in range(0, len(x), batch_size):
        logits = answer_logits(model, normalize(x[start:start + batch_size], mean, std), mirror)
        total_loss += F.cross_entropy(logits, y[start:start + batch_size], reduction="sum").item()
        preds.append(logits.argmax(1))
        probs.append(torch.softmax(logits, 1))
    predictions = torch.cat(preds)
    return {"loss": total_loss / len(x),
            "accuracy": (predictions == y).float().mean().item(),
            "predictions": predictions, "probabilities": torch.cat(probs)}


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int) -> list[list[int]]:
    """Rows are true classes, columns predicted classes."""
    flat = y_true.long() * num_classes + y_pred.long()
    counts = torch.bincount(flat, minlength=num_classes * num_classes)
    return counts.view(num_classes, num_classes).tolist()


def per_class_accuracy(matrix: list[list[int]]) -> list[float]:
    return [row[i] / sum(row) if sum(row) else float("nan") for i, row in enumerate(matrix)]


def format_report(classes, matrix: list[list[int]]) -> str:
    """Per-class accuracy and the confusion matrix as fixed-width text for a terminal."""
    width = max(6, max(len(c) for c in classes) + 1)
    lines = ["per-class accuracy:"]
    for name, acc in zip(classes, per_class_accuracy(matrix)):
        lines.append(f"  {name:<{width}} {100 * acc:6.2f} %")
    lines.append("confusion matrix (rows: true, columns: predicted):")
    lines.append(" " * (width + 2) + "".join(f"{c[:5]:>6}" for c in classes))
    for name, row in zip(classes, matrix):
        lines.append(f"  {name:<{width}}" + "".join(f"{v:>6}" for v in row))
    return "\n".join(lines)
