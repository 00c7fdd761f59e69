"""The "Inside the models" tab: for the model chosen, its architecture, its learned filters,
training curves, per-class test error and confusion matrix, all read from the checkpoint's
metadata. One model is shown at a time, so the tab stays short."""
from __future__ import annotations

import gradio as gr
import numpy as np
import pandas as pd
from PIL import Image
from torch import nn

from lenet.inside.explain import architecture_rows
from lenet.inside.inference import Classifier
from lenet.net.checkpoint import answer_accuracy
from lenet.pictures.scales import kernel_grid, with_colour_bar
from lenet.pictures.visualize import DIVERGING, colour_table, filter_tiles

from .charts import bar_chart, line_chart
from .components import picture
from .events import INSTANT
from .view import png_data_url
from .words import define

TITLE = "Inside the models"
WORDS = define("kernel") + " They are numbered as the draw and photo tabs number the channels."


def filters_html(weight: np.ndarray) -> str:
    """The first convolution's kernels, numbered, with the colour bar that reads them."""
    tiles, low, high = filter_tiles(weight)
    figures = "".join(
        f'<figure><img src="{png_data_url(Image.fromarray(tile))}" alt="filter {k}">'
        f'<figcaption>#{k}</figcaption></figure>' for k, tile in enumerate(tiles))
    if weight.shape[1] == 3:
        bar = "linear-gradient(to right, #000, #fff)"
        words = "each colour channel from the lowest weight (dark) to the highest (bright)"
    else:
        stops = ", ".join("#{:02x}{:02x}{:02x}".format(*colour_table(DIVERGING)[i])
                          for i in range(0, 256, 32))
        bar = f"linear-gradient(to right, {stops})"
        words = "blue negative, white zero, red positive"
    return (f'<div class="filters">{figures}</div><div class="colour-bar"><span>{low:+.2f}</span>'
            f'<span class="bar" style="background: {bar}"></span><span>{high:+.2f}</span>'
            f'<span>({words})</span></div>')


def architecture_table(clf: Classifier) -> pd.DataFrame:
    rows = [[*row[:4], f"{row[4]:,}"] for row in architecture_rows(clf.model, clf.meta["input_shape"])]
    return pd.DataFrame(rows, columns=["layer", "operation", "kernel / stride / padding",
                                       "output shape", "parameters"])


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
    gr.Dataframe(architecture_table(clf), label="Architecture (on a narrow screen the table "
                 "scrolls sideways)", interactive=False)
    adam = meta["hyperparameters"].get("optimizer") == "Adam"   # named in the title: say what it is
    gr.Markdown(define("layer_names", *(["adam"] if adam else [])))
    convs = [(name, m) for name, m in clf.model.features.named_children()
             if isinstance(m, nn.Conv2d)]
    if convs:
        first = convs[0][1].weight.detach().numpy()
        gr.Markdown(f"**The {first.shape[0]} learned filters of {convs[0][0]}** "
                    f"({first.shape[2]}×{first.shape[3]}). {WORDS}")
        gr.HTML(filters_html(first))
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
    epochs = [h["epoch"] for h in meta["history"]]
    loss = line_chart({"training": (epochs, [h["train_loss"] for h in meta["history"]]),
                       "validation": (epochs, [h["val_loss"] for h in meta["history"]])},
                      "Loss per epoch", "epoch", "loss")
    accuracy = line_chart({"validation": (epochs, [100 * h["val_accuracy"] for h in meta["history"]])},
                          "Validation accuracy per epoch", "epoch", "accuracy (%)")
    # Errors rather than accuracies: 0.3 % against 1.2 % shows; 99.7 % against 98.8 % would not.
    errors = bar_chart(list(clf.classes), [100 * (1 - a) for a in meta["per_class_accuracy"]],
                       "Test error per class (%)", "error (%)")
    gr.HTML(f'<div class="charts">{loss}{accuracy}{errors}</div>')
    gr.Dataframe(pd.DataFrame(meta["confusion_matrix"], columns=list(clf.classes),
                              index=list(clf.classes)).reset_index(names="true ↓ / predicted →"),
                 label="Confusion matrix on the test set (rows: true class)", interactive=False)


def build(models: list[Classifier]) -> None:
    titles = [clf.meta["title"] for clf in models]
    chosen = gr.Radio(titles, value=titles[0], label="Model")
    sections = []
    for k, clf in enumerate(models):
        with gr.Column(visible=k == 0) as section:
            model_section(clf)
        sections.append(section)
    chosen.change(lambda title: [gr.Column(visible=t == title) for t in titles], chosen,
                  sections, api_name=False, **INSTANT)
