"""The same input through several models side by side: each model's probabilities and one
picture of what it computed — the feature maps of its convolutions, or, for a model with no
convolutions (the one dense layer), its ten weight templates, which are what it matches
the input against. Classifiers and predictions in, PIL images out; no Gradio here.
"""
from __future__ import annotations

import numpy as np
from PIL import Image
from torch import nn

from .inference import Classifier, Prediction
from .scales import with_colour_bar
from .visualize import feature_map_grid


def model_picture(clf: Classifier, result: Prediction, tile: int = 48) -> Image.Image:
    """The conv layers' maps of ``result`` stacked (before their activations), or the weight
    templates of a model without convolutions, each with its colour bar."""
    convs = [n for n in clf.layer_names if isinstance(getattr(clf.model.features, n), nn.Conv2d)
             and max(clf.shapes[n][1:]) > 1]
    if convs:
        parts = [_with_bar(feature_map_grid(result.layers[n], n, tile), result.layers[n])
                 for n in convs]
    else:
        last = [m for m in clf.model.classifier.children() if isinstance(m, nn.Linear)][-1]
        weight = last.weight.detach().numpy()
        templates = weight.reshape(len(weight), clf.height, clf.width)   # one per class
        parts = [_with_bar(feature_map_grid(templates, "class", tile, columns=5), templates)]
    sheet = Image.new("RGB", (max(p.width for p in parts), sum(p.height + 6 for p in parts)),
                      "white")
    y = 0
    for part in parts:
        sheet.paste(part, (0, y))
        y += part.height + 6
    return sheet


def _with_bar(image: Image.Image, values: np.ndarray) -> Image.Image:
    return with_colour_bar(image, float(values.min()), float(values.max()))
