"""The "Classify a photo" tab: the CIFAR-10 ConvNet on one screen, computed in the visitor's
browser (web/photo_tab.js) on the 32x32 input the server prepares from an upload,
the webcam or the clipboard, or on a test image sent from the gallery as it is.

The API keeps ``/classify_photo`` and ``/photo_pictures`` for ``gradio_client`` users.
"""
from __future__ import annotations

import gradio as gr

from lenet.inside.inference import Classifier

from .common import (
    QUICK,
    SLOW,
    SOFTMAX_HINT,
    SOMETHING_WRONG,
    Analyst,
    RawImage,
    check_upload_size,
    guarded,
    live_view,
    picture,
    upload_value,
    view_message,
)

TITLE = "Classify a photo"
PROMPT = "Upload a photo, take one with the webcam, or paste one."


class PhotoTab:
    """Handlers (callable directly, as the tests do) and the layout of the tab."""

    def __init__(self, clf: Classifier, path: str = "checkpoints/convnet.safetensors"):
        self.clf = clf
        self.path = path               # its checkpoint, as the page fetches it
        self.analyst = Analyst(clf)
        self.classify_photo = guarded((None,) * 4, warn=True)(self._classify_photo)
        self.pictures = guarded(self.analyst.no_pictures, warn=False)(self._pictures)
        self.take_upload = guarded((view_message(SOMETHING_WRONG), None), warn=False)(self._take_upload)

    # ------------------------------------------------------------------ handlers
    def _take_upload(self, path: str | None):
        """An upload -> (the view's input, prepared by the photo recipe; the photo's path,
        kept on the server for the other tabs). What cannot be used is one line in the view,
        and the previous photo's answer goes with it."""
        if not path:
            return "", None
        value, usable = upload_value(self.clf, path, "photo", "your photo",
                                     nothing="That picture is blank.")
        return value, path if usable else None

    def _classify_photo(self, path: str | None):
        """API: a photo -> (status, probabilities, network input, softmax)."""
        if not path:
            return PROMPT, None, None, SOFTMAX_HINT
        check_upload_size(path, "photo")
        return self.analyst.label(path, "That picture is blank.")

    def _pictures(self, shown, target: str | None, view: str | None = None):
        """API: the pictures of a photo (Grad-CAM, saliency, steps, every layer)."""
        return self.analyst.pictures(shown, target, view)

    # ------------------------------------------------------------------ layout
    def build(self) -> None:
        with gr.Row(equal_height=False):
            with gr.Column(scale=0, min_width=200):
                photo = RawImage(type="filepath", label="Your photo", height=200, buttons=[],
                                 sources=["upload", "webcam", "clipboard"],
                                 elem_classes="photo-input", elem_id="photo-input")
            with gr.Column(scale=1):
                self.view = live_view("photo", models=[{"path": self.path,
                                                         "title": self.clf.meta["title"]}])
        self.shown = gr.State(None)   # the photo on show, for the building blocks and the lab
        photo.upload(self.take_upload, photo, [self.view, self.shown], api_name="prepare_photo",
                     **QUICK)
        photo.clear(lambda: ("", None), None, [self.view, self.shown], api_name=False,
                    queue=False)
        self.build_api()

    def build_api(self) -> None:
        """``/classify_photo`` and ``/photo_pictures`` for API users: hidden components that
        no page event triggers."""
        with gr.Column(visible=False):
            photo = RawImage(type="filepath")
            target, view = gr.Textbox(), gr.Textbox()
            quick = [gr.Markdown(), gr.Label(), gr.Image(), gr.Markdown()]
            pictures = [picture(f"{k}") for k in range(len(self.analyst.no_pictures))]
        photo.upload(self.classify_photo, photo, quick, api_name="classify_photo", **QUICK)
        photo.change(self.pictures, [photo, target, view], pictures, api_name="photo_pictures",
                     **SLOW)
