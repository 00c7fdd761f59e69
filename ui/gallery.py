"""The "Test-set gallery" tab: test images titled with their true label, the prediction and
its confidence, wrong ones in red, as the course's workshops showed them; only the mistakes;
filters by true or predicted class. Clicking an image sends it to the draw or photo tab,
which analyses it. Read from the small gallery files beside the checkpoints, so a Space
needs no dataset.

The tab lives in the page (``web/gallery_tab.js``): it reads the gallery files itself and
draws every sheet without the server. ``GalleryTab.show`` is the same choice in Python, the
reference the page is held equal to (tests/test_gallery_page.py) and a handler for scripts.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import gradio as gr
import numpy as np

from lenet.inside.gallery import Gallery
from lenet.inside.prng import Draws

from .events import Result, guarded
from .view import page_tab

RANDOM, MISTAKES = "random", "mistakes only"
ANY = "any"
SHOWN = 9             # images per grid: three rows of three fill a phone's screen
SEED_MAX = 2**32 - 1  # the project's Draws take 32-bit seeds; JSON carries these exactly


@dataclass
class Sheet(Result):
    """The grid: its tiles (what each says), what it shows in words (Markdown), and the
    gallery positions of its tiles, in order."""
    tiles: list = field(default_factory=list)
    words: str = ""
    positions: list = field(default_factory=list)

    @classmethod
    def failed(cls, message: str | None):
        return cls(words="⚠️ could not draw the gallery")


class GalleryTab:
    """``galleries``: model name -> (title, its Gallery, the tab id that analyses it)."""

    def __init__(self, galleries: dict[str, tuple[str, Gallery, str]]):
        self.galleries = galleries
        self.show = guarded(Sheet.failed, warn=False)(self._show)

    def _show(self, model: str, which: str, true: str, predicted: str, seed) -> Sheet:
        """The sheet for these controls: up to ``SHOWN`` of the matching images, chosen by
        ``Draws(seed)`` (web/prng.js draws the same), in gallery order."""
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
        chosen = np.sort(pool[Draws(seed_of(seed)).shuffled(len(pool))[:SHOWN]])
        tiles = [{"position": int(i), "index": int(gallery.indices[i]),
                  "truth": gallery.classes[gallery.labels[i]],
                  "guess": gallery.classes[gallery.predictions[i]],
                  "confidence": f"{100 * gallery.confidences[i]:.0f}\u00a0%",
                  "caption": gallery.caption(i), "wrong": bool(gallery.is_mistake[i])}
                 for i in chosen]
        mistakes = int(gallery.is_mistake[chosen].sum())
        words = (f"{len(chosen)} of {len(pool)} {kind} of **{title}**, {mistakes} wrong (red). "
                 f"The % is the softmax probability of the prediction. Click one to analyse it.")
        return Sheet(tiles, words, [int(i) for i in chosen])

def build(start: dict) -> gr.HTML:
    """The tab in the page; ``start``: its galleries (``lenet.page.tab_starts``). It sends
    nothing to the server: a click hands the image over in the page (web/shared.js), and the
    page reads the gallery files itself, so the app loads none of them."""
    return page_tab("gallery", start)


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
