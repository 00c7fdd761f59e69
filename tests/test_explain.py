"""Layers explained, colour scales, all kernels, and how an input was made: against forward
hooks, the course's parameter counts, torch.softmax, matplotlib's colour maps, and the
preprocessing functions the app really calls."""

import io

import numpy as np
import pytest
import torch
from helpers import centre_of_mass, matplotlib_colours, on_steps, ring
from matplotlib import colormaps
from PIL import Image
from torch import nn

from lenet.inputs.preprocess import digit_from_image, photo_to_array
from lenet.inside.explain import architecture_rows, describe_layers, softmax_formula
from lenet.net.models import ConvNet, LeNet5, count_parameters
from lenet.pictures.input_steps import digit_steps, photo_steps, steps_strip
from lenet.pictures.scales import _kernel_layout, colour_bar, kernel_grid, map_range
from lenet.pictures.visualize import feature_map_grid

COURSE = {  # the course material's parameter counts, pooling layers have none
    "lenet5": (LeNet5, (1, 28, 28), {"C1": 156, "S2": 0, "C3": 2416, "S4": 0, "C5": 48120,
                                     "F6": 10164, "output": 850}),
    "convnet": (ConvNet, (3, 32, 32), {"conv1": 1216, "pool1": 0, "conv2": 51328, "pool2": 0,
                                       "fc1": 204864, "fc2": 650}),
}


# The references: matplotlib's own colour maps, read here, as 256 RGB bytes.
MATPLOTLIB_RDBU_R = colormaps["RdBu_r"](np.linspace(0, 1, 256), bytes=True)[:, :3]
MATPLOTLIB_INFERNO = colormaps["inferno"](np.linspace(0, 1, 256), bytes=True)[:, :3]


# ---------------------------------------------------------------------------- layers

@pytest.mark.parametrize("name", list(COURSE))
def test_layers_in_order_with_real_shapes_and_the_course_parameter_counts(name):
    build, input_shape, counts = COURSE[name]
    model = build()
    shapes = {}
    for layer_name, module in [*model.features.named_children(),
                               *model.classifier.named_children()]:
        module.register_forward_hook(
            lambda _m, _i, out, n=layer_name: shapes.__setitem__(n, tuple(out.shape[1:])))
    model(torch.zeros(2, *input_shape))
    infos = describe_layers(model, input_shape)
    assert [i.name for i in infos] == list(counts)          # activations folded away
    assert {i.name: i.out_shape for i in infos} == {n: shapes[n] for n in counts}
    assert {i.name: i.parameters for i in infos} == counts
    assert sum(i.parameters for i in infos) == count_parameters(model)
    for info in infos:
        if info.parameters:  # the written formula evaluates to the count
            terms = info.parameter_formula.split(" = ")[0].replace(",", "")
            assert eval(terms.replace("·", "*")) == info.parameters, info.parameter_formula


def test_lenet_sentences():
    infos = {i.name: i for i in describe_layers(LeNet5(), (1, 28, 28))}
    assert "(28 − 5 + 2·2)/1 + 1 = 28" in infos["C1"].summary
    assert infos["C1"].summary == ("C1: convolution 1→6, kernel 5x5, stride 1, padding 2; "
                                   "output (28 − 5 + 2·2)/1 + 1 = 28 → 6x28x28; ReLU; "
                                   "156 parameters = 6·(1·5·5) + 6")
    assert infos["F6"].summary == ("F6: fully connected 120→84; output 84; ReLU; "
                                   "10,164 parameters = 120·84 + 84")
    assert infos["S2"].operation == "max pooling" and infos["S2"].activation is None
    assert infos["C3"].in_shape == (6, 14, 14) and infos["C3"].kernel == (5, 5)
    assert infos["output"].activation is None


def test_convnet_activations_are_tanh():
    infos = {i.name: i for i in describe_layers(ConvNet(), (3, 32, 32))}
    assert [infos[n].activation for n in ("conv1", "pool1", "conv2", "fc1", "fc2")] == [
        "tanh", None, "tanh", "tanh", None]


def test_inexact_division_shows_the_floor_and_matches_torch():
    model = nn.Sequential()
    model.add_module("P", nn.MaxPool2d(2, 2))
    model.add_module("A", nn.AvgPool2d(3, 2, padding=1))
    model.add_module("K", nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0)))
    x = torch.zeros(1, 3, 15, 15)
    infos = describe_layers(model, (3, 15, 15))
    assert "⌊(15 − 2 + 2·0)/2⌋ + 1 = 7" in infos[0].summary
    assert "(7 − 3 + 2·1)/2 + 1 = 4" in infos[1].summary and "⌊" not in infos[1].summary
    assert infos[1].operation == "average pooling"
    assert infos[-1].out_shape == tuple(model(x).shape[1:])
    assert "height ⌊(4 − 3 + 2·1)/2⌋ + 1 = 2, width (4 − 2 + 2·0)/1 + 1 = 3" in infos[-1].summary


def _shown_probability(text: str) -> float:
    last = text.rsplit(" = ", 1)[1]
    mantissa, _, exponent = last.partition("·10^")
    return float(mantissa) * 10 ** int(exponent or 0)


@pytest.mark.parametrize("seed", range(5))
def test_softmax_formula_agrees_with_torch_to_the_digits_shown(seed):
    logits = torch.randn(10, generator=torch.Generator().manual_seed(seed)) * 4
    reference = torch.softmax(logits.double(), 0).numpy()
    top = int(logits.argmax())
    text = softmax_formula(logits, [str(d) for d in range(10)])
    assert text.startswith(f"p({top}) = e^{{z_{top}}} / Σ_j e^{{z_j}} = e^{{{logits[top]:.2f}}} / (")
    assert "… (7 more))" in text
    assert _shown_probability(text) == pytest.approx(round(float(reference[top]), 3), abs=1e-12)
    for k in range(3):  # the three largest terms are written, largest first
        assert f"e^{{{logits.sort(descending=True).values[k]:.2f}}}" in text.split(" / (")[1]
    low = int(logits.argmin())  # a tiny probability keeps three significant digits
    text = softmax_formula(logits, [str(d) for d in range(10)], index=low)
    assert _shown_probability(text) == pytest.approx(float(reference[low]), rel=5e-3)


def test_softmax_formula_with_few_classes_and_large_logits():
    text = softmax_formula(np.array([800.0, 799.0]), ["cat", "dog"])
    assert "(e^{800.00} + e^{799.00}) =" in text and "more" not in text
    assert _shown_probability(text) == round(1 / (1 + np.exp(-1)), 3)


# ---------------------------------------------------------------------------- colour scales

def test_diverging_bar_ends_have_the_feature_map_colours_of_the_minimum_and_maximum():
    maps = np.linspace(-0.3, 2.1, 16, dtype=np.float32).reshape(1, 4, 4)
    lo, hi = map_range(maps)
    assert (lo, hi) == pytest.approx((-0.3, 2.1))
    bar = np.asarray(colour_bar(lo, hi, width=200, height=30))
    grid = np.asarray(feature_map_grid(maps, "C1", tile=4))   # 1 pixel a value
    np.testing.assert_array_equal(bar[0, 0], grid[0, 0])     # the minimum's colour
    np.testing.assert_array_equal(bar[0, -1], grid[3, 3])    # the maximum's colour
    assert not (bar[0, 0] == bar[0, -1]).all()
    assert (bar[16:, :20] < 150).any() and (bar[16:, -20:] < 150).any()  # values written


def test_symmetric_bar_is_white_in_the_middle_and_heat_runs_dark_to_bright():
    bar = np.asarray(colour_bar(-5, 5, width=101))
    np.testing.assert_array_equal(bar[0, 0], MATPLOTLIB_RDBU_R[0])
    np.testing.assert_array_equal(bar[0, 50], MATPLOTLIB_RDBU_R[128])
    np.testing.assert_array_equal(bar[0, -1], MATPLOTLIB_RDBU_R[255])
    heat = np.asarray(colour_bar(0, 1, kind="heat"))
    np.testing.assert_array_equal(heat[0, 0], MATPLOTLIB_INFERNO[0])
    np.testing.assert_array_equal(heat[0, -1], MATPLOTLIB_INFERNO[255])
    with pytest.raises(ValueError):
        colour_bar(1, 0)


# ---------------------------------------------------------------------------- kernels

@pytest.mark.parametrize("shape", [(6, 1, 5, 5), (16, 6, 5, 5), (16, 3, 5, 5), (128, 16, 5, 5)])
def test_every_kernel_tile_has_its_weights_colours_on_one_layer_scale(shape):
    steps = np.random.default_rng(0).integers(0, 256, shape)   # each weight on a step of the
    steps.flat[:2] = 0, 255                                     # layer's scale, -0.8 to 0.8
    w = torch.from_numpy(on_steps(steps, -0.8, 0.8))
    grid = np.asarray(kernel_grid(w, title="layer"))
    assert max(grid.shape[:2]) <= 1000
    layout = _kernel_layout(*shape, 1000, "layer")
    p = layout.pixels
    assert p >= 2
    rng = np.random.default_rng(0)
    picks = [(0, 0), (shape[0] - 1, shape[1] - 1)] + [
        (int(rng.integers(shape[0])), int(rng.integers(shape[1]))) for _ in range(8)]
    for o, i in picks:
        x, y = layout.tile(o, i)
        tile = grid[y:y + 5 * p, x:x + 5 * p]
        expected = matplotlib_colours("RdBu_r", steps[o, i])
        np.testing.assert_array_equal(tile[::p, ::p], expected)              # each weight...
        np.testing.assert_array_equal(tile[p - 1::p, p - 1::p], expected)    # ...a p x p block


def test_one_scale_for_the_whole_layer_not_one_per_kernel():
    w = np.full((4, 2, 3, 3), 0.01)
    w[0, 0, 0, 0] = 1.0
    grid = np.asarray(kernel_grid(w))
    layout = _kernel_layout(4, 2, 3, 3, 1000)
    x, y = layout.tile(0, 0)
    np.testing.assert_array_equal(grid[y, x], MATPLOTLIB_RDBU_R[255])        # the largest weight
    x, y = layout.tile(3, 1)
    assert (grid[y, x].astype(int) > 230).all()                      # small ones stay pale


# ---------------------------------------------------------------------------- input steps

DIGITS = {
    "ring": ring(),
    "shifted": 255 - ring(size=400, centre=(300, 90), height=110, width=70, stroke=14),
    "white on black": ring(size=300, centre=(150, 150), height=200, width=130, stroke=25),
    "thin stroke": 255 - ring(size=800, centre=(400, 400), height=600, width=380, stroke=3),
    "fat stroke": ring(size=300, centre=(150, 150), height=200, width=130, stroke=50),
    "blank": np.full((100, 100), 255, np.uint8),
}


@pytest.mark.parametrize("kind", list(DIGITS))
def test_digit_steps_end_with_exactly_what_the_network_gets(kind):
    image = Image.fromarray(DIGITS[kind])
    steps = digit_steps(image)
    digit = digit_from_image(image)
    caption, last = steps[-1]
    assert last.mode == "L" and "what the network gets" in caption
    np.testing.assert_array_equal(np.asarray(last), (digit.pixels * 255).round().astype(np.uint8))
    captions = " | ".join(c for c, _ in steps)
    assert captions.startswith(f"received: {image.width}x{image.height}")
    if kind == "blank":
        assert len(steps) == 3 and "no ink" in captions and "nothing drawn" in captions
        return
    assert len(steps) == 6
    polarity = "light ink on dark" if kind in ("ring", "white on black", "fat stroke") else \
        "dark ink on light paper"
    assert polarity in steps[1][0]
    assert {"thin stroke": "thickened by", "fat stroke": "thinned by"}.get(kind, "kept") in steps[3][0]
    cy, cx = centre_of_mass(digit.pixels)
    assert f"row {cy:.1f}, column {cx:.1f}" in steps[4][0]


def test_photo_steps_crop_the_centre_and_end_with_photo_to_array():
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (300, 500, 4), dtype=np.uint8), "RGBA")
    steps = photo_steps(photo, size=32)
    assert [c for c, _ in steps][:2] == ["received: 500x300", "centre square 300x300 at (100, 0)"]
    np.testing.assert_array_equal(np.asarray(steps[-1][1]), photo_to_array(photo, 32))
    shown = np.asarray(steps[1][1], dtype=float)
    assert shown[:, :95].mean() < 0.6 * shown[:, 105:395].mean()    # outside the square dimmed


def test_steps_strip_enlarges_small_pictures_crisply_and_captions_them():
    checker = Image.fromarray((np.indices((4, 4)).sum(0) % 2 * 255).astype(np.uint8), "L")
    strip = np.asarray(steps_strip([("a checker", checker), ("again", checker)], height=40))
    assert strip.shape[0] > 40 and strip.shape[1] > 2 * 40
    tiles = strip[4:44]                            # the pictures' rows
    grey = tiles[(tiles != 0).any(-1) & (tiles != 255).any(-1)]
    assert len(grey) < 40 * 20                     # only the arrow is neither black nor white
    assert (tiles == 0).all(-1).sum() == 2 * 8 * 10 * 10   # 8 black cells of 10x10, twice
    assert (strip[46:] < 150).any()                # captions under the pictures


def test_the_pads_steps_end_with_exactly_what_the_network_gets():
    from helpers import seven_png

    from lenet.inputs.pad import pad_digit, pad_ink
    from lenet.pictures.input_steps import pad_steps
    image = Image.open(io.BytesIO(seven_png(280)))
    steps = pad_steps(image)
    captions = [caption for caption, _ in steps]
    assert captions[0].startswith("received: 280x280") and "cropped to the ink" in captions[1]
    assert "fitted into 20x20" in captions[2] and "centre of mass" in captions[3]
    expected = (pad_digit(pad_ink(image)).pixels * 255).round().astype(np.uint8)
    assert np.array_equal(np.asarray(steps[-1][1]), expected)
    blank = pad_steps(Image.new("RGB", (280, 280), "white"))
    assert len(blank) == 2 and "nothing drawn" in blank[-1][0]


@pytest.mark.parametrize("model, shape, total, last_shape", [
    (LeNet5(), (1, 28, 28), 61706, "10"), (ConvNet(), (3, 32, 32), 258058, "10")])
def test_architecture_table_adds_up(model, shape, total, last_shape):
    rows = architecture_rows(model, shape)
    assert rows[-1][0] == "total" and rows[-1][-1] == total
    assert sum(r[-1] for r in rows[:-1]) == total
    assert rows[-2][3] == last_shape
    if isinstance(model, LeNet5):
        c1 = next(r for r in rows if r[0] == "C1")
        assert c1[1] == "conv 1→6 + ReLU" and c1[2] == "5x5 / s1 / p2" and c1[3] == "6x28x28"
