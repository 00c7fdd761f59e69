"""The engine: requests leave the model untouched (no hooks, no gradients), probabilities,
Grad-CAM against a hand computation, pictures, and the sketch-style accuracy of the committed
LeNet-5 on redrawn MNIST digits."""
import numpy as np
import pytest
import torch
from conftest import SHARED_DATA
from helpers import random_classifier, ring
from PIL import Image
from torch import nn

from lenet.inside.inference import Classifier, InputError, grad_cam, saliency
from lenet.net.checkpoint import default_checkpoint
from lenet.pictures.prediction import render_pictures

LENET_SHAPES = {"C1": (6, 28, 28), "S2": (6, 14, 14), "C3": (16, 10, 10), "S4": (16, 5, 5),
                "C5": (120, 1, 1)}
CONVNET_SHAPES = {"conv1": (16, 28, 28), "pool1": (16, 14, 14), "conv2": (128, 10, 10),
                  "pool2": (128, 5, 5)}


def untouched(model: nn.Module) -> bool:
    """No hooks registered and no gradient written: a request left the model as it was."""
    return all(not m._forward_hooks and not m._forward_pre_hooks and not m._backward_hooks
               for m in model.modules()) and all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("name, shapes, source", [
    ("lenet5", LENET_SHAPES, Image.fromarray(ring())),
    ("convnet", CONVNET_SHAPES, Image.new("RGB", (50, 40), (200, 30, 30))),
])
def test_every_conv_and_pool_layer_is_kept_and_the_model_is_left_alone(name, shapes, source):
    clf = random_classifier(name)
    result = clf.predict(source)
    render_pictures(clf, result, clf.heatmaps(result))
    assert {k: v.shape for k, v in result.feature_maps.items()} == shapes
    assert untouched(clf.model)
    assert not any(p.requires_grad for p in clf.model.parameters())
    # The captured maps are the layers' real outputs: recompute them by hand, layer by layer.
    x = result.tensor
    with torch.no_grad():
        for layer_name, layer in clf.model.features.named_children():
            x = layer(x)
            if layer_name in shapes:
                np.testing.assert_allclose(result.feature_maps[layer_name], x[0].numpy(), atol=1e-6)
        logits = clf.model(result.tensor)[0]
        expected = torch.softmax(logits, 0).numpy()
    np.testing.assert_allclose(result.logits, logits.numpy(), atol=1e-5)
    np.testing.assert_allclose(result.probabilities, expected, atol=1e-6)
    assert result.probabilities.sum() == pytest.approx(1, abs=1e-5)
    assert result.label == clf.classes[int(expected.argmax())]
    assert [c for c, _ in result.top(3)] == [clf.classes[i] for i in np.argsort(-expected)[:3]]


def test_forward_returns_the_models_logits_and_every_layer_for_a_batch():
    clf = random_classifier("lenet5")
    x = torch.rand(3, 1, 28, 28)
    logits, outputs = clf.forward(x)
    with torch.no_grad():
        np.testing.assert_allclose(logits, clf.model(x), atol=1e-6)
    assert list(outputs) == ["C1", "C1_relu", "S2", "C3", "C3_relu", "S4", "C5", "C5_relu",
                             "F6", "F6_relu", "output"]
    assert outputs["F6"].shape == (3, 84) and outputs["output"] is logits
    np.testing.assert_allclose(outputs["C1_relu"], outputs["C1"].clamp(min=0))


def test_blank_input_says_nothing_drawn():
    result = random_classifier("lenet5").predict(Image.new("RGB", (280, 280), "white"))
    assert result.empty and result.label == "nothing drawn"
    assert result.top(3) == [] and result.confidences() == {}


def test_input_view_is_what_the_network_receives():
    clf = random_classifier("convnet")
    result = clf.predict(Image.new("RGB", (64, 32), (0, 128, 255)))
    assert result.input_image.size == (32, 32) and result.input_image.mode == "RGB"
    # tensor = (pixels / 255 - 0.5) / 0.5
    view = np.asarray(result.input_image, np.float32).transpose(2, 0, 1) / 255
    np.testing.assert_allclose(result.tensor[0].numpy(), (view - 0.5) / 0.5, atol=1e-6)


def test_grad_cam_matches_a_hand_computed_case():
    # features: 1x1 conv with weights [1, -1] -> A0 = x, A1 = -x; head: linear on the maps.
    conv = nn.Conv2d(1, 2, 1, bias=False)
    linear = nn.Linear(8, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, -1.0]).view(2, 1, 1, 1))
        linear.weight.copy_(torch.tensor([[1, 1, 1, 1, 2, 0, 0, 0]], dtype=torch.float32))
    model = nn.Sequential(conv, nn.Flatten(), linear)
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    # dy/dA0 = 1 everywhere -> alpha0 = 1; dy/dA1 = [[2, 0], [0, 0]] -> alpha1 = 0.5
    # cam = relu(1 * x + 0.5 * (-x)) = 0.5 x = [[.5, 1], [1.5, 2]]; scaled by its max (2).
    cam = grad_cam(model, x, "0", 0)
    np.testing.assert_allclose(cam, [[0.25, 0.5], [0.75, 1.0]], atol=1e-6)
    assert untouched(model)


def test_saliency_of_a_linear_model_is_its_weights():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, bias=False))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, -4.0, 2.0, 0.0], [0, 0, 0, 1]]))
    np.testing.assert_allclose(saliency(model, torch.rand(1, 1, 2, 2), 0),
                               [[0.25, 1.0], [0.5, 0.0]], atol=1e-6)


def test_grad_cam_uses_the_last_conv_with_spatial_extent():
    assert random_classifier("lenet5").cam_layer == "C3"      # C5 is 1x1
    assert random_classifier("lenet5").cam_output == "C3_relu"
    assert random_classifier("convnet").cam_output == "conv2_tanh"


def test_pictures_are_crisp_images_of_every_layer():
    clf = random_classifier("lenet5")
    result = clf.predict(Image.fromarray(ring()))
    pictures = render_pictures(clf, result, clf.heatmaps(result))
    assert set(pictures.feature_maps) == set(LENET_SHAPES)
    assert set(pictures.linear) == {"F6", "output"}
    # The heatmaps: the 28x28 input enlarged (at least twice) with a colour bar under it,
    # so taller than wide.
    assert pictures.grad_cam.size == pictures.saliency.size
    assert pictures.grad_cam.width >= 2 * 28 and pictures.grad_cam.height > pictures.grad_cam.width
    for grid in pictures.feature_maps.values():
        assert grid.mode == "RGB" and min(grid.size) > 20


def test_input_errors_reach_the_caller_as_input_error(tmp_path):
    path = tmp_path / "x.png"
    path.write_bytes(b"not an image at all")
    with pytest.raises(InputError):
        random_classifier("convnet").predict(str(path))


@pytest.mark.slow   # reads the real MNIST test set and redraws 200 digits (~15 s)
def test_sketch_style_accuracy_on_redrawn_mnist_digits():
    if not (SHARED_DATA / "MNIST" / "raw").is_dir():
        pytest.skip(f"{SHARED_DATA}/MNIST/raw is absent: real digits are needed to redraw")
    from lenet.inputs import synth
    from lenet.training.data import load_split
    x, y, _ = load_split("mnist", SHARED_DATA, train=False)
    clf = Classifier.from_checkpoint(default_checkpoint("lenet5"))
    rng = np.random.default_rng(123)
    picks = rng.choice(len(x), 200, replace=False)
    correct = sum(clf.predict(synth.render(x[i, 0].numpy(), rng, synth.FORMATS[k % 4])).label
                  == str(int(y[i])) for k, i in enumerate(picks))
    assert correct / len(picks) >= 0.97  # benchmarks/sketch_accuracy.py measures 2,000


def test_the_activation_toggle_shows_the_layers_own_output_or_the_activations():
    clf = random_classifier("lenet5")
    result = clf.predict(Image.fromarray(ring()))
    before = render_pictures(clf, result, clf.heatmaps(result)).feature_maps["C1"]
    after = render_pictures(clf, result, clf.heatmaps(result), after_activation=True).feature_maps["C1"]
    assert np.asarray(before).tobytes() != np.asarray(after).tobytes()
    # After ReLU nothing is negative: no blue in the tiles (blue has B well above R).
    tiles = np.asarray(after)[:20, :20].astype(int)
    assert not ((tiles[..., 2] - tiles[..., 0]) > 40).any()
    assert clf.activation_of("C1") == "C1_relu" and clf.activation_of("S2") == "S2"
