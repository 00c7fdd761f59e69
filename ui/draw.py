"""The "Draw a digit" tab: the whole of LeNet-5 on one screen, computed in the visitor's
browser (web/draw_tab.js): drawings on every pointer move, uploads prepared in the page by
the digit recipe for uploads, gallery images handed over in the page. Nothing a visitor does
on the tab reaches the server; this module only places the tab.

The API keeps ``/classify_sketch`` and ``/sketch_pictures`` for ``gradio_client`` users: they
run the Python engine on a drawing's PNG with the pad's recipe (``lenet.inputs.pad``); and
``/prepare_digit``, an upload prepared by the general digit recipe as the network's input.
"""
from __future__ import annotations

from lenet.inputs.pad import drawing_digit
from lenet.inside.inference import Classifier, Prediction
from lenet.pictures.input_steps import pad_strip

from .api import SOFTMAX_HINT, Answer, ApiSteps, Endpoint, LayerPictures, decode_data_url, serve_prepared
from .events import SOMETHING_WRONG, guarded
from .view import page_tab, upload_value, view_message

PROMPT = "Draw a digit on the pad."
NOTHING_DRAWN = "Nothing drawn yet: draw a digit on the pad."


class DrawTab:
    """Handlers (callable directly, as the tests do) and the layout of the tab. ``others``
    are more digit models (the course's variants), which the page runs on the same input."""

    def __init__(self, clf: Classifier, others: list[Classifier] = (), start: dict | None = None):
        self.clf = clf
        self.others = list(others)
        self.start = start or {}     # what the page's module loads (lenet.page.tab_starts)
        # The API's steps share one prediction per drawing (keyed by the PNG's bytes).
        self.api = ApiSteps(clf, predictor=self._predict_drawing, strip=pad_strip)
        self.classify_sketch = guarded(Answer.failed, warn=True)(self._classify_sketch)
        self.sketch_pictures = guarded(LayerPictures.failed, warn=False)(self._sketch_pictures)
        self.take_upload = guarded(lambda _: view_message(SOMETHING_WRONG),
                                   warn=False)(self._take_upload)

    # ------------------------------------------------------------------ handlers
    def _predict_drawing(self, png: bytes) -> Prediction:
        """A drawing through the pad's recipe and LeNet-5 (the page does the same)."""
        digit = drawing_digit(png)
        return self.clf.predict_pixels(None if digit.empty else digit.pixels[None])

    def _classify_sketch(self, value: str | None) -> Answer:
        """API: a drawing's PNG data URL -> its answer."""
        data = decode_data_url(value)
        if data is None:
            return Answer(PROMPT, softmax=SOFTMAX_HINT)
        return self.api.answer(data, NOTHING_DRAWN)

    def _sketch_pictures(self, value: str | None, target: str | None = None,
                         activation: str | None = None) -> LayerPictures:
        """API: the pictures of a drawing (Grad-CAM and saliency of ``target``'s class, the
        top one by default; how the input was made; every layer, ``activation`` before or
        after the activation, before by default)."""
        return self.api.pictures(decode_data_url(value), target, activation)

    def _take_upload(self, path: str | None) -> str:
        """API: an uploaded picture of a digit, prepared by the general recipe, as the
        network's input (JSON: {"kind": "upload", "pixels": 28x28 values, "caption"}); a
        picture that cannot be used, as a one-line message ({"kind": "message", "text"})."""
        if not path:
            return ""
        return upload_value(self.clf, path, "picture", "your upload",
                            nothing="No digit found in that picture: nothing drawn.")

    # ------------------------------------------------------------------ layout
    def build(self) -> None:
        self.view = page_tab("draw", self.start)
        self.build_api()

    def build_api(self) -> None:
        """``/classify_sketch`` and ``/sketch_pictures`` for API users, as before the page
        ran the network itself: API-only endpoints taking a drawing's PNG data URL; and
        ``/prepare_digit``, taking an uploaded picture."""
        self.api.serve(Endpoint("classify_sketch", "value", self.classify_sketch),
                       Endpoint("sketch_pictures", "value", self._sketch_pictures), kind=str)
        serve_prepared("prepare_digit", self.take_upload)
