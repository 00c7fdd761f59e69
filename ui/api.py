"""The API's two steps for one model (``ApiSteps``), kept for ``gradio_client`` users since
the page runs the networks itself: a quick answer (``Answer``) and the pictures of every
layer (``LayerPictures``), sharing one prediction per input.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import gradio as gr
from PIL import Image

from lenet.inside.explain import softmax_formula
from lenet.inside.inference import Classifier, InputError, Prediction
from lenet.inside.memo import SingleFlight
from lenet.pictures.input_steps import recipe_strip
from lenet.pictures.prediction import render_pictures

from .components import picture
from .events import Result, Shows

EXPLAIN_TOP = "top prediction"
BEFORE_ACTIVATION, AFTER_ACTIVATION = "before the activation", "after the activation"
SOFTMAX_HINT = "The logits and the softmax that turns them into probabilities appear here."


@dataclass
class Answer(Result):
    """The quick step: a status line, every class's probability, the network's input at its
    true size, and the softmax written out with this input's logits."""
    status: str | None = None
    confidences: dict | None = None
    seen: Image.Image | None = None
    softmax: str | None = None


@dataclass
class LayerPictures(Result):
    """The slow step: Grad-CAM, saliency, how the input was made, a grid per conv and pooling
    layer (``maps``) and a strip per fully connected layer (``linear``), by layer name."""
    grad_cam: Image.Image | None = None
    saliency: Image.Image | None = None
    steps: Image.Image | None = None
    maps: dict[str, Image.Image] | None = None
    linear: dict[str, Image.Image] | None = None


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


class ApiSteps:
    """The API's two steps for one model, sharing one prediction per input.

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

    def answer(self, source, nothing: str) -> Answer:
        result = self.predict(source)
        if result.empty:
            return Answer(nothing, softmax=SOFTMAX_HINT)
        name, p = result.top(1)[0]
        return Answer(f"**{name}** with {100 * p:.1f} % confidence", result.confidences(),
                      result.input_image, softmax_words(result))

    def pictures(self, source, target: str | None, activation: str | None = None) -> LayerPictures:
        """The pictures of ``source``; Grad-CAM and saliency explain ``target``'s class
        (default: the top one)."""
        if source is None:
            return LayerPictures()
        result = self.predict(source)
        if result.empty:
            return LayerPictures()
        index = self.clf.classes.index(target) if target in self.clf.classes else None
        shown = render_pictures(self.clf, result, self.clf.heatmaps(result, index),
                                after_activation=activation == AFTER_ACTIVATION)
        return LayerPictures(shown.grad_cam, shown.saliency, self.steps(source),
                             dict(shown.feature_maps), dict(shown.linear))

    def hidden_outputs(self) -> tuple[Shows, Shows]:
        """The components the two steps' answers go to, hidden (no page event shows them):
        the API's outputs, in the order ``gradio_client`` returns them."""
        with gr.Column(visible=False):
            answer = Shows(status=gr.Markdown(), confidences=gr.Label(), seen=gr.Image(),
                           softmax=gr.Markdown())
            names = ["grad_cam", "saliency", "steps",
                     *[f"maps.{n}" for n in self.clf.map_layer_names],
                     *[f"linear.{n}" for n in self.clf.linear_names]]
            pictures = Shows({name: picture(name) for name in names})
        return answer, pictures


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
