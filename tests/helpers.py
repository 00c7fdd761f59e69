"""Small builders shared by the tests: hand-made digits, a classifier with random weights and
matplotlib's colours as the reference for the pictures'."""
from __future__ import annotations

import base64
import io
import struct
import warnings
import zlib

import numpy as np
import torch
from PIL import Image, ImageDraw

from lenet.inside.inference import Classifier
from lenet.net.models import REGISTRY


def ring(size: int = 28, centre=(14.5, 14.5), height: float = 20, width: float = 13,
         stroke: float = 2.6, ink: int = 255) -> np.ndarray:
    """An ellipse outline (a "0") as uint8, drawn at 8x and box-reduced for soft edges.

    ``centre`` is in continuous coordinates: (14.5, 14.5) puts the centre of mass on pixel
    (14, 14), where MNIST puts it.
    """
    k = 8
    big = Image.new("L", (size * k, size * k), 0)
    cy, cx = centre
    box = [(cx - width / 2) * k, (cy - height / 2) * k, (cx + width / 2) * k, (cy + height / 2) * k]
    ImageDraw.Draw(big).ellipse(box, outline=ink, width=round(stroke * k))
    return np.asarray(big.reduce(k))


def seven_png(size: int = 112) -> bytes:
    """A 7 drawn black on white, as PNG bytes: what the page's pad sends (112x112)."""
    import io
    image = Image.new("RGB", (size, size), "white")
    s = size / 112
    ImageDraw.Draw(image).line([(30 * s, 20 * s), (80 * s, 20 * s), (50 * s, 95 * s)],
                               fill="black", width=round(9 * s))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def data_url(png: bytes) -> str:
    """PNG bytes as the data URL the page's pad sends."""
    return "data:image/png;base64," + base64.b64encode(png).decode()


class StandIn(UserWarning):
    """A test ran on hand-made inputs because the real data set (../shared/data) is absent:
    it passed on easier inputs. ``python -m pytest -W error::helpers.StandIn`` makes that fail."""


def warn_stand_in(absent, instead: str) -> None:
    """Say, in pytest's warnings summary, that ``instead`` replaced the absent ``absent``."""
    warnings.warn(StandIn(f"{absent} is absent: {instead} stand in for it, an easier test"),
                  stacklevel=2)


def random_classifier(name: str, seed: int = 0) -> Classifier:
    spec = REGISTRY[name]
    torch.manual_seed(seed)
    meta = {"model": name, "classes": list(spec.classes), "input_shape": list(spec.input_shape),
            "mean": list(spec.mean), "std": list(spec.std), "title": spec.title,
            "dataset": spec.dataset}
    return Classifier(spec.build(), meta)


def centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(a.shape)
    return float((ys * a).sum() / a.sum()), float((xs * a).sum() / a.sum())


def drawing_value(png: bytes) -> str:
    """The draw tab's view value after a stroke (web/draw_tab.js): the pad's PNG."""
    import json
    return json.dumps({"kind": "drawing", "drawing": data_url(png)})


def pad_pixels(png: bytes) -> torch.Tensor:
    """A drawing as the draw tab shows it, through the pad's recipe: (1, 28, 28) in [0, 1]."""
    import io

    from lenet.inputs.pad import pad_digit, pad_ink
    return torch.from_numpy(pad_digit(pad_ink(Image.open(io.BytesIO(png)))).pixels[None])


def matplotlib_colours(name: str, steps) -> np.ndarray:
    """matplotlib's colour map ``name`` at ``steps`` (whole numbers 0 to 255) of 255 even steps
    along it, as RGB bytes (..., 3), looked up by matplotlib itself from the fraction step / 255:
    the reference for every picture's colours. Values at those steps of a scale must get
    exactly these colours, whatever a picture's own table holds."""
    from matplotlib import colormaps
    return colormaps[name](np.asarray(steps) / 255, bytes=True)[..., :3]


def on_steps(steps, low: float, high: float) -> np.ndarray:
    """The values of a scale from ``low`` to ``high`` that sit at ``steps`` of its 255 steps."""
    return low + (high - low) * np.asarray(steps, np.float64) / 255


def declared_png(width: int, height: int) -> bytes:
    """A 1x1 PNG whose header declares ``width`` x ``height``: decoding it would fail, so a
    refusal that names the size was made from the header alone."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    header = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return bytes(data)


def answer_accuracy_here(net, meta: dict, x: torch.Tensor, y: torch.Tensor) -> float:
    """Test accuracy of ``net`` on uint8 images ``x``, written here apart from lenet's own
    evaluate: pixels normalised with the checkpoint's mean and std, and each image's logits
    averaged with its mirror image's where the checkpoint says the app does."""
    mean = torch.tensor(meta["mean"])[:, None, None]
    std = torch.tensor(meta["std"])[:, None, None]
    right = 0
    with torch.inference_mode():
        for start in range(0, len(x), 500):
            inputs = (x[start:start + 500].float() / 255 - mean) / std
            logits = net(inputs)
            if meta["mirror_average"]:
                logits = (logits + net(inputs.flip(-1))) / 2
            right += int((logits.argmax(1) == y[start:start + 500]).sum())
    return right / len(x)
