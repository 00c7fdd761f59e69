"""The "Invariance lab" tab: the visitor's drawing (LeNet-5) or photo (ConvNet) moved, turned,
scaled, thickened, made noisy or partly erased by sliders, the prediction following live;
curves of every class against rotation and horizontal shift, and an occlusion map.

Belongs here: the tab's layout, its handlers and the per-visitor state of the loaded input.
Not here: the transforms, curves, map and their pictures (``lenet/inside/invariance.py``).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import gradio as gr
import numpy as np
import torch

from lenet.inside.inference import Classifier, InputError
from lenet.inside.invariance import (
    ROTATION_LIMIT,
    SCALE_RANGE,
    SHIFT_LIMIT,
    STROKE_LIMIT,
    Curve,
    InvarianceError,
    Occlusion,
    input_pixels,
    occlusion_map,
    probabilities,
    transform,
)
from lenet.pictures.visualize import occlusion_picture, pixels_to_image

from .charts import line_chart
from .common import guarded, lane, picture, shown_input
from .words import define

TITLE = "Invariance lab"
DIGIT, PHOTO = "my drawing (LeNet-5)", "my photo (ConvNet)"
EMPTY = {DIGIT: "Draw a digit in the first tab first.",
         PHOTO: "Upload a photo in the photo tab first."}
NOT_LOADED = "Choose your drawing or your photo and press **Load / refresh**."
NOISE_LIMIT, ERASE_LIMIT = 0.5, 16   # std of the noise; widest erased square, in pixels
# Slider order of every handler's trailing arguments, and the values that change nothing
# (the erase position is the centre row / column of the square: any, with size 0).
SLIDERS = ("shift_x", "shift_y", "rotation", "scale", "stroke", "noise",
           "erase_size", "erase_y", "erase_x")
IDENTITY = (0, 0, 0, 1.0, 0, 0.0, 0, 14, 14)
SEEN_BOX, OCCLUSION_BOX = 180, 180        # pixels, title included: fixed so the page stays put
TOP = 3                                   # classes in the label; the curves show all of them
# The lab's own lanes: a slider step costs ~1 ms and must never wait behind the curves.
LIVE, CURVES = lane("lab"), lane("lab_curves")


@dataclass
class Loaded:
    """One visitor's input as the network takes it, kept in a gr.State so that the sliders
    never decode the picture again."""
    source: str             # DIGIT or PHOTO
    pixels: torch.Tensor    # (C, H, W) in [0, 1], before normalisation
    untouched: str          # "**7** with 99.9 %"


class InvarianceTab:
    """Handlers (callable directly, as the tests do) and the layout of the tab."""

    def __init__(self, digits: Classifier, photos: Classifier):
        self.models = {DIGIT: digits, PHOTO: photos}
        self.classes = max(len(digits.classes), len(photos.classes))
        no_view = (None, None, None)
        no_curves = (None, None, None, "")
        self.step = _named(guarded(no_view, warn=True)(self._step), "loaded")
        self.load = _named(guarded((*no_view, *no_curves, None, *(gr.skip(),) * 3),
                                   warn=True)(self._load), "source", "drawing", "photo")
        self.curves = _named(guarded((*no_view, *no_curves), warn=True)(self._curves), "loaded")
        self.reset = guarded((gr.skip(),) * len(SLIDERS), warn=False)(self._reset)

    # ------------------------------------------------------------------ handlers
    def _load(self, source: str, drawing, photo, *sliders):
        """Read the chosen input once, keep its pixels, show it through the sliders with its
        curves and map; also fit the stroke and erase sliders to that model.
        -> (status, seen, probabilities, rotation, shift, occlusion, caption, state,
        stroke slider, erase row slider, erase column slider)"""
        clf = self.models.get(source)
        if clf is None:
            raise InputError(f"choose {DIGIT!r} or {PHOTO!r}")
        if source == DIGIT:   # the draw tab's view: its input as the page showed it
            shown = shown_input(drawing)
            pixels = None if shown is None or shown.pixels is None else torch.from_numpy(shown.pixels[None])
        else:
            pixels = input_pixels(clf, photo) if photo is not None else None
        if pixels is None:
            return (EMPTY[source], None, None, None, None, None, "", None, *self._fit(clf, sliders))
        p = probabilities(clf, pixels)[0]
        loaded = Loaded(source, pixels, _words(clf, p))
        return (*self._curves(loaded, *sliders), loaded, *self._fit(clf, sliders))

    def _step(self, loaded: Loaded | None, *sliders):
        """The live path: (status, the input as the network sees it, every probability)."""
        if loaded is None:
            return NOT_LOADED, None, None
        clf = self.models[loaded.source]
        moved, note = self._moved(loaded, sliders)
        p = probabilities(clf, moved)[0]
        return (f"{_words(clf, p)} (was {loaded.untouched} untouched){note}",
                pixels_to_image(moved), dict(zip(clf.classes, map(float, p))))

    def _curves(self, loaded: Loaded | None, *sliders):
        """The live outputs plus (rotation curve, shift curve, occlusion map, its caption),
        all of the input as the sliders show it."""
        if loaded is None:
            return NOT_LOADED, None, None, None, None, None, ""
        turned, moved, hidden = self.measure(loaded, *sliders)
        clf = self.models[loaded.source]
        paper = "black (paper)" if clf.is_digit_model else "grey"
        caption = (f"**Occlusion** (Zeiler & Fergus): a {hidden.size}×{hidden.size} {paper} "
                   f"square slid in steps of {hidden.stride} px over the input as shown above; "
                   f"red where hiding it costs **{clf.classes[hidden.class_index]}** most of its "
                   f"{100 * hidden.probability:.1f} %.")
        view, _ = self._moved(loaded, sliders)
        settings = dict(zip(SLIDERS, sliders))
        return (*self._step(loaded, *sliders),
                curve_chart(turned, "rotation", settings["rotation"]),
                curve_chart(moved, "horizontal shift", settings["shift_x"]),
                occlusion_picture(view, hidden, size=8 * max(view.shape[1:])), caption)

    def measure(self, loaded: Loaded, *sliders) -> tuple[Curve, Curve, Occlusion]:
        """The numbers behind the curves and the map, each one batched forward pass. A curve
        sweeps its own slider with every other slider as set, so the live prediction is a
        point on it; the map is of the input as shown."""
        clf = self.models[loaded.source]
        settings, _ = self._settings(loaded, sliders)

        def sweep(name: str, values: np.ndarray, xlabel: str) -> Curve:
            batch = _transform(loaded.pixels, **{**settings, name: values})
            return Curve(values, probabilities(clf, batch), clf.classes, xlabel)

        return (sweep("rotation", np.arange(-ROTATION_LIMIT, ROTATION_LIMIT + 1, 5.0),
                      "rotation (degrees)"),
                sweep("shift_x", np.arange(-SHIFT_LIMIT, SHIFT_LIMIT + 1.0),
                      "horizontal shift (pixels)"),
                occlusion_map(clf, _transform(loaded.pixels, **settings)))

    def _reset(self, loaded: Loaded | None):
        """Every slider back to the value that changes nothing; the erase square centred."""
        h, w = loaded.pixels.shape[1:] if loaded is not None else (28, 28)
        return (*IDENTITY[:-2], h // 2, w // 2)

    # ------------------------------------------------------------------ helpers
    def _moved(self, loaded: Loaded, sliders) -> tuple[torch.Tensor, str]:
        """The loaded pixels through the sliders, and a note when a setting was ignored."""
        settings, note = self._settings(loaded, sliders)
        return _transform(loaded.pixels, **settings), note

    def _settings(self, loaded: Loaded, sliders) -> tuple[dict, str]:
        """Slider values -> ``transform``'s arguments, and a note when one was ignored."""
        s = dict(zip(SLIDERS, sliders))
        digit, note = loaded.source == DIGIT, ""
        stroke = int(round(s["stroke"] or 0))
        if stroke and not digit:  # a photo has no stroke to thicken; the slider is disabled
            stroke, note = 0, " · stroke thickness is for digits only: ignored"
        size = int(s["erase_size"] or 0)
        top, left = int(s["erase_y"]) - size // 2, int(s["erase_x"]) - size // 2  # from centre
        erase = (top, left, size) if size else None
        return dict(shift_x=s["shift_x"], shift_y=s["shift_y"], rotation=s["rotation"],
                    scale=s["scale"], stroke=stroke, noise=float(s["noise"] or 0), erase=erase,
                    digit=digit), note

    def _fit(self, clf: Classifier, sliders) -> tuple:
        """Stroke only for digits; the erase square's centre anywhere on this model's input."""
        s = dict(zip(SLIDERS, sliders))
        return (gr.Slider(value=s["stroke"] if clf.is_digit_model else 0,
                          interactive=clf.is_digit_model),
                gr.Slider(maximum=clf.height - 1, value=min(int(s["erase_y"]), clf.height - 1)),
                gr.Slider(maximum=clf.width - 1, value=min(int(s["erase_x"]), clf.width - 1)))

    # ------------------------------------------------------------------ layout
    def build(self, drawing: gr.State, photo: gr.State) -> None:
        """The tab's page; ``drawing`` and ``photo`` are the other tabs' per-visitor inputs."""
        gr.Markdown("Move, turn, scale, thicken, blur with noise or erase your input and watch "
                    "the prediction follow. Pooling forgives a pixel or two; training data "
                    "teaches the rest, or does not.")
        with gr.Accordion("What the words mean", open=False):
            gr.Markdown(define("logits", "softmax", "occlusion", "pooling"))
        loaded = gr.State(None)
        side = self.models[DIGIT].height   # the first source shown; loading refits the sliders
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                source = gr.Radio([DIGIT, PHOTO], value=DIGIT, label="Input")
                with gr.Row():
                    load = gr.Button("Load / refresh", variant="primary", min_width=120)
                    reset = gr.Button("Reset sliders", min_width=120)
                sliders = [
                    gr.Slider(-SHIFT_LIMIT, SHIFT_LIMIT, 0, step=1, label="Shift right (px)"),
                    gr.Slider(-SHIFT_LIMIT, SHIFT_LIMIT, 0, step=1, label="Shift down (px)"),
                    gr.Slider(-ROTATION_LIMIT, ROTATION_LIMIT, 0, step=1,
                              label="Rotate (degrees, counter-clockwise)"),
                    gr.Slider(*SCALE_RANGE, 1.0, step=0.05, label="Scale")]
                with gr.Accordion("Stroke, noise and erasing", open=False):
                    sliders += [
                        gr.Slider(-STROKE_LIMIT, STROKE_LIMIT, 0, step=1,
                                  label="Stroke thinner / thicker (px, digits only)"),
                        gr.Slider(0, NOISE_LIMIT, 0, step=0.01, label="Noise (std)"),
                        gr.Slider(0, ERASE_LIMIT, 0, step=1,
                                  label="Erase a square: size (0 = none)"),
                        gr.Slider(0, side - 1, IDENTITY[-2], step=1, label="…its centre row"),
                        gr.Slider(0, side - 1, IDENTITY[-1], step=1,
                                  label="…its centre column")]
            with gr.Column(scale=2):
                status = gr.Markdown(NOT_LOADED, elem_classes="status", elem_id="lab-status")
                with gr.Row(equal_height=True):
                    label = gr.Label(num_top_classes=TOP, label="The most likely classes",
                                     elem_id="lab-label", min_width=180)
                    seen = picture("What the network sees", height=SEEN_BOX, min_width=150,
                                   elem_classes=["crisp", "seen"], elem_id="lab-seen")
                    occlusion = picture("Occlusion map", height=OCCLUSION_BOX, min_width=150,
                                        elem_classes=["crisp", "heat"], elem_id="lab-occlusion")
                caption = gr.Markdown("")
                with gr.Row(equal_height=True, elem_classes="chart-row"):
                    rotation = gr.HTML(elem_id="lab-rotation")
                    shift = gr.HTML(elem_id="lab-shift")
        view, curves = [status, seen, label], [rotation, shift, occlusion, caption]
        fitted = [sliders[4], sliders[7], sliders[8]]
        # Loading also fits the sliders to the model; a slider whose value changes that way
        # fires the live step again, which then finds the new state.
        gr.on([load.click, source.change], self.load, [source, drawing, photo, *sliders],
              [*view, *curves, loaded, *fitted], api_name="invariance_curves", **CURVES)
        # app.py runs this when the visitor opens the tab, so it shows what they drew last.
        self.opened = (self.load, [source, drawing, photo, *sliders],
                       [*view, *curves, loaded, *fitted])
        # .change covers dragging, the keyboard, each slider's own ↺ and Reset's new values.
        gr.on([s.change for s in sliders], self.step, [loaded, *sliders], view,
              api_name="invariance", **LIVE)
        # The curves and map follow at the end of a drag (~10-60 ms), not at every move.
        gr.on([s.release for s in sliders], self.curves, [loaded, *sliders], [*view, *curves],
              api_name=False, **CURVES)
        reset.click(self.reset, loaded, sliders, api_name=False, queue=False).then(
            self.curves, [loaded, *sliders], [*view, *curves], api_name=False, **CURVES)


def _named(handler, *first: str):
    """Give ``handler(*first, *sliders)`` one named parameter per slider, so that the API
    page and gradio_client call them shift_x, rotation, ... instead of param_3, param_4."""
    handler.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in (*first, *SLIDERS)])
    return handler


def curve_chart(curve: Curve, what: str, marker: float) -> str:
    """Every class's probability against one transform (the other sliders as set), the
    slider's value marked."""
    series = {name: (list(curve.values), list(100 * curve.probabilities[:, k]))
              for k, name in enumerate(curve.classes)}
    return line_chart(series, f"Every class vs {what}", curve.xlabel, "probability (%)",
                      marker=float(marker or 0))


def _transform(pixels: torch.Tensor, **settings) -> torch.Tensor:
    try:
        return transform(pixels, **settings)
    except InvarianceError as exc:  # settings a caller of the API can send
        raise InputError(str(exc)) from None


def _words(clf: Classifier, p: np.ndarray) -> str:
    top = int(p.argmax())
    return f"**{clf.classes[top]}** with {100 * p[top]:.1f} %"
