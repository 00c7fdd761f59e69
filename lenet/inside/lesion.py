"""Switching parts of a network off (a lesion): every layer's output with some channels (a conv
or pooling layer's planes) or units (a hidden linear layer's) set to zero, and the test accuracy
with each channel of a layer off alone. The reference for the page's lesion lab (net.forward's
``off`` and web/lesion.js); the accuracies stored beside a checkpoint come from here.

    outputs = outputs_with_off(model, meta, pixels, {"C3": [5, 9]})   # as the page's run.outputs
    found = accuracies_with_each_off(model, meta, x, y, first_convs(meta))
    found.accuracies["C1"]                                          # (6,) float32

Inputs are pixels (B, C, H, W), uint8 or float in [0, 1], normalised here as the checkpoint says.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lenet.inside.inference import layer_outputs
from lenet.net.checkpoint import averages_mirror
from lenet.net.layers import is_activation
from lenet.net.models import forward_stages, mirror_mean, normalize, with_mirror_images

# The layer kinds whose outputs can be switched off, as the page's engine.js says.
SWITCHABLE = ("conv", "maxpool", "avgpool", "linear")
MIXING = (nn.Conv2d, nn.Linear)   # the stages that sum over their input channels
BATCH = 250        # test images per step: the ConvNet's first conv at most ~0.5 GB at once
ELEMENTS = 2 ** 24  # values of a chunk of channels' recomputed maps held at once (64 MB)


class LesionError(ValueError):
    """Parts to switch off that the network does not have; the message is one line."""


@dataclass(frozen=True)
class LesionAccuracies:
    """Test accuracy with each channel of each of ``layers`` switched off alone."""
    layers: tuple[str, ...]
    baseline: float                     # with nothing off
    accuracies: dict[str, np.ndarray]   # layer -> float32 (channels,)

    def __repr__(self) -> str:
        worst = ", ".join(f"{k} {v.min():.3f}" for k, v in self.accuracies.items())
        return f"LesionAccuracies(baseline {self.baseline:.4f}; lowest {worst})"


def first_convs(meta: dict) -> list[str]:
    """The names of the first two conv layers in the checkpoint's layer table."""
    return [row["name"] for row in meta["layers"] if row["kind"] == "conv"][:2]


def switchable_parts(model: nn.Module, meta: dict) -> dict[str, int]:
    """layer -> how many channels (units) it has, for every layer whose parts can be switched
    off: conv, pooling and linear layers but the output layer."""
    rows = meta["layers"]
    c, h, w = meta["input_shape"]
    with torch.inference_mode():
        _, outputs = layer_outputs(model, torch.zeros(1, c, h, w))
    return {row["name"]: outputs[row["name"]].shape[1] for row in rows[:-1]
            if row["name"] and row["kind"] in SWITCHABLE}


def check_off(off: dict, parts: dict[str, int], model_name: str) -> dict[str, list[int]]:
    """``off`` with each layer's channels sorted, or a LesionError saying what is not there."""
    checked = {}
    for layer, channels in off.items():
        if layer not in parts:
            raise LesionError(f"{model_name} has no layer '{layer}' to switch parts off in")
        bad = [c for c in channels if not (isinstance(c, int) and 0 <= c < parts[layer])]
        if bad:
            raise LesionError(f"{layer} has channels 0-{parts[layer] - 1}, not {bad[0]}")
        if channels:
            checked[layer] = sorted(set(channels))
    return checked


def outputs_with_off(model: nn.Module, meta: dict, x: torch.Tensor, off: dict) -> dict[str, torch.Tensor]:
    """Every named output (C1, C1_relu, ... output) for pixels ``x`` with ``off``'s parts ({layer:
    [channel or unit, ...]}) set to zero, by forward hooks on those layers."""
    off = check_off(off, switchable_parts(model, meta), meta["model"])
    modules = dict(forward_stages(model))
    hooks = [modules[name].register_forward_hook(_zeroing(channels)) for name, channels in off.items()]
    try:
        with torch.inference_mode():
            _, outputs = layer_outputs(model, normalize(x, meta["mean"], meta["std"]))
    finally:
        for hook in hooks:
            hook.remove()
    return outputs


def _zeroing(channels: list[int]):
    def hook(_module, _inputs, output):
        output = output.clone()
        output[:, channels] = 0
        return output
    return hook


# ---------------------------------------------------------------------------- test accuracy

def accuracies_with_each_off(model: nn.Module, meta: dict, x: torch.Tensor, y: torch.Tensor,
                             layers, batch: int = BATCH) -> LesionAccuracies:
    """The accuracy of the answers the app gives (with the mirror average where the checkpoint
    asks) on pixels ``x`` with labels ``y``, with each channel of each of ``layers`` switched
    off alone. Each batch runs once up to each layer; each channel then costs only its change's
    contribution to the next conv or linear layer and the layers after it."""
    parts = switchable_parts(model, meta)
    check_off({layer: [] for layer in layers}, parts, meta["model"])
    stages, mirror = forward_stages(model), averages_mirror(meta)
    y = torch.as_tensor(y)
    correct = {layer: torch.zeros(parts[layer], dtype=torch.long) for layer in layers}
    right = 0
    with torch.inference_mode():
        for start in range(0, len(x), batch):
            pixels, labels = x[start:start + batch], y[start:start + batch]
            inputs = normalize(pixels, meta["mean"], meta["std"])
            values = _values(stages, with_mirror_images(inputs) if mirror else inputs)
            answer = lambda logits: mirror_mean(logits) if mirror else logits  # noqa: E731
            right += int((answer(values[-1]).argmax(1) == labels).sum())
            for layer in layers:
                at = next(i for i, (name, _) in enumerate(stages) if name == layer)
                logits = _logits_each_off(stages, values, at)              # (C, B or 2B, K)
                found = torch.stack([answer(part) for part in logits])     # (C, B, K)
                correct[layer] += (found.argmax(-1) == labels).sum(1)
    n = len(x)
    return LesionAccuracies(tuple(layers), right / n,
                            {k: (v.double() / n).float().numpy() for k, v in correct.items()})


def _values(stages, x: torch.Tensor) -> list[torch.Tensor]:
    """Every stage's input and output along the pass: values[i] feeds stage i."""
    values = [x]
    for _, module in stages:
        values.append(module(values[-1]))
    return values


def _logits_each_off(stages, values: list[torch.Tensor], at: int) -> torch.Tensor:
    """The logits with each channel of stage ``at`` switched off alone: (C, B, classes). A zero
    plane goes through the channel-wise stages up to the next conv or linear stage, whose
    output gets that plane's change (its own arithmetic on the change alone, without bias:
    exact up to rounding); the stages after it run anew on every channel's version."""
    nxt = next(i for i in range(at + 1, len(stages)) if isinstance(stages[i][1], MIXING))
    zero = torch.zeros_like(values[at + 1][:1])
    for _, module in stages[at + 1:nxt]:
        zero = module(zero)
    change, before = zero - values[nxt], values[nxt + 1]     # (B, ...) at the next stage's input
    count, b = values[at + 1].shape[1], len(before)
    out = []
    for channels in _chunks(count, b * before[0].numel()):
        pre = before[:, None] + _contributions(stages[nxt][1], change, channels, count)
        x = _run(stages[nxt + 1:], pre.flatten(0, 1))         # (B * channels, classes)
        out.append(x.view(b, len(channels), -1).transpose(0, 1))
    return torch.cat(out)


def _run(stages, x: torch.Tensor) -> torch.Tensor:
    """``stages`` on ``x``. An activation followed by max pooling is computed the other way
    round, pooling first: the same numbers, since every activation is non-decreasing (the
    largest value stays the largest), for a quarter of the activations' work."""
    modules = [module for _, module in stages]
    i = 0
    while i < len(modules):
        if is_activation(modules[i]) and i + 1 < len(modules) and isinstance(modules[i + 1], nn.MaxPool2d):
            x = modules[i](modules[i + 1](x))
            i += 2
        else:
            x = modules[i](x)
            i += 1
    return x


def _chunks(count: int, per_channel: int) -> list[list[int]]:
    """The channels 0..count-1 in runs whose recomputed maps hold at most ELEMENTS values."""
    size = max(1, ELEMENTS // per_channel)
    return [list(range(i, min(i + size, count))) for i in range(0, count, size)]


def _contributions(module: nn.Module, change: torch.Tensor, channels: list[int], count: int) -> torch.Tensor:
    """What the change of each of ``channels`` alone adds to ``module``'s output, without bias:
    (B, len(channels), *output). ``change``: (B, count, H, W) into a conv, or (B, count * plane)
    into a linear layer (a flattened map, or units: plane 1)."""
    if isinstance(module, nn.Conv2d):
        # one group per channel: that channel's slice of every filter
        weight = module.weight[:, channels].transpose(0, 1).reshape(-1, 1, *module.kernel_size)
        found = F.conv2d(change[:, channels], weight, None, module.stride, module.padding,
                         module.dilation, groups=len(channels))          # (B, k * O, OH, OW)
        return found.view(len(change), len(channels), module.out_channels, *found.shape[2:])
    plane = change.shape[1] // count
    weight = module.weight.view(module.out_features, count, plane)[:, channels]   # (O, k, plane)
    planes = change.view(len(change), count, plane)[:, channels]                 # (B, k, plane)
    return torch.einsum("bkp,okp->bko", planes, weight)
