"""The page's tabs as the Gradio app places them (``page_tab``: ``web/<name>_tab.html`` and its
module), the page's style sheet, and the server's side of the two live views (the draw and
photo tabs), which the page no longer uses: uploads prepared as the network's input in JSON
for the API's ``/prepare_digit`` and ``/prepare_photo``, and a drawing in the draw view's old
words read for the Python handlers that still take one (``shown_input``: the invariance lab).
"""
from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

from lenet.inputs.images import png_bytes
from lenet.inputs.pad import drawing_digit
from lenet.inputs.preprocess import UPLOAD_LIMIT_MB
from lenet.inside.inference import Classifier, InputError
from lenet.page import VIEWS, tab_html

from .api import DRAWING_MB, MAX_DATA_URL, decode_data_url, megabytes

# Uploads above UPLOAD_LIMIT_MB (the page's limit too) are answered with the limit in words.
# Gradio itself refuses files above app.py's MAX_FILE_SIZE, larger, with no reason it can show.
# The draw view's value at most: a drawing's data URL (``ui.api.MAX_DATA_URL``) and the JSON
# around it; an upload's 28x28 pixels as text take about 8 KB.
MAX_VIEW_VALUE = MAX_DATA_URL + 2**16

ASSETS = Path(__file__).resolve().parent.parent / "web"
# The page's own style sheet (Gradio's text raised to 13 px and more, the pictures' boxes).
CSS = (ASSETS / "page.css").read_text()


def page_tab(tab: str, start: dict) -> gr.HTML:
    """Tab ``tab`` of the page (``web/<tab>_tab.html``, mounted by ``web/<tab>_tab.js``), as
    the Gradio app shows it. What the page's module needs (``start``: the checkpoints and files
    it loads) is written into the tab's own HTML as data attributes (``lenet.page``), not passed
    as the component's props: Gradio drops a component's extra props when an event updates it
    before its tab was first shown."""
    css = (ASSETS / "view.css").read_text() if tab in VIEWS else None
    return gr.HTML("", html_template=tab_html(tab, start), css_template=css,
                   js_on_load=(ASSETS / "tab.onload.js").read_text(), elem_id=f"{tab}-view")


# ---------------------------------------------------------------------------- the live view
# What the draw view's value held when the server read it, JSON:
# {"kind": "drawing", "drawing": PNG data URL}, {"kind": "upload" | "gallery", "pixels": [...],
# "caption": ...}, {"kind": "message", "text": ...}, or "" for nothing. The API's prepare
# endpoints answer in the same words. The page now keeps what it shows to itself
# (web/shared.js topics "digit" and "photo").

@dataclass(frozen=True)
class Shown:
    """What the draw tab shows, for the tabs that use it: the network's input ``pixels``
    (H, W) in [0, 1] or None when nothing is drawn, and ``png``, the drawing as drawn (or
    the prepared input, for uploads and gallery images) for the building blocks."""
    kind: str
    pixels: np.ndarray | None
    png: bytes | None


def view_value(kind: str, pixels: np.ndarray, caption: str) -> str:
    """An input the server prepared, in the view's words. ``id`` tells two answers for the
    same picture apart."""
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


def upload_value(clf: Classifier, path: str, what: str, caption: str, nothing: str) -> str:
    """An upload prepared by ``clf``'s recipe as the network's input in the view's words;
    what cannot be used (too large, not an image, ``nothing`` found) is one line."""
    try:
        check_upload_size(path, what)
        tensor, _ = clf.prepare(path)
    except (InputError, OSError) as exc:
        return view_message(f"⚠️ {exc}")
    if tensor is None:
        return view_message(nothing)
    return view_value("upload", clf.pixels(tensor), caption)


def view_message(text: str) -> str:
    return json.dumps({"kind": "message", "text": text, "id": time.time_ns()})


def shown_input(value: str | None, side: int = 28) -> Shown | None:
    """The view's value -> ``Shown``, or None when nothing is shown. Drawings go through the
    pad's recipe (``lenet.inputs.pad``), as the page did; the rest is taken as the server sent it."""
    if not value:
        return None
    if isinstance(value, str) and len(value) > MAX_VIEW_VALUE:   # before parsing it
        raise InputError(f"the drawing is {megabytes(value)} MB; the limit is {DRAWING_MB} MB: "
                         f"press Clear and redraw")
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
