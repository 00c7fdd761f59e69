"""The layer kinds the project knows, defined once: their names in words, their geometry as
(rows, cols) pairs, and the output-size formula. The layer table, the explanations, the
trace, the serving engine and the building blocks all read these.
"""
from __future__ import annotations

from torch import nn

# The activations, in words; each one's kind in the layer table is its class name in lower
# case (relu, tanh, sigmoid). web/engine.js has the same kinds in its table of layer kinds.
ACTIVATIONS = {nn.ReLU: "ReLU", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid"}
POOLS = {nn.MaxPool2d: "max pooling", nn.AvgPool2d: "average pooling"}
MAP_LAYERS = (nn.Conv2d, *POOLS)   # layers whose outputs are feature maps


def is_activation(layer: nn.Module) -> bool:
    return type(layer) in ACTIVATIONS


def activation_kind(layer: nn.Module) -> str:
    """An activation's kind in the layer table: ``nn.ReLU()`` -> "relu"."""
    return type(layer).__name__.lower()


def pair(v) -> tuple[int, int]:
    """A PyTorch size argument (an int or a pair) as (rows, cols)."""
    return (v, v) if isinstance(v, int) else tuple(v)


def geometry(m: nn.Module) -> tuple[tuple[int, int], ...]:
    """(kernel, stride, padding, dilation), each (rows, cols), of a conv or pooling layer; a
    pooling layer's stride defaults to its kernel, as in PyTorch."""
    if isinstance(m.padding, str):
        raise NotImplementedError(f"string padding {m.padding!r} is not supported")
    return (pair(m.kernel_size), pair(m.stride or m.kernel_size), pair(m.padding),
            pair(getattr(m, "dilation", 1)))


def output_size(n: int, k: int, stride: int, padding: int | None = None,
                ceil: bool = False) -> tuple[int, str]:
    """out = ⌊(n − k + 2p)/s⌋ + 1 and the formula written with these numbers: the brackets
    only when the division is not exact, no padding term when ``padding`` is None, and the
    ceiling with ``ceil`` (PyTorch's ``ceil_mode``, whose last window must start inside)."""
    span = n - k + 2 * (padding or 0)
    out = (-(-span // stride) if ceil else span // stride) + 1
    if ceil and (out - 1) * stride >= n + (padding or 0):
        out -= 1
    inner = f"({n} − {k}" + ("" if padding is None else f" + 2·{padding}") + f")/{stride}"
    if span % stride:
        inner = f"⌈{inner}⌉" if ceil else f"⌊{inner}⌋"
    return out, f"{inner} + 1 = {out}"
