"""The "Inside the models" tab: architecture, learned filters, training curves, per-class
accuracy and confusion matrix, all read from the checkpoints' metadata."""
from __future__ import annotations

import gradio as gr
import numpy as np
import pandas as pd
from torch import nn

from lenet.checkpoint import answer_accuracy
from lenet.inference import Classifier
from lenet.scales import kernel_grid, with_colour_bar
from lenet.visualize import architecture_rows, filter_grid

from .common import picture

TITLE = "Inside the models"


def model_section(clf: Classifier) -> None:
    meta = clf.meta
    accuracy = f"Test accuracy **{100 * meta['test_accuracy']:.2f} %**"
    if clf.mirror_average:
        accuracy += (f" in one pass, **{100 * answer_accuracy(meta):.2f} %** with each photo's "
                     f"logits averaged with its mirror image's, as this page answers,")
    gr.Markdown(f"### {meta['title']}\n{accuracy} on "
                f"{meta['data']['test']:,} test images · {meta['parameters']:,} parameters · "
                f"trained {meta['hyperparameters']['epochs']} epochs on "
                f"{meta['data']['train']:,} images ({meta['date'][:10]}).")
    rows = architecture_rows(clf.model, meta["input_shape"])
    gr.Dataframe(pd.DataFrame(rows, columns=["layer", "operation", "kernel / stride / padding",
                                             "output shape", "parameters"]),
                 label="Architecture", interactive=False)
    convs = [(name, m) for name, m in clf.model.features.named_children()
             if isinstance(m, nn.Conv2d)]
    if convs:
        first = convs[0][1].weight.detach().numpy()
        picture(f"The {first.shape[0]} learned filters of the first convolution "
                f"({first.shape[2]}x{first.shape[3]})", value=filter_grid(first), height=220)
        with gr.Accordion(f"Every learned kernel ({', '.join(n for n, _ in convs)})",
                          open=False):
            gr.Markdown("One row per output channel, one column per input channel; each "
                        "layer on one colour scale centred at zero (blue negative, red "
                        "positive), with the layer's largest weight at the ends of the bar.")
            for name, conv in convs:
                weight = conv.weight.detach().numpy()
                top = float(np.abs(weight).max())
                grid = with_colour_bar(kernel_grid(weight), -top, top)
                o, i, kh, kw = weight.shape
                picture(f"{name}: {o}x{i} kernels of {kh}x{kw}", value=grid,
                        elem_classes="kernels")
    history = pd.DataFrame([{"epoch": h["epoch"], "loss": h[key], "curve": curve}
                            for h in meta["history"]
                            for key, curve in (("train_loss", "train"), ("val_loss", "validation"))])
    accuracy = pd.DataFrame([{"epoch": h["epoch"], "accuracy (%)": 100 * h["val_accuracy"]}
                             for h in meta["history"]])
    with gr.Row():
        gr.LinePlot(history, x="epoch", y="loss", color="curve", label="Loss per epoch")
        gr.LinePlot(accuracy, x="epoch", y="accuracy (%)", label="Validation accuracy per epoch")
    per_class = pd.DataFrame({"class": clf.classes,
                              "accuracy (%)": [round(100 * a, 2) for a in meta["per_class_accuracy"]]})
    # Bars start at zero, so 99 % looks nearly full; names are slanted so they never overlap.
    gr.BarPlot(per_class, x="class", y="accuracy (%)", label="Test accuracy per class",
               sort=list(clf.classes), y_lim=[0, 100], x_label_angle=-45,
               elem_classes="per-class")
    gr.Dataframe(pd.DataFrame(meta["confusion_matrix"], columns=list(clf.classes),
                              index=list(clf.classes)).reset_index(names="true ↓ / predicted →"),
                 label="Confusion matrix on the test set", interactive=False)


def build(models: list[Classifier]) -> None:
    for clf in models:
        model_section(clf)
