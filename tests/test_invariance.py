"""The invariance lab: transforms against hand-placed pixels and ``torch.rot90``, curves at
the unchanged input against a plain forward pass, occlusion on a digit's empty paper."""
import numpy as np
import pytest
import torch
from helpers import random_classifier, ring

from lenet.inside.inference import Classifier
from lenet.inside.invariance import (
    InvarianceError,
    occlusion_map,
    probabilities,
    rotation_curve,
    shift_curve,
    transform,
)
from lenet.inside.prng import Draws
from lenet.net.checkpoint import default_checkpoint
from lenet.net.models import normalize
from lenet.pictures.visualize import occlusion_picture


def plain_probabilities(clf, pixels: torch.Tensor) -> np.ndarray:
    """What ``clf.predict`` computes for these pixels: one image, softmax of the logits."""
    with torch.inference_mode():
        logits, _ = clf.forward(normalize(pixels[None], clf.mean, clf.std))
    return torch.softmax(logits[0], 0).numpy()


@pytest.fixture(scope="module", params=["lenet5", "convnet"])
def clf(request):
    return random_classifier(request.param)


def test_identity_returns_the_input_unchanged():
    x = torch.rand(3, 32, 32)
    assert torch.equal(transform(x), x)
    assert torch.equal(transform(x, 0, 0, 0, 1.0, 0, 0.0, None), x)
    batch = torch.rand(4, 1, 28, 28)
    assert torch.equal(transform(batch), batch)


def test_shift_moves_a_bright_pixel_by_whole_pixels():
    x = torch.zeros(1, 28, 28)
    x[0, 10, 7] = 1
    right = transform(x, shift_x=3)
    expected = torch.zeros(1, 28, 28)
    expected[0, 10, 10] = 1
    torch.testing.assert_close(right, expected, atol=1e-5, rtol=0)
    down_left = transform(x, shift_x=-2, shift_y=4)
    assert down_left[0, 14, 5] == pytest.approx(1, abs=1e-5) and down_left.sum() == pytest.approx(1)
    several = transform(x, shift_x=[0, 1, 2])             # one image per shift
    assert several.shape == (3, 1, 28, 28)
    assert [int(several[i, 0, 10].argmax()) for i in range(3)] == [7, 8, 9]


@pytest.mark.parametrize("channels, side", [(1, 28), (3, 32)])
def test_rotation_by_90_degrees_is_rot90(channels, side):
    x = torch.zeros(channels, side, side)
    x[:, 3:20, 5:8] = 1.0                                 # an "L": tall bar and a foot
    x[:, 17:20, 8:15] = 0.6
    x[-1, 0, side - 1] = 0.9                              # top-right corner pixel
    turned = transform(x, rotation=90)
    torch.testing.assert_close(turned, torch.rot90(x, 1, dims=(-2, -1)), atol=1e-5, rtol=0)
    assert turned[-1, 0, 0] == pytest.approx(0.9, abs=1e-5)  # counter-clockwise: to top-left


def test_scale_enlarges_about_the_centre():
    x = torch.zeros(1, 28, 28)
    x[0, 12:16, 12:16] = 1                                # 4x4 square round the centre
    bigger = transform(x, scale=1.5)
    assert (bigger > 0.5).sum() == 36                     # 6x6 at one and a half times


def test_stroke_grows_and_shrinks_by_one_pixel():
    x = torch.zeros(1, 28, 28)
    x[0, 10, 10] = 1
    thick = transform(x, stroke=1)
    expected = torch.zeros(1, 28, 28)
    expected[0, 9:12, 9:12] = 1
    assert torch.equal(thick, expected)
    assert torch.equal(transform(thick, stroke=-1), x)
    with pytest.raises(InvarianceError, match="digits only"):
        transform(torch.rand(3, 32, 32), stroke=1)


def test_noise_is_reproducible_with_its_seed():
    x = torch.full((1, 28, 28), 0.5)
    a, b = transform(x, noise=0.2, seed=3), transform(x, noise=0.2, seed=3)
    assert torch.equal(a, b) and not torch.equal(a, transform(x, noise=0.2, seed=4))
    assert 0.15 < float((a - x).std()) < 0.25 and 0 <= a.min() and a.max() <= 1


def test_noise_is_the_projects_draws_the_same_for_every_image():
    """The page draws the same numbers (web/prng.js), so a seed gives the same noisy input in
    both; a curve's images share one noise field, so they differ by the swept slider alone."""
    x = torch.full((3, 32, 32), 0.5)
    field = Draws(5).normal(3 * 32 * 32).reshape(3, 32, 32)
    expected = np.clip(0.5 + np.float32(0.1 * field), 0, 1)
    np.testing.assert_allclose(transform(x, noise=0.1, seed=5).numpy(), expected, atol=1e-7, rtol=0)
    several = transform(torch.rand(1, 28, 28), shift_x=[0, 0, 0], noise=0.3)
    assert torch.equal(several[0], several[1]) and torch.equal(several[1], several[2])


def test_erase_fills_with_the_background():
    digit = transform(torch.ones(1, 28, 28), erase=(2, 3, 5))
    assert digit[0, 2:7, 3:8].sum() == 0 and digit.sum() == 28 * 28 - 25
    photo = transform(torch.ones(3, 32, 32), erase=(30, 30, 8))   # clipped at the edge
    assert (photo[:, 30:, 30:] == 0.5).all() and (photo == 0.5).sum() == 3 * 4


def test_curves_at_the_unchanged_input_equal_the_plain_prediction(clf):
    pixels = torch.rand(clf.channels, clf.height, clf.width)
    plain = plain_probabilities(clf, pixels)
    turned = rotation_curve(clf, pixels)
    moved = shift_curve(clf, pixels)
    assert turned.probabilities.shape == (25, 10) and moved.probabilities.shape == (17, 10)
    np.testing.assert_allclose(turned.probabilities[list(turned.values).index(0)], plain, atol=1e-5)
    np.testing.assert_allclose(moved.probabilities[list(moved.values).index(0)], plain, atol=1e-5)
    np.testing.assert_allclose(probabilities(clf, pixels)[0], plain, atol=1e-5)
    # away from 0 the curve follows the transformed image's own prediction
    np.testing.assert_allclose(moved.probabilities[-1],
                               plain_probabilities(clf, transform(pixels, shift_x=8)), atol=1e-5)


def test_occlusion_drop_is_zero_over_empty_paper():
    clf = Classifier.from_checkpoint(default_checkpoint("lenet5"))
    pixels = torch.tensor(ring(), dtype=torch.float32)[None] / 255   # a "0" in rows 4-24
    occlusion = occlusion_map(clf, pixels, size=6, stride=2)
    assert occlusion.drop.shape == (12, 12) and occlusion.heat.shape == (28, 28)
    plain = plain_probabilities(clf, pixels)
    assert occlusion.class_index == int(plain.argmax()) == 0
    assert occlusion.probability == pytest.approx(float(plain[0]), abs=1e-5)
    # squares at the four corners (top-left at 0 or 22) cover paper only
    for r, c in ((0, 0), (0, 11), (11, 0), (11, 11)):
        assert occlusion.drop[r, c] == pytest.approx(0, abs=1e-6)
    assert occlusion.drop.max() > 0.01                  # hiding the ring costs confidence
    # pixel (0, 0) lies under square (0, 0) alone; pixel (2, 2) under four squares
    assert occlusion.heat[0, 0] == pytest.approx(occlusion.drop[0, 0], abs=1e-7)
    assert occlusion.heat[2, 2] == pytest.approx(occlusion.drop[:2, :2].mean(), abs=1e-7)


def test_occlusion_on_a_photo_has_one_place_per_stride(clf):
    pixels = torch.rand(clf.channels, clf.height, clf.width)
    occlusion = occlusion_map(clf, pixels, size=8, stride=4)
    places = (clf.height - 8) // 4 + 1
    assert occlusion.drop.shape == (places, places)
    hidden = pixels.clone()
    hidden[:, 4:12, 8:16] = occlusion.fill
    expected = plain_probabilities(clf, pixels) - plain_probabilities(clf, hidden)
    assert occlusion.drop[1, 2] == pytest.approx(expected[occlusion.class_index], abs=1e-5)
    assert occlusion_picture(pixels, occlusion, size=112).size[0] >= 3 * clf.width


def test_wrong_input_size_is_a_one_line_error(clf):
    with pytest.raises(InvarianceError, match="takes"):
        probabilities(clf, torch.rand(2, 30, 30))

