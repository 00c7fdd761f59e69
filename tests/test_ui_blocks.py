"""The "Building blocks" tab's Python handler (the reference the page's copy is held to, and the
API's ``/building_block``), called directly: every picture is checked against F.conv2d on the
same pixels, every formula against the engine's, and every bad input must come back as one
line, never an exception. The tab itself is the page's (tests/test_blocks_page.py)."""
import io
import math
import warnings
from dataclasses import fields

import gradio as gr
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import data_url, seven_png
from PIL import Image

from lenet.inside.blocks import run_block
from lenet.inside.inference import Classifier
from lenet.inside.prng import Draws
from lenet.net.checkpoint import default_checkpoint
from lenet.page import tab_starts
from ui.blocks import DEFAULTS, BlockShown, BlocksTab, sample_picture

LAPLACIAN = torch.tensor([[0., 1, 0], [1, -4, 1], [0, 1, 0]])[None, None]


@pytest.fixture(scope="module")
def models():
    return (Classifier.from_checkpoint(default_checkpoint("lenet5")),
            Classifier.from_checkpoint(default_checkpoint("convnet")))


@pytest.fixture(scope="module")
def tab(models):
    return BlocksTab(*models)


def run(tab, **changes):
    """The handler with the page's starting settings, some of them changed."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # a toast here would be an unexpected one
        return tab.run(**{**DEFAULTS, **changes})


def pixels(source) -> torch.Tensor:
    """(1, 3, H, W) in [0, 1], straight from the picture's bytes, as a reference."""
    rgb = np.asarray(Image.open(source).convert("RGB") if not isinstance(source, Image.Image)
                     else source.convert("RGB"), dtype=np.float32) / 255
    return torch.from_numpy(rgb).permute(2, 0, 1)[None]


def assert_same_grid(shown: Image.Image, maps: torch.Tensor, view: str = "scaled"):
    """``shown`` holds every map of ``maps`` (C, H, W) as a grey tile, worked out here with
    plain numpy rather than the engine's grid: each map scaled on its own from its minimum
    (black) to its maximum (white), after −|y| for "neg_abs", a flat map black; the tiles
    row by row in a near-square grid with white gaps of 2 pixels (none round a lone map);
    the whole enlarged a whole number of times."""
    m = maps.detach().double().numpy()
    if view == "neg_abs":
        m = -np.abs(m)
    c, h, w = m.shape
    columns = math.ceil(math.sqrt(c))
    rows, gap = math.ceil(c / columns), 0 if c == 1 else 2
    width, height = gap + columns * (w + gap), gap + rows * (h + gap)
    k = shown.width // width
    assert k >= 1 and shown.size == (width * k, height * k)
    got = np.asarray(shown.convert("L"), dtype=float)[::k, ::k]
    paper = np.ones(got.shape, bool)
    for i, tile in enumerate(m):
        y, x = gap + (i // columns) * (h + gap), gap + (i % columns) * (w + gap)
        spread = tile.max() - tile.min()
        grey = (tile - tile.min()) / spread * 255 if spread > 0 else np.zeros_like(tile)
        # float sums in another order and rounding to whole grey levels: 1 level
        assert np.abs(got[y:y + h, x:x + w] - grey).max() <= 1, f"tile {i}"
        paper[y:y + h, x:x + w] = False
    assert (got[paper] == 255).all()   # the gaps and any empty cells are white


def test_laplacian_on_the_sample_matches_conv2d_and_the_engines_formula(tab):
    out = run(tab)
    grey = pixels(sample_picture()).mean(1, keepdim=True)
    assert_same_grid(out.conv, F.conv2d(grey, LAPLACIAN)[0])
    assert "(256 − 3 + 2·0)/1 + 1 = 254 → 1×254×254" in out.formulas
    assert out.relu is None and out.pooled is None
    assert "  0   1   0\n  1  -4   1\n  0   1   0" in out.kernel
    # stride and padding: the formula shown is the engine's, floor brackets included
    out = run(tab, stride=2, padding=1, relu=True, pool="max", pool_size=3, pool_stride=2,
              maps_as="−|y| (the course's view for the Laplacian)")
    engine = run_block(grey, LAPLACIAN, stride=2, padding=1, relu=True, pool="max",
                       pool_size=3, pool_stride=2)
    assert "⌊(256 − 3 + 2·1)/2⌋ + 1 = 128" in out.formulas
    for step in ("conv", "pool"):
        assert f"`{engine.size_formula[step]}`" in out.formulas
    pooled = F.max_pool2d(F.relu(F.conv2d(grey, LAPLACIAN, stride=2, padding=1)), 3, 2)
    assert_same_grid(out.pooled, pooled[0], "neg_abs")
    framed = np.asarray(out.seen, dtype=float)    # the input with its frame of zero padding
    assert framed.shape == (1 + 256 + 1, 1 + 256 + 1)
    assert not framed[[0, -1]].any() and not framed[:, [0, -1]].any()
    assert np.abs(framed[1:-1, 1:-1] - 255 * grey[0, 0].numpy()).max() <= 1


@pytest.mark.parametrize("model, layer, k", [(0, "C1", 4), (1, "conv1", 11)])
def test_a_learned_filter_is_the_checkpoints_own(tab, models, model, layer, k):
    weight = getattr(models[model].model.features, layer).weight[k:k + 1].detach()
    title = ("LeNet-5", "ConvNet")[model]
    out = run(tab, kernel=f"{title} {layer} filter {k}")
    image = pixels(sample_picture())
    if weight.shape[1] == 1:                 # a grey filter sees the mean of R, G and B
        image = image.mean(1, keepdim=True)
    assert_same_grid(out.conv, F.conv2d(image, weight)[0])
    first_row = " ".join(f"{v:5.2f}" for v in weight[0, 0, 0].tolist()).replace("-0.00",
                                                                                 " 0.00")
    assert first_row in out.kernel                    # the numbers shown are the ones used
    if weight.shape[1] == 3:
        assert "\nR  " in out.kernel and "\nB  " in out.kernel


@pytest.mark.parametrize("cells, words", [
    ([[1, 2, 3], [4, "x", 6], [7, 8, 9]], "row 2, column 2"),
    ([[1, 2, 3], [4, None, 6], [7, 8, 9]], "row 2, column 2"),
    ([[1, 2], [3, 4]], "3 rows"),
])
def test_a_bad_custom_kernel_is_a_one_line_warning(tab, cells, words):
    with pytest.warns(UserWarning):
        out = tab.run(**{**DEFAULTS, "kernel": "custom 3x3", "custom": cells})
    assert out.status.startswith("⚠️") and words in out.status and "\n" not in out.status
    assert out.conv is None


def test_a_custom_kernel_typed_as_text_is_used(tab):
    cells = [["0", "-1", "0"], ["-1", "5", "-1"], ["0", "-1", "0"]]
    out = run(tab, kernel="custom 3x3", custom=cells)
    sharpen = torch.tensor([[0., -1, 0], [-1, 5, -1], [0, -1, 0]])[None, None]
    assert_same_grid(out.conv, F.conv2d(pixels(sample_picture()).mean(1, keepdim=True),
                                         sharpen)[0])


@pytest.mark.parametrize("source, prompt", [
    ("my drawing", "Draw a digit in the first tab first."),
    ("my photo", "Upload a photo in the photo tab first."),
    ("upload", "Upload a picture in the box above first.")])
def test_an_empty_source_asks_for_a_picture_without_a_warning(tab, source, prompt):
    out = run(tab, source=source)   # ``run`` turns a warning toast into an error
    assert out.status == prompt
    assert out.seen is None and out.conv is None


def test_the_drawing_is_used_grey_as_drawn(tab):
    png = seven_png()
    image = Image.open(io.BytesIO(png))
    out = run(tab, source="my drawing", drawing=data_url(png),
              kernel="vertical derivative [1, 0, −1]ᵀ and its negative", relu=True)
    assert "input 1×112×112" in out.status
    assert out.seen.mode == "L"
    grey = pixels(image).mean(1, keepdim=True)
    pair = torch.tensor([[[[1.], [0], [-1]]], [[[-1.], [0], [1]]]])     # (2, 1, 3, 1)
    assert_same_grid(out.relu, F.relu(F.conv2d(grey, pair))[0])


def test_a_photo_path_is_used_in_colour(tab, tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), np.uint8)).save(path)
    out = run(tab, source="my photo", photo=str(path), kernel="N random filters", count=3,
              size=3, seed=7)
    assert "input 3×48×64" in out.status and "conv 3×46×62" in out.status
    # the engine's bank: N(0, 1) from the project's draws with the seed, in (O, I, kh, kw) order
    bank = torch.from_numpy(Draws(7).normal(81)).float().view(3, 3, 3, 3)
    assert_same_grid(out.conv, F.conv2d(pixels(path), bank)[0])
    assert out.seen.mode == "RGB"
    # the same picture uploaded in this tab: the same filters over the same pixels
    again = run(tab, source="upload", upload=str(path), kernel="N random filters",
                count=3, size=3, seed=7)
    assert "input 3×48×64" in again.status
    assert_same_grid(again.conv, F.conv2d(pixels(path), bank)[0])


def test_a_512_photo_with_ten_random_filters_sends_pictures_the_page_can_show(tab, tmp_path):
    path = tmp_path / "big.png"
    small = np.random.default_rng(1).integers(0, 256, (32, 32, 3), np.uint8)
    Image.fromarray(small).resize((512, 512), Image.BICUBIC).save(path)
    out = run(tab, source="my photo", photo=str(path), kernel="N random filters", relu=True,
              pool="max")
    assert "(512 − 5 + 2·0)/1 + 1 = 508 → 10×508×508" in out.formulas
    assert "(508 − 2)/2 + 1 = 254 → 10×254×254" in out.formulas
    # full size the conv grid would be 2042x1532; it is sent about as large as it is shown,
    # and pooling's grid stays half as large as the convolution's
    assert max(out.conv.size) <= 660 and max(out.seen.size) <= 300
    assert abs(out.pooled.width / out.conv.width - 0.5) < 0.03


def test_a_blank_drawing_asks_for_one(tab):
    from PIL import Image as PILImage
    blank = io.BytesIO()
    PILImage.new("RGB", (112, 112), "white").save(blank, "PNG")
    assert run(tab, source="my drawing", drawing=data_url(blank.getvalue())).status == \
        "Draw a digit in the first tab first."


def test_the_tab_is_the_pages_and_the_api_answers(tab, tmp_path):
    from gradio_client import Client, handle_file
    start = tab_starts({name: default_checkpoint(name) for name in ("lenet5", "convnet")},
                       lambda path: str(path))["blocks"]
    with gr.Blocks() as demo:
        with gr.Tab("Building blocks"):
            tab.build(start)
    # the page computes: no event of the tab's but the API's endpoint, and the page's HTML
    assert [fn.api_name for fn in demo.fns.values()] == ["building_block"]
    view = next(b for b in demo.blocks.values() if isinstance(b, gr.HTML))
    assert view.elem_id == "blocks-view" and "blocks_tab.js" in view.html_template
    demo.queue()
    demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        client = Client(demo.local_url, download_files=False, verbose=False)
        names = [n for n in client.view_api(print_info=False, return_format="dict")
                 ["named_endpoints"]]
        assert names == ["/building_block"]
        table = {"headers": ["1", "2", "3"], "data": DEFAULTS["custom"], "metadata": None}
        settings = {**DEFAULTS, "kernel": "Sobel x (vertical edges)", "custom": table,
                    "stride": 2, "bias": 0.5, "relu": True, "pool": "average"}
        answer = client.predict(**{k: v for k, v in settings.items() if k != "photo"},
                                api_name="/building_block")
        out = dict(zip([f.name for f in fields(BlockShown)], answer))   # the API's order
        assert "⌊(256 − 3 + 2·0)/2⌋ + 1 = 127" in out["formulas"]
        assert all(out[name] is not None for name in ("seen", "conv", "relu", "pooled"))
        # an upload and a drawing over the API
        path = tmp_path / "photo.png"
        Image.fromarray(np.random.default_rng(3).integers(0, 256, (40, 50, 3), np.uint8)).save(path)
        answer = client.predict(source="upload", upload=handle_file(str(path)),
                                api_name="/building_block")
        assert answer[0].startswith("**Laplacian** on upload: input 3×40×50")
        answer = client.predict(source="my drawing", drawing=data_url(seven_png()),
                                api_name="/building_block")
        assert answer[0].startswith("**Laplacian** on my drawing: input 1×112×112")
        # a setting no one can use: one line
        answer = client.predict(bias=5000, api_name="/building_block")
        assert answer[0] == "⚠️ the bias must be a number from −1000 to 1000"
    finally:
        demo.close()
