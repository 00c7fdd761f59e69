"""The course's networks, as pure ``nn.Module``s, and a name -> spec registry.

LeNet-5 (the workshop's) and the CIFAR-10 ConvNet, plus two MNIST comparisons: the
exercise's classic LeNet-5 (tanh, average pooling) and the tutorials' one dense layer.

Layers carry the course's names (C1, S2, C3, ...) so that the layer outputs, the captions and
the architecture table all speak the same language. Models return logits; softmax belongs to
whoever shows probabilities. No I/O, no device choice, no printing in this file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from lenet.net.layers import MAP_LAYERS, geometry

MNIST_CLASSES = tuple(str(d) for d in range(10))
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")


class LeNet5(nn.Module):
    """LeNet-5 as in the workshop: ReLU, max-pooling, C1 padded so 28x28 acts like 32x32."""

    activation, pool = nn.ReLU, nn.MaxPool2d

    def __init__(self, num_classes: int = 10):
        super().__init__()
        act = self.activation.__name__.lower()        # "relu" or "tanh": C1_relu, C1_tanh, ...
        self.features = nn.Sequential()
        self.features.add_module("C1", nn.Conv2d(1, 6, kernel_size=5, padding=2))
        self.features.add_module(f"C1_{act}", self.activation())
        self.features.add_module("S2", self.pool(2, 2))
        self.features.add_module("C3", nn.Conv2d(6, 16, kernel_size=5))
        self.features.add_module(f"C3_{act}", self.activation())
        self.features.add_module("S4", self.pool(2, 2))
        self.features.add_module("C5", nn.Conv2d(16, 120, kernel_size=5))
        self.features.add_module(f"C5_{act}", self.activation())
        self.classifier = nn.Sequential()
        self.classifier.add_module("F6", nn.Linear(120, 84))
        self.classifier.add_module(f"F6_{act}", self.activation())
        self.classifier.add_module("output", nn.Linear(84, num_classes))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        # (B, 1, 28, 28) -> C1 (B, 6, 28, 28) -> S2 (B, 6, 14, 14) -> C3 (B, 16, 10, 10)
        # -> S4 (B, 16, 5, 5) -> C5 (B, 120, 1, 1)
        return self.features(x)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(x, 1))  # (B, 120) -> (B, 84) -> (B, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class LeNet5Classic(LeNet5):
    """The exercise's LeNet-5: the workshop's layers and shapes, but tanh activations and
    average pooling, as in LeCun et al. (1998). Same names, so the app shows it unchanged."""

    activation, pool = nn.Tanh, nn.AvgPool2d


class Dense(nn.Module):
    """One linear layer on the flattened pixels: the tutorials' baseline (about 92 %).

    ``features`` is empty rather than missing so that code walking features, flatten,
    classifier (the app's engine, the architecture table) treats it like the CNNs.
    """

    def __init__(self, num_classes: int = 10, pixels: int = 28 * 28):
        super().__init__()
        self.features = nn.Sequential()
        self.classifier = nn.Sequential()
        self.classifier.add_module("output", nn.Linear(pixels, num_classes))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)  # no convolutions: (B, 1, 28, 28) unchanged

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(x, 1))  # (B, 784) -> (B, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class ConvNet(nn.Module):
    """The CIFAR-10 assignment's network: two tanh conv blocks and a 64-unit hidden layer."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("conv1", nn.Conv2d(3, 16, kernel_size=5))
        self.features.add_module("conv1_tanh", nn.Tanh())
        self.features.add_module("pool1", nn.MaxPool2d(2, 2))
        self.features.add_module("conv2", nn.Conv2d(16, 128, kernel_size=5))
        self.features.add_module("conv2_tanh", nn.Tanh())
        self.features.add_module("pool2", nn.MaxPool2d(2, 2))
        self.classifier = nn.Sequential()
        # 32 -5+1 -> 28 /2 -> 14 -5+1 -> 10 /2 -> 5: 128 maps of 5x5
        self.classifier.add_module("fc1", nn.Linear(128 * 5 * 5, 64))
        self.classifier.add_module("fc1_tanh", nn.Tanh())
        self.classifier.add_module("fc2", nn.Linear(64, num_classes))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        # (B, 3, 32, 32) -> conv1 (B, 16, 28, 28) -> pool1 (B, 16, 14, 14)
        # -> conv2 (B, 128, 10, 10) -> pool2 (B, 128, 5, 5)
        return self.features(x)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(x, 1))  # (B, 3200) -> (B, 64) -> (B, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@dataclass(frozen=True)
class ModelSpec:
    """What the rest of the project needs to know about a model besides its weights."""
    name: str
    build: Callable[[], nn.Module]
    dataset: str                    # "mnist" or "cifar10"
    classes: tuple[str, ...]
    input_shape: tuple[int, int, int]  # (C, H, W)
    mean: tuple[float, ...]         # per-channel normalisation applied to [0, 1] pixels
    std: tuple[float, ...]
    title: str


REGISTRY: dict[str, ModelSpec] = {
    "lenet5": ModelSpec("lenet5", LeNet5, "mnist", MNIST_CLASSES, (1, 28, 28),
                        mean=(0.0,), std=(1.0,), title="LeNet-5 on MNIST"),
    "convnet": ModelSpec("convnet", ConvNet, "cifar10", CIFAR10_CLASSES, (3, 32, 32),
                         mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), title="ConvNet on CIFAR-10"),
    "lenet5-classic": ModelSpec("lenet5-classic", LeNet5Classic, "mnist", MNIST_CLASSES,
                                (1, 28, 28), mean=(0.0,), std=(1.0,),
                                title="LeNet-5 classic (tanh, average pooling, Adam) on MNIST"),
    "dense": ModelSpec("dense", Dense, "mnist", MNIST_CLASSES, (1, 28, 28),
                       mean=(0.0,), std=(1.0,), title="One dense layer on MNIST"),
}


def with_mirror_images(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (2B, C, H, W): the batch, then each image mirrored left to right."""
    return torch.cat([x, x.flip(-1)])


def mirror_mean(logits: torch.Tensor) -> torch.Tensor:
    """The logits of ``with_mirror_images(x)`` (2B, K) -> each image's mean with its mirror
    image's (B, K)."""
    half = len(logits) // 2
    return (logits[:half] + logits[half:]) / 2


def answer_logits(model: nn.Module, x: torch.Tensor, mirror: bool) -> torch.Tensor:
    """The logits the project answers with: ``model(x)``, or with ``mirror`` the mean of each
    image's logits and its mirror image's (one pass over a batch twice as large). A model
    trained on mirror images as well has learned both as the same class; averaging them makes
    its answer depend less on small changes to the photo."""
    return mirror_mean(model(with_mirror_images(x))) if mirror else model(x)


_FLATTEN = nn.Flatten()  # stateless: safe to share between requests


def forward_stages(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The model's layers in forward order; a nameless ``Flatten`` stands between features
    and classifier (as in ``forward_head``), so that walking them gives the model's output."""
    if hasattr(model, "features") and hasattr(model, "classifier"):
        return [*model.features.named_children(), ("", _FLATTEN),
                *model.classifier.named_children()]
    return list(model.named_children())


def layer_table(model: nn.Module) -> list[dict]:
    """The model's stages in forward order as plain JSON, stored in every checkpoint so that a
    reader without this code (the page's JavaScript engine) can rebuild the network from the
    weights: each entry has ``name`` and ``kind`` (conv, linear, relu, tanh, maxpool,
    avgpool, flatten), and the sizes and weight names that kind needs."""
    table, prefix = [], {}
    for part in ("features", "classifier"):
        for name, _ in getattr(model, part, nn.Sequential()).named_children():
            prefix[name] = f"{part}.{name}"
    for name, m in forward_stages(model):
        if isinstance(m, nn.Conv2d):
            row = dict(kind="conv", inputs=m.in_channels, outputs=m.out_channels,
                       kernel=list(m.kernel_size), stride=list(m.stride),
                       padding=list(m.padding))
        elif isinstance(m, nn.Linear):
            row = dict(kind="linear", inputs=m.in_features, outputs=m.out_features)
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            size, step = (list(p) for p in geometry(m)[:2])
            row = dict(kind="maxpool" if isinstance(m, nn.MaxPool2d) else "avgpool",
                       kernel=size, stride=step)
        elif isinstance(m, (nn.ReLU, nn.Tanh)):
            row = dict(kind=type(m).__name__.lower())
        elif isinstance(m, nn.Flatten):
            row = dict(kind="flatten")
        else:
            raise ValueError(f"layer {name!r} ({type(m).__name__}) has no table entry")
        if row["kind"] in ("conv", "linear"):
            row.update(weight=f"{prefix[name]}.weight", bias=f"{prefix[name]}.bias")
        table.append(dict(name=name, **row))
    return table


def map_layer_names(model: nn.Module) -> list[str]:
    """Names (inside ``model.features``) of the conv and pooling layers, in forward order."""
    return [name for name, m in model.features.named_children()
            if isinstance(m, MAP_LAYERS)]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def normalize(x: torch.Tensor, mean, std) -> torch.Tensor:
    """(B, C, H, W) pixels -> (x - mean) / std per channel, for training and serving alike.

    uint8 pixels are taken to [0, 1] first; float pixels must already be in [0, 1].
    """
    x = x.float().div_(255) if x.dtype == torch.uint8 else x.float()
    mean = torch.tensor(mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    std = torch.tensor(std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return (x - mean) / std
