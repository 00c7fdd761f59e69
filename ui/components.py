"""What the API's endpoints share that Gradio does not have as they need it: an uploaded file
taken only if Gradio checked it, and an output picture written atomically."""
from __future__ import annotations

from pathlib import Path

import gradio as gr
from gradio.processing_utils import hash_bytes
from gradio.utils import get_upload_folder, is_in_or_equal
from gradio_client.utils import is_file_obj_with_meta
from PIL import Image

from lenet.inputs.images import png_bytes
from lenet.net.checkpoint import atomic_write_bytes


def uploaded_path(path: str | None) -> str | None:
    """``path`` if it names a file in Gradio's upload folder, which Gradio checked on the
    way in; anything else (a payload with only a data URL, any other server path) is no
    file at all, so what a visitor sends never names a file of the server's."""
    if isinstance(path, str) and is_in_or_equal(path, get_upload_folder()):
        return path
    return None


def uploaded_file(value) -> str | None:
    """An API parameter's ``FileData`` (a dict, as ``gr.api`` receives it) -> the path of
    the upload it names (``uploaded_path``), or None."""
    return uploaded_path(value.get("path")) if is_file_obj_with_meta(value) else None


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
            value = cached_png(value)
        return super().postprocess(value)


def cached_png(image: Image.Image) -> str:
    """``image`` as a PNG in Gradio's cache, where Gradio would put it (named by its content's
    hash), written under a temporary name and renamed into place; an existing one is kept."""
    data = png_bytes(image)
    path = Path(get_upload_folder()) / hash_bytes(data) / "image.png"
    if not path.exists():
        atomic_write_bytes(path, data, durable=False)
    return str(path)


def picture(label: str, **kwargs) -> Picture:
    """An output image with its title and no buttons over it."""
    classes = kwargs.pop("elem_classes", [])
    classes = [classes] if isinstance(classes, str) else list(classes)
    return Picture(label=label, format="png", interactive=False, buttons=[],
                   elem_classes=["picture", *classes], **kwargs)
