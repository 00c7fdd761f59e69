"""The "Classify a photo" tab: the CIFAR-10 ConvNet on one screen, computed in the visitor's
browser (web/photo_tab.js) on the 32x32 input the page prepares from an upload, the webcam
or the clipboard, or on a test image handed over by the gallery as it is. Nothing a visitor
does on the tab reaches the server; this module only places the tab.

The API keeps ``/classify_photo`` and ``/photo_pictures`` for ``gradio_client`` users, and
``/prepare_photo``: an upload prepared by the photo recipe as the network's input.
"""
from __future__ import annotations

from gradio.data_classes import FileData

from lenet.inside.inference import Classifier

from .api import SOFTMAX_HINT, Answer, ApiSteps, Endpoint, LayerPictures, serve_prepared
from .components import uploaded_file
from .events import SOMETHING_WRONG, guarded
from .view import check_upload_size, page_tab, upload_value, view_message

PROMPT = "Upload a photo, take one with the webcam, or paste one."


class PhotoTab:
    """Handlers (callable directly, as the tests do) and the layout of the tab."""

    def __init__(self, clf: Classifier, start: dict | None = None):
        self.clf = clf
        self.start = start or {}       # what the page's module loads (lenet.page.tab_starts)
        self.api = ApiSteps(clf)
        self.classify_photo = guarded(Answer.failed, warn=True)(self._classify_photo)
        self.pictures = guarded(LayerPictures.failed, warn=False)(self._pictures)
        self.take_upload = guarded(lambda _: view_message(SOMETHING_WRONG),
                                   warn=False)(self._take_upload)

    # ------------------------------------------------------------------ handlers
    def _take_upload(self, path: str | None) -> str:
        """API: an upload, prepared by the photo recipe, as the network's input (JSON:
        {"kind": "upload", "pixels": 3x32x32 values, channels first, "caption"}); what cannot
        be used, as a one-line message ({"kind": "message", "text"})."""
        if not path:
            return ""
        return upload_value(self.clf, path, "photo", "your photo", nothing="That picture is blank.")

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
        self.view = page_tab("photo", self.start)
        self.build_api()

    def build_api(self) -> None:
        """``/classify_photo`` and ``/photo_pictures`` for API users: API-only endpoints
        taking an uploaded photo, and ``/prepare_photo``. Only a file Gradio received is read
        (``uploaded_file``)."""
        self.api.serve(Endpoint("classify_photo", "path", self.classify_photo),
                       Endpoint("photo_pictures", "shown", self._pictures), kind=FileData | None,
                       read=uploaded_file)
        serve_prepared("prepare_photo", self.take_upload)
