"""The "Draw a digit" tab: a drawing pad (app_assets/) and an upload, both read by LeNet-5.

While the pen moves, only the quick label follows it; when the pen lifts, the pictures come.
Both steps share one prediction per drawing (``Analyst``). Whatever was analysed last (a
drawing or an upload) is kept per visitor, so the class to explain, the activation toggle
and the trace panel all work on what is shown.
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from lenet.inference import Classifier

from .closer import Closer
from lenet.compare import model_picture

from .common import (QUICK, SLOW, SOFTMAX_HINT, Analyst, RawImage, decode_data_url,
                     drop_if_unusable, guarded, picture, result_panel)

ASSETS = Path(__file__).resolve().parent.parent / "app_assets"
TITLE = "Draw a digit (MNIST · LeNet-5)"
PROMPT = "Draw a digit on the pad."


class DrawTab:
    """Handlers (callable directly, as the tests do) and the layout of the tab. ``others``
    are more digit models (the course's variants) to compare with on the same drawing."""

    def __init__(self, clf: Classifier, others: list[Classifier] = ()):
        self.analyst = Analyst(clf)
        self.others = [Analyst(other) for other in others]
        self.compare = guarded((None,) * (3 * (1 + len(self.others))), warn=False)(self._compare)
        self.closer = Closer(self.analyst)
        no_label = (None, None, None, None, None)
        no_pictures = self.analyst.no_pictures
        self.classify_sketch = guarded(no_label, warn=True)(self._classify_sketch)
        self.classify_digit = guarded(no_label, warn=True)(self._classify_digit)
        self.pictures = guarded(no_pictures, warn=False)(self._pictures)
        self.sketch_pictures = guarded(no_pictures, warn=False)(self._sketch_pictures)

    # ------------------------------------------------------------------ handlers
    # Label steps return (status, probabilities, network input, softmax, what is now shown).
    def _classify_sketch(self, value: str | None):
        data = decode_data_url(value)
        if data is None:
            return PROMPT, None, None, SOFTMAX_HINT, None
        return (*self.analyst.label(data, "Nothing drawn yet: draw a digit on the pad."), data)

    def _classify_digit(self, path: str | None):
        if not path:
            return ("Draw a digit on the pad, or upload a picture of one.", None, None,
                    SOFTMAX_HINT, None)
        return (*self.analyst.label(path, "No digit found in that picture: nothing drawn."), path)

    def _sketch_pictures(self, value: str | None, target: str | None, view: str | None = None):
        return self.analyst.pictures(decode_data_url(value), target, view)

    def _pictures(self, shown, target: str | None, view: str | None = None):
        return self.analyst.pictures(shown, target, view)

    def _compare(self, shown):
        """For LeNet-5 and each other model: (title, probabilities, picture of its maps)."""
        out = []
        for analyst in (self.analyst, *self.others):
            clf = analyst.clf
            title = (f"**{clf.meta['title']}** · {100 * clf.meta['test_accuracy']:.2f} % on "
                     f"the test set · {clf.meta['parameters']:,} parameters")
            result = analyst.predict(shown) if shown is not None else None
            if result is None or result.empty:
                out += [title, None, None]
            else:
                out += [title, result.confidences(), model_picture(clf, result)]
        return tuple(out)

    def reset(self):
        """Clear pressed (or the upload removed): every output back to the prompt."""
        return (PROMPT, None, None, SOFTMAX_HINT, None, *self.analyst.no_pictures)

    # ------------------------------------------------------------------ layout
    def build(self) -> None:
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                pad = gr.HTML("", html_template=(ASSETS / "pad.html").read_text(),
                              css_template=(ASSETS / "pad.css").read_text(),
                              js_on_load=(ASSETS / "pad.js").read_text(), elem_id="pad")
                with gr.Accordion("…or upload a picture of a digit", open=False):
                    upload = RawImage(type="filepath", label="Digit picture", height=200,
                                      sources=["upload", "clipboard"], buttons=[],
                                      elem_classes="photo-input")
            with gr.Column(scale=2):
                target, view, quick, pictures, grids = result_panel(self.analyst, PROMPT)
        shown = gr.State(None)   # the drawing's PNG bytes or the upload's path
        self.shown = shown
        self.closer.build(shown, view, grids)
        if self.others:
            self.build_comparison(shown)
        # A picture's path sent from elsewhere in the page (the test-set gallery).
        self.inbox = gr.Textbox(visible=False)
        sent = self.inbox.change(self.classify_digit, self.inbox, [*quick, shown],
                                 api_name=False, **QUICK)
        sent.then(self.pictures, [shown, target, view], pictures, api_name=False, **SLOW)
        # While drawing: the label follows the pen. On pen-up: the pictures, which reuse the
        # label's prediction of the same drawing (one prediction per pen-up).
        pad.change(self.classify_sketch, pad, [*quick, shown], api_name="classify_sketch",
                   **QUICK)
        pad.stroke_end(self.sketch_pictures, [pad, target, view], pictures,
                       api_name="sketch_pictures", **SLOW)
        labelled = upload.upload(self.classify_digit, upload, [*quick, shown],
                                 api_name="classify_digit", **QUICK)
        labelled.then(self.pictures, [shown, target, view], pictures, api_name="digit_pictures",
                      **SLOW)
        labelled.then(drop_if_unusable, shown, upload, api_name=False, queue=False)
        for cleared in (pad.pad_cleared, upload.clear):
            cleared(self.reset, None, [*quick, shown, *pictures], api_name=False, **QUICK)
        for control, name in ((target, "explain_digit"), (view, "digit_view")):
            control.change(self.pictures, [shown, target, view], pictures, api_name=name,
                           **SLOW)

    def build_comparison(self, shown: gr.State) -> None:
        with gr.Accordion("Compare the course's digit models on this drawing", open=False) as box:
            gr.Markdown("LeNet-5 as the workshop built it (ReLU, max-pooling, SGD), the "
                        "exercise's variant (tanh, average pooling, Adam) and the tutorial's "
                        "one dense layer, which has no feature maps: it matches the digit "
                        "against one weight template per class.")
            button = gr.Button("Compare on what is shown", size="sm")
            outputs = []
            with gr.Row(equal_height=True):
                for analyst in (self.analyst, *self.others):
                    with gr.Column(min_width=240):
                        outputs += [gr.Markdown(analyst.clf.meta["title"]),
                                    gr.Label(num_top_classes=3, label="Top 3"),
                                    picture("Its maps" if analyst.clf.layer_names else
                                            "Its weight templates", height=300,
                                            elem_classes=["compare"])]
        for trigger in (button.click, box.expand):
            trigger(self.compare, shown, outputs, api_name=False, **SLOW)
