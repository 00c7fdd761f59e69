"""A model trained with random flips (the ConvNet) answers with the mean of each photo's logits
and its mirror image's; the numbers shown are the numbers the answer comes from."""
import numpy as np
import pytest
import torch
from helpers import random_classifier, ring
from PIL import Image

from lenet.inside.gallery import build_gallery
from lenet.inside.inference import Classifier
from lenet.inside.invariance import input_pixels, probabilities
from lenet.net.checkpoint import answer_accuracy, averages_mirror, default_checkpoint
from lenet.net.models import answer_logits, normalize
from lenet.training.engine import evaluate


def flipped(name: str, seed: int = 0) -> Classifier:
    """A random classifier whose checkpoint states that it answers with the mirror average."""
    clf = random_classifier(name, seed)
    return Classifier(clf.model, {**clf.meta, "mirror_average": True})


def photo(seed: int = 0) -> Image.Image:
    """A lopsided colour photo: its mirror image is a different input."""
    rng = np.random.RandomState(seed)
    pixels = rng.randint(0, 256, (48, 64, 3)).astype(np.uint8)
    pixels[:, :20] = (250, 20, 20)
    return Image.fromarray(pixels)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def test_the_committed_convnet_averages_mirror_images_and_lenet5_does_not():
    assert Classifier.from_checkpoint(default_checkpoint("convnet")).mirror_average
    assert not Classifier.from_checkpoint(default_checkpoint("lenet5")).mirror_average
    assert not random_classifier("convnet").mirror_average  # no recipe recorded: one pass


def test_the_answer_is_the_softmax_of_the_mean_of_both_passes_computed_by_hand():
    clf = flipped("convnet")
    result = clf.predict(photo())
    with torch.no_grad():
        own = clf.model(result.tensor)[0].double().numpy()
        mirror = clf.model(result.tensor.flip(3))[0].double().numpy()
    assert np.abs(own - mirror).max() > 1e-3      # the two passes really differ
    np.testing.assert_allclose(result.own_logits, own, atol=1e-5)
    np.testing.assert_allclose(result.layers["fc2"], own, atol=1e-5)   # the maps are this photo's
    np.testing.assert_allclose(result.mirror_logits, mirror, atol=1e-5)
    np.testing.assert_allclose(result.logits, (own + mirror) / 2, atol=1e-5)
    np.testing.assert_allclose(result.probabilities, softmax((own + mirror) / 2), atol=1e-6)
    assert result.index == int(np.argmax(own + mirror))
    # The same photo through a one-pass classifier of the same weights: its own numbers only.
    single = random_classifier("convnet").predict(photo())
    assert single.mirror_logits is None
    np.testing.assert_allclose(single.logits, own, atol=1e-5)


def test_a_symmetric_photo_and_its_mirror_image_get_the_same_logits():
    clf = flipped("convnet")
    half = np.asarray(photo(1))[:, :32]
    symmetric = Image.fromarray(np.concatenate([half, half[:, ::-1]], axis=1))
    result = clf.predict(symmetric)
    np.testing.assert_allclose(result.mirror_logits, result.own_logits, atol=1e-5)
    np.testing.assert_allclose(result.logits, result.own_logits, atol=1e-5)


def test_evaluate_and_the_invariance_lab_answer_as_predict_does():
    clf = flipped("convnet")
    rng = np.random.RandomState(0)
    x = torch.from_numpy(rng.randint(0, 256, (40, 3, 32, 32)).astype(np.uint8))
    y = torch.from_numpy(rng.randint(0, 10, 40))
    with torch.no_grad():
        xn = normalize(x, clf.mean, clf.std)
        by_hand = ((clf.model(xn) + clf.model(xn.flip(3))) / 2).argmax(1)
        one_pass = clf.model(xn).argmax(1)
    assert (by_hand != one_pass).any()   # the averaging changes some answers of this model
    result = evaluate(clf.model, x, y, mean=clf.mean, std=clf.std, batch_size=16, mirror=True)
    assert torch.equal(result["predictions"], by_hand)
    assert result["accuracy"] == pytest.approx((by_hand == y).float().mean().item())
    # The invariance lab's probabilities at no change are the prediction's.
    prediction = clf.predict(photo())
    p = probabilities(clf, input_pixels(clf, photo()))[0]
    np.testing.assert_allclose(p, prediction.probabilities, atol=1e-5)


def test_the_gallery_keeps_the_answers_averaged_with_mirror_images():
    clf = flipped("convnet", seed=3)
    rng = np.random.RandomState(1)
    x = torch.from_numpy(rng.randint(0, 256, (60, 3, 32, 32)).astype(np.uint8))
    y = torch.from_numpy(rng.randint(0, 10, 60))
    g = build_gallery(clf.model, clf.meta, x, y, n_random=10)
    with torch.no_grad():
        logits = answer_logits(clf.model, normalize(x, clf.mean, clf.std), mirror=True)
    answers = logits.argmax(1).numpy()
    np.testing.assert_array_equal(g.predictions, answers[g.indices])
    assert g.meta["mirror_average"] is True
    assert g.meta["test_accuracy"] == pytest.approx((answers == y.numpy()).mean())


def test_answer_accuracy_reads_the_figure_of_the_app_s_answers():
    assert answer_accuracy({"test_accuracy": 0.7, "hyperparameters": {"flip": False}}) == 0.7
    meta = {"test_accuracy": 0.7, "mirror_test_accuracy": 0.72, "mirror_average": True}
    assert averages_mirror(meta) and answer_accuracy(meta) == 0.72
    assert not averages_mirror({"test_accuracy": 0.7})


def test_digits_are_never_mirror_averaged():
    result = Classifier.from_checkpoint(default_checkpoint("lenet5")).predict(Image.fromarray(ring()))
    assert result.mirror_logits is None
    np.testing.assert_allclose(result.probabilities, softmax(result.own_logits.astype(np.float64)),
                               atol=1e-6)
