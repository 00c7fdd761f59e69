"""How a CNN sees: draw a digit for LeNet-5 or show a photo to the CIFAR-10 ConvNet, and look
at the prediction, the network's input, every conv and pooling layer's feature maps, and
Grad-CAM. All model work happens in ``lenet``; this file is the Gradio page around it.

    python app.py        # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT)
"""
from __future__ import annotations

import base64
import binascii
import functools
import io
import logging
import os
import sys
from pathlib import Path

import gradio as gr
import pandas as pd
import torch

from lenet.checkpoint import CheckpointError, default_checkpoint, missing_checkpoint_hint
from lenet.inference import Classifier, InputError, render_pictures
from lenet.visualize import architecture_rows, filter_grid

ASSETS = Path(__file__).resolve().parent / "app_assets"
TOP_K = 3
EXPLAIN_TOP = "top prediction"
MAX_FILE_SIZE = "10mb"      # uploads above this are refused by Gradio before reaching Python
QUEUE_SIZE = 64             # waiting requests beyond this are turned away ("queue full")
CONCURRENCY = 2             # handlers running at once: one per vCPU of a basic Space
log = logging.getLogger("app")


def load_models() -> dict[str, Classifier]:
    """Both committed checkpoints, or exit with one line saying which file and how to make it."""
    models = {}
    for name in ("lenet5", "convnet"):
        path = Path(os.environ.get(f"LENET_{name.upper()}_CHECKPOINT", default_checkpoint(name)))
        try:
            models[name] = Classifier.from_checkpoint(path)
        except CheckpointError as exc:
            sys.exit(missing_checkpoint_hint(name, path, exc))
    return models


torch.set_num_threads(1)  # one small image per request: threads cost more than they save
MODELS = load_models()
DIGITS, PHOTOS = MODELS["lenet5"], MODELS["convnet"]


# ---------------------------------------------------------------------------- handlers

def guarded(empty: tuple, warn: bool):
    """Turn a user's bad input into a one-line message (and a toast when ``warn``), and a
    bug into a log entry and a polite toast; the page never shows a traceback. ``empty``
    is what the outputs show then; a message replaces its first item when ``warn``."""
    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(*args):
            try:
                return handler(*args)
            except InputError as exc:
                if not warn:  # the label step of the same event has said it already
                    return empty
                gr.Warning(str(exc))
                return (f"⚠️ {exc}", *empty[1:])
            except Exception:
                log.exception("handler %s failed", handler.__name__)
                message = "Something went wrong with this input; please try another one."
                gr.Warning(message)
                return (f"⚠️ {message}", *empty[1:]) if warn else empty
        return wrapper
    return decorate


@functools.lru_cache(maxsize=16)
def predict(model: str, source: bytes | str):
    """One prediction per input, shared by the label step and the pictures step that follows
    it (uploads arrive as content-addressed paths, drawings as bytes: both are safe keys)."""
    return MODELS[model].predict(source)


def classify(clf: Classifier, source, empty_message: str):
    """The quick part of a response: a status line, the top classes, the network's input."""
    result = predict(clf.name, source)
    if result.empty:
        return empty_message, None, None
    label, p = result.top(1)[0]
    # The input goes out at its true size (28x28 or 32x32): a tiny PNG, enlarged crisply by
    # the page's CSS rather than by the server.
    return f"**{label}** with {100 * p:.1f} % confidence", dict(result.top(TOP_K)), result.input_image


def pictures(clf: Classifier, source, target: str | None):
    """The rest: Grad-CAM and saliency for ``target`` (default: the top class), and the
    feature maps of every conv and pooling layer."""
    result = predict(clf.name, source)
    if result.empty:
        return (None,) * (2 + len(clf.layer_names))
    index = clf.classes.index(target) if target in clf.classes else None
    shown = render_pictures(clf, result, class_index=index)
    return (shown.grad_cam, shown.saliency, *[shown.feature_maps[n] for n in clf.layer_names])


def decode_data_url(value: str | None) -> bytes | None:
    """The pad's value: '' when cleared, else a 'data:image/png;base64,...' URL."""
    if not value:
        return None
    head, _, payload = value.partition(",")
    if not head.startswith("data:image/") or ";base64" not in head:
        raise InputError("the pad sent something that is not an image; press Clear and redraw")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("the pad's image arrived damaged; press Clear and redraw") from None


NO_LABEL = (None, None, None)
NO_DIGIT_PICTURES = (None,) * (2 + len(DIGITS.layer_names))
NO_PHOTO_PICTURES = (None,) * (2 + len(PHOTOS.layer_names))


@guarded(NO_LABEL, warn=True)
def classify_sketch(value: str | None):
    data = decode_data_url(value)
    if data is None:
        return "Draw a digit on the pad.", None, None
    return classify(DIGITS, data, "Nothing drawn yet: draw a digit on the pad.")


@guarded(NO_DIGIT_PICTURES, warn=False)
def sketch_pictures(value: str | None, target: str | None):
    data = decode_data_url(value)
    return NO_DIGIT_PICTURES if data is None else pictures(DIGITS, data, target)


@guarded(NO_LABEL, warn=True)
def classify_digit_file(path: str | None):
    if not path:
        return "Draw a digit on the pad, or upload a picture of one.", None, None
    return classify(DIGITS, path, "No digit found in that picture: nothing drawn.")


@guarded(NO_DIGIT_PICTURES, warn=False)
def digit_file_pictures(path: str | None, target: str | None):
    return NO_DIGIT_PICTURES if not path else pictures(DIGITS, path, target)


@guarded(NO_LABEL, warn=True)
def classify_photo(path: str | None):
    if not path:
        return "Upload a photo, take one with the webcam, or paste one.", None, None
    return classify(PHOTOS, path, "That picture is blank.")


@guarded(NO_PHOTO_PICTURES, warn=False)
def photo_pictures(path: str | None, target: str | None):
    return NO_PHOTO_PICTURES if not path else pictures(PHOTOS, path, target)


class RawImage(gr.Image):
    """gr.Image that hands the uploaded file's path to the engine unopened, so that PDFs,
    truncated files and decompression bombs get the engine's one-line messages."""
    is_template = True  # rendered by the frontend's ordinary Image component

    def preprocess(self, payload):
        if payload is None:
            return None
        if payload.path:
            return payload.path
        return base64.b64decode(payload.url.partition(",")[2]) if payload.url else None


# ---------------------------------------------------------------------------- "inside" tab

def inside_the_model(clf: Classifier) -> None:
    meta = clf.meta
    gr.Markdown(f"### {meta['title']}\nTest accuracy **{100 * meta['test_accuracy']:.2f} %** on "
                f"{meta['data']['test']:,} test images · {meta['parameters']:,} parameters · "
                f"trained {meta['hyperparameters']['epochs']} epochs on "
                f"{meta['data']['train']:,} images ({meta['date'][:10]}).")
    rows = architecture_rows(clf.model, meta["input_shape"])
    gr.Dataframe(pd.DataFrame(rows, columns=["layer", "operation", "kernel / stride / padding",
                                             "output shape", "parameters"]),
                 label="Architecture", interactive=False)
    first = next(clf.model.features.children()).weight.detach().numpy()
    gr.Image(filter_grid(first), label=f"The {first.shape[0]} learned filters of the first "
             f"convolution ({first.shape[2]}x{first.shape[3]})", format="png", height=180)
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
    gr.BarPlot(per_class, x="class", y="accuracy (%)", label="Test accuracy per class",
               sort=list(clf.classes))
    gr.Dataframe(pd.DataFrame(meta["confusion_matrix"], columns=list(clf.classes),
                              index=list(clf.classes)).reset_index(names="true ↓ / predicted →"),
                 label="Confusion matrix on the test set", interactive=False)


# ---------------------------------------------------------------------------- page

def result_panel(clf: Classifier, what: str):
    """The outputs of a tab: (explain-class dropdown, quick outputs, picture outputs)."""
    status = gr.Markdown(what, elem_classes="status")
    with gr.Row():
        label = gr.Label(num_top_classes=TOP_K, label="Prediction (top 3)", scale=2)
        seen = gr.Image(label="What the network sees", format="png", height=240,
                        interactive=False, elem_classes="seen", scale=1,
                        elem_id=f"{clf.name}-seen")
    with gr.Row():
        cam = gr.Image(label="Grad-CAM: where the evidence is", format="png", height=240,
                       interactive=False, elem_classes="crisp")
        sal = gr.Image(label="Saliency: pixels that move the score", format="png", height=240,
                       interactive=False, elem_classes="crisp")
    target = gr.Dropdown([EXPLAIN_TOP, *clf.classes], value=EXPLAIN_TOP,
                         label="Grad-CAM and saliency explain which class?")
    gr.Markdown("#### Feature maps of every conv and pooling layer\nOne tile per channel; "
                "blue is negative, white zero, red positive (conv outputs before the activation).")
    maps = []
    for name, layer in clf.model.features.named_children():
        if name in clf.layer_names:
            kind = "conv" if hasattr(layer, "weight") else "pooling"
            maps.append(gr.Image(label=f"{name} ({kind})", format="png", interactive=False,
                                 elem_classes="maps"))
    return target, [status, label, seen], [cam, sal, *maps]


CSS = """
.crisp img { image-rendering: pixelated; }
.seen img { width: 100%; height: 100%; object-fit: contain; image-rendering: pixelated; }
.maps img { object-fit: contain; }
"""
fast = dict(show_progress="hidden", trigger_mode="always_last")

with gr.Blocks(title="How a CNN sees", delete_cache=(600, 1800)) as demo:
    gr.Markdown("# How a CNN sees\nDraw a digit for **LeNet-5** (MNIST) or show a photo to the "
                "course's **ConvNet** (CIFAR-10), and look inside: the exact input the network "
                "gets, the feature maps of every layer, and where its evidence comes from.")
    with gr.Tab("Draw a digit (MNIST · LeNet-5)"):
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                pad = gr.HTML("", html_template=(ASSETS / "pad.html").read_text(),
                              css_template=(ASSETS / "pad.css").read_text(),
                              js_on_load=(ASSETS / "pad.js").read_text(), elem_id="pad")
                with gr.Accordion("…or upload a picture of a digit", open=False):
                    digit_file = RawImage(type="filepath", label="Digit picture", height=200,
                                          sources=["upload", "clipboard"])
            with gr.Column(scale=2):
                digit_target, digit_quick, digit_pictures = result_panel(
                    DIGITS, "Draw a digit on the pad.")
        # The label comes first; the pictures follow in a second step.
        # While the pen moves only the label follows it; the pictures come when it lifts.
        pad.change(classify_sketch, pad, digit_quick, api_name="classify_sketch", **fast)
        pad.stroke_end(sketch_pictures, [pad, digit_target], digit_pictures,
                       api_name="sketch_pictures", **fast)
        digit_file.change(classify_digit_file, digit_file, digit_quick, api_name="classify_digit",
                          **fast).then(digit_file_pictures, [digit_file, digit_target],
                                       digit_pictures, api_name="digit_pictures", **fast)
        digit_target.change(sketch_pictures, [pad, digit_target], digit_pictures,
                            api_name="explain_sketch", **fast)
    with gr.Tab("Classify a photo (CIFAR-10 · ConvNet)"):
        gr.Markdown("This network knows only the ten CIFAR-10 classes: "
                    f"{', '.join(PHOTOS.classes)}. Anything else gets the nearest of those, "
                    "and it sees your photo as a 32x32 centre crop.")
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                photo = RawImage(type="filepath", label="Photo", height=300,
                                 sources=["upload", "webcam", "clipboard"])
            with gr.Column(scale=2):
                photo_target, photo_quick, photo_shown = result_panel(PHOTOS, "Upload a photo.")
        photo.change(classify_photo, photo, photo_quick, api_name="classify_photo", **fast).then(
            photo_pictures, [photo, photo_target], photo_shown, api_name="photo_pictures", **fast)
        photo_target.change(photo_pictures, [photo, photo_target], photo_shown,
                            api_name="explain_photo", **fast)
    with gr.Tab("Inside the models"):
        for model in (DIGITS, PHOTOS):
            inside_the_model(model)

demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)

def warm_up(url: str) -> None:
    """Send one drawing through the real routes, so that the first request's one-off costs
    (about a second here) are paid at start-up instead of on a visitor's first stroke."""
    from gradio_client import Client
    from PIL import Image, ImageDraw
    image = Image.new("RGB", (112, 112), "white")
    ImageDraw.Draw(image).line([(56, 20), (56, 92)], fill="black", width=9)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    sketch = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    try:
        client = Client(url, download_files=False, verbose=False)
        client.predict(sketch, api_name="/classify_sketch")
        client.predict(sketch, EXPLAIN_TOP, api_name="/sketch_pictures")
    except Exception as exc:  # a slower first request is no reason to stop
        log.warning("warm-up request failed: %s", exc)


if __name__ == "__main__":
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
                max_file_size=MAX_FILE_SIZE, css=CSS, prevent_thread_lock=True)
    warm_up(demo.local_url)
    demo.block_thread()
