"""The "Test-set gallery" tab: test images titled with their true label, the prediction and
its confidence, wrong ones in red, as the course's workshops showed them; only the mistakes;
filters by true or predicted class. Clicking an image sends it to the draw or photo tab,
which analyses it. Read from the small gallery files beside the checkpoints, so a Space
needs no dataset.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr
import numpy as np

from lenet.inputs.images import InputError, png_bytes
from lenet.inside.gallery import Gallery
from lenet.net.checkpoint import atomic_write_bytes

from .events import INSTANT, Result, Shows, guarded, lane
from .view import ASSETS, image_value, png_data_url

TITLE = "Test-set gallery"
RANDOM, MISTAKES = "random", "mistakes only"
ANY = "any"
SHOWN = 9             # images per grid: three rows of three fill a phone's screen
PICKED = Path(tempfile.gettempdir()) / "how-a-cnn-sees" / "gallery"
LANE = lane("gallery")
SEED_MAX = 2**32 - 1  # numpy's seeds are any whole number; JSON carries these exactly
NOT_A_TILE = "⚠️ that click named no picture of the grid: click one of the pictures"


@dataclass
class Sheet(Result):
    """The grid: its tiles (the page's template draws them), what it shows in words, and the
    gallery positions of its tiles, in order."""
    tiles: list = field(default_factory=list)
    words: str = ""
    positions: list = field(default_factory=list)

    @classmethod
    def failed(cls, message: str | None):
        return cls(words="⚠️ could not draw the gallery")


@dataclass
class Picked(Result):
    """A click on a tile: the tab to switch to, the draw or photo view's new input (and its
    upload box, emptied), the photo tab's picture on the server, and words; what does not
    change is ``gr.skip()``."""
    tabs: object = field(default_factory=gr.skip)
    draw_view: object = field(default_factory=gr.skip)
    draw_upload: object = field(default_factory=gr.skip)
    photo_view: object = field(default_factory=gr.skip)
    photo_upload: object = field(default_factory=gr.skip)
    photo_shown: object = field(default_factory=gr.skip)
    words: object = field(default_factory=gr.skip)

    @classmethod
    def failed(cls, message: str | None):
        return cls(words="⚠️ could not open that image")


class GalleryTab:
    """``galleries``: model name -> (title, its Gallery, the tab id that analyses it)."""

    def __init__(self, galleries: dict[str, tuple[str, Gallery, str]]):
        self.galleries = galleries
        self.show = guarded(Sheet.failed, warn=False)(self._show)
        self.pick = guarded(Picked.failed, warn=False)(self._pick)
        self.next_seed = guarded(lambda _: gr.skip(), warn=True)(self._next_seed)

    def _show(self, model: str, which: str, true: str, predicted: str, seed) -> Sheet:
        if model not in self.galleries:
            return Sheet(words=f"⚠️ choose a model: {', '.join(self.galleries)}")
        title, gallery, _ = self.galleries[model]
        if which not in (RANDOM, MISTAKES, None):
            return Sheet(words=f"⚠️ show {RANDOM!r} or {MISTAKES!r}")
        if seed_of(seed) is None:
            return Sheet(words=f"⚠️ the seed must be a whole number from 0 to {SEED_MAX}")
        pool = gallery.mistake_positions() if which == MISTAKES else gallery.sample_positions()
        for name, values in ((true, gallery.labels), (predicted, gallery.predictions)):
            if name not in (ANY, None, *gallery.classes):
                return Sheet(words=f"⚠️ filter by {ANY!r} or a class of {title}")
            if name not in (ANY, None):
                pool = pool[values[pool] == gallery.classes.index(name)]
        kind = "mistakes" if which == MISTAKES else "random test images"
        if len(pool) == 0:
            return Sheet(words=f"None of the {kind} of {title} match these filters.")
        rng = np.random.default_rng(seed_of(seed))
        chosen = np.sort(rng.choice(pool, min(SHOWN, len(pool)), replace=False))
        tiles = [{"k": k, "index": int(gallery.indices[i]), "src": png_data_url(gallery.picture(i)),
                  "truth": gallery.classes[gallery.labels[i]],
                  "guess": gallery.classes[gallery.predictions[i]],
                  "confidence": f"{100 * gallery.confidences[i]:.0f}\u00a0%",
                  "wrong": bool(gallery.is_mistake[i])} for k, i in enumerate(chosen)]
        mistakes = int(gallery.is_mistake[chosen].sum())
        words = (f"{len(chosen)} of {len(pool)} {kind} of **{title}**, {mistakes} wrong (red). "
                 f"The % is the softmax probability of the prediction. Click one to analyse it.")
        return Sheet(tiles, words, [int(i) for i in chosen])

    def _pick(self, model: str, positions: list[int], evt: gr.EventData) -> Picked:
        """A click on a tile. Test images go to the views as they are (already the network's
        size); nothing that names a server file goes to the page."""
        data = getattr(evt, "_data", None)
        k = data.get("k") if isinstance(data, dict) else None
        if model not in self.galleries or not isinstance(positions, list) or not (
                isinstance(k, int) and 0 <= k < len(positions)):
            return Picked(words=NOT_A_TILE)
        title, gallery, tab = self.galleries[model]
        i = positions[k]
        index = int(gallery.indices[i])
        words = f"Sent test image #{index} ({gallery.caption(i)}) to the {tab} tab."
        value = image_value("gallery", gallery.images[i], f"test image #{index} ({gallery.caption(i)})")
        # The tab's upload box empties: what it held is no longer what the tab shows.
        if tab == "draw":
            return Picked(gr.Tabs(selected=tab), draw_view=value, draw_upload=None, words=words)
        # The photo tab also keeps the picture, on the server, for the other tabs.
        return Picked(gr.Tabs(selected=tab), photo_view=value, photo_upload=None,
                      photo_shown=self.file_for(f"{model}:{index}"), words=words)

    @staticmethod
    def _next_seed(seed) -> int:
        """The shuffle button: the seed after ``seed`` (after the last, 0 again)."""
        if seed_of(seed) is None:
            raise InputError(f"the seed must be a whole number from 0 to {SEED_MAX}")
        return (seed_of(seed) + 1) % (SEED_MAX + 1)

    def file_for(self, reference: str) -> str:
        """"model:test index" of a gallery image -> the path of its picture, written here once
        per image; anything else is refused with one line (``InputError``)."""
        model, _, number = str(reference or "").partition(":")
        if model not in self.galleries or not number.isdigit():
            raise InputError("that is not a test-set gallery image")
        gallery = self.galleries[model][1]
        found = np.flatnonzero(gallery.indices == int(number))
        if len(found) == 0:
            raise InputError("that is not a test-set gallery image")
        path = PICKED / f"{model}-{int(number)}.png"
        if not path.exists():
            atomic_write_bytes(path, png_bytes(gallery.picture(int(found[0]))))
        return str(path)

    def build(self, tabs: gr.Tabs, draw_view: gr.HTML, photo_view: gr.HTML,
              photo_shown: gr.State, draw_upload: gr.Image, photo_upload: gr.Image) -> None:
        """``draw_view`` / ``photo_view``: the tabs' live views, which take a test image as
        their value; ``photo_shown``: the photo tab's picture kept for the other tabs;
        ``draw_upload`` / ``photo_upload``: the tabs' upload boxes, emptied by a hand-over."""
        first = next(iter(self.galleries))
        # Compact, so that a phone shows the controls and the grid on about one screen.
        with gr.Row(equal_height=True):
            model = gr.Dropdown([(t, name) for name, (t, _, _) in self.galleries.items()],
                                value=first, label="Model", show_label=False, scale=1,
                                min_width=200)
            with gr.Row(equal_height=True, scale=1):
                which = gr.Radio([RANDOM, MISTAKES], value=RANDOM, label="Show",
                                 show_label=False, min_width=200, scale=2,
                                 elem_classes="tight-radio")
                shuffle = gr.Button("Shuffle", min_width=80, scale=0, size="sm")
        classes = [ANY, *self.galleries[first][1].classes]
        with gr.Accordion("Filter by true or predicted class", open=False):
            with gr.Row():
                true = gr.Dropdown(classes, value=ANY, label="True class")
                predicted = gr.Dropdown(classes, value=ANY, label="Predicted class")
                seed = gr.Number(0, precision=0, label="Shuffle (seed)", minimum=0)
        # The first sheet is the same for every visitor (the first model, random, seed 0), so
        # it is made here, once: opening the page then starts no event in the queue.
        opening = self.show(first, RANDOM, ANY, ANY, 0)
        words = gr.Markdown(opening.words, elem_id="gallery-words")
        sheet = gr.HTML(opening.tiles, html_template=(ASSETS / "gallery.html").read_text(),
                        css_template=(ASSETS / "gallery.css").read_text(),
                        js_on_load=(ASSETS / "gallery.onload.js").read_text(),
                        elem_id="gallery-sheet", label="Test images")
        positions = gr.State(opening.positions)
        inputs = [model, which, true, predicted, seed]
        shown = Shows(tiles=sheet, words=words, positions=positions)
        show = shown.updates_of(self.show)
        model.change(self.classes_of, model, [true, predicted], api_name=False, **INSTANT)
        for control in (model, which, true, predicted, seed):
            control.change(show, inputs, shown.components, api_name=False, **LANE)
        shuffle.click(self.next_seed, seed, seed, api_name=False, **INSTANT)
        picked = Shows(tabs=tabs, draw_view=draw_view, draw_upload=draw_upload,
                       photo_view=photo_view, photo_upload=photo_upload,
                       photo_shown=photo_shown, words=words)
        sheet.pick(picked.updates_of(self.pick), [model, positions], picked.components,
                   api_name=False, **LANE)

    def classes_of(self, model: str):
        choices = [ANY, *self.galleries[model][1].classes]
        return gr.Dropdown(choices=choices, value=ANY), gr.Dropdown(choices=choices, value=ANY)


def seed_of(value) -> int | None:
    """A shuffle seed as a whole number from 0 to ``SEED_MAX`` (None or empty: 0), or None
    when it is not one (NaN, 1e308, text)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not value.is_integer():   # NaN and infinity too
        return None
    return int(value) if 0 <= value <= SEED_MAX else None
