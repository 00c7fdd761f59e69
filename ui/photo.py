"""The "Classify a photo" tab: upload, webcam or paste a photo for the CIFAR-10 ConvNet."""
from __future__ import annotations

import gradio as gr

from lenet.inference import Classifier

from .closer import Closer
from .common import (QUICK, SLOW, SOFTMAX_HINT, Analyst, RawImage, drop_if_unusable,
                     guarded, result_panel)

TITLE = "Classify a photo (CIFAR-10 · ConvNet)"
PROMPT = "Upload a photo, take one with the webcam, or paste one."


class PhotoTab:
    """Handlers (callable directly, as the tests do) and the layout of the tab."""

    def __init__(self, clf: Classifier, gallery_file=None):
        self.analyst = Analyst(clf)
        self.gallery_file = gallery_file   # "model:test index" -> its picture (GalleryTab.file_for)
        self.closer = Closer(self.analyst)
        self.classify_photo = guarded((None,) * 5, warn=True)(self._classify_photo)
        self.pictures = guarded(self.analyst.no_pictures, warn=False)(self._pictures)
        self.classify_sent = guarded((None,) * 5, warn=True)(self._classify_sent)

    def _classify_sent(self, reference: str | None):
        """A gallery image sent by reference (never a path from the page)."""
        if not reference:
            return PROMPT, None, None, SOFTMAX_HINT, None
        return self._classify_photo(self.gallery_file(reference))

    def _classify_photo(self, path: str | None):
        if not path:
            return PROMPT, None, None, SOFTMAX_HINT, None
        return (*self.analyst.label(path, "That picture is blank."), path)

    def _pictures(self, shown, target: str | None, view: str | None = None):
        return self.analyst.pictures(shown, target, view)

    def reset(self):
        return (PROMPT, None, None, SOFTMAX_HINT, None, *self.analyst.no_pictures)

    def build(self) -> None:
        classes = ", ".join(self.analyst.clf.classes)
        gr.Markdown(f"This network knows only the ten CIFAR-10 classes: {classes}. Anything "
                    "else gets the nearest of those, and it sees your photo as a 32x32 "
                    "centre crop.")
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                photo = RawImage(type="filepath", label="Photo", height=300, buttons=[],
                                 sources=["upload", "webcam", "clipboard"],
                                 elem_classes="photo-input", elem_id="photo-input")
            with gr.Column(scale=2):
                target, view, quick, pictures, grids = result_panel(self.analyst,
                                                                    "Upload a photo.")
        shown = gr.State(None)   # the path of the photo on show
        self.shown = shown
        self.closer.build(shown, view, grids)
        # A test image sent from the gallery, by reference.
        self.inbox = gr.Textbox(visible=False)
        sent = self.inbox.change(self.classify_sent, self.inbox, [*quick, shown],
                                 api_name=False, **QUICK)
        sent.then(self.pictures, [shown, target, view], pictures, api_name=False, **SLOW)
        labelled = photo.upload(self.classify_photo, photo, [*quick, shown],
                                api_name="classify_photo", **QUICK)
        labelled.then(self.pictures, [shown, target, view], pictures, api_name="photo_pictures",
                      **SLOW)
        labelled.then(drop_if_unusable, shown, photo, api_name=False, queue=False)
        photo.clear(self.reset, None, [*quick, shown, *pictures], api_name=False, **QUICK)
        for control, name in ((target, "explain_photo"), (view, "photo_view")):
            control.change(self.pictures, [shown, target, view], pictures, api_name=name,
                           **SLOW)
