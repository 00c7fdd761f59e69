"""The networks against the course's figures and against a hand-computed convolution."""
import numpy as np
import pytest
import torch
from torch import nn

from lenet.net.models import (
    REGISTRY,
    ConvNet,
    CourseNet,
    Dense,
    DenseCifar,
    LeNet5,
    LeNet5Classic,
    after_activation,
    count_parameters,
    layer_table,
    map_layer_names,
)


def trace_shapes(model, x):
    shapes = {}
    for name, layer in model.features.named_children():
        x = layer(x)
        shapes[name] = tuple(x.shape[1:])
    x = torch.flatten(x, 1)
    for name, layer in model.classifier.named_children():
        x = layer(x)
        shapes[name] = tuple(x.shape[1:])
    return shapes


def test_lenet5_shapes_follow_the_course():
    shapes = trace_shapes(LeNet5(), torch.zeros(2, 1, 28, 28))
    assert shapes["C1"] == (6, 28, 28)
    assert shapes["S2"] == (6, 14, 14)
    assert shapes["C3"] == (16, 10, 10)
    assert shapes["S4"] == (16, 5, 5)
    assert shapes["C5"] == (120, 1, 1)
    assert shapes["F6"] == (84,)
    assert shapes["output"] == (10,)


def test_classic_lenet5_has_every_shape_of_lenet5_with_tanh_and_average_pooling():
    x = torch.zeros(2, 1, 28, 28)
    lenet, classic = trace_shapes(LeNet5(), x), trace_shapes(LeNet5Classic(), x)
    assert {k: v for k, v in classic.items() if not k.endswith("_tanh")} == \
        {k: v for k, v in lenet.items() if not k.endswith("_relu")}
    assert [k for k in classic if k.endswith("_tanh")] == ["C1_tanh", "C3_tanh", "C5_tanh",
                                                           "F6_tanh"]
    kinds = {type(m).__name__ for m in LeNet5Classic().modules()}
    assert {"Tanh", "AvgPool2d"} <= kinds and not {"ReLU", "MaxPool2d"} & kinds


def test_classic_s2_averages_each_2x2_block():
    x = torch.rand(1, 6, 28, 28)
    expected = x.numpy().reshape(1, 6, 14, 2, 14, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(LeNet5Classic().features.S2(x).numpy(), expected, atol=1e-6)


def test_dense_is_one_linear_layer_on_the_pixels():
    model = Dense()
    x = torch.rand(3, 1, 28, 28)
    assert len(model.features) == 0 and list(dict(model.classifier.named_children())) == ["output"]
    weight, bias = model.classifier.output.weight, model.classifier.output.bias
    with torch.no_grad():
        np.testing.assert_allclose(model(x), x.reshape(3, 784) @ weight.T + bias, atol=1e-5)


def test_dense_cifar_is_one_linear_layer_on_a_photos_pixels():
    spec = REGISTRY["dense-cifar"]
    model = spec.build()
    x = torch.rand(3, 3, 32, 32)
    assert len(model.features) == 0 and list(dict(model.classifier.named_children())) == ["output"]
    weight, bias = model.classifier.output.weight, model.classifier.output.bias
    with torch.no_grad():
        np.testing.assert_allclose(model(x), x.reshape(3, 3072) @ weight.T + bias, atol=1e-5)
    # The ConvNet's data and normalisation, so both answer for the same photo.
    convnet = REGISTRY["convnet"]
    assert (spec.dataset, spec.classes, spec.input_shape, spec.mean, spec.std) == \
        (convnet.dataset, convnet.classes, convnet.input_shape, convnet.mean, convnet.std)
    assert spec.cam_layer is None and map_layer_names(model) == []


def test_convnet_shapes_follow_the_assignment():
    shapes = trace_shapes(ConvNet(), torch.zeros(2, 3, 32, 32))
    assert shapes["conv1"] == (16, 28, 28)
    assert shapes["pool1"] == (16, 14, 14)
    assert shapes["conv2"] == (128, 10, 10)
    assert shapes["pool2"] == (128, 5, 5)
    assert shapes["fc1"] == (64,)
    assert shapes["fc2"] == (10,)


@pytest.mark.parametrize("model, per_layer, total", [
    (LeNet5(), {"C1": 156, "C3": 2416, "C5": 48120, "F6": 10164, "output": 850}, 61706),
    (ConvNet(), {"conv1": 1216, "conv2": 51328, "fc1": 204864, "fc2": 650}, 258058),
    (LeNet5Classic(), {"C1": 156, "C3": 2416, "C5": 48120, "F6": 10164, "output": 850}, 61706),
    (Dense(), {"output": 7850}, 7850),   # 784 x 10 weights + 10 biases
    (DenseCifar(), {"output": 30730}, 30730),   # 3 x 32 x 32 x 10 weights + 10 biases
])
def test_parameter_counts_match_the_course(model, per_layer, total):
    layers = dict(model.features.named_children()) | dict(model.classifier.named_children())
    for name, expected in per_layer.items():
        assert count_parameters(layers[name]) == expected, name
    assert count_parameters(model) == total


def test_activations_are_those_of_the_course():
    lenet_acts = {type(m).__name__ for m in LeNet5().modules()}
    convnet_acts = {type(m).__name__ for m in ConvNet().modules()}
    assert "ReLU" in lenet_acts and "Tanh" not in lenet_acts
    assert "Tanh" in convnet_acts and "ReLU" not in convnet_acts


def test_c1_matches_a_hand_computed_convolution():
    model = LeNet5()
    rng = np.random.default_rng(0)
    image = rng.random((28, 28)).astype(np.float32)
    kernel = rng.standard_normal((5, 5)).astype(np.float32)
    with torch.no_grad():
        model.features.C1.weight.zero_()
        model.features.C1.weight[2, 0] = torch.from_numpy(kernel)
        model.features.C1.bias.fill_(0.5)
        out = model.features.C1(torch.from_numpy(image)[None, None])[0, 2].numpy()
    padded = np.pad(image, 2)  # C1 pads by 2 with zeros
    expected = np.empty((28, 28), dtype=np.float64)
    for i in range(28):
        for j in range(28):  # cross-correlation, as every deep-learning "convolution"
            expected[i, j] = sum(padded[i + a, j + b] * kernel[a, b]
                                 for a in range(5) for b in range(5)) + 0.5
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_models_return_logits_not_probabilities():
    torch.manual_seed(0)
    logits = LeNet5()(torch.rand(4, 1, 28, 28) * 10)
    assert not torch.allclose(logits.sum(1), torch.ones(4))
    assert (logits < 0).any()


def test_registry_describes_each_model():
    for name, spec in REGISTRY.items():
        model = spec.build()
        out = model(torch.zeros(1, *spec.input_shape))
        assert out.shape == (1, len(spec.classes))
        assert len(spec.mean) == len(spec.std) == spec.input_shape[0]
    assert map_layer_names(LeNet5()) == ["C1", "S2", "C3", "S4", "C5"]
    assert map_layer_names(ConvNet()) == ["conv1", "pool1", "conv2", "pool2"]
    assert map_layer_names(LeNet5Classic()) == ["C1", "S2", "C3", "S4", "C5"]
    assert map_layer_names(Dense()) == []
    assert REGISTRY["lenet5-classic"].input_shape == REGISTRY["dense"].input_shape == (1, 28, 28)
    assert REGISTRY["lenet5-classic"].classes == REGISTRY["dense"].classes == \
        REGISTRY["lenet5"].classes


def test_every_model_has_the_one_forward_pass():
    """features, flatten, classifier: written once (CourseNet), the same as the blocks run
    by hand."""
    for name, spec in REGISTRY.items():
        model = spec.build()
        assert type(model).forward is CourseNet.forward, name
        x = torch.rand(2, *spec.input_shape)
        with torch.no_grad():
            by_hand = model.classifier(model.features(x).reshape(2, -1))
            torch.testing.assert_close(model(x), by_hand)


def test_the_spec_names_the_last_conv_larger_than_1x1_for_grad_cam():
    """LeNet's C5 is 1x1 and cannot say where, so C3; the dense model has no conv."""
    for name, spec in REGISTRY.items():
        model, x = spec.build(), torch.zeros(1, *spec.input_shape)
        large = []
        for layer_name, layer in model.features.named_children():
            x = layer(x)
            if isinstance(layer, nn.Conv2d) and max(x.shape[2:]) > 1:
                large.append(layer_name)
        assert spec.cam_layer == (large[-1] if large else None), name
    assert REGISTRY["lenet5"].cam_layer == "C3" and REGISTRY["dense"].cam_layer is None


def test_the_layer_table_says_which_activation_follows_each_layer():
    table = {row["name"]: row for row in layer_table(LeNet5Classic())}
    assert table["C3"]["after_activation"] == "C3_tanh" and table["S4"]["after_activation"] == "S4"
    assert after_activation(layer_table(ConvNet()), "fc1") == "fc1_tanh"
    assert after_activation(layer_table(ConvNet()), "fc2") == "fc2"
    assert after_activation(layer_table(Dense()), "output") == "output"

    class Sigmoids(LeNet5):         # any activation of layers.ACTIVATIONS goes in the table
        activation = nn.Sigmoid
    rows = {row["name"]: row for row in layer_table(Sigmoids())}
    assert rows["C1_sigmoid"]["kind"] == "sigmoid" and rows["C1"]["after_activation"] == "C1_sigmoid"
    with pytest.raises(KeyError, match="no layer 'C9'"):
        after_activation(layer_table(LeNet5()), "C9")


def test_each_spec_carries_the_recipe_that_trained_it():
    for name, spec in REGISTRY.items():
        assert spec.training["optimizer"] in ("sgd", "adam"), name
        assert {"epochs", "lr", "batch_size", "pad", "flip", "resample"} <= set(spec.training)
    assert REGISTRY["lenet5-classic"].training["optimizer"] == "adam"
    assert REGISTRY["convnet"].training["flip"] and not REGISTRY["lenet5"].training["flip"]
