"""The Python engine, the reference the page's own (web/engine.js) is tested against: prepare
an input, classify it, and report what happened inside (activations of every conv and pooling
layer, Grad-CAM, saliency). The server's tabs show its numbers; the draw and photo views
recompute theirs in the page.

Usable without Gradio:

    clf = Classifier.from_checkpoint("checkpoints/lenet5.safetensors")
    result = clf.predict("my_digit.png")
    result.label, result.top(3), result.feature_maps["C1"].shape   # '7', [...], (6, 28, 28)
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image
from torch import nn

from lenet.inputs.images import InputError, open_image
from lenet.inputs.preprocess import digit_from_image, photo_to_array
from lenet.net.checkpoint import averages_mirror, load_checkpoint
from lenet.net.models import (
    REGISTRY,
    after_activation,
    answer_logits,
    forward_stages,
    layer_table,
    map_layer_names,
    mirror_mean,
    normalize,
    with_mirror_images,
)

__all__ = ["Classifier", "Prediction", "InputError",
           "layer_outputs", "attribution_maps", "attributions", "grad_cam",
           "saliency"]

NOTHING_DRAWN = "nothing drawn"


@dataclass
class Prediction:
    """The outcome of one forward pass. ``empty`` inputs carry no probabilities."""
    classes: tuple[str, ...]
    input_image: Image.Image                 # what the network receives, viewable
    tensor: torch.Tensor | None = None       # (1, C, H, W), normalised as in training
    probabilities: np.ndarray | None = None  # softmax of ``logits``
    layers: dict[str, np.ndarray] = field(default_factory=dict)  # every layer's output, one image
    empty: bool = False
    map_layers: tuple[str, ...] = ()         # the conv and pooling layers, shown as feature maps
    mirror_logits: np.ndarray | None = None  # the mirror image's logits, for a model that
                                             # answers with the mean of both

    @property
    def feature_maps(self) -> dict[str, np.ndarray]:
        """The conv and pooling layers' outputs, name -> (C, H, W); convs before activation."""
        return {name: self.layers[name] for name in self.map_layers}

    @property
    def own_logits(self) -> np.ndarray | None:
        """The output layer's values for this image (the last of ``layers``)."""
        return None if self.empty else next(reversed(self.layers.values()))

    @property
    def logits(self) -> np.ndarray | None:
        """The logits the probabilities come from: ``own_logits``, or their mean with
        ``mirror_logits`` when the model averages an image with its mirror image."""
        if self.empty or self.mirror_logits is None:
            return self.own_logits
        return (self.own_logits + self.mirror_logits) / 2

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
        return f"Prediction({guesses}; layers {', '.join(self.feature_maps)})"


class Classifier:
    """A loaded model with its checkpoint's description; one instance serves many requests.

    Re-entrant: a request never changes the shared model. Layers are run one by one
    (``forward``), not through hooks, and gradients for Grad-CAM and saliency come from
    ``torch.autograd.grad`` on the request's own tensors; the parameters are frozen at load.
    """

    def __init__(self, model: nn.Module, meta: dict):
        self.model = model.eval().requires_grad_(False)
        self.meta = meta
        self.name = meta["model"]
        self.classes = tuple(meta["classes"])
        self.channels, self.height, self.width = meta["input_shape"]
        self.mean, self.std = tuple(meta["mean"]), tuple(meta["std"])
        self.map_layer_names = map_layer_names(model)
        # Models trained on mirror images too answer with the mean of both (models.answer_logits).
        self.mirror_average = averages_mirror(meta)
        with torch.inference_mode():
            _, outputs = self.forward(torch.zeros(1, self.channels, self.height, self.width))
        self.shapes = {name: tuple(out.shape[1:]) for name, out in outputs.items()}
        # Which activation follows which layer, as the checkpoint's layer table states it.
        self.layer_table = layer_table(model)
        # Grad-CAM's layer is the model spec's, read after its activation. A model without
        # convolutions (the dense baseline) has no maps to weigh: cam_layer and cam_output
        # are None and attributions give saliency only.
        self.cam_layer = REGISTRY[self.name].cam_layer
        self.cam_output = self.activation_of(self.cam_layer) if self.cam_layer else None
        # The fully connected layers (LeNet's F6 and output, the ConvNet's fc1 and fc2).
        self.linear_names = [n for n, m in model.classifier.named_children()
                             if isinstance(m, nn.Linear)]

    def activation_of(self, name: str) -> str:
        """The name of the activation layer after ``name``, or ``name`` when none follows."""
        return after_activation(self.layer_table, name)

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike) -> "Classifier":
        return cls(*load_checkpoint(path))

    def __repr__(self) -> str:
        return (f"Classifier({self.name}, {len(self.classes)} classes, "
                f"input {self.channels}x{self.height}x{self.width})")

    @property
    def is_digit_model(self) -> bool:
        return self.channels == 1

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(B, C, H, W) normalised input -> (logits (B, classes), every named layer's output).

        The outputs are keyed by layer name (``C1``, ``C1_relu``, ``S2``, ... ``output``),
        each (B, ...), in forward order. Nothing is stored on the model.
        """
        return layer_outputs(self.model, x)

    def answer(self, tensor: torch.Tensor):
        """One pass for a (1, C, H, W) input: (the logits the answer comes from (1, classes),
        every layer's outputs with this input first, the mirror image's logits or None)."""
        if self.mirror_average:   # the image and its mirror image in one batch
            logits, outputs = self.forward(with_mirror_images(tensor))
            return mirror_mean(logits), outputs, logits[1]
        logits, outputs = self.forward(tensor)
        return logits, outputs, None

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) normalised input -> the logits the answers come from (B, classes),
        averaged with the mirror images' when ``mirror_average``."""
        return answer_logits(self.model, x, self.mirror_average)

    # ------------------------------------------------------------------ preparing inputs
    def prepare(self, source) -> tuple[torch.Tensor | None, Image.Image]:
        """Any user input -> (normalised tensor or None when nothing is drawn, viewable input)."""
        image = open_image(source)   # decoded in full, as the page decodes an upload
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
        return normalize(pixels, self.mean, self.std), view

    # ------------------------------------------------------------------ predicting
    def pixels(self, tensor: torch.Tensor) -> np.ndarray:
        """A normalised (1, C, H, W) input back to pixels in [0, 1]: (C, H, W) float32."""
        mean, std = (torch.tensor(v).view(-1, 1, 1) for v in (self.mean, self.std))
        return (tensor[0] * std + mean).clamp(0, 1).numpy()

    def predict(self, source) -> Prediction:
        """Classify ``source``, keeping every layer's output from the same pass."""
        tensor, view = self.prepare(source)
        return self._predict(tensor, view)

    def predict_pixels(self, pixels: np.ndarray | None) -> Prediction:
        """Classify an input that is already the network's size, taken as it is: (C, H, W)
        in [0, 1] (a prepared drawing, a test image); None is nothing drawn."""
        shape = (self.channels, self.height, self.width)
        if pixels is None:
            return Prediction(self.classes, Image.new("L", shape[:0:-1]), empty=True)
        pixels = np.asarray(pixels, np.float32)
        if pixels.shape != shape:
            raise InputError(f"this model takes {shape} pixels, not {pixels.shape}")
        tensor = normalize(torch.from_numpy(pixels.copy())[None], self.mean, self.std)
        grey = (pixels * 255).round().astype(np.uint8)
        view = (Image.fromarray(grey[0], "L") if self.channels == 1
                else Image.fromarray(grey.transpose(1, 2, 0), "RGB"))
        return self._predict(tensor, view)

    def _predict(self, tensor: torch.Tensor | None, view: Image.Image) -> Prediction:
        if tensor is None:
            return Prediction(self.classes, view, empty=True)
        with torch.inference_mode():
            logits, outputs, mirror = self.answer(tensor)
        probabilities = torch.softmax(logits[0], 0).numpy()
        layers = {name: out[0].numpy() for name, out in outputs.items()}
        return Prediction(self.classes, view, tensor, probabilities, layers,
                          map_layers=tuple(self.map_layer_names),
                          mirror_logits=None if mirror is None else mirror.numpy())

    def attributions(self, tensor: torch.Tensor, class_index: int):
        """(Grad-CAM on ``cam_layer`` after its activation, input saliency), each (H, W)."""
        return attributions(self.model, tensor, self.cam_output, class_index)

    def heatmaps(self, result: Prediction, class_index: int | None = None) -> Heatmaps:
        """Grad-CAM and saliency of ``result`` for ``class_index`` (default: the answer), in
        their own units."""
        index = result.index if class_index is None else class_index
        cam, sal = attribution_maps(self.model, result.tensor, self.cam_output, index)
        return Heatmaps(cam, sal, index)


@dataclass
class Heatmaps:
    """Grad-CAM ((H, W), or None for a model without conv maps) and input saliency (H, W)
    for one class, in their own units."""
    grad_cam: np.ndarray | None
    saliency: np.ndarray
    class_index: int


# ---------------------------------------------------------------------------- layers

def layer_outputs(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run ``model`` layer by layer on ``x``: (logits, name -> that layer's output).

    Works for the project's models (``features`` + ``classifier``) and for any
    ``nn.Sequential``. Unnamed glue (the flatten) is not kept.
    """
    outputs = {}
    for name, layer in forward_stages(model):
        x = layer(x)
        if name:
            outputs[name] = x
    return x, outputs


# ---------------------------------------------------------------------------- attributions

def attribution_maps(model: nn.Module, x: torch.Tensor, layer: str | None,
                     class_index: int) -> tuple[np.ndarray | None, np.ndarray]:
    """Grad-CAM on the output of ``layer`` and input saliency for one class, one pass, in
    their own units (use ``attributions`` for both scaled to [0, 1]).

    Grad-CAM (Selvaraju et al.): ReLU(sum_c mean(dy/dA_c) * A_c), upsampled bilinearly to
    the input. Saliency: |dy/dx|, max over channels. Both are (H, W).
    The gradients are taken with ``torch.autograd.grad`` with respect to this call's own
    tensors only: nothing is written into the model (its parameters may be frozen).
    """
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits, outputs = layer_outputs(model, x)
        wrt = [x] if layer is None else [x, outputs[layer]]
        grads = torch.autograd.grad(logits[0, class_index], wrt)
    sal = grads[0][0].abs().amax(0).numpy()
    if layer is None:
        return None, sal
    activation, gradient = outputs[layer].detach()[0], grads[1][0]
    weights = gradient.mean(dim=(1, 2))                         # (C,)
    cam = torch.relu((weights[:, None, None] * activation).sum(0))
    cam = nn.functional.interpolate(cam[None, None], size=x.shape[-2:], mode="bilinear",
                                    align_corners=False)[0, 0]
    return cam.numpy(), sal


def attributions(model: nn.Module, x: torch.Tensor, layer: str | None,
                 class_index: int) -> tuple[np.ndarray | None, np.ndarray]:
    """``attribution_maps`` scaled to [0, 1]; all zero means no evidence at that layer."""
    cam, sal = attribution_maps(model, x, layer, class_index)
    return (None if cam is None else _unit(cam)), _unit(sal)


def _unit(a: np.ndarray) -> np.ndarray:
    top = a.max()
    return a / top if top > 0 else a


def grad_cam(model: nn.Module, x: torch.Tensor, layer: str, class_index: int) -> np.ndarray:
    return attributions(model, x, layer, class_index)[0]


def saliency(model: nn.Module, x: torch.Tensor, class_index: int) -> np.ndarray:
    return attributions(model, x, None, class_index)[1]
