"""Training and evaluation loops over tensor-resident data, plus the metrics they report.

Functions here receive everything they use (model, tensors, optimiser, generator); they own
no data loading, no checkpoint I/O and no argument parsing.
"""
from __future__ import annotations

import random
import time
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .data import normalize


def set_seed(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch generator for shuffling and augmentation."""
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
                    on_step: Callable[[int, float], None] | None = None) -> dict:
    """One pass over shuffled ``x`` (uint8). Returns mean loss, per-step losses and images/s."""
    model.train()
    order = torch.randperm(len(x), generator=generator)
    starts = range(0, len(x), batch_size)
    if max_batches is not None:
        starts = starts[:max_batches]
    losses, seen = [], 0
    start_time = time.perf_counter()
    for step, start in enumerate(starts):
        idx = order[start:start + batch_size]
        xb = x[idx]
        if augment is not None:
            xb = augment(xb)
        inputs, targets = normalize(xb, mean, std), y[idx]
        loss = F.cross_entropy(model(inputs), targets)
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
    return {"loss": float(np.mean(losses)), "step_losses": losses,
            "images_per_s": seen / max(elapsed, 1e-9), "seconds": elapsed}


@torch.inference_mode()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, mean, std,
             batch_size: int = 1000) -> dict:
    """Mean cross-entropy, accuracy and predictions of ``model`` on uint8 ``x``."""
    model.eval()
    total_loss, preds = 0.0, []
    for start in range(0, len(x), batch_size):
        logits = model(normalize(x[start:start + batch_size], mean, std))
        total_loss += F.cross_entropy(logits, y[start:start + batch_size], reduction="sum").item()
        preds.append(logits.argmax(1))
    predictions = torch.cat(preds)
    return {"loss": total_loss / len(x),
            "accuracy": (predictions == y).float().mean().item(),
            "predictions": predictions}


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
