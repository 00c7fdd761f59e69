"""Pictures: feature-map grids, filters, heatmap overlays, tables and training plots.

Everything here takes plain arrays, tensors or dicts and returns PIL images (or rows for a
table); nothing here loads models or knows about Gradio. matplotlib is imported lazily, only
by the plotting functions, so the app starts fast.
"""
from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# ---------------------------------------------------------------------------- plots

def _figure_to_image(fig) -> Image.Image:
    import matplotlib.pyplot as plt
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_training_curves(history: list[dict], title: str) -> Image.Image:
    """Train and validation loss, and validation accuracy, per epoch."""
    plt = _pyplot()
    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax_loss.plot(epochs, [h["train_loss"] for h in history], "o-", label="train")
    ax_loss.plot(epochs, [h["val_loss"] for h in history], "o-", label="validation")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title=f"{title}: loss")
    ax_loss.legend()
    ax_acc.plot(epochs, [100 * h["val_accuracy"] for h in history], "o-", color="tab:green")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title=f"{title}: validation accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    return _figure_to_image(fig)


def plot_lr_sweep(runs: dict[float, dict], title: str) -> Image.Image:
    """Per-step training loss and periodic validation loss for each learning rate."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, (lr, run) in enumerate(sorted(runs.items(), reverse=True)):
        color = f"C{i}"
        ax.plot(range(1, len(run["train"]) + 1), run["train"], color=color, alpha=0.35,
                lw=0.8, label=f"lr {lr:g} train")
        if run["val"]:
            steps, losses = zip(*run["val"])
            ax.plot(steps, losses, "o-", color=color, label=f"lr {lr:g} validation")
    ax.set(xlabel="step (batch of 64)", ylabel="cross-entropy loss",
           title=f"{title}: one epoch per learning rate", ylim=(0, 3))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _figure_to_image(fig)


def plot_confusion_matrix(matrix: list[list[int]], classes, title: str) -> Image.Image:
    plt = _pyplot()
    m = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(6.2, 5.4))
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted", ylabel="true", title=f"{title}: test confusion matrix")
    threshold = m.max() / 2
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                color="white" if v > threshold else "black")
    return _figure_to_image(fig)
