"""How a CNN sees: draw a digit for LeNet-5 or show a photo to the CIFAR-10 ConvNet, and look
at the prediction, the network's input, every conv and pooling layer's feature maps, and
Grad-CAM. All model work happens in ``lenet``; each tab lives in ``ui/``; this file loads
the models once and assembles the page. Importing it loads nothing: ``build`` makes the page,
``main`` starts it.

The six tabs: draw a digit and photo (the network live in the browser, on one screen), the
test-set gallery, the building blocks, the invariance lab and inside the models.

    python app.py        # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT)
"""
from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import torch
from starlette.middleware import Middleware

from lenet.inside.inference import Classifier
from lenet.net.checkpoint import CheckpointError, default_checkpoint, missing_checkpoint_hint
from lenet.net.files import side_files
from lenet.page import TABS, tab_starts
from ui import gallery, inside
from ui.blocks import DEFAULTS as BLOCK_DEFAULTS
from ui.blocks import BlocksTab
from ui.draw import DrawTab
from ui.file_cache import FileCache
from ui.invariance import InvarianceTab
from ui.limits import BoundedBodies
from ui.photo import PhotoTab
from ui.projector import large_text_toggle
from ui.view import CSS, png_data_url

MAX_FILE_MB = 50            # Gradio refuses larger files; ui.view answers above 10 MB in words
MAX_FILE_SIZE = f"{MAX_FILE_MB}mb"
# An event's JSON at most (ui.limits): a drawing's data URL (1 MB decoded, ui.api) and the rest.
MAX_BODY_MB = 2
QUEUE_SIZE = 64             # waiting requests beyond this are turned away ("queue full")
# Seconds an idle connection stays open (uvicorn's own is 5): a lecture hall's browsers, each
# waiting on its other requests, would find their connections closed under them.
KEEP_ALIVE_S = 75
TORCH_THREADS = 1           # one small image per request: threads cost more than they save
log = logging.getLogger("app")
ROOT = Path(__file__).resolve().parent


REQUIRED = ("lenet5", "convnet")            # the app does not start without these
VARIANTS = ("lenet5-classic", "dense")      # the course's digit variants: compared when present
PHOTO_VARIANTS = ("dense-cifar",)           # the assignment's linear baseline, beside the ConvNet


def checkpoint_path(name: str) -> Path:
    variable = f"LENET_{name.upper().replace('-', '_')}_CHECKPOINT"
    return Path(os.environ.get(variable, default_checkpoint(name)))


def served_path(path: Path) -> str:
    """How the page names a static file: relative to the app's folder when inside it."""
    path = Path(path).resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


class MissingModel(Exception):
    """A required checkpoint that cannot be loaded; the message is one line saying which file
    and how to make it."""


def load_models() -> dict[str, Classifier]:
    """The committed checkpoints. A missing required one raises ``MissingModel``; a missing
    variant is left out with a warning in the log."""
    models = {}
    for name in (*REQUIRED, *VARIANTS, *PHOTO_VARIANTS):
        path = checkpoint_path(name)
        try:
            models[name] = Classifier.from_checkpoint(path)
        except CheckpointError as exc:
            if name in REQUIRED:
                raise MissingModel(missing_checkpoint_hint(name, path, exc)) from None
            log.warning("%s left out: %s", name, exc)
    return models


@dataclass
class Page:
    """The assembled app: its Gradio page, the models it serves and each tab's handlers."""
    demo: gr.Blocks
    models: dict[str, Classifier]
    draw: DrawTab
    photo: PhotoTab
    blocks: BlocksTab
    lab: InvarianceTab


def build(models: dict[str, Classifier] | None = None) -> Page:
    """The page for ``models`` (default: the committed checkpoints, ``load_models``)."""
    models = load_models() if models is None else models
    digits, photos = models["lenet5"], models["convnet"]
    # The page's own code and the checkpoints its engine reads, served as static files.
    served = {name: checkpoint_path(name) for name in models}
    # ...and the files beside them: the test-set galleries the gallery tab reads, the stored
    # experiments and neighbours the draw and photo tabs read.
    beside = [side for p in served.values() for side in side_files(p)]
    gr.set_static_paths([ROOT / "web", *served.values(), *beside])
    starts = tab_starts(served, served_path)   # what each tab's module loads (lenet.page)
    draw_tab = DrawTab(digits, [models[name] for name in VARIANTS if name in models],
                       start=starts["draw"])
    photo_tab = PhotoTab(photos, start=starts["photo"])
    blocks_tab, lab_tab = BlocksTab(digits, photos), InvarianceTab(digits, photos)

    with gr.Blocks(title="How a CNN sees", delete_cache=(600, 1800), fill_width=True) as demo:
        with gr.Row(equal_height=False, elem_id="page-head"):
            gr.Markdown("## How a CNN sees\nDraw a digit for **LeNet-5** (MNIST) or show a photo to "
                        "the **ConvNet** (CIFAR-10) and look inside, layer by layer.",
                        elem_id="page-title")
            large_text_toggle()
        # Every tab computes in the page (web/<id>_tab.js); the Python side of each is its API.
        tabs = {"draw": draw_tab.build, "photo": photo_tab.build,
                "gallery": lambda: gallery.build(starts["gallery"]),
                "blocks": lambda: blocks_tab.build(starts["blocks"]),
                "invariance": lambda: lab_tab.build(starts["invariance"]),
                "inside": lambda: inside.build(starts["inside"])}
        if not starts["gallery"]["galleries"]:
            del tabs["gallery"]
        with gr.Tabs(overflow_behavior="wrap"):   # every tab one tap away on a phone
            for tab, build_tab in tabs.items():
                with gr.Tab(TABS[tab], id=tab):
                    build_tab()

    # api_open=False: /gradio_api/run/<name> would run an event outside the queue, past its
    # lanes and QUEUE_SIZE (gradio_client uses the queue).
    demo.queue(max_size=QUEUE_SIZE, api_open=False)
    return Page(demo, models, draw_tab, photo_tab, blocks_tab, lab_tab)


def launch_options() -> dict:
    """``demo.launch``'s settings besides where it listens: the largest upload, the bound on
    every other request's body (``ui.limits``), the page's files answered from memory
    (``ui.file_cache``) and the page's style sheet."""
    bounded = Middleware(BoundedBodies, limit=MAX_BODY_MB * 2**20,
                         upload_limit=(MAX_FILE_MB + 1) * 2**20)   # + the form's own bytes
    return dict(max_file_size=MAX_FILE_SIZE, css=CSS,
                app_kwargs={"middleware": [Middleware(FileCache), bounded]})


def warm_up(url: str) -> None:
    """Send one drawing through the real routes, so that the first request's one-off costs
    (about a second here) are paid at start-up instead of on a visitor's first stroke."""
    from gradio_client import Client
    from PIL import Image, ImageDraw
    image = Image.new("RGB", (112, 112), "white")
    ImageDraw.Draw(image).line([(56, 20), (56, 92)], fill="black", width=9)
    sketch = png_data_url(image)
    try:
        client = Client(url, download_files=False, verbose=False)
        client.predict(sketch, api_name="/classify_sketch")
        client.predict(sketch, api_name="/sketch_pictures")
        # The building block's defaults, as the API takes them (the page computes its own;
        # this warms the API's first call, which imports torchvision).
        block = {**BLOCK_DEFAULTS, "custom": {"headers": ["1", "2", "3"],
                                              "data": BLOCK_DEFAULTS["custom"]}}
        client.predict(**{k: v for k, v in block.items() if k != "photo"}, api_name="/building_block")
    except Exception as exc:  # a slower first request is no reason to stop
        log.warning("warm-up request failed: %s", exc)


def main() -> None:
    torch.set_num_threads(TORCH_THREADS)
    try:
        demo = build().demo
    except MissingModel as exc:
        sys.exit(str(exc))
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
                prevent_thread_lock=True, **launch_options())
    demo.server.config.timeout_keep_alive = KEEP_ALIVE_S   # read by each new connection
    warm_up(demo.local_url)
    demo.block_thread()


if __name__ == "__main__":
    main()
