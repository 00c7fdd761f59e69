"""Building blocks: convolutions, ReLU and pooling against numbers worked out by hand and
against ``F.conv2d``; kernels, the channel rule, user kernels and the channel grid."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from lenet.inside.blocks import (
    BlockError,
    KernelError,
    area_resize,
    fitted_size,
    image_to_tensor,
    learned_kernel,
    make_kernel,
    run_block,
    user_kernel,
)
from lenet.inside.inference import Classifier
from lenet.inside.prng import Draws
from lenet.net.checkpoint import default_checkpoint, read_checkpoint
from lenet.pictures.visualize import maps_grid


def image(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32)[None, None]


# 4x4 image (tenths), so that every neighbour sum can be checked on paper
SMALL = image([[1, 2, 3, 0], [4, 5, 6, 0], [7, 8, 9, 0], [0, 0, 0, 0]]) / 10


def test_laplacian_matches_the_hand_computation():
    # centre 5: 2 + 8 + 4 + 6 − 4·5 = 0;  6: 3 + 9 + 5 + 0 − 24 = −7
    # 8: 5 + 0 + 7 + 9 − 32 = −11;        9: 6 + 0 + 8 + 0 − 36 = −22
    valid = run_block(SMALL, make_kernel("laplacian"))
    np.testing.assert_allclose(valid.conv[0].numpy(), np.array([[0, -7], [-11, -22]]) / 10,
                               atol=1e-6)
    # padding 1 puts zeros round the edge: corner 1 sees 4 + 2 − 4·1 = 2, and so on
    padded = run_block(SMALL, make_kernel("laplacian"), padding=1)
    expected = np.array([[2, 1, -4, 3],
                         [-3, 0, -7, 6],
                         [-16, -11, -22, 9],
                         [7, 8, 9, 0]]) / 10
    np.testing.assert_allclose(padded.conv[0].numpy(), expected, atol=1e-6)
    relu = run_block(SMALL, make_kernel("laplacian"), padding=1, relu=True)
    np.testing.assert_allclose(relu.activated[0].numpy(), np.maximum(expected, 0), atol=1e-6)
    bias = run_block(SMALL, make_kernel("laplacian"), bias=0.5)
    np.testing.assert_allclose(bias.conv[0].numpy(), np.array([[5, -2], [-6, -17]]) / 10,
                               atol=1e-6)


def test_derivative_pair_on_an_edge_each_channel_keeps_one_sign_after_relu():
    # dark rows 0-1 above bright rows 2-4: brightness rises going down. The column kernel
    # [1, 0, -1]ᵀ gives x[y-1] − x[y+1] at rows 1, 2, 3: −1, −1, 0; its negative +1, +1, 0.
    rises = image([[0] * 3] * 2 + [[1] * 3] * 3)
    result = run_block(rises, make_kernel("derivative_pair"))
    assert result.conv.shape == (2, 3, 3)              # a 3x1 kernel keeps the width
    np.testing.assert_array_equal(result.conv[0].numpy(), [[-1] * 3, [-1] * 3, [0] * 3])
    np.testing.assert_array_equal(result.conv[1].numpy(), [[1] * 3, [1] * 3, [0] * 3])
    kept = run_block(rises, make_kernel("derivative_pair"), relu=True).activated
    assert kept[0].abs().sum() == 0 and kept[1].sum() == 6
    falls = run_block(rises.flip(2), make_kernel("derivative_pair"), relu=True).activated
    assert falls[0].sum() == 6 and falls[1].abs().sum() == 0
    # an edge running up and down (left dark, right bright) has no vertical derivative
    vertical_edge = image([[0, 0, 1, 1]] * 5)
    assert run_block(vertical_edge, make_kernel("derivative_pair")).conv.abs().sum() == 0


@pytest.mark.parametrize("n, k, stride, padding", [(28, 3, 1, 1), (28, 5, 2, 0), (28, 5, 1, 2),
                                                   (32, 5, 3, 1), (7, 7, 1, 0), (9, 3, 2, 2)])
def test_output_sizes_follow_the_formula_and_conv2d(n, k, stride, padding):
    x = torch.rand(1, 1, n, n)
    result = run_block(x, make_kernel("random", 1, count=4, size=k), stride=stride,
                       padding=padding)
    by_hand = (n - k + 2 * padding) // stride + 1
    reference = F.conv2d(x, torch.ones(4, 1, k, k), stride=stride, padding=padding)
    assert result.conv.shape == reference.shape[1:] == (4, by_hand, by_hand)
    assert result.size_formula["conv"].endswith(f"= {by_hand} → 4×{by_hand}×{by_hand}")


def test_size_formula_reads_as_written_by_hand():
    result = run_block(torch.rand(1, 1, 28, 28), make_kernel("laplacian"), padding=1, pool="max")
    assert result.size_formula == {"conv": "(28 − 3 + 2·1)/1 + 1 = 28 → 1×28×28",
                                   "pool": "(28 − 2)/2 + 1 = 14 → 1×14×14"}
    assert result.shapes == {"input": (1, 28, 28), "conv": (1, 28, 28), "pool": (1, 14, 14)}
    odd = run_block(torch.rand(1, 1, 28, 28), make_kernel("random", count=1), stride=2)
    assert odd.size_formula["conv"] == "⌊(28 − 5 + 2·0)/2⌋ + 1 = 12 → 1×12×12"
    tall = run_block(torch.rand(1, 1, 28, 28), make_kernel("derivative_pair"))
    assert tall.size_formula["conv"] == ("height (28 − 3 + 2·0)/1 + 1 = 26, "
                                         "width (28 − 1 + 2·0)/1 + 1 = 28 → 2×26×28")


def test_max_and_average_pooling_on_a_hand_made_4x4():
    x = image([[1, 3, 2, 0], [5, 4, 1, 1], [0, 2, 8, 6], [1, 1, 7, 9]]) / 10
    identity = make_kernel("identity")
    maxed = run_block(x, identity, padding=1, pool="max").pooled[0]
    averaged = run_block(x, identity, padding=1, pool="avg").pooled[0]
    np.testing.assert_allclose(maxed.numpy(), np.array([[5, 2], [2, 9]]) / 10, atol=1e-6)
    np.testing.assert_allclose(averaged.numpy(), np.array([[13, 4], [4, 30]]) / 40, atol=1e-6)


def test_random_bank_is_the_projects_seeded_draw():
    """The bank is Draws(seed).normal in (O, I, kh, kw) order, as web/prng.js draws it (the
    page's twin, tests/test_prng.py), so that a seed gives the same filters in both."""
    bank = make_kernel("random", 3, count=10, size=5, seed=0)
    assert bank.shape == (10, 3, 5, 5) and bank.dtype == torch.float32
    drawn = torch.from_numpy(Draws(0).normal(750)).float().view(10, 3, 5, 5)
    torch.testing.assert_close(bank, drawn, rtol=0, atol=0)
    torch.testing.assert_close(make_kernel("random", 3, seed=0), bank, rtol=0, atol=0)
    assert not torch.equal(make_kernel("random", 3, seed=1), bank)
    big = make_kernel("random", 3, count=32, size=7, seed=5)   # 4704 numbers from N(0, 1)
    assert abs(big.mean()) < 0.05 and abs(big.std() - 1) < 0.05


def test_learned_filter_is_the_checkpoints_weight():
    tensors, _ = read_checkpoint(default_checkpoint("lenet5"))
    clf = Classifier.from_checkpoint(default_checkpoint("lenet5"))
    kernel = learned_kernel(clf.model.features.C1.weight, in_channels=1)
    torch.testing.assert_close(kernel, tensors["features.C1.weight"], rtol=0, atol=0)
    kernel.zero_()                                     # a copy: the model is untouched
    torch.testing.assert_close(clf.model.features.C1.weight, tensors["features.C1.weight"])


def test_single_channel_kernels_see_colour_as_the_grey_mean():
    rgb = torch.rand(1, 3, 12, 12)
    out = run_block(rgb, make_kernel("laplacian", 3)).conv
    grey = F.conv2d(rgb.mean(1, keepdim=True), torch.tensor([[[[0., 1, 0], [1, -4, 1], [0, 1, 0]]]]))
    torch.testing.assert_close(out, grey[0], atol=1e-6, rtol=0)
    # three-channel filters on a grey image see it as R = G = B
    weights = torch.randn(4, 3, 5, 5)
    grey_image = torch.rand(1, 1, 12, 12)
    torch.testing.assert_close(run_block(grey_image, weights).conv,
                               F.conv2d(grey_image.expand(1, 3, 12, 12), weights)[0],
                               atol=1e-5, rtol=0)


def test_user_kernels_accept_numbers_and_number_text():
    kernel = user_kernel([[0, "1", 0], [1, -4.0, 1], [0, 1, " 0 "]])
    torch.testing.assert_close(kernel, torch.tensor([[[[0., 1, 0], [1, -4, 1], [0, 1, 0]]]]))
    assert user_kernel(np.eye(3)).shape == (1, 1, 3, 3)


@pytest.mark.parametrize("rows, words", [
    ([[0, 1, 0], [1, -4, 1]], "3 rows"),
    ([[0, 1], [1, -4, 1], [0, 1, 0]], "row 1"),
    ([[0, 1, 0], [1, "abc", 1], [0, 1, 0]], "row 2, column 2"),
    ([[0, 1, 0], [1, -4, 1], [0, None, 0]], "row 3, column 2"),
    ([[0, 1, 0], [1, float("nan"), 1], [0, 1, 0]], "finite"),
    ([[True, 1, 0], [1, -4, 1], [0, 1, 0]], "not a number"),
    ("laplacian", "3 rows"),
])
def test_bad_user_kernels_get_one_line_errors(rows, words):
    with pytest.raises(KernelError, match=words) as info:
        user_kernel(rows)
    assert isinstance(info.value, ValueError) and "\n" not in str(info.value)


def test_impossible_settings_get_one_line_errors():
    with pytest.raises(BlockError, match="larger than its 4x4 input") as info:
        run_block(torch.rand(1, 1, 4, 4), make_kernel("random", count=1, size=5))
    assert "\n" not in str(info.value)
    with pytest.raises(BlockError, match="pool"):
        run_block(torch.rand(1, 1, 8, 8), make_kernel("identity"), pool="median")
    with pytest.raises(KernelError, match="unknown kernel"):
        make_kernel("emboss")


def test_each_tile_is_its_map_scaled_to_unit_range():
    maps = torch.randn(5, 6, 7)
    maps[4] = 3.0                                      # constant: all zero
    for view, shown in (("scaled", maps), ("neg_abs", -maps.abs())):
        grid = np.asarray(maps_grid(maps, view, nrow=3, padding=2)) / 255
        assert grid.shape == (2 + 2 * (6 + 2), 2 + 3 * (7 + 2))   # make_grid's layout
        for k in range(5):
            y, x = 2 + (k // 3) * 8, 2 + (k % 3) * 9
            m = shown[k].numpy()
            spread = m.max() - m.min()
            expected = (m - m.min()) / spread if spread else np.zeros_like(m)
            np.testing.assert_allclose(grid[y:y + 6, x:x + 7], expected, atol=0.51 / 255)


def test_image_to_tensor_bounds_size_and_channels():
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 256, (600, 1000, 3), np.uint8))
    x = image_to_tensor(photo, max_side=512)
    assert x.shape == (1, 3, 307, 512) and 0 <= x.min() and x.max() <= 1
    assert image_to_tensor(photo, grey=True, max_side=64).shape == (1, 1, 38, 64)
    drawing = Image.new("RGBA", (20, 20), (0, 0, 0, 0))     # transparent paper -> white
    assert image_to_tensor(drawing).min() == 1
    assert image_to_tensor(Image.new("L", (28, 28))).shape == (1, 1, 28, 28)
    turned = Image.new("RGB", (40, 20), (200, 30, 30))
    turned.getexif()[0x0112] = 6                            # EXIF: shown turned 90 degrees
    assert image_to_tensor(turned).shape == (1, 3, 40, 20)


def test_a_grey_picture_is_one_channel_whatever_its_files_mode():
    grey = np.random.default_rng(1).integers(0, 256, (30, 40), np.uint8)
    as_rgb = image_to_tensor(Image.fromarray(np.stack([grey] * 3, -1)))   # R = G = B: grey
    assert as_rgb.shape == (1, 1, 30, 40)
    torch.testing.assert_close(as_rgb[0, 0], torch.from_numpy(grey / 255).float(), rtol=0, atol=0)
    tinted = np.stack([grey] * 3, -1)
    tinted[0, 0, 2] ^= 1                                    # one pixel a little blue: colour
    assert image_to_tensor(Image.fromarray(tinted)).shape == (1, 3, 30, 40)


def test_shrinking_averages_the_area_each_pixel_covers():
    """Against the area mean worked out another way: each input pixel repeated n_out times
    (exact), then blocks of n_in averaged, in exact fractions."""
    from fractions import Fraction
    rng = np.random.default_rng(2)
    for n_in, n_out in ((4, 2), (5, 3), (7, 2), (1000, 512), (13, 13)):
        row = rng.integers(0, 256, n_in)
        repeated = np.repeat(row, n_out)
        exact = [sum(map(Fraction, repeated[i * n_in:(i + 1) * n_in].tolist())) / n_in
                 for i in range(n_out)]
        got = area_resize(row[None].astype(np.float64), n_out, axis=1)[0]
        np.testing.assert_allclose(got, [float(v) for v in exact], rtol=1e-12, atol=1e-9)
    square = image([[1, 3, 2, 0], [5, 4, 1, 1], [0, 2, 8, 6], [1, 1, 7, 9]])[0, 0].double().numpy()
    halved = area_resize(area_resize(square, 2, axis=1), 2, axis=0)
    np.testing.assert_allclose(halved, np.array([[13, 4], [4, 30]]) / 4)   # 2x2 means
    assert fitted_size(1000, 600, 512) == (512, 307) and fitted_size(300, 200, 512) == (300, 200)
    assert fitted_size(2000, 1, 512) == (512, 1)             # never 0 pixels
