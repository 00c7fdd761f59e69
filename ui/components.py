"""The Gradio components the tabs share that Gradio does not have as they need them: an
upload that reaches the engine unopened, and an output picture written atomically."""
from __future__ import annotations

import base64
from pathlib import Path

import gradio as gr
from gradio.processing_utils import hash_bytes
from PIL import Image

from lenet.inputs.images import png_bytes
from lenet.net.checkpoint import atomic_write_bytes


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
            data = png_bytes(value)
            path = Path(self.GRADIO_CACHE) / hash_bytes(data) / "image.png"
            if not path.exists():
                atomic_write_bytes(path, data, durable=False)
            value = str(path)
        return super().postprocess(value)


def picture(label: str, **kwargs) -> Picture:
    """An output image with its title and no buttons over it."""
    classes = kwargs.pop("elem_classes", [])
    classes = [classes] if isinstance(classes, str) else list(classes)
    return Picture(label=label, format="png", interactive=False, buttons=[],
                   elem_classes=["picture", *classes], **kwargs)
