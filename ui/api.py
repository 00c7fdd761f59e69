"""The API's two steps for one model (``ApiSteps``), kept for ``gradio_client`` users since
the page runs the networks itself: a quick answer (``Answer``) and the pictures of every
layer (``LayerPictures``), sharing one prediction per input. They are API-only endpoints
(``gr.api``): no component of the page stands behind them.

Each endpoint answers when given its input alone: the class to explain defaults to the top
one and the maps to before the activation.
"""
from __future__ import annotations

import base64
import binascii
import functools
import inspect
import logging
import math
from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr
from gradio.data_classes import FileData
from PIL import Image

from lenet.inside.explain import softmax_formula
from lenet.inside.inference import Classifier, InputError, Prediction
from lenet.inside.memo import SingleFlight
from lenet.pictures.input_steps import recipe_strip
from lenet.pictures.prediction import render_pictures

from .components import cached_png, uploaded_file
from .events import QUICK, SLOW, SOMETHING_WRONG, Result

EXPLAIN_TOP = "top prediction"
BEFORE_ACTIVATION, AFTER_ACTIVATION = "before the activation", "after the activation"
SOFTMAX_HINT = "The logits and the softmax that turns them into probabilities appear here."
# A drawing's PNG, decoded, at most (the pad's are a few KB). Its data URL is checked by its
# length, before anything is decoded: base64 spends 4 characters on 3 bytes.
DRAWING_MB = 1
MAX_DATA_URL = 100 + 4 * math.ceil(DRAWING_MB * 2**20 / 3)   # 100: the "data:...;base64," head
log = logging.getLogger("app")


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
    """The pad's value: '' when cleared, else a 'data:image/png;base64,...' URL of at most
    ``DRAWING_MB`` decoded."""
    if not value:
        return None
    if not isinstance(value, str):
        raise InputError("the pad sent something that is not an image; press Clear and redraw")
    if len(value) > MAX_DATA_URL:
        raise InputError(f"the drawing is {megabytes(value)} MB; the limit is {DRAWING_MB} MB: "
                         f"draw on the pad or send a smaller PNG")
    head, _, payload = value.partition(",")
    if not head.startswith("data:image/") or ";base64" not in head:
        raise InputError("the pad sent something that is not an image; press Clear and redraw")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("the pad's image arrived damaged; press Clear and redraw") from None


def megabytes(data_url: str) -> float:
    """What a base64 data URL of this length decodes to, in MB, rounded up to a tenth (so
    that a drawing just over the limit does not read as being at it)."""
    return math.ceil(len(data_url) * 3 / 4 / 2**20 * 10) / 10


@dataclass(frozen=True)
class Endpoint:
    """One API step as ``gradio_client`` calls it: its name, its input's parameter name, and
    the handler that answers (with the input as the engine takes it)."""
    name: str
    parameter: str
    handler: Callable


class ApiSteps:
    """The API's two steps for one model, sharing one prediction per input.

    ``source`` is what the engine accepts: PNG bytes from the pad, or an upload's path. The
    memos keep a digest of it, not the bytes (``lenet.inside.memo``).
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

    def pictures(self, source, target: str | None = EXPLAIN_TOP,
                 activation: str | None = BEFORE_ACTIVATION) -> LayerPictures:
        """The pictures of ``source``; Grad-CAM and saliency explain ``target``'s class (the
        top one when None), the maps show ``activation`` (before it when None)."""
        index = self._class_index(target)
        if activation not in (None, BEFORE_ACTIVATION, AFTER_ACTIVATION):
            raise InputError(f"the activation is {BEFORE_ACTIVATION!r} or {AFTER_ACTIVATION!r}")
        if source is None:
            return LayerPictures()
        result = self.predict(source)
        if result.empty:
            return LayerPictures()
        shown = render_pictures(self.clf, result, self.clf.heatmaps(result, index),
                                after_activation=activation == AFTER_ACTIVATION)
        return LayerPictures(shown.grad_cam, shown.saliency, self.steps(source),
                             dict(shown.feature_maps), dict(shown.linear))

    def _class_index(self, target: str | None) -> int | None:
        """The class Grad-CAM and saliency explain: None for the top one."""
        if target in (None, "", EXPLAIN_TOP):
            return None
        if target not in self.clf.classes:
            named = repr(target) if isinstance(target, str) else "that"
            raise InputError(f"{named[:40]} is not a class of {self.clf.name}: explain one of "
                             f"{', '.join(self.clf.classes)} or {EXPLAIN_TOP!r}")
        return self.clf.classes.index(target)

    # ------------------------------------------------------------------ as API endpoints
    def serve(self, answer: Endpoint, pictures: Endpoint, kind: type,
              read: Callable[[Any], Any] = lambda value: value) -> None:
        """Offer the two steps as API-only endpoints (``gr.api``; call it inside the page's
        Blocks). ``kind`` is the input's type as API users send it, ``read`` turns it into
        the handlers' input. The answer step has a status line for what it cannot use; the
        pictures step, which has none, refuses with the reason (``refusing``)."""
        explain = refusing(pictures.handler)

        def answered(value):
            return self.answer_outputs(answer.handler(read(value)))

        def pictured(value, target=EXPLAIN_TOP, activation=BEFORE_ACTIVATION):
            return self.picture_outputs(explain(read(value), target, activation))

        source = inspect.Parameter(answer.parameter, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                   annotation=kind)
        gr.api(api_function(answered, [source], [str, dict, PICTURE, str], answer.handler),
               api_name=answer.name, **concurrency(QUICK))
        options = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                     default=default, annotation=str | None)
                   for name, default in (("target", EXPLAIN_TOP), ("activation", BEFORE_ACTIVATION))]
        gr.api(api_function(pictured, [source.replace(name=pictures.parameter), *options],
                            [PICTURE] * len(self.picture_names), pictures.handler),
               api_name=pictures.name, **concurrency(SLOW))

    @property
    def picture_names(self) -> list[str]:
        """The pictures step's outputs, in the order ``gradio_client`` returns them."""
        return ["grad_cam", "saliency", "steps", *[f"maps.{n}" for n in self.clf.map_layer_names],
                *[f"linear.{n}" for n in self.clf.linear_names]]

    @staticmethod
    def answer_outputs(answer: Answer) -> tuple:
        """An ``Answer`` as the API returns it: the status, every probability as ``gr.Label``
        sends it, the network's input (a PNG) and the softmax written out."""
        return answer.status, label_value(answer.confidences), picture_file(answer.seen), answer.softmax

    def picture_outputs(self, shown: LayerPictures) -> tuple:
        """``LayerPictures`` as the API returns them: PNGs in ``picture_names``' order."""
        maps, linear = shown.maps or {}, shown.linear or {}
        pictures = {"grad_cam": shown.grad_cam, "saliency": shown.saliency, "steps": shown.steps,
                    **{f"maps.{n}": p for n, p in maps.items()},
                    **{f"linear.{n}": p for n, p in linear.items()}}
        return tuple(picture_file(pictures.get(name)) for name in self.picture_names)


def serve_prepared(name: str, handler: Callable[[str | None], str]) -> None:
    """``handler`` (an upload's path -> the network's input as JSON, as the page once received
    it) as an API-only endpoint taking an uploaded file; only a file Gradio received is read
    (``uploaded_file``). The page prepares its uploads itself; this is for API users."""
    def prepared(value):
        return handler(uploaded_file(value))

    path = inspect.Parameter("path", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=FileData | None)
    gr.api(api_function(prepared, [path], str, handler), api_name=name, **concurrency(QUICK))


PICTURE = FileData | None   # a picture output: a PNG's path in Gradio's cache


def picture_file(image: Image.Image | None) -> FileData | None:
    return None if image is None else FileData(path=cached_png(image))


def label_value(confidences: dict[str, float] | None) -> dict:
    """Every class's probability as ``gr.Label`` sends it: the top class and the classes,
    most likely first ({} for none)."""
    if not confidences:
        return {}
    ranked = sorted(confidences.items(), key=lambda item: item[1], reverse=True)
    return {"label": ranked[0][0],
            "confidences": [{"label": name, "confidence": p} for name, p in ranked]}


def api_function(fn: Callable, parameters: list[inspect.Parameter], returns: list | type,
                 described: Callable) -> Callable:
    """``fn`` under the signature ``gr.api`` reads an endpoint from: each parameter's name,
    type and default, one output per entry of ``returns`` (a list; a type alone: one output
    that is not a tuple), and ``described``'s docstring."""
    def endpoint(*args, **kwargs):
        return fn(*args, **kwargs)
    annotation = tuple[tuple(returns)] if isinstance(returns, list) else returns
    endpoint.__signature__ = inspect.Signature(parameters, return_annotation=annotation)
    endpoint.__annotations__ = {p.name: p.annotation for p in parameters}
    endpoint.__name__, endpoint.__doc__ = described.__name__.lstrip("_"), described.__doc__
    return endpoint


def concurrency(lane: dict) -> dict:
    """A queue lane's settings that ``gr.api`` takes."""
    return {key: lane[key] for key in ("concurrency_id", "concurrency_limit")}


def refusing(handler: Callable) -> Callable:
    """For an API step with no status line: input it cannot use raises ``gr.Error`` with the
    one line (``gradio_client`` raises it for the caller), a bug is logged and answered with
    ``SOMETHING_WRONG``; neither prints a traceback to the caller."""
    @functools.wraps(handler)
    def run(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except InputError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception:
            log.exception("handler %s failed", handler.__name__)
            raise gr.Error(SOMETHING_WRONG, print_exception=False) from None
    return run


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
