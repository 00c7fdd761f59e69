"""The "Classify a photo" tab: the CIFAR-10 ConvNet on one screen, computed in the visitor's
browser (web/photo_tab.js) on the 32x32 input the server prepares from an upload,
the webcam or the clipboard, or on a test image sent from the gallery as it is.

The API keeps ``/classify_photo`` and ``/photo_pictures`` for ``gradio_client`` users.
"""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
from gradio.data_classes import FileData

from lenet.inside.inference import Classifier

from .api import SOFTMAX_HINT, Answer, ApiSteps, Endpoint, LayerPictures
from .components import RawImage, uploaded_file
from .events import INSTANT, QUICK, SOMETHING_WRONG, Result, Shows, guarded
from .view import check_upload_size, page_tab, upload_value, view_message

TITLE = "Classify a photo"
PROMPT = "Upload a photo, take one with the webcam, or paste one."


@dataclass
class Upload(Result):
    """An upload taken: the view's value (the network's input, or a one-line message) and the
    photo's path, kept on the server for the other tabs (None when it cannot be used)."""
    view: str = ""
    shown: str | None = None

    @classmethod
    def failed(cls, message: str | None):
        return cls(view_message(SOMETHING_WRONG))


class PhotoTab:
    """Handlers (callable directly, as the tests do) and the layout of the tab."""

    def __init__(self, clf: Classifier, start: dict | None = None):
        self.clf = clf
        self.start = start or {}       # what the page's module loads (lenet.page.tab_starts)
        self.api = ApiSteps(clf)
        self.classify_photo = guarded(Answer.failed, warn=True)(self._classify_photo)
        self.pictures = guarded(LayerPictures.failed, warn=False)(self._pictures)
        self.take_upload = guarded(Upload.failed, warn=False)(self._take_upload)

    # ------------------------------------------------------------------ handlers
    def _take_upload(self, path: str | None) -> Upload:
        """An upload, prepared by the photo recipe, as the view's input. What cannot be used
        is one line in the view, and the previous photo's answer goes with it."""
        if not path:
            return Upload()
        value, usable = upload_value(self.clf, path, "photo", "your photo",
                                     nothing="That picture is blank.")
        return Upload(value, path if usable else None)

    def _classify_photo(self, path: str | None) -> Answer:
        """API: a photo -> its answer."""
        if not path:
            return Answer(PROMPT, softmax=SOFTMAX_HINT)
        check_upload_size(path, "photo")
        return self.api.answer(path, "That picture is blank.")

    def _pictures(self, shown: str | None, target: str | None = None,
                  activation: str | None = None) -> LayerPictures:
        """API: the pictures of a photo (Grad-CAM and saliency of ``target``'s class, the top
        one by default; how the input was made; every layer, ``activation`` before or after
        the activation, before by default)."""
        if shown:
            check_upload_size(shown, "photo")
        return self.api.pictures(shown, target, activation)

    # ------------------------------------------------------------------ layout
    def build(self) -> None:
        with gr.Row(equal_height=False):
            with gr.Column(scale=0, min_width=200, elem_id="photo-side"):
                self.photo = photo = RawImage(type="filepath", label="Your photo", height=200, buttons=[],
                                 sources=["upload", "webcam", "clipboard"],
                                 elem_classes="photo-input", elem_id="photo-input")
            with gr.Column(scale=1):
                self.view = page_tab("photo", self.start)
        self.shown = gr.State(None)   # the photo on show, for the building blocks and the lab
        taken = Shows(view=self.view, shown=self.shown)
        photo.upload(taken.updates_of(self.take_upload), photo, taken.components,
                     api_name="prepare_photo", **QUICK)
        photo.clear(taken.updates_of(Upload), None, taken.components, api_name=False,
                    **INSTANT)
        self.build_api()

    def build_api(self) -> None:
        """``/classify_photo`` and ``/photo_pictures`` for API users: API-only endpoints
        taking an uploaded photo. Only a file Gradio received is read (``uploaded_file``)."""
        self.api.serve(Endpoint("classify_photo", "path", self.classify_photo),
                       Endpoint("photo_pictures", "shown", self._pictures), kind=FileData | None,
                       read=uploaded_file)
