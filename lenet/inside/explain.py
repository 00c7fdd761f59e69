"""Each layer explained in words and numbers, computed from the modules themselves.

``describe_layers`` turns a model into one ``LayerInfo`` per named layer (operation, kernel,
stride, padding, shapes, the output-size formula and the parameter count written out with
the layer's own numbers), checked against a real forward pass. ``softmax_formula`` writes the
softmax out with one input's logits. Text only: no pictures (``visualize``), no Gradio, no
per-model tables; any model built from Conv2d, pooling, Linear and activations works.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lenet.net.layers import ACTIVATIONS, POOLS, geometry, output_size
from lenet.net.models import forward_stages


@dataclass
class LayerInfo:
    """One named layer, with the activation that follows it folded in."""
    name: str
    operation: str                      # "convolution", "max pooling", "fully connected", ...
    activation: str | None              # "ReLU", "tanh", "sigmoid" or None
    kernel: tuple[int, int] | None      # (kh, kw); None for fully connected layers
    stride: tuple[int, int] | None
    padding: tuple[int, int] | None
    in_shape: tuple[int, ...]           # without the batch dimension
    out_shape: tuple[int, ...]
    parameters: int                     # weights + bias
    parameter_formula: str              # e.g. "6·(1·5·5) + 6 = 156"
    size_formula: str                   # e.g. "(28 − 5 + 2·2)/1 + 1 = 28"
    summary: str                        # one line for a caption or a table

    def __str__(self) -> str:
        return self.summary


def describe_layers(model: nn.Module, input_shape: tuple[int, ...]) -> list[LayerInfo]:
    """One ``LayerInfo`` per named layer of ``model`` in forward order (C1, S2, ... output).

    The model is run layer by layer on zeros of ``input_shape`` (C, H, W); every output
    size computed from the formula is checked against the real output (a mismatch is a bug
    here, and raises).
    """
    x = torch.zeros(1, *input_shape)
    infos: list[LayerInfo] = []
    with torch.inference_mode():
        for name, layer in forward_stages(model):
            in_shape = tuple(x.shape[1:])
            x = layer(x)
            if type(layer) in ACTIVATIONS and infos:
                infos[-1].activation = ACTIVATIONS[type(layer)]
            elif name:
                infos.append(_describe(name, layer, in_shape, tuple(x.shape[1:])))
        final = model(torch.zeros(1, *input_shape))
    if tuple(final.shape[1:]) != infos[-1].out_shape:
        raise RuntimeError(f"walking the layers gives {infos[-1].out_shape}, the model "
                           f"{tuple(final.shape[1:])}")
    for info in infos:
        info.summary = _summary(info, last=info is infos[-1])
    return infos


def _describe(name: str, layer: nn.Module, in_shape: tuple, out_shape: tuple) -> LayerInfo:
    params = sum(p.numel() for p in layer.parameters())
    kernel = stride = padding = None
    size_formula = ""
    if isinstance(layer, nn.Conv2d):
        operation = "convolution"
        kernel, stride, padding = layer.kernel_size, layer.stride, layer.padding
        if isinstance(padding, str) or any(d != 1 for d in layer.dilation):
            raise NotImplementedError(f"{name}: only numeric padding and dilation 1 are explained")
        per_filter = f"{layer.in_channels // layer.groups}·{kernel[0]}·{kernel[1]}"
        terms = [f"{layer.out_channels}·({per_filter})"]
        if layer.bias is not None:
            terms.append(f"{layer.out_channels}")
    elif isinstance(layer, tuple(POOLS)):
        operation = POOLS[type(layer)]
        kernel, stride, padding, dilation = geometry(layer)
        if dilation != (1, 1):
            raise NotImplementedError(f"{name}: dilated pooling is not explained")
        terms = []
    elif isinstance(layer, nn.Linear):
        operation = "fully connected"
        terms = [f"{layer.in_features:,}·{layer.out_features:,}"]
        if layer.bias is not None:
            terms.append(f"{layer.out_features:,}")
        size_formula = f"{layer.out_features:,}"
    else:
        raise NotImplementedError(f"{name}: {type(layer).__name__} layers are not explained")
    if kernel is not None:
        ceil = getattr(layer, "ceil_mode", False)
        sizes = [output_size(n, k, s, p, ceil) for n, k, s, p in zip(in_shape[-2:], kernel,
                                                                       stride, padding)]
        if tuple(size for size, _ in sizes) != tuple(out_shape[-2:]):
            raise RuntimeError(f"{name}: the formula gives {[s for s, _ in sizes]}, "
                               f"the layer {tuple(out_shape[-2:])}")
        size_formula = (sizes[0][1] if sizes[0][1] == sizes[1][1]
                        else f"height {sizes[0][1]}, width {sizes[1][1]}")
    formula = " + ".join(terms) + f" = {params:,}" if terms else "0"
    if terms and _evaluate(terms) != params:
        raise RuntimeError(f"{name}: {formula} does not add up to {params}")
    return LayerInfo(name, operation, None, kernel, stride, padding, in_shape, out_shape,
                     params, formula, size_formula, "")


def architecture_rows(model: nn.Module, input_shape: tuple[int, ...]) -> list[list]:
    """``describe_layers`` as table rows: [layer, operation, kernel / stride / padding, output
    shape, parameters], the activation folded into its layer's row, between an input row and
    a total."""
    operations = {"convolution": "conv", "max pooling": "max-pool", "average pooling": "avg-pool",
                  "fully connected": "linear"}
    rows: list[list] = [["input", "", "", "x".join(map(str, input_shape)), 0]]
    for info in describe_layers(model, input_shape):
        operation = operations[info.operation]
        if info.kernel is None or info.operation == "convolution":
            operation += f" {info.in_shape[0]}→{info.out_shape[0]}"
        if info.activation:
            operation += f" + {info.activation}"
        geometry = ("" if info.kernel is None else
                    f"{info.kernel[0]}x{info.kernel[1]} / s{info.stride[0]} / p{info.padding[0]}")
        rows.append([info.name, operation, geometry, "x".join(map(str, info.out_shape)),
                     info.parameters])
    rows.append(["total", "", "", "", sum(p.numel() for p in model.parameters())])
    return rows


def _evaluate(terms: list[str]) -> int:
    """The sum of terms such as "6·(1·5·5)" and "6", an independent check of the count."""
    total = 0
    for term in terms:
        factors = term.replace("(", "").replace(")", "").replace(",", "").split("·")
        total += math.prod(int(f) for f in factors)
    return total


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(f"{n:,}" if len(shape) == 1 else str(n) for n in shape)


def _summary(info: LayerInfo, last: bool) -> str:
    parts = [f"{info.name}: {info.operation}"]
    if info.operation == "convolution":
        parts[0] += f" {info.in_shape[0]}→{info.out_shape[0]}"
    elif info.operation == "fully connected":
        parts[0] += f" {info.in_shape[0]:,}→{info.out_shape[0]:,}"
    if info.kernel is not None:
        (kh, kw), (sh, sw), (ph, pw) = info.kernel, info.stride, info.padding
        parts[0] += (f", kernel {kh}x{kw}, stride {sh if sh == sw else f'{sh}x{sw}'}, "
                     f"padding {ph if ph == pw else f'{ph}x{pw}'}")
        parts.append(f"output {info.size_formula} → {_shape(info.out_shape)}")
    else:
        parts.append(f"output {_shape(info.out_shape)}" + (" (logits)" if last else ""))
    if info.activation:
        parts.append(info.activation)
    if info.parameters:
        terms = info.parameter_formula.rpartition(" = ")[0]
        parts.append(f"{info.parameters:,} parameters = {terms}")
    else:
        parts.append("no parameters")
    return "; ".join(parts)


def softmax_formula(logits, classes, k: int = 3, index: int | None = None,
                    digits: int = 3) -> str:
    """The softmax for one class (default: the top one) written out with these logits.

    ``p(7) = e^{z_7} / Σ_j e^{z_j} = e^{9.41} / (e^{9.41} + e^{3.02} + e^{1.50} + … (7 more))
    = 12,210 / 12,242 = 0.997``: the ``k`` largest terms are written, the rest counted. The
    exponentials are computed from the exact logits (in log space, so large ones do not
    overflow); the probability is correct to the ``digits`` shown.
    """
    z = np.asarray(logits, dtype=np.float64).ravel()
    if len(z) != len(classes):
        raise ValueError(f"{len(z)} logits for {len(classes)} classes")
    index = int(z.argmax()) if index is None else index
    order = [index] + [int(i) for i in np.argsort(-z, kind="stable") if i != index]
    shown = order[:max(k, 1)]
    terms = [f"e^{{{z[i]:.2f}}}" for i in shown]
    if len(z) > len(shown):
        terms.append(f"… ({len(z) - len(shown)} more)")
    top = float(z.max())
    log_sum = top + math.log(float(np.exp(z - top).sum()))
    p = math.exp(z[index] - log_sum)
    shown_p = f"{p:.{digits}f}" if p >= 10 ** -digits else _exp(math.log(p), digits)
    name = classes[index]
    return (f"p({name}) = e^{{z_{name}}} / Σ_j e^{{z_j}} = e^{{{z[index]:.2f}}} / "
            f"({' + '.join(terms)}) = {_exp(z[index])} / {_exp(log_sum)} = {shown_p}")


def _exp(x: float, significant: int = 5) -> str:
    """e^x with ``significant`` digits, as m·10^n when it is large or small; no overflow."""
    decade = x / math.log(10)
    if -4 < decade < 6:
        value = math.exp(x)
        rounded = float(f"{value:.{significant}g}")   # 9.99996 -> 10.000: count digits after
        return f"{value:,.{max(0, significant - 1 - math.floor(math.log10(rounded)))}f}"
    exponent = math.floor(decade)
    mantissa = round(math.exp(x - exponent * math.log(10)), significant - 1)
    if mantissa >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.{significant - 1}f}·10^{exponent}"
