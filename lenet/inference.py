"""One tested engine for everything the app shows: prepare an input, classify it, and report
what happened inside (activations of every conv and pooling layer, Grad-CAM, saliency).

Usable without Gradio:

    clf = Classifier.from_checkpoint("checkpoints/lenet5.safetensors")
    result = clf.predict("my_digit.png")
    result.label, result.top(3), result.activations["C1"].shape   # '7', [...], (6, 28, 28)
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image
from torch import nn

from .checkpoint import load_checkpoint
from .models import conv_layer_names
from .preprocess import (InputError, digit_from_image, open_image, photo_to_array,
                         sketch_layers_to_image)
from .visualize import enlarge, feature_map_grid, heat_overlay

__all__ = ["Classifier", "Prediction", "Pictures", "InputError", "render_pictures",
           "attributions", "grad_cam", "saliency"]

NOTHING_DRAWN = "nothing drawn"


@dataclass
class Prediction:
    """The outcome of one forward pass. ``empty`` inputs carry no probabilities."""
    classes: tuple[str, ...]
    input_image: Image.Image                 # what the network receives, viewable
    tensor: torch.Tensor | None = None       # (1, C, H, W), normalised as in training
    probabilities: np.ndarray | None = None  # softmax of the logits
    activations: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (C, H, W)
    empty: bool = False

    @property
    def index(self) -> int | None:
        return None if self.empty else int(self.probabilities.argmax())

    @property
    def label(self) -> str:
        return NOTHING_DRAWN if self.empty else self.classes[self.index]

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        if self.empty:
            return []
        order = np.argsort(-self.probabilities)[:k]
        return [(self.classes[i], float(self.probabilities[i])) for i in order]

    def confidences(self) -> dict[str, float]:
        return {} if self.empty else dict(zip(self.classes, map(float, self.probabilities)))

    def __repr__(self) -> str:
        if self.empty:
            return "Prediction(nothing drawn)"
        guesses = ", ".join(f"{c} {p:.3f}" for c, p in self.top(3))
        return f"Prediction({guesses}; layers {', '.join(self.activations)})"


class Classifier:
    """A loaded model with its checkpoint's description; one instance serves many requests."""

    def __init__(self, model: nn.Module, meta: dict):
        self.model = model.eval()
        self.meta = meta
        self.name = meta["model"]
        self.classes = tuple(meta["classes"])
        self.channels, self.height, self.width = meta["input_shape"]
        self.mean = torch.tensor(meta["mean"], dtype=torch.float32).view(1, -1, 1, 1)
        self.std = torch.tensor(meta["std"], dtype=torch.float32).view(1, -1, 1, 1)
        self.layer_names = conv_layer_names(model)
        self.cam_layer = self._last_spatial_conv()

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike) -> "Classifier":
        return cls(*load_checkpoint(path))

    def __repr__(self) -> str:
        return (f"Classifier({self.name}, {len(self.classes)} classes, "
                f"input {self.channels}x{self.height}x{self.width})")

    @property
    def is_digit_model(self) -> bool:
        return self.channels == 1

    # ------------------------------------------------------------------ preparing inputs
    def prepare(self, source) -> tuple[torch.Tensor | None, Image.Image]:
        """Any user input -> (normalised tensor or None when nothing is drawn, viewable input).

        ``source`` may also be a Gradio Sketchpad/ImageEditor value (a dict with
        ``composite``); a cleared pad counts as nothing drawn.
        """
        if isinstance(source, dict):
            source = sketch_layers_to_image(source)
            if source is None:
                shape = (self.height, self.width) + ((self.channels,) if self.channels > 1 else ())
                return None, Image.fromarray(np.zeros(shape, np.uint8))
        image = open_image(source, target=4 * max(self.height, self.width))
        if self.is_digit_model:
            digit = digit_from_image(image)
            if (self.height, self.width) != digit.pixels.shape:
                raise InputError(f"this model expects {self.height}x{self.width} digits")
            view = Image.fromarray((digit.pixels * 255).round().astype(np.uint8), "L")
            if digit.empty:
                return None, view
            pixels = torch.from_numpy(digit.pixels)[None, None]
        else:
            rgb = photo_to_array(image, self.height)
            view = Image.fromarray(rgb, "RGB")
            grey = rgb.mean(2, keepdims=True) if self.channels == 1 else rgb
            pixels = torch.from_numpy(np.ascontiguousarray(grey, np.float32) / 255).permute(2, 0, 1)[None]
        return (pixels - self.mean) / self.std, view

    # ------------------------------------------------------------------ predicting
    def predict(self, source) -> Prediction:
        """Classify ``source`` and capture every conv/pool activation in the same pass."""
        tensor, view = self.prepare(source)
        if tensor is None:
            return Prediction(self.classes, view, empty=True)
        captured: dict[str, np.ndarray] = {}
        handles = [getattr(self.model.features, name).register_forward_hook(
            lambda _m, _i, out, name=name: captured.__setitem__(name, out[0].numpy().copy()))
            for name in self.layer_names]
        try:
            with torch.inference_mode():
                logits = self.model(tensor)
        finally:
            for handle in handles:
                handle.remove()
        probabilities = torch.softmax(logits[0], 0).numpy()
        return Prediction(self.classes, view, tensor, probabilities, captured)

    def attributions(self, tensor: torch.Tensor, class_index: int):
        """(Grad-CAM on ``cam_layer`` after its activation, input saliency), each (H, W)."""
        layer = self._activation_after(self.cam_layer)
        return attributions(self.model, tensor, layer, class_index)

    def _last_spatial_conv(self) -> str:
        """The last conv whose output is larger than 1x1 (LeNet's C5 is 1x1: nothing to map)."""
        shapes = {}
        hooks = [getattr(self.model.features, n).register_forward_hook(
            lambda _m, _i, out, n=n: shapes.__setitem__(n, out.shape[-2:])) for n in self.layer_names]
        with torch.inference_mode():
            self.model(torch.zeros(1, self.channels, self.height, self.width))
        for h in hooks:
            h.remove()
        convs = [n for n in self.layer_names
                 if isinstance(getattr(self.model.features, n), nn.Conv2d) and max(shapes[n]) > 1]
        return convs[-1]

    def _activation_after(self, name: str) -> nn.Module:
        children = list(self.model.features.named_children())
        position = [n for n, _ in children].index(name)
        follower = children[position + 1][1] if position + 1 < len(children) else None
        is_activation = isinstance(follower, (nn.ReLU, nn.Tanh, nn.Sigmoid))
        return follower if is_activation else children[position][1]


@dataclass
class Pictures:
    """Everything viewable about one prediction, as PIL images."""
    input: Image.Image                     # the network's input, enlarged crisply
    feature_maps: dict[str, Image.Image]   # layer name -> captioned grid of its channels
    grad_cam: Image.Image                  # Grad-CAM heatmap over the input
    saliency: Image.Image                  # input-gradient saliency over the input


def render_pictures(clf: Classifier, result: Prediction, class_index: int | None = None,
                    size: int = 224) -> Pictures:
    """Pictures of ``result``; Grad-CAM and saliency explain ``class_index`` (default: top)."""
    if result.empty:
        raise ValueError("an empty prediction has nothing to picture")
    index = result.index if class_index is None else class_index
    maps = {name: feature_map_grid(a, name) for name, a in result.activations.items()}
    cam, sal = clf.attributions(result.tensor, index)
    return Pictures(enlarge(result.input_image, size), maps,
                    heat_overlay(result.input_image, cam, size),
                    heat_overlay(result.input_image, sal, size))


# ---------------------------------------------------------------------------- attributions

def attributions(model: nn.Module, x: torch.Tensor, layer: nn.Module | None,
                 class_index: int) -> tuple[np.ndarray | None, np.ndarray]:
    """Grad-CAM on ``layer`` and input saliency for one class, from one forward and backward.

    Grad-CAM (Selvaraju et al.): ReLU(sum_c mean(dy/dA_c) * A_c), upsampled bilinearly to
    the input and scaled to [0, 1]; all zero means no spatial evidence at that layer.
    Saliency: |dy/dx|, max over channels, scaled to [0, 1]. Both are (H, W).
    """
    store = {}

    def keep(_m, _i, out):
        out.retain_grad()
        store["a"] = out
    handle = layer.register_forward_hook(keep) if layer is not None else None
    x = x.detach().clone().requires_grad_(True)
    try:
        with torch.enable_grad():
            logits = model(x)
            model.zero_grad(set_to_none=True)
            logits[0, class_index].backward()
    finally:
        if handle is not None:
            handle.remove()
    sal = _unit(x.grad[0].abs().amax(0))
    if layer is None:
        return None, sal
    activation, gradient = store["a"].detach()[0], store["a"].grad[0]
    weights = gradient.mean(dim=(1, 2))                         # (C,)
    cam = torch.relu((weights[:, None, None] * activation).sum(0))
    cam = nn.functional.interpolate(cam[None, None], size=x.shape[-2:], mode="bilinear",
                                    align_corners=False)[0, 0]
    return _unit(cam), sal


def _unit(t: torch.Tensor) -> np.ndarray:
    top = t.max()
    return (t / top if top > 0 else t).numpy()


def grad_cam(model: nn.Module, x: torch.Tensor, layer: nn.Module, class_index: int) -> np.ndarray:
    return attributions(model, x, layer, class_index)[0]


def saliency(model: nn.Module, x: torch.Tensor, class_index: int) -> np.ndarray:
    return attributions(model, x, None, class_index)[1]
