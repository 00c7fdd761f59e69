"""Look closer: trace one value back to the weights that made it. Shared by the draw and photo
tabs: click a tile of any feature map (or of a fully connected layer's strip) to open that
channel large, then click any pixel of it; the panel shows the receptive field on the input,
the input patch, kernel and products, and the sum that gives the value.
"""
from __future__ import annotations

import gradio as gr
import numpy as np

from lenet.inference import Classifier, Prediction
from lenet.trace import TraceError, describe, trace, traceable_layers
from lenet.trace_view import big_factor, channel_picture, receptive_field_picture, trace_picture
from lenet.visualize import grid_cell_at

from .common import AFTER_ACTIVATION, SLOW, Analyst, guarded, picture

HINT = ("Click any tile of a feature map above, or of F6 / the output, to open that channel "
        "here; then click any pixel of the large map to see how that number was computed.")


class Closer:
    """The panel's handlers for one model; ``build`` lays it out and wires the clicks."""

    def __init__(self, analyst: Analyst):
        self.analyst, self.clf = analyst, analyst.clf
        self.layers = traceable_layers(self.clf)
        self.nothing = (gr.skip(), gr.skip(), None, None, HINT, None)
        self.open = guarded(self.nothing, warn=False)(self._open)
        self.click_map = guarded(self.nothing, warn=False)(self._click_map)

    # ------------------------------------------------------------------ handlers
    def _open(self, shown, layer: str, channel, view: str | None, y=None, x=None):
        """(layer, channel, large map, receptive field, words, patch picture) for one value;
        without a position, the channel's strongest one."""
        result = self._result(shown)
        if result is None or layer not in self.layers:
            return self.nothing
        values = self._map(result, layer, view)
        channel = int(np.clip(int(channel or 0), 0, len(values) - 1))
        plane = values[channel]
        if y is None or x is None:
            y, x = np.unravel_index(int(np.argmax(plane)), plane.shape)
        try:
            t = trace(self.clf, result.tensor, layer, channel, int(y), int(x))
        except TraceError as exc:
            return (layer, channel, None, None, f"⚠️ {exc}", None)
        words = (f"**{layer} #{channel}** at row {t.y}, column {t.x} = **{t.value:.4f}**. "
                 f"It depends on input rows {t.receptive_field[0]}–{t.receptive_field[2]}, "
                 f"columns {t.receptive_field[1]}–{t.receptive_field[3]} (outlined).\n\n"
                 f"```\n{describe(t, terms=8)}\n```")
        if result.mirror_logits is not None and layer == self.clf.hidden_names[-1]:
            words += (f"\n\nThis is the photo's own logit. The answer uses its mean with the "
                      f"mirror image's, ({t.value:+.4f} {result.mirror_logits[channel]:+.4f}) / 2 "
                      f"= {result.logits[channel]:+.4f}: see the softmax above.")
        return (layer, channel, channel_picture(plane, (t.y, t.x)),
                receptive_field_picture(result.input_image, t.receptive_field), words,
                trace_picture(t))

    def _click_map(self, shown, layer: str, channel, view: str | None, evt: gr.SelectData):
        """A click on the large map: trace the value under it."""
        result = self._result(shown)
        if result is None or layer not in self.layers:
            return self.nothing
        plane = self._map(result, layer, view)[int(channel or 0)]
        k = big_factor(plane.shape)
        x, y = evt.index[0] // k, evt.index[1] // k
        if not (0 <= y < plane.shape[0] and 0 <= x < plane.shape[1]):
            return self.nothing   # the colour bar under the map
        return self._open(shown, layer, channel, view, y, x)

    def grid_click(self, layer: str):
        """A click on ``layer``'s grid of channels (or strip of units) opens what is under it."""
        def handler(shown, view: str | None, evt: gr.SelectData):
            result = self._result(shown)
            if result is None:
                return self.nothing
            values = self._map(result, layer, view)
            shape = values.shape if values.ndim == 3 else (len(values), 1, 1)
            hit = grid_cell_at(shape, layer, *evt.index)
            if hit is None:
                return self.nothing
            channel, y, x = hit
            return self._open(shown, layer, channel, view, y, x)
        handler.__name__ = f"open_{layer}"
        return guarded(self.nothing, warn=False)(handler)

    def _result(self, shown) -> Prediction | None:
        if shown is None:
            return None
        result = self.analyst.predict(shown)
        return None if result.empty else result

    def _map(self, result: Prediction, layer: str, view: str | None) -> np.ndarray:
        name = self.clf.activation_of(layer) if view == AFTER_ACTIVATION else layer
        values = result.layers[name]
        return values if values.ndim == 3 else values[:, None, None]

    # ------------------------------------------------------------------ layout
    def build(self, shown: gr.State, view: gr.Radio, grids: dict[str, gr.Image]) -> None:
        """The panel, and clicks on ``grids`` (layer name -> its picture) opening channels."""
        clf: Classifier = self.clf
        with gr.Accordion("Look closer: trace one value back to the weights", open=True):
            with gr.Row():
                layer = gr.Dropdown(self.layers, value=self.layers[0], label="Layer", scale=2)
                channel = gr.Number(0, precision=0, minimum=0, label="Channel (or unit)",
                                    scale=1)
            with gr.Row(equal_height=True):
                big = picture("The channel, large: click a pixel", height=380,
                              elem_classes=["crisp", "big"], elem_id=f"{clf.name}-big")
                field = picture("Its receptive field on the input", height=380,
                                elem_classes=["crisp", "field"])
            hint = gr.Markdown(HINT, elem_id=f"{clf.name}-trace-words")
            patch = picture("Input patch, kernel and their products (each column on one "
                            "colour scale)", elem_classes=["patch"])
        outputs = [layer, channel, big, field, hint, patch]
        for name, grid in grids.items():
            grid.select(self.grid_click(name), [shown, view], outputs, api_name=False, **SLOW)
        for control in (layer.input, channel.input):
            control(self.open, [shown, layer, channel, view], outputs, api_name=False, **SLOW)
        big.select(self.click_map, [shown, layer, channel, view], outputs, api_name=False,
                   **SLOW)
