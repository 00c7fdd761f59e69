"""Pictures of one prediction: every layer's maps as captioned grids and Grad-CAM and saliency
over the input, each with a bar of its real range. They take a ``Prediction`` and its
``Heatmaps`` (``Classifier.heatmaps``), both computed by the engine: nothing here runs a model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from lenet.inside.inference import Classifier, Heatmaps, Prediction
from lenet.pictures.scales import with_colour_bar
from lenet.pictures.visualize import feature_map_grid, heat_overlay


@dataclass
class Pictures:
    """Everything viewable about one prediction, as PIL images at the input's own size or a
    small multiple of it (the page enlarges them crisply). Each carries its colour scale: a
    bar with the real minimum and maximum under the picture."""
    feature_maps: dict[str, Image.Image]   # conv/pool layer -> captioned grid of its channels
    linear: dict[str, Image.Image]         # fully connected layer -> strip of its values
    grad_cam: Image.Image                  # Grad-CAM heatmap over the input
    saliency: Image.Image                  # input-gradient saliency over the input


HEAT_SIZE = 112   # Grad-CAM and saliency: 4x LeNet's input, 3.5x the ConvNet's


def render_pictures(clf: Classifier, result: Prediction, heat: Heatmaps,
                    size: int = HEAT_SIZE, tile: int = 64,
                    after_activation: bool = False) -> Pictures:
    """Pictures of ``result`` and of its ``heat`` (``Classifier.heatmaps``); ``clf`` only
    names the layers. Heatmaps are about ``size`` pixels; feature-map tiles about ``tile``.
    Conv and fully connected layers are shown before their activation, or after it with
    ``after_activation``.
    """
    if result.empty:
        raise ValueError("an empty prediction has nothing to picture")
    shown = {name: clf.activation_of(name) if after_activation else name
             for name in (*clf.map_layer_names, *clf.linear_names)}
    maps = {name: _scaled_grid(result.layers[shown[name]], name, tile)
            for name in clf.map_layer_names}
    linear = {name: _scaled_grid(result.layers[shown[name]][:, None, None], name, tile)
              for name in clf.linear_names}
    return Pictures(maps, linear, _heat_picture(result.input_image, heat.grad_cam, size),
                    _heat_picture(result.input_image, heat.saliency, size))


def _scaled_grid(values: np.ndarray, name: str, tile: int) -> Image.Image:
    grid = feature_map_grid(values, name, tile)
    return with_colour_bar(grid, float(values.min()), float(values.max()), "diverging")


def _heat_picture(base: Image.Image, heat: np.ndarray | None, size: int) -> Image.Image:
    """``heat`` scaled to [0, 1] over ``base``, with a bar of its real range under it."""
    heat = np.zeros(base.size[::-1], np.float32) if heat is None else heat
    top = float(heat.max())
    overlay = heat_overlay(base, heat / top if top > 0 else heat, size)
    return with_colour_bar(overlay, 0.0, top, "heat")
