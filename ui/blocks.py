"""The "Building blocks" tab: one convolution, ReLU and pooling on the visitor's drawing,
their photo, an upload here or a sample picture, with every output channel shown as the
course showed them (grey maps in a grid) and the output-size formulas with their numbers.

The page computes it all (web/blocks_tab.js and its web/blocks_*.js modules); the tab is
``page_tab("blocks", start)``, with no Gradio event. What stays here: the settings' names,
ranges and one-line messages, which tools/blocks_files.py writes to web/blocks_tab.json for
the page (with the sample picture, web/blocks_sample.png), and the Python handler
(``BlocksTab.run``), the reference the page's tests compare with, offered to API users as
``/building_block``. The arithmetic, the kernels and the grids are ``lenet.inside.blocks``.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from html import escape

import gradio as gr
import torch
import torch.nn.functional as F
from gradio.data_classes import FileData
from PIL import Image, ImageDraw
from torch import nn

from lenet.inputs.pad import drawing_digit
from lenet.inside.blocks import (
    DERIVATIVE_PAIR,
    FIXED_KERNELS,
    MAX_SIDE,
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

from .api import PICTURE, api_function, concurrency, decode_data_url, picture_file
from .components import uploaded_file
from .events import Result, guarded, lane
from .view import check_upload_size, page_tab

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
# The API's pictures are sent about as large as the page used to show them: a 512x512 photo's
# ten maps at full size are a 2042x1532 grid whose PNG alone takes ~0.5 s to write.
INPUT_SIDE = 300   # pixels: the input picture's longer side, about (small ones enlarged)
GRID_SIDE = 640    # pixels: the conv grid's longer side, about (ReLU and pooling alike)
SHOW_ALL = 75      # kernel numbers shown in full up to this many; else the first filter only
LANE = lane("blocks")   # the API's endpoint; the page sends nothing
# The learned filters' menu entries: "<title> <first conv layer> filter <k>", by model name.
LEARNED_TITLES = {"lenet5": "LeNet-5", "convnet": "ConvNet"}
LEARNED_WORDS = "learned weights as stored (their bias is not added)"
COLOUR_WORDS = "On a colour image it sees the grey image, the mean of R, G and B."
GREY_WORDS = "On a grey image its three channels act as their sum."
SIZE_RULE = "⌊(n − k + 2·p)/s⌋ + 1 for input n, kernel k, padding p, stride s"
PICTURES = ("seen", "conv", "relu", "pooled")   # BlockShown's pictures, in the API's order
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


class BlocksTab:
    """The Python handler (``run``: callable directly, as the tests and the API do) and the
    tab as the page shows it (``build``)."""

    def __init__(self, digits: Classifier, photos: Classifier):
        self.learned = {}   # menu entry -> one filter (1, I, kh, kw) of a first convolution
        for clf in (digits, photos):
            name, conv = next((n, m) for n, m in clf.model.features.named_children()
                              if isinstance(m, nn.Conv2d))
            for k in range(conv.out_channels):
                self.learned[learned_name(clf.name, name, k)] = learned_kernel(conv.weight[k:k + 1])
        self.kernels = [*NAMED, RANDOM, CUSTOM, *self.learned]   # the menu, as the page lists it
        self._sample = None   # made on first use: the app's start-up does not pay for it
        # Decoding is most of a request's cost for a big photo; a setting change reuses it.
        # Uploads are named by their content's hash and drawings are bytes: safe keys.
        self.images = SingleFlight(lambda key: image_to_tensor(*key), maxsize=16)
        self.run = guarded(BlockShown.failed, warn=True)(self._run)
        # Every setting a keyword with the page's starting value, as the API offers it.
        self.run.__signature__ = inspect.Signature(
            [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=value)
             for name, value in DEFAULTS.items()], return_annotation=BlockShown)

    @property
    def sample(self) -> torch.Tensor:
        """The sample picture as the block takes it, (1, 3, 256, 256)."""
        if self._sample is None:
            self._sample = image_to_tensor(sample_picture())
        return self._sample

    # ------------------------------------------------------------------ the handler
    def _image(self, source: str, upload, drawing, photo) -> torch.Tensor | str:
        """(1, C, H, W) for the chosen source, or the prompt when it is empty. ``drawing``:
        the pad's PNG as a data URL; ``upload`` and ``photo``: paths of uploaded files."""
        png = decode_data_url(drawing)
        if png is not None and drawing_digit(png).empty:   # a blank pad: nothing drawn
            png = None
        chosen = {DRAWING: png, PHOTO: photo, UPLOAD: upload, SAMPLE: "sample"}
        if chosen[source] is None:
            return EMPTY_SOURCE[source]
        if source == SAMPLE:
            return self.sample
        if source in (PHOTO, UPLOAD):
            check_upload_size(chosen[source], "picture")
        # the digit as drawn, in grey; photos and uploads keep their colour unless grey
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
            return self.learned[choice], LEARNED_WORDS
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
        return BlockShown(status_line(kernel_choice, source, result.shapes),
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
            words.append(COLOUR_WORDS)
        if i == 3 and channels == 1:
            words.append(GREY_WORDS)
        tables = [(f"Filter {k}:\n\n" if shown > 1 else "") + kernel_block(kernel[k])
                  for k in range(shown)]
        return " ".join(words) + "\n\n" + "\n\n".join(tables)

    @staticmethod
    def _formulas(result, stride, padding, pool, pool_size, pool_stride) -> str:
        kh, kw = result.kernel.shape[2:]
        lines = [f"**Output size** {SIZE_RULE}:",
                 f"- convolution {kh}×{kw}, stride {stride}, padding {padding}: "
                 f"`{result.size_formula['conv']}`"]
        if "relu" in result.shapes:
            lines.append("- ReLU keeps the shape")
        if "pool" in result.size_formula:
            lines.append(f"- {pool} pooling {pool_size}×{pool_size}, stride {pool_stride}, "
                         f"no padding: `{result.size_formula['pool']}`")
        return "\n".join(lines)

    # ------------------------------------------------------------------ the page and the API
    def build(self, start: dict) -> None:
        """The tab as the page computes it (web/blocks_tab.js, loading ``start``: the two
        models whose first-layer filters it offers), and ``/building_block`` for API users."""
        page_tab("blocks", start)
        gr.api(self.api_function(), api_name="building_block", **concurrency(LANE))

    def api_function(self):
        """``run`` as ``gr.api`` offers it: the uploads as files Gradio received, the drawing
        as the pad's PNG data URL, the custom kernel as rows (or a table's {"data": rows});
        the pictures come back as PNG files."""
        def building_block(*values) -> tuple:
            settings = dict(zip(DEFAULTS, values))
            for name in ("upload", "photo"):   # only a file Gradio itself validated
                settings[name] = uploaded_file(settings[name]) if settings[name] else None
            if isinstance(settings["custom"], dict):
                settings["custom"] = settings["custom"].get("data")
            shown = self.run(**settings)
            return (shown.status, shown.kernel, shown.formulas,
                    *[picture_file(getattr(shown, name)) for name in PICTURES])

        kinds = {"upload": FileData | None, "photo": FileData | None, "drawing": str | None,
                 "custom": list | dict, "relu": bool, "source": str, "kernel": str,
                 "pool": str, "maps_as": str}
        parameters = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                        default=value, annotation=kinds.get(name, float))
                      for name, value in DEFAULTS.items()]
        return api_function(building_block, parameters, [str, str, str, *[PICTURE] * len(PICTURES)],
                            self._run)


def learned_name(model: str, layer: str, k: int) -> str:
    """A learned filter's entry in the kernel menu: "LeNet-5 C1 filter 4"."""
    return f"{LEARNED_TITLES[model]} {layer} filter {k}"


def status_line(kernel: str, source: str, shapes: dict) -> str:
    """"**Laplacian** on sample: input 3×256×256 → conv 1×254×254" (Markdown)."""
    steps = " → ".join(f"{name} {'×'.join(map(str, shape))}" for name, shape in shapes.items())
    return f"**{kernel}** on {source}: {steps}"


def page_constants() -> dict:
    """What the page's copy of this tab reads (web/blocks_tab.json), each written once here
    or in ``lenet.inside.blocks``: the menus, ranges, defaults and words of its messages."""
    return {"sources": list(SOURCES), "empty_source": EMPTY_SOURCE, "named": NAMED,
            "fixed_kernels": FIXED_KERNELS, "derivative_pair": DERIVATIVE_PAIR,
            "random": RANDOM, "custom": CUSTOM, "pools": POOLS, "map_styles": MAP_STYLES,
            "whole": WHOLE, "bias_limit": BIAS_LIMIT, "words": WORDS,
            "defaults": {k: v for k, v in DEFAULTS.items() if k not in ("upload", "drawing", "photo")},
            "learned_titles": LEARNED_TITLES, "learned_words": LEARNED_WORDS,
            "colour_words": COLOUR_WORDS, "grey_words": GREY_WORDS, "size_rule": SIZE_RULE,
            "show_all": SHOW_ALL, "max_side": MAX_SIDE}
