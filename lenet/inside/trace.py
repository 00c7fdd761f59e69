"""Trace one number of one layer back to the weights: the inputs the layer saw, the weights
it multiplied them by, the products, the bias, the activation, and the input pixels it
depends on (its receptive field).

Pure functions of a ``Classifier`` and one request's tensors: nothing is stored on the
classifier or its model, and every number comes from the model's own modules (weights) and
``Classifier.forward``'s outputs (inputs). Pictures and printing belong elsewhere; this file
may describe a trace in words (``describe``) but never prints.

    trace(clf, tensor, "C3", channel=5, y=4, x=6)   # Trace(lenet5 C3[5, 4, 6]: ...)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from lenet.net.layers import ACTIVATIONS, MAP_LAYERS, POOLS, geometry

__all__ = ["Trace", "TraceError", "trace", "traceable_layers", "receptive_field", "describe"]

TRACEABLE = (*MAP_LAYERS, nn.Linear)
TOP_TERMS = 10  # how many of the largest |input x weight| terms a trace lists


class TraceError(ValueError):
    """A layer, channel or position that does not exist; the message names the valid range."""


@dataclass
class Trace:
    """How one value of ``layer`` at (``channel``, ``y``, ``x``) was computed.

    conv:   inputs, weights, products (C_in, kh, kw); sum_of_products + bias = pre_activation
    linear: inputs, weights, products (N,); same sum; y = x = 0
    pool:   inputs (1, kh, kw) is the window; weights, products, bias are None
    """
    model: str
    layer: str
    kind: str                                  # "conv", "linear" or "pool"
    channel: int
    y: int
    x: int
    source: str                                # the output the layer reads ("input", "S2", ...)
    receptive_field: tuple[int, int, int, int]  # top, left, bottom, right input pixels, inclusive
    inputs: np.ndarray
    value: float                               # what the next layer receives
    weights: np.ndarray | None = None
    products: np.ndarray | None = None
    bias: float | None = None
    sum_of_products: float | None = None       # sum(products), in float64
    pre_activation: float | None = None        # sum_of_products + bias
    activation: str | None = None              # "ReLU", "tanh", ... or None
    map_value_before: float | None = None      # the layer's own output in the forward pass
    origin: tuple[int, int] | None = None      # the patch's top-left in ``source``; < 0 in padding
    pool: str | None = None                    # "max" or "average"
    winner: tuple[int, int] | None = None      # max pool: (row, col) in the window
    top_contributions: list[dict] = field(default_factory=list)  # largest |product| first

    def as_dict(self) -> dict:
        """Plain JSON types: arrays become nested lists, tuples lists."""
        out = {}
        for name in self.__dataclass_fields__:
            v = getattr(self, name)
            out[name] = v.tolist() if isinstance(v, np.ndarray) else list(v) if isinstance(v, tuple) else v
        return out

    to_json = as_dict

    def __repr__(self) -> str:
        at = f"{self.channel}" if self.kind == "linear" else f"{self.channel}, {self.y}, {self.x}"
        where = f"{self.model} {self.layer}[{at}]"
        top, left, bottom, right = self.receptive_field
        field_ = f"input rows {top}-{bottom}, cols {left}-{right}"
        if self.kind == "pool":
            return f"Trace({where}: {self.pool} of {self.inputs.size} values = {self.value:.4g}; {field_})"
        act = f" -> {self.activation}" if self.activation else ""
        return (f"Trace({where}: {self.products.size} products + bias {self.bias:.4g} = "
                f"{self.pre_activation:.4g}{act} -> {self.value:.4g}; {field_})")


# ---------------------------------------------------------------------------- layers

def _layers(model: nn.Module, names) -> dict[str, nn.Module]:
    """Leaf modules by their course name (``C1``, ``fc2``), for the names ``forward`` reports."""
    leaves = {qualified.rsplit(".", 1)[-1]: m for qualified, m in model.named_modules() if qualified}
    return {name: leaves[name] for name in names}


def traceable_layers(clf) -> list[str]:
    """The layers a value can be traced in: convs, poolings and linears, in forward order."""
    return [n for n, m in _layers(clf.model, clf.shapes).items() if isinstance(m, TRACEABLE)]


def receptive_field(clf, layer: str, y: int = 0, x: int = 0,
                    clip: bool = True) -> tuple[int, int, int, int]:
    """The input pixels (top, left, bottom, right, inclusive) that ``layer`` at (y, x) depends
    on, found by walking back through every conv and pooling layer's kernel, stride, padding
    and dilation, and clipped to the input (``clip=False``: reaching into the padding, so that
    every position's field has the same size). Linear layers see the whole input."""
    layers = _layers(clf.model, clf.shapes)
    names = list(layers)
    rows, cols = [y, y], [x, x]
    for name in reversed(names[:names.index(layer) + 1]):
        m = layers[name]
        if isinstance(m, nn.Linear):
            rows, cols = [0, clf.height - 1], [0, clf.width - 1]
            break
        if isinstance(m, MAP_LAYERS):
            (kh, kw), (sh, sw), (ph, pw), (dh, dw) = geometry(m)
            rows = [rows[0] * sh - ph, rows[1] * sh - ph + dh * (kh - 1)]
            cols = [cols[0] * sw - pw, cols[1] * sw - pw + dw * (kw - 1)]
    if not clip:
        return rows[0], cols[0], rows[1], cols[1]
    return (max(rows[0], 0), max(cols[0], 0), min(rows[1], clf.height - 1), min(cols[1], clf.width - 1))


def _check(clf, layer: str, channel: int, y: int, x: int) -> None:
    valid = traceable_layers(clf)
    if layer not in valid:
        raise TraceError(f"no layer {layer!r} to trace in {clf.name}; choose one of {', '.join(valid)}")
    shape = clf.shapes[layer]
    if not 0 <= channel < shape[0]:
        raise TraceError(f"{layer} has channels 0-{shape[0] - 1}, not {channel}")
    if len(shape) == 1 and (y, x) != (0, 0):
        raise TraceError(f"{layer} is a linear layer: its position is y = x = 0, not ({y}, {x})")
    if len(shape) == 3 and not (0 <= y < shape[1] and 0 <= x < shape[2]):
        raise TraceError(f"{layer} positions are y 0-{shape[1] - 1}, x 0-{shape[2] - 1}, not ({y}, {x})")


# ---------------------------------------------------------------------------- tracing

def trace(clf, tensor: torch.Tensor, layer: str, channel: int, y: int = 0, x: int = 0,
          outputs: dict[str, torch.Tensor] | None = None) -> Trace:
    """Trace ``layer``'s value at (channel, y, x) for the (1, C, H, W) normalised ``tensor``.

    ``outputs`` is ``clf.forward(tensor)[1]`` when the caller already has it (no extra
    forward pass); otherwise the forward pass is run here. Raises ``TraceError`` for a layer,
    channel or position that does not exist.
    """
    _check(clf, layer, channel, y, x)
    if outputs is None:
        with torch.inference_mode():
            outputs = clf.forward(tensor)[1]
    layers = _layers(clf.model, outputs)
    names = list(layers)
    i = names.index(layer)
    source = names[i - 1] if i else "input"
    before = (outputs[source] if i else tensor)[0].detach()
    m = layers[layer]
    common = dict(model=clf.name, layer=layer, channel=channel, y=y, x=x, source=source,
                  receptive_field=receptive_field(clf, layer, y, x))
    here = outputs[layer][0, channel] if outputs[layer].dim() == 2 else outputs[layer][0, channel, y, x]
    if isinstance(m, tuple(POOLS)):
        return _trace_pool(m, before, common, float(here))
    shown = clf.activation_of(layer)           # as the layer table states it
    act = layers[shown] if shown != layer else None
    if isinstance(m, nn.Conv2d):
        inputs, weights, origin = _conv_patch(m, before, channel, y, x)
        step = geometry(m)[3]
    else:
        inputs, weights, origin = torch.flatten(before, 0), m.weight[channel], None
        step = None
    inputs, weights = inputs.numpy().copy(), weights.detach().numpy().copy()
    products = inputs * weights
    bias = 0.0 if m.bias is None else float(m.bias[channel])
    total = float(products.sum(dtype=np.float64))
    pre = total + bias
    value = pre if act is None else float(act(torch.tensor(pre, dtype=torch.float32)))
    return Trace(**common, kind="conv" if isinstance(m, nn.Conv2d) else "linear", inputs=inputs,
                 value=value, weights=weights, products=products, bias=bias,
                 sum_of_products=total, pre_activation=pre,
                 activation=ACTIVATIONS.get(type(act)), map_value_before=float(here),
                 origin=origin, top_contributions=_top(inputs, weights, products, origin, step,
                                                       tuple(before.shape), _in_offset(m, channel)))


def _in_offset(m: nn.Module, channel: int) -> int:
    """The first input channel a grouped convolution's output ``channel`` reads."""
    if not isinstance(m, nn.Conv2d):
        return 0
    return channel // (m.out_channels // m.groups) * (m.in_channels // m.groups)


def _conv_patch(m: nn.Conv2d, before: torch.Tensor, channel: int, y: int, x: int):
    """The (C_in, kh, kw) input patch the kernel sees at (y, x), zero padding as zeros."""
    if m.padding_mode != "zeros":
        raise NotImplementedError(f"padding mode {m.padding_mode!r} is not traced")
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = geometry(m)
    first = _in_offset(m, channel)
    maps = before[first:first + m.in_channels // m.groups]
    padded = nn.functional.pad(maps, (pw, pw, ph, ph))           # zeros, as the conv pads
    top, left = y * sh, x * sw                                   # in padded coordinates
    patch = padded[:, top:top + dh * (kh - 1) + 1:dh, left:left + dw * (kw - 1) + 1:dw]
    return patch, m.weight[channel], (top - ph, left - pw)


def _trace_pool(m: nn.Module, before: torch.Tensor, common: dict, here: float) -> Trace:
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = geometry(m)
    if (ph, pw) != (0, 0) or (dh, dw) != (1, 1) or m.ceil_mode or getattr(m, "divisor_override", None):
        raise NotImplementedError("padded, dilated or ceil-mode pooling is not traced")
    top, left = common["y"] * sh, common["x"] * sw
    window = before[common["channel"], top:top + kh, left:left + kw].numpy()[None].copy()  # (1, kh, kw)
    if isinstance(m, nn.MaxPool2d):
        row, col = np.unravel_index(int(window[0].argmax()), window[0].shape)
        return Trace(**common, kind="pool", inputs=window, value=float(window.max()), pool="max",
                     winner=(int(row), int(col)), origin=(top, left), map_value_before=here)
    return Trace(**common, kind="pool", inputs=window, value=float(window.mean(dtype=np.float64)),
                 pool="average", origin=(top, left), map_value_before=here)


def _top(inputs, weights, products, origin, step, source_shape, first_channel: int) -> list[dict]:
    """The largest |product| terms, each with its index in ``inputs`` and where it sits in the
    source layer's output (``at``: (c, y, x); None for a zero from the padding)."""
    flat = np.abs(products).ravel()
    k = min(TOP_TERMS, flat.size)
    order = np.argpartition(-flat, k - 1)[:k]
    order = order[np.argsort(-flat[order], kind="stable")]
    terms = []
    for j in order:
        index = tuple(int(v) for v in np.unravel_index(j, products.shape))
        if origin is None:                                    # linear: flattened as the model does
            at = [int(v) for v in np.unravel_index(j, source_shape)]
        else:
            c, r, q = index
            yy, xx = origin[0] + r * step[0], origin[1] + q * step[1]
            inside = 0 <= yy < source_shape[1] and 0 <= xx < source_shape[2]
            at = [first_channel + c, yy, xx] if inside else None
        terms.append({"index": list(index) if len(index) > 1 else index[0], "at": at,
                      "input": float(inputs.flat[j]), "weight": float(weights.flat[j]),
                      "product": float(products.flat[j])})
    return terms


# ---------------------------------------------------------------------------- in words

def describe(t: Trace, terms: int = 5) -> str:
    """A few lines a learner can follow: the sum written out, the activation, the value."""
    top, left, bottom, right = t.receptive_field
    head = (f"{t.layer} channel {t.channel}" + ("" if t.kind == "linear" else f" at (y={t.y}, x={t.x})")
            + f", reading {t.source}; input pixels rows {top}-{bottom}, cols {left}-{right}")
    if t.kind == "pool":
        rows = "\n".join("    " + " ".join(f"{v:9.4f}" for v in row) for row in t.inputs[0])
        won = f", the winner at row {t.winner[0]}, col {t.winner[1]}" if t.winner else ""
        window = "x".join(map(str, t.inputs.shape[1:]))
        return f"{head}\n  {t.pool} of the {window} window{won}:\n{rows}\n  = value {t.value:.6f}"
    lines = [head, f"  sum of {t.products.size} products input x weight, the largest first:"]
    shown = t.top_contributions[:terms]
    for term in shown:
        at = "padding" if term["at"] is None else f"{t.source}{term['at']}"
        lines.append(f"    {term['input']:+10.4f} x {term['weight']:+8.4f} = {term['product']:+10.4f}   {at}")
    rest = t.sum_of_products - sum(term["product"] for term in shown)
    if t.products.size > len(shown):
        lines.append(f"{f'    + {t.products.size - len(shown)} more terms':<26}= {rest:+10.4f}")
    lines.append(f"  + bias {t.bias:+.4f}")
    lines.append(f"  = pre-activation {t.pre_activation:+.6f}")
    if t.activation:
        lines.append(f"  {t.activation} -> value {t.value:+.6f}")
    else:
        lines.append(f"  no activation: value {t.value:+.6f}")
    return "\n".join(lines)
