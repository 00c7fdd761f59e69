"""What every tab shares: the guard that turns errors into one-line messages, the upload
component, the API's two steps (``Analyst``), the event lanes, the page's CSS file and the
live views' value.

A tab module (``ui/draw.py``, ``ui/photo.py``, ...) holds its own layout and handlers and
uses these; nothing here knows which tab it is in.
"""
from __future__ import annotations

import base64
import binascii
import functools
import io
import json
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
from gradio.processing_utils import hash_bytes
from PIL import Image

from lenet.inputs.pad import drawing_digit
from lenet.inside.explain import softmax_formula
from lenet.inside.inference import Classifier, InputError, Prediction
from lenet.inside.memo import SingleFlight
from lenet.pictures.input_steps import recipe_strip
from lenet.pictures.prediction import render_pictures
from lenet.pictures.visualize import png_bytes

log = logging.getLogger("app")

EXPLAIN_TOP = "top prediction"
BEFORE_ACTIVATION, AFTER_ACTIVATION = "before the activation", "after the activation"
SOMETHING_WRONG = "Something went wrong with this input; please try another one."
# Uploads above this are answered with the limit in words. Gradio itself refuses files above
# app.py's MAX_FILE_SIZE, larger, with no reason it can show.
UPLOAD_LIMIT_MB = 10



def lane(name: str) -> dict:
    """Event settings for a queue lane: at most two of its handlers at once (the Space has 2
    vCPUs), only the latest of a burst of triggers, no progress overlay."""
    return dict(show_progress="hidden", trigger_mode="always_last", concurrency_id=name,
                concurrency_limit=2)


# The quick label has its own lane so that it never waits behind the slower pictures.
QUICK, SLOW = lane("label"), lane("pictures")


def guarded(empty: tuple, warn: bool):
    """Turn a user's bad input into a one-line message (and a toast when ``warn``), and a
    bug into a log entry and a polite toast; the page never shows a traceback. ``empty``
    is what the outputs show then; with ``warn`` a message replaces its first item."""
    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(*args):
            try:
                return handler(*args)
            except InputError as exc:
                if not warn:  # the label step of the same event has said it already
                    return empty
                gr.Warning(str(exc))
                return (f"⚠️ {exc}", *empty[1:])
            except Exception:
                log.exception("handler %s failed", handler.__name__)
                gr.Warning(SOMETHING_WRONG)
                return (f"⚠️ {SOMETHING_WRONG}", *empty[1:]) if warn else empty
        return wrapper
    return decorate


def decode_data_url(value: str | None) -> bytes | None:
    """The pad's value: '' when cleared, else a 'data:image/png;base64,...' URL."""
    if not value:
        return None
    head, _, payload = value.partition(",")
    if not head.startswith("data:image/") or ";base64" not in head:
        raise InputError("the pad sent something that is not an image; press Clear and redraw")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("the pad's image arrived damaged; press Clear and redraw") from None


class RawImage(gr.Image):
    """gr.Image that hands the uploaded file's path to the engine unopened, so that PDFs,
    truncated files and decompression bombs get the engine's one-line messages."""
    is_template = True  # rendered by the frontend's ordinary Image component

    def preprocess(self, payload):
        if payload is None:
            return None
        if payload.path:
            return payload.path
        return base64.b64decode(payload.url.partition(",")[2]) if payload.url else None


class Analyst:
    """The two steps of a response for one model, sharing one prediction per input.

    ``source`` is what the engine accepts: PNG bytes from the pad, or an upload's path
    (Gradio names uploads by their content's hash, so both are safe cache keys).
    """

    def __init__(self, clf: Classifier, cache_size: int = 256, predictor=None, strip=None):
        """``predictor`` and ``strip``: how an input is classified and how its preparation is
        pictured, when not by the general recipe (the pad's drawings)."""
        self.clf = clf
        self.predict: SingleFlight[Prediction] = SingleFlight(predictor or clf.predict, cache_size)
        # The preprocessing strip, drawn once per input however often its pictures are
        # asked for again (another class to explain, the activation toggle).
        self.steps: SingleFlight[Image.Image] = SingleFlight(
            strip or (lambda source: recipe_strip(source, clf.is_digit_model, clf.height)),
            cache_size // 4)
        self.no_pictures = (None,) * (3 + len(clf.map_layer_names) + len(clf.linear_names))

    def label(self, source, nothing: str):
        """(status line, every class's probability, the network's input at its true size,
        the softmax written out with this input's logits)."""
        result = self.predict(source)
        if result.empty:
            return nothing, None, None, SOFTMAX_HINT
        name, p = result.top(1)[0]
        return (f"**{name}** with {100 * p:.1f} % confidence", result.confidences(),
                result.input_image, softmax_words(result))

    def pictures(self, source, target: str | None, view: str | None = None):
        """(Grad-CAM, saliency, how the input was made, a grid per conv and pooling layer, a
        strip per fully connected layer) for ``target``'s class."""
        if source is None:
            return self.no_pictures
        result = self.predict(source)
        if result.empty:
            return self.no_pictures
        index = self.clf.classes.index(target) if target in self.clf.classes else None
        shown = render_pictures(self.clf, result, class_index=index,
                                after_activation=view == AFTER_ACTIVATION)
        return (shown.grad_cam, shown.saliency, self.steps(source),
                *[shown.feature_maps[n] for n in self.clf.map_layer_names],
                *[shown.hidden[n] for n in self.clf.linear_names])


SOFTMAX_HINT = "The logits and the softmax that turns them into probabilities appear here."


def softmax_words(result: Prediction) -> str:
    """The output layer's logits and the softmax written out with them, as Markdown."""
    def listed(values) -> str:
        return " · ".join(f"{c}: {v:+.2f}" for c, v in zip(result.classes, values))

    z = result.logits
    if result.mirror_logits is None:
        words = f"**Logits z** (the output layer, before the softmax): {listed(z)}"
    else:
        words = (f"**Output layer** for this photo: {listed(result.own_logits)}\n\n"
                 f"**and for its mirror image** (this network was trained on mirror images "
                 f"too, and answers for both): {listed(result.mirror_logits)}\n\n"
                 f"**Logits z**, the mean of the two: {listed(z)}")
    return f"{words}\n\n**Softmax**: `{softmax_formula(z, result.classes)}`"


class Picture(gr.Image):
    """An output image whose file is written atomically.

    Gradio names a cached image by its content's hash and rewrites that file in place, so
    two visitors who get byte-identical pictures at the same moment share one file while it
    is being rewritten, and one of them can receive it cut short. Here the file is written
    under a temporary name and renamed into place, and an existing one is left alone.
    """
    is_template = True  # rendered by the frontend's ordinary Image component

    def postprocess(self, value):
        if isinstance(value, Image.Image):
            buffer = io.BytesIO()
            value.save(buffer, format="PNG")
            data = buffer.getvalue()
            folder = Path(self.GRADIO_CACHE) / hash_bytes(data)
            path = folder / "image.png"
            if not path.exists():
                folder.mkdir(parents=True, exist_ok=True)
                fd, staging = tempfile.mkstemp(dir=folder, prefix=".image.")
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(staging, path)
            value = str(path)
        return super().postprocess(value)


def picture(label: str, **kwargs) -> Picture:
    """An output image with its title and no buttons over it."""
    classes = kwargs.pop("elem_classes", [])
    classes = [classes] if isinstance(classes, str) else list(classes)
    return Picture(label=label, format="png", interactive=False, buttons=[],
                   elem_classes=["picture", *classes], **kwargs)


ASSETS = Path(__file__).resolve().parent.parent / "web"
# The page's own style sheet (Gradio's text raised to 13 px and more, the pictures' boxes).
CSS = (ASSETS / "page.css").read_text()


def view_html(name: str) -> str:
    """``web/<name>_view.html`` with the parts both live views share
    (``view_parts.html``: the explanations, the words, the trace panel) put where it names
    them (``<!-- why -->`` ...)."""
    html = (ASSETS / f"{name}_view.html").read_text()
    shared = (ASSETS / "view_parts.html").read_text()
    for part in re.split(r"<!-- part: ", shared)[1:]:
        key, _, body = part.partition(" -->\n")
        html = html.replace(f"<!-- {key} -->\n", body)
    return html


def live_view(name: str, **props) -> gr.HTML:
    """A tab's live view (``web/<name>_tab.js`` on ``<name>_view.html``); ``props``
    reach the page's module (``models``: the checkpoints it loads)."""
    return gr.HTML("", html_template=view_html(name), css_template=(ASSETS / "view.css").read_text(),
                   js_on_load=(ASSETS / "view.onload.js").read_text(), elem_id=f"{name}-view",
                   module=f"{name}_tab.js", **props)


# ---------------------------------------------------------------------------- the live view
# The draw tab's view (web/draw_tab.js) keeps what it shows as its value, JSON:
# {"kind": "drawing", "drawing": PNG data URL} (set by the page after each stroke),
# {"kind": "upload" | "gallery", "pixels": [...], "caption": ...} (set here: an input the
# server prepared), {"kind": "message", "text": ...}, or "" for nothing.

@dataclass(frozen=True)
class Shown:
    """What the draw tab shows, for the tabs that use it: the network's input ``pixels``
    (H, W) in [0, 1] or None when nothing is drawn, and ``png``, the drawing as drawn (or
    the prepared input, for uploads and gallery images) for the building blocks."""
    kind: str
    pixels: np.ndarray | None
    png: bytes | None


def view_value(kind: str, pixels: np.ndarray, caption: str) -> str:
    """An input the server prepared, as the view's value. ``id`` makes every hand-over a
    change, even of the same picture twice."""
    return json.dumps({"kind": kind, "pixels": [round(float(v), 6) for v in pixels.ravel()],
                       "caption": caption, "id": time.time_ns()})


def check_upload_size(path: str, what: str) -> None:
    """An ``InputError`` naming the limit for an upload over ``UPLOAD_LIMIT_MB``."""
    try:
        size = os.path.getsize(path) / 2**20
    except OSError:   # not there: opening it says so in its own words
        return
    if size > UPLOAD_LIMIT_MB:
        raise InputError(f"the {what} is {size:.0f} MB; the limit is {UPLOAD_LIMIT_MB} MB: "
                         f"choose a smaller one")


def png_data_url(image: Image.Image) -> str:
    """A small picture inlined in the page, as a PNG data URL."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode()


def upload_value(clf: Classifier, path: str, what: str, caption: str,
                 nothing: str) -> tuple[str, bool]:
    """An upload prepared by ``clf``'s recipe as a live view's value, and whether it could be
    used; what cannot be used (too large, not an image, ``nothing`` found) is one line."""
    try:
        check_upload_size(path, what)
        tensor, _ = clf.prepare(path)
    except (InputError, OSError) as exc:
        return view_message(f"⚠️ {exc}"), False
    if tensor is None:
        return view_message(nothing), False
    return view_value("upload", clf.pixels(tensor), caption), True


def image_value(kind: str, image: np.ndarray, caption: str) -> str:
    """A (H, W, C) uint8 image that is already the network's size (a test image), taken as it
    is: the view's value, channels first."""
    return view_value(kind, image.transpose(2, 0, 1).astype(np.float32) / 255, caption)


def view_message(text: str) -> str:
    return json.dumps({"kind": "message", "text": text, "id": time.time_ns()})


def shown_input(value: str | None, side: int = 28) -> Shown | None:
    """The view's value -> ``Shown``, or None when nothing is shown. Drawings go through the
    pad's recipe (``lenet.inputs.pad``), as the page did; the rest is taken as the server sent it."""
    if not value:
        return None
    try:
        data = json.loads(value)
        kind = data["kind"]
    except (ValueError, TypeError, KeyError):
        raise InputError("the drawing arrived damaged; press Clear and redraw") from None
    if kind == "drawing":
        png = decode_data_url(data.get("drawing"))
        digit = drawing_digit(png)
        return Shown(kind, None if digit.empty else digit.pixels, png)
    if kind in ("upload", "gallery"):
        pixels = np.asarray(data.get("pixels", []), np.float32)
        if pixels.size != side * side or not np.isfinite(pixels).all():
            raise InputError("the input arrived damaged; send it again")
        pixels = pixels.clip(0, 1).reshape(side, side)
        png = png_bytes(Image.fromarray((pixels * 255).round().astype(np.uint8), "L"))
        return Shown(kind, pixels, png)
    return None
