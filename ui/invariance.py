"""The "Invariance lab" tab: the visitor's drawing (LeNet-5) or photo (ConvNet) moved, turned,
scaled, thickened, made noisy or partly erased by sliders, the prediction following live;
curves of every class against rotation and horizontal shift, and an occlusion map.

The page computes all of it itself (web/invariance_tab.js, held equal to this module by
tests/test_lab_page.py). What is here: the tab's place in the Gradio app and the same lab as
Python handlers, called directly (the tests, the Python API), which the page's numbers follow.
Not here: the transforms, curves, map and their pictures (``lenet/inside/invariance.py``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import gradio as gr
import numpy as np
import torch
from PIL import Image

from lenet.inside.inference import Classifier, InputError
from lenet.inside.invariance import (
    ERASE_LIMIT,
    NOISE_LIMIT,
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
    rotation_curve,
    shift_curve,
    transform,
)
from lenet.pictures.visualize import occlusion_picture, pixels_to_image

from .charts import line_chart
from .events import Result, guarded
from .view import page_tab, shown_input

DIGIT, PHOTO = "my drawing (LeNet-5)", "my photo (ConvNet)"
EMPTY = {DIGIT: "Draw a digit in the first tab first.",
         PHOTO: "Upload a photo in the photo tab first."}
NOT_LOADED = "Choose your drawing or your photo and press **Load / refresh**."
# Each slider by name: its words and range (the erase centre's top: the input's last row).
SLIDERS = {"shift_x": ("shift right", -SHIFT_LIMIT, SHIFT_LIMIT),
           "shift_y": ("shift down", -SHIFT_LIMIT, SHIFT_LIMIT),
           "rotation": ("rotation", -ROTATION_LIMIT, ROTATION_LIMIT),
           "scale": ("scale", *SCALE_RANGE),
           "stroke": ("stroke thickness", -STROKE_LIMIT, STROKE_LIMIT),
           "noise": ("noise", 0, NOISE_LIMIT), "erase_size": ("erased square's size", 0, ERASE_LIMIT),
           "erase_y": ("erased square's centre row", 0, None),
           "erase_x": ("erased square's centre column", 0, None)}


@dataclass
class Sliders(Result):
    """Every slider by name (the handlers' and the API's keyword arguments), defaulting to
    the values that change nothing; the erase position is the square's centre (any, with
    size 0)."""
    shift_x: float = 0
    shift_y: float = 0
    rotation: float = 0
    scale: float = 1.0
    stroke: float = 0
    noise: float = 0.0
    erase_size: float = 0
    erase_y: float = 14
    erase_x: float = 14

    @classmethod
    def failed(cls, message: str | None):
        return cls(**{f.name: gr.skip() for f in fields(cls)})


@dataclass
class Loaded:
    """One input as the network takes it, kept by the caller between slider steps so that
    they never decode the picture again."""
    source: str             # DIGIT or PHOTO
    pixels: torch.Tensor    # (C, H, W) in [0, 1], before normalisation
    untouched: str          # "**7** with 99.9 %"


@dataclass
class LiveView(Result):
    """The live path: a status line, the input as the network sees it, every probability."""
    status: str | None = None
    seen: Image.Image | None = None
    confidences: dict | None = None


@dataclass
class LabView(LiveView):
    """The live view and the curves against rotation and shift (SVG)
    and the occlusion map with its caption, all of the input as the sliders show it."""
    rotation: str | None = None
    shift: str | None = None
    occlusion: Image.Image | None = None
    caption: str = ""


@dataclass
class LoadedView(LabView):
    """A newly loaded input: the lab's view, the per-visitor state, and the sliders that
    depend on the model refitted (stroke for digits only; the erase centre on its input)."""
    loaded: Loaded | None = None
    stroke: object = field(default_factory=gr.skip)
    erase_y: object = field(default_factory=gr.skip)
    erase_x: object = field(default_factory=gr.skip)


class InvarianceTab:
    """The lab as Python handlers (called directly: the tests, the Python API), and the tab's
    place in the app."""

    def __init__(self, digits: Classifier, photos: Classifier):
        self.models = {DIGIT: digits, PHOTO: photos}
        self.classes = max(len(digits.classes), len(photos.classes))
        self.step = guarded(LiveView.failed, warn=True)(self._step)
        self.load = guarded(LoadedView.failed, warn=True)(self._load)
        self.curves = guarded(LabView.failed, warn=True)(self._curves)
        self.reset = guarded(Sliders.failed, warn=False)(self._reset)

    # ------------------------------------------------------------------ handlers
    def _load(self, source: str, drawing, photo, **sliders) -> LoadedView:
        """Read the chosen input once, keep its pixels, show it through the sliders with its
        curves and map; also fit the stroke and erase sliders to that model."""
        clf = self.models.get(source)
        if clf is None:
            raise InputError(f"choose {DIGIT!r} or {PHOTO!r}")
        s = self._sliders(sliders)
        fitted = self._fit(clf, s)
        if source == DIGIT:   # the draw tab's view: its input as the page showed it
            shown = shown_input(drawing)
            pixels = None if shown is None or shown.pixels is None else torch.from_numpy(shown.pixels[None])
        else:
            pixels = input_pixels(clf, photo) if photo is not None else None
        if pixels is None:
            return LoadedView(EMPTY[source], **fitted)
        loaded = Loaded(source, pixels, _words(clf, probabilities(clf, pixels)[0]))
        view = self._curves(loaded, **sliders)
        return LoadedView(**{f.name: getattr(view, f.name) for f in fields(view)},
                          loaded=loaded, **fitted)

    def _step(self, loaded: Loaded | None, **sliders) -> LiveView:
        """The live path: the input through the sliders and every probability."""
        if loaded is None:
            return LiveView(NOT_LOADED)
        return self._live(loaded, *self._moved(loaded, self._sliders(sliders)))

    def _live(self, loaded: Loaded, moved: torch.Tensor, note: str) -> LiveView:
        """The live view of ``moved``, the loaded input as the sliders show it."""
        clf = self.models[loaded.source]
        p = probabilities(clf, moved)[0]
        return LiveView(f"{_words(clf, p)} (was {loaded.untouched} untouched){note}",
                        pixels_to_image(moved), dict(zip(clf.classes, map(float, p))))

    def _curves(self, loaded: Loaded | None, **sliders) -> LabView:
        """The live view plus the curves and the occlusion map."""
        if loaded is None:
            return LabView(NOT_LOADED)
        s = self._sliders(sliders)
        view, note = self._moved(loaded, s)   # once, for the live view and the map
        turned, moved, hidden = self.measure(loaded, s, view)
        clf = self.models[loaded.source]
        paper = "black (paper)" if clf.is_digit_model else "grey"
        caption = (f"**Occlusion** (Zeiler & Fergus): a {hidden.size}×{hidden.size} {paper} "
                   f"square slid in steps of {hidden.stride} px over the input as shown above; "
                   f"red where hiding it costs **{clf.classes[hidden.class_index]}** most of its "
                   f"{100 * hidden.probability:.1f} %.")
        live = self._live(loaded, view, note)
        return LabView(live.status, live.seen, live.confidences,
                       curve_chart(turned, "rotation", s.rotation),
                       curve_chart(moved, "horizontal shift", s.shift_x),
                       occlusion_picture(view, hidden, size=8 * max(view.shape[1:])), caption)

    def measure(self, loaded: Loaded, sliders: Sliders,
                shown: torch.Tensor | None = None) -> tuple[Curve, Curve, Occlusion]:
        """The numbers behind the curves and the map, each one batched forward pass. A curve
        sweeps its own slider with every other slider as set, so the live prediction is a
        point on it; the map is of the input as shown (``shown``, when the caller has it)."""
        clf = self.models[loaded.source]
        settings, _ = self._settings(loaded, sliders)
        try:
            shown = transform(loaded.pixels, **settings) if shown is None else shown
            return (rotation_curve(clf, loaded.pixels, **settings),
                    shift_curve(clf, loaded.pixels, **settings), occlusion_map(clf, shown))
        except InvarianceError as exc:  # settings a caller of the API can send
            raise InputError(str(exc)) from None

    def _reset(self, loaded: Loaded | None) -> Sliders:
        """Every slider back to the value that changes nothing; the erase square centred."""
        h, w = loaded.pixels.shape[1:] if loaded is not None else (28, 28)
        return Sliders(erase_y=h // 2, erase_x=w // 2)

    # ------------------------------------------------------------------ helpers
    def _sliders(self, values: dict) -> Sliders:
        """Slider values by name -> ``Sliders``: each a finite number in its slider's range
        (``SLIDERS``; the erase centre anywhere on the larger input), None its default; else
        one line naming the slider (``InputError``)."""
        side = max(clf.height for clf in self.models.values())
        checked = {}
        for name, value in values.items():
            words, low, high = SLIDERS[name]
            high = side - 1 if high is None else high
            value = getattr(Sliders, name) if value is None else value
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not low <= value <= high):   # NaN fails the comparison
                raise InputError(f"the {words} must be a number from {low:g} to {high:g}")
            checked[name] = value
        return Sliders(**checked)

    def _moved(self, loaded: Loaded, sliders: Sliders) -> tuple[torch.Tensor, str]:
        """The loaded pixels through the sliders, and a note when a setting was ignored."""
        settings, note = self._settings(loaded, sliders)
        return _transform(loaded.pixels, **settings), note

    def _settings(self, loaded: Loaded, s: Sliders) -> tuple[dict, str]:
        """Slider values -> ``transform``'s arguments, and a note when one was ignored."""
        digit, note = loaded.source == DIGIT, ""
        stroke = int(round(s.stroke or 0))
        if stroke and not digit:  # a photo has no stroke to thicken; the slider is disabled
            stroke, note = 0, " · stroke thickness is for digits only: ignored"
        size = int(s.erase_size or 0)
        top, left = int(s.erase_y) - size // 2, int(s.erase_x) - size // 2  # from its centre
        erase = (top, left, size) if size else None
        return dict(shift_x=s.shift_x, shift_y=s.shift_y, rotation=s.rotation, scale=s.scale,
                    stroke=stroke, noise=float(s.noise or 0), erase=erase, digit=digit), note

    def _fit(self, clf: Classifier, s: Sliders) -> dict:
        """Stroke only for digits; the erase square's centre anywhere on this model's input."""
        return dict(stroke=gr.Slider(value=s.stroke if clf.is_digit_model else 0,
                                     interactive=clf.is_digit_model),
                    erase_y=gr.Slider(maximum=clf.height - 1, value=min(int(s.erase_y), clf.height - 1)),
                    erase_x=gr.Slider(maximum=clf.width - 1, value=min(int(s.erase_x), clf.width - 1)))

    # ------------------------------------------------------------------ layout
    def build(self, start: dict) -> None:
        """The tab in the page (web/invariance_tab.js): it takes the draw and photo tabs'
        inputs in the page and computes everything there, as the handlers above do here;
        ``start`` names the checkpoints it loads (lenet.page.tab_starts). No events: after
        the page has loaded, nothing the visitor does on this tab reaches the server."""
        page_tab("invariance", start)


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
