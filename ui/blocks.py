"""The "Building blocks" tab: one convolution, ReLU and pooling on the visitor's drawing,
their photo, an upload here or a sample picture, with every output channel shown as the
course showed them (grey maps in a grid) and the output-size formulas with their numbers.

Belongs here: the tab's layout, its handlers and the kernel menu (named kernels, a typed
3x3, the two models' learned first-layer filters). The arithmetic, the kernels and the grids
are ``lenet.inside.blocks``; nothing here computes a convolution itself.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from html import escape

import gradio as gr
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw
from torch import nn

from lenet.inside.blocks import (
    FIXED_KERNELS,
    BlockError,
    image_to_tensor,
    learned_kernel,
    make_kernel,
    run_block,
    user_kernel,
)
from lenet.inside.inference import Classifier, InputError
from lenet.inside.memo import SingleFlight
from lenet.pictures.visualize import enlarge_by, maps_grid, pixels_to_image

from .components import RawImage, picture
from .events import INSTANT, Result, Shows, guarded, lane
from .view import check_upload_size, shown_input
from .words import define

TITLE = "Building blocks"
DRAWING, PHOTO, SAMPLE, UPLOAD = "my drawing", "my photo", "sample", "upload"
SOURCES = (DRAWING, PHOTO, SAMPLE, UPLOAD)
EMPTY_SOURCE = {DRAWING: "Draw a digit in the first tab first.",
                PHOTO: "Upload a photo in the photo tab first.",
                UPLOAD: "Upload a picture in the box above first."}
NAMED = {"Laplacian": "laplacian",
         "vertical derivative [1, 0, −1]ᵀ and its negative": "derivative_pair",
         "Sobel x (vertical edges)": "sobel_x", "Sobel y (horizontal edges)": "sobel_y",
         "box blur": "box_blur", "sharpen": "sharpen", "identity": "identity"}
RANDOM, CUSTOM = "N random filters", "custom 3x3"
POOLS = {"none": "none", "max": "max", "average": "avg"}
MAP_STYLES = {"each map scaled to [0, 1]": "scaled", "−|y| (the course's view for the Laplacian)":
         "neg_abs"}
# Pictures are sent about as large as their boxes show them: a 512x512 photo's ten maps at
# full size are a 2042x1532 grid whose PNG alone takes ~0.5 s to write.
INPUT_SIDE = 300   # pixels: the input picture's longer side, about (small ones enlarged)
GRID_SIDE = 640    # pixels: the conv grid's longer side, about (ReLU and pooling alike)
SHOW_ALL = 75      # kernel numbers shown in full up to this many; else the first filter only
BOX = {"input": 236, "maps": 236}   # picture heights, so the page does not jump
LANE = lane("blocks")
# The settings a user can type or an API caller can send anything into, by name: the whole
# numbers' ranges (the sliders' and the seed box's), the bias's, and the choices' names.
WHOLE = {"count": (1, 32), "size": (3, 7), "seed": (0, 2**31 - 1), "stride": (1, 4),
         "padding": (0, 3), "pool_size": (2, 4), "pool_stride": (1, 4)}
BIAS_LIMIT = 1000
WORDS = {"count": "number of random filters", "size": "size of the random filters",
         "seed": "seed", "stride": "stride", "padding": "zero padding",
         "pool_size": "pool size", "pool_stride": "pool stride", "source": "picture",
         "pool": "pooling", "maps_as": "way to show the maps"}
# Every setting by the name the handler (and the API) takes it, with the page's starting values.
DEFAULTS = dict(source=SAMPLE, upload=None, drawing=None, photo=None, kernel="Laplacian",
                custom=FIXED_KERNELS["laplacian"], count=10, size=5, seed=0, stride=1,
                padding=0, bias=0.0, relu=False, pool="none", pool_size=2, pool_stride=2,
                maps_as="each map scaled to [0, 1]")


def sample_picture() -> Image.Image:
    """256x256 colour shapes, stripes and a letter: flat areas and edges in every direction,
    drawn here so that the repository holds no dataset image."""
    image = Image.new("RGB", (256, 256), (235, 235, 230))
    d = ImageDraw.Draw(image)
    d.ellipse((12, 14, 92, 94), fill=(40, 70, 170))
    d.rectangle((166, 20, 240, 100), fill=(200, 50, 40))
    d.polygon([(20, 236), (70, 140), (120, 236)], fill=(40, 150, 60))
    for x in range(146, 240, 12):                      # vertical stripes
        d.rectangle((x, 140, x + 5, 184), fill=(20, 20, 20))
    for y in range(196, 240, 12):                      # horizontal stripes
        d.rectangle((146, y, 238, y + 5), fill=(20, 20, 20))
    d.line([(100, 124), (128, 30), (156, 124)], fill=(10, 10, 10), width=9)   # the letter A
    d.line([(112, 92), (144, 92)], fill=(10, 10, 10), width=8)
    return image


def input_picture(x: torch.Tensor) -> Image.Image:
    """(1, C, H, W) in [0, 1] -> a grey or colour picture about ``INPUT_SIDE`` large."""
    image = pixels_to_image(x[0])
    return scaled(image, INPUT_SIDE / max(image.size))


def scaled(image: Image.Image, factor: float) -> Image.Image:
    """Shrunk by averaging, or enlarged a whole number of times by repeating pixels, so that
    every value stays a visible square instead of a blur."""
    if factor >= 1:
        return enlarge_by(image, int(factor))
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.BOX)


def grid_picture(maps: torch.Tensor, style: str, factor: float) -> Image.Image:
    """``maps_grid`` of ``maps`` (C, H, W) with every tile ``factor`` times its size."""
    if factor < 1:   # averaged before the grid: ~5x less work than shrinking the picture
        if style == "neg_abs":
            maps = -maps.abs()   # first, so that rising and falling edges do not cancel
        size = [max(1, round(n * factor)) for n in maps.shape[1:]]
        return maps_grid(F.adaptive_avg_pool2d(maps[None], size)[0], style)
    return scaled(maps_grid(maps, style), factor)


def kernel_block(kernel: torch.Tensor) -> str:
    """One filter (I, kh, kw) as aligned numbers, channels one under the other (R, G, B):
    monospace stays narrow enough to sit beside the input, where a 15-column table wraps."""
    whole = bool((kernel == kernel.round()).all())
    text = lambda v: f"{v:3.0f}" if whole else f"{v:5.2f}".replace("-0.00", " 0.00")  # noqa: E731
    names = "RGB" if len(kernel) == 3 else [""] * len(kernel)
    blocks = ["\n".join((name if y == 0 else " " * len(name)) + "  " * bool(name)
                        + " ".join(map(text, row)) for y, row in enumerate(plane))
              for name, plane in zip(names, kernel.tolist())]
    return "```\n" + "\n\n".join(blocks) + "\n```"


def checked(settings: dict) -> dict:
    """``settings`` with every whole number an ``int`` in its range (``WHOLE``), the bias a
    float within ``BIAS_LIMIT`` and every choice one of its names; a number left empty takes
    its default. Anything else is one line saying what to set (``InputError``)."""
    s = dict(settings)
    for name, (low, high) in WHOLE.items():
        value = number(DEFAULTS[name] if s[name] is None else s[name])
        if value is None or not low <= value <= high:   # NaN and text are None
            raise InputError(f"the {WORDS[name]} must be a whole number from {low} to {high}")
        s[name] = int(round(value))
    s["bias"] = number(0 if s["bias"] is None else s["bias"])
    if s["bias"] is None or abs(s["bias"]) > BIAS_LIMIT:
        raise InputError(f"the bias must be a number from −{BIAS_LIMIT} to {BIAS_LIMIT}")
    for name, names in (("source", SOURCES), ("pool", POOLS), ("maps_as", MAP_STYLES)):
        if s[name] not in names:
            raise InputError(f"choose the {WORDS[name]}: {', '.join(map(str, names))}")
    return s


def number(value) -> float | None:
    """``value`` as a finite float, or None (text, NaN, infinity, a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:   # an integer too large for a float
        return None
    return value if math.isfinite(value) else None


@dataclass
class BlockShown(Result):
    """What one run of the block shows: a status line, the kernel's numbers, the size
    formulas, the input as the block saw it, and the maps after the convolution, after ReLU
    and after pooling (None for a stage that is off)."""
    status: str = ""
    kernel: str = ""
    formulas: str = ""
    seen: Image.Image | None = None
    conv: Image.Image | None = None
    relu: Image.Image | None = None
    pooled: Image.Image | None = None


@dataclass
class Visible(Result):
    """Which controls and pictures the settings use: the upload box, the random bank's
    settings, the custom kernel's table, the ReLU and the pooling pictures."""
    upload: object = None
    bank: object = None
    custom: object = None
    relu: object = None
    pooled: object = None


class BlocksTab:
    """Handlers (callable directly, as the tests do) and the layout of the tab."""

    def __init__(self, digits: Classifier, photos: Classifier):
        self.learned = {}   # menu entry -> one filter (1, I, kh, kw) of a first convolution
        for title, clf in (("LeNet-5", digits), ("ConvNet", photos)):
            name, conv = next((n, m) for n, m in clf.model.features.named_children()
                              if isinstance(m, nn.Conv2d))
            for k in range(conv.out_channels):
                self.learned[f"{title} {name} filter {k}"] = learned_kernel(conv.weight[k:k + 1])
        self.kernels = [*NAMED, RANDOM, CUSTOM, *self.learned]
        self.sample = image_to_tensor(sample_picture())   # (1, 3, 256, 256)
        # Decoding is most of a request's cost for a big photo; a slider move reuses it.
        # Uploads are named by their content's hash and the pad sends bytes: safe keys.
        self.images = SingleFlight(lambda key: image_to_tensor(*key), maxsize=16)
        self.run = guarded(BlockShown.failed, warn=True)(self._run)
        # Every setting a keyword with the page's starting value: Gradio reads the API's
        # defaults from the signature, so a caller gives only what it changes.
        self.run.__signature__ = inspect.Signature(
            [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=value)
             for name, value in DEFAULTS.items()], return_annotation=BlockShown)

    # ------------------------------------------------------------------ handlers
    def _image(self, source: str, upload, drawing, photo) -> torch.Tensor | str:
        """(1, C, H, W) for the chosen source, or the prompt when it is empty."""
        shown = shown_input(drawing)   # the draw tab's view: the drawing as drawn
        drawing = None if shown is None or shown.pixels is None else shown.png
        chosen = {DRAWING: drawing, PHOTO: photo, UPLOAD: upload, SAMPLE: self.sample}
        if chosen[source] is None:
            return EMPTY_SOURCE[source]
        if source == SAMPLE:
            return self.sample
        if source in (PHOTO, UPLOAD):
            check_upload_size(chosen[source], "picture")
        # the digit as drawn, in grey; photos and uploads keep their colour
        return self.images((chosen[source], source == DRAWING))

    def _kernel(self, choice: str, custom, count, size, seed, channels: int):
        """(kernel (O, I, kh, kw) as defined, words about it)."""
        if choice == RANDOM:
            kernel = make_kernel("random", channels, count=count, size=size, seed=seed)
            return kernel, f"drawn from N(0, 1) with seed {seed}"
        if choice == CUSTOM:
            return user_kernel(custom), "typed in the table"
        if choice in NAMED:
            return make_kernel(NAMED[choice]), ""
        if choice in self.learned:
            return self.learned[choice], "learned weights as stored (their bias is not added)"
        raise InputError(f"unknown kernel {escape(repr(choice), quote=False)}; pick one from "
                         f"the list")

    def _run(self, **settings) -> BlockShown:
        """The block with ``settings``, named as in ``DEFAULTS`` (every one of them)."""
        if set(settings) != set(DEFAULTS):
            raise InputError(f"the block takes these settings: {', '.join(DEFAULTS)}")
        s = checked(settings)
        source, relu, pool, maps_as, kernel_choice = (s["source"], s["relu"], s["pool"], s["maps_as"],
                                                   s["kernel"])
        x = self._image(source, s["upload"], s["drawing"], s["photo"])
        if isinstance(x, str):
            return BlockShown(x)
        stride, padding, pool_size, pool_stride, bias = (s["stride"], s["padding"], s["pool_size"],
                                                         s["pool_stride"], s["bias"])
        try:
            kernel, about = self._kernel(kernel_choice, s["custom"], s["count"], s["size"],
                                         s["seed"], x.shape[1])
            result = run_block(x, kernel, bias, stride, padding, bool(relu), POOLS[pool],
                               pool_size, pool_stride)
        except BlockError as exc:   # a user's settings: one line, no traceback
            # It may quote what was typed into the kernel's table; the status line and the
            # toast render HTML, so it is shown as text.
            raise InputError(escape(str(exc), quote=False)) from None
        seen = x if kernel.shape[1] == x.shape[1] else x.mean(1, keepdim=True)
        seen = F.pad(seen, (padding,) * 4)          # the zero frame the kernel slides over
        # One factor for every grid, so that pooling's smaller maps still look smaller.
        o, h, w = result.conv.shape
        factor = GRID_SIDE / (math.ceil(math.sqrt(o)) * (max(h, w) + 2))
        grid = lambda maps: grid_picture(maps, MAP_STYLES[maps_as], factor)  # noqa: E731
        steps = " → ".join(f"{name} {'×'.join(map(str, shape))}"
                           for name, shape in result.shapes.items())
        return BlockShown(f"**{kernel_choice}** on {source}: {steps}",
                          self._kernel_words(kernel, about, x.shape[1]),
                          self._formulas(result, stride, padding, pool, pool_size, pool_stride),
                          input_picture(seen), grid(result.conv),
                          grid(result.activated) if relu else None,
                          grid(result.pooled) if POOLS[pool] != "none" else None)

    @staticmethod
    def _kernel_words(kernel: torch.Tensor, about: str, channels: int) -> str:
        o, i, kh, kw = kernel.shape
        shown = o if kernel.numel() <= SHOW_ALL else 1
        words = [f"**Kernel in use**: {o} filter{'s' * (o > 1)} of {kh}×{kw}"
                 + (f"×{i}" if i > 1 else "") + (f", {about}" if about else "")
                 + ("" if shown == o else "; the first one shown") + "."]
        if i == 1 and channels == 3:
            words.append("On a colour image it sees the grey image, the mean of R, G and B.")
        if i == 3 and channels == 1:
            words.append("On a grey image its three channels act as their sum.")
        tables = [(f"Filter {k}:\n\n" if shown > 1 else "") + kernel_block(kernel[k])
                  for k in range(shown)]
        return " ".join(words) + "\n\n" + "\n\n".join(tables)

    @staticmethod
    def _formulas(result, stride, padding, pool, pool_size, pool_stride) -> str:
        kh, kw = result.kernel.shape[2:]
        lines = ["**Output size** ⌊(n − k + 2·p)/s⌋ + 1 for input n, kernel k, padding p, "
                 "stride s:",
                 f"- convolution {kh}×{kw}, stride {stride}, padding {padding}: "
                 f"`{result.size_formula['conv']}`"]
        if "relu" in result.shapes:
            lines.append("- ReLU keeps the shape")
        if "pool" in result.size_formula:
            lines.append(f"- {pool} pooling {pool_size}×{pool_size}, stride {pool_stride}, "
                         f"no padding: `{result.size_formula['pool']}`")
        return "\n".join(lines)

    @staticmethod
    def visibility(source: str, kernel: str, relu: bool, pool: str) -> Visible:
        """Show only the controls and pictures the current settings use."""
        return Visible(gr.update(visible=source == UPLOAD), gr.update(visible=kernel == RANDOM),
                       gr.update(visible=kernel == CUSTOM), gr.update(visible=bool(relu)),
                       gr.update(visible=pool != "none"))

    # ------------------------------------------------------------------ layout
    def build(self, drawing: gr.State, photo: gr.State) -> None:
        d = DEFAULTS
        # Nothing is computed while the page is built: app.py runs the defaults when the tab
        # is opened (``self.opened``), so start-up does not pay for torchvision's import.
        first = f"Open the tab to run the **{d['kernel']}** on the sample."
        whole_slider = lambda key, label, step=1: gr.Slider(  # noqa: E731
            *WHOLE[key], d[key], step=step, label=label)
        gr.Markdown("One convolution, then ReLU, then pooling, as in a CNN layer, with every "
                    "output channel shown. Every change re-runs the block.")
        with gr.Accordion("What the words mean", open=False):
            gr.Markdown(define("feature_map", "kernel", "stride", "padding", "activation",
                               "pooling", "normal"))
        with gr.Row():
            with gr.Column(scale=1, min_width=500):
                source = gr.Radio(list(SOURCES), value=d["source"], label="Picture")
                upload = RawImage(type="filepath", label="Picture for this tab", height=220,
                                  sources=["upload", "clipboard"], buttons=[],
                                  visible=d["source"] == UPLOAD, elem_classes="photo-input")
                kernel = gr.Dropdown(self.kernels, value=d["kernel"], label="Kernel")
                with gr.Group(visible=d["kernel"] == RANDOM) as bank:
                    count = whole_slider("count", "N random filters")
                    with gr.Row():
                        size = whole_slider("size", "Size", step=2)
                        seed = gr.Number(d["seed"], precision=0, minimum=WHOLE["seed"][0],
                                         maximum=WHOLE["seed"][1], label="Seed")
                custom = gr.Dataframe(d["custom"], type="array", datatype="number",
                                      row_count=3, column_count=3, interactive=True,
                                      visible=d["kernel"] == CUSTOM,
                                      label="Custom 3x3 kernel (click a cell to type)")
                relu = gr.Checkbox(d["relu"], label="ReLU after the convolution")
                pool = gr.Radio(list(POOLS), value=d["pool"], label="Pooling")
                with gr.Accordion("Stride, padding, bias, pooling window, view", open=False):
                    with gr.Row():
                        stride = whole_slider("stride", "Stride")
                        padding = whole_slider("padding", "Zero padding")
                    bias = gr.Number(d["bias"], label="Bias (added to every output)")
                    with gr.Row():
                        pool_size = whole_slider("pool_size", "Pool size")
                        pool_stride = whole_slider("pool_stride", "Pool stride")
                    maps_as = gr.Radio(list(MAP_STYLES), value=d["maps_as"], label="Show the maps as")
                run = gr.Button("Run", variant="primary")
            with gr.Column(scale=2):
                status = gr.Markdown(first, elem_classes="status", elem_id="blocks-status")
                with gr.Row():
                    words = gr.Markdown("", min_width=300)
                    formulas = gr.Markdown("", elem_id="blocks-formulas", min_width=300)
                # The input and every stage side by side, each box as tall as a laptop allows.
                with gr.Row():
                    seen = picture("The input as the block sees it (zero padding black)",
                                   height=BOX["input"], elem_classes="maps",
                                   min_width=140)
                    maps = [picture(title, height=BOX["maps"], visible=shown,
                                    elem_classes="maps", min_width=140) for title, shown in (
                        ("Convolution + bias: every output channel", True),
                        ("After ReLU", d["relu"]),
                        ("After pooling", d["pool"] != "none"))]
        settings = dict(source=source, upload=upload, drawing=drawing, photo=photo, kernel=kernel,
                        custom=custom, count=count, size=size, seed=seed, stride=stride,
                        padding=padding, bias=bias, relu=relu, pool=pool, pool_size=pool_size,
                        pool_stride=pool_stride, maps_as=maps_as)
        shown = Shows(status=status, kernel=words, formulas=formulas, seen=seen, conv=maps[0],
                      relu=maps[1], pooled=maps[2])
        show_block = shown.updates_of(self.run)
        run.click(show_block, inputs_kwargs=settings, outputs=shown.components,
                  api_name="building_block", **LANE)
        # app.py runs it when the visitor opens the tab (the event's arguments)
        self.opened = dict(fn=show_block, inputs_kwargs=settings, outputs=shown.components)
        for name, control in settings.items():
            if name not in ("drawing", "photo"):   # the other tabs' inputs: read, not watched
                control.change(show_block, inputs_kwargs=settings, outputs=shown.components,
                               api_name=False, **LANE)
        visible = Shows(upload=upload, bank=bank, custom=custom, relu=maps[1], pooled=maps[2])
        for control in (source, kernel, relu, pool):  # instant, on a lane of its own
            control.change(visible.updates_of(self.visibility), [source, kernel, relu, pool],
                           visible.components, api_name=False, **INSTANT)
