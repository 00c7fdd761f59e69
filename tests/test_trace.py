"""Tracing one value back to the weights, checked against an independent recomputation:
the course's architectures written out with ``torch.nn.functional`` on weights read straight
from the committed checkpoint files, and receptive fields worked out by hand."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT
from helpers import ring
from PIL import Image
from safetensors.torch import load_file

from lenet.inside.inference import Classifier
from lenet.inside.trace import TraceError, describe, trace
from lenet.net.checkpoint import default_checkpoint


def lenet5_reference(x, w):
    """SEEDS.md's LeNet-5: name -> (pre-activation map, map the next layer reads)."""
    out = {}
    c1 = F.conv2d(x, w["features.C1.weight"], w["features.C1.bias"], padding=2)
    out["C1"] = (c1, F.relu(c1))
    s2 = F.max_pool2d(out["C1"][1], 2)
    out["S2"] = (s2, s2)
    c3 = F.conv2d(s2, w["features.C3.weight"], w["features.C3.bias"])
    out["C3"] = (c3, F.relu(c3))
    s4 = F.max_pool2d(out["C3"][1], 2)
    out["S4"] = (s4, s4)
    c5 = F.conv2d(s4, w["features.C5.weight"], w["features.C5.bias"])
    out["C5"] = (c5, F.relu(c5))
    f6 = F.linear(out["C5"][1].reshape(1, 120), w["classifier.F6.weight"], w["classifier.F6.bias"])
    out["F6"] = (f6, F.relu(f6))
    logits = F.linear(out["F6"][1], w["classifier.output.weight"], w["classifier.output.bias"])
    out["output"] = (logits, logits)
    return out


def convnet_reference(x, w):
    """SEEDS.md's CIFAR-10 ConvNet, the same way."""
    out = {}
    c1 = F.conv2d(x, w["features.conv1.weight"], w["features.conv1.bias"])
    out["conv1"] = (c1, torch.tanh(c1))
    p1 = F.max_pool2d(out["conv1"][1], 2)
    out["pool1"] = (p1, p1)
    c2 = F.conv2d(p1, w["features.conv2.weight"], w["features.conv2.bias"])
    out["conv2"] = (c2, torch.tanh(c2))
    p2 = F.max_pool2d(out["conv2"][1], 2)
    out["pool2"] = (p2, p2)
    h = F.linear(p2.reshape(1, 128 * 5 * 5), w["classifier.fc1.weight"], w["classifier.fc1.bias"])
    out["fc1"] = (h, torch.tanh(h))
    logits = F.linear(out["fc1"][1], w["classifier.fc2.weight"], w["classifier.fc2.bias"])
    out["fc2"] = (logits, logits)
    return out


REFERENCES = {"lenet5": lenet5_reference, "convnet": convnet_reference}
POST = {"lenet5": {"C1": "C1_relu", "C3": "C3_relu", "C5": "C5_relu", "F6": "F6_relu"},
        "convnet": {"conv1": "conv1_tanh", "conv2": "conv2_tanh", "fc1": "fc1_tanh"}}
SHAPES = {"lenet5": {"C1": (6, 28, 28), "S2": (6, 14, 14), "C3": (16, 10, 10), "S4": (16, 5, 5),
                     "C5": (120, 1, 1), "F6": (84,), "output": (10,)},
          "convnet": {"conv1": (16, 28, 28), "pool1": (16, 14, 14), "conv2": (128, 10, 10),
                      "pool2": (128, 5, 5), "fc1": (64,), "fc2": (10,)}}
WEIGHT = {"C1": "features.C1", "C3": "features.C3", "C5": "features.C5", "F6": "classifier.F6",
          "output": "classifier.output", "conv1": "features.conv1", "conv2": "features.conv2",
          "fc1": "classifier.fc1", "fc2": "classifier.fc2"}


def photo() -> Image.Image:
    """A random 'photo': smooth colour blobs plus noise, larger than the network's input."""
    rng = np.random.default_rng(7)
    base = Image.fromarray(rng.integers(0, 256, (6, 8, 3), np.uint8)).resize((80, 60), Image.BICUBIC)
    noisy = np.asarray(base, np.int16) + rng.integers(-30, 30, (60, 80, 3))
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def case():
    """name -> (classifier, input tensor, forward outputs, reference maps, checkpoint weights)."""
    cases = {}
    for name, source in (("lenet5", Image.fromarray(ring())), ("convnet", photo())):
        path = default_checkpoint(name)
        clf = Classifier.from_checkpoint(path)
        tensor, _ = clf.prepare(source)
        with torch.inference_mode():
            _, outputs = clf.forward(tensor)
        weights = load_file(str(path))
        with torch.no_grad():
            reference = REFERENCES[name](tensor, weights)
        cases[name] = (clf, tensor, outputs, reference, weights)
    return cases


def positions(shape):
    """Corners (where padding shows), the centre and one off-centre point."""
    if len(shape) == 1:
        return [(c, 0, 0) for c in (0, shape[0] // 2, shape[0] - 1)]
    c, h, w = shape
    return [(0, 0, 0), (c - 1, 0, w - 1), (c // 2, h - 1, 0), (1 % c, h - 1, w - 1),
            (c // 3, h // 2, w // 2), (c - 1, h // 3, (2 * w) // 3)]


@pytest.mark.parametrize("name, layer", [(n, layer) for n in SHAPES for layer in SHAPES[n]])
def test_every_layer_matches_an_independent_recomputation(case, name, layer):
    clf, tensor, outputs, reference, weights = case[name]
    pre_map, post_map = reference[layer]
    for channel, y, x in positions(SHAPES[name][layer]):
        t = trace(clf, tensor, layer, channel, y, x, outputs=outputs)
        at = (0, channel) if pre_map.dim() == 2 else (0, channel, y, x)
        assert t.value == pytest.approx(float(post_map[at]), abs=1e-4), (layer, channel, y, x)
        # value is also what the engine's own forward pass holds at that place
        forward_map = outputs[POST[name].get(layer, layer)]
        assert t.value == pytest.approx(float(forward_map[at]), abs=1e-4)
        if t.kind == "pool":
            assert t.pool == "max" and t.inputs.shape == (1, 2, 2) and t.sum_of_products is None
            assert t.inputs[0][t.winner] == pytest.approx(t.value, abs=1e-6)
            continue
        assert t.pre_activation == pytest.approx(float(pre_map[at]), abs=1e-4)
        assert t.map_value_before == pytest.approx(float(pre_map[at]), abs=1e-4)
        assert t.inputs.shape == t.weights.shape == t.products.shape
        assert float((t.inputs * t.weights).sum()) + t.bias == pytest.approx(t.pre_activation, abs=1e-4)
        # The sum of products is the reference's pre-activation less the checkpoint's bias.
        bias = float(weights[WEIGHT[layer] + ".bias"][channel])
        assert t.sum_of_products == pytest.approx(float(pre_map[at]) - bias, abs=1e-4)
        assert t.pre_activation == t.sum_of_products + t.bias
        np.testing.assert_array_equal(t.weights, weights[WEIGHT[layer] + ".weight"][channel].numpy())
        assert t.bias == float(weights[WEIGHT[layer] + ".bias"][channel])
        biggest = np.sort(np.abs((t.inputs * t.weights).ravel()))[::-1][:len(t.top_contributions)]
        np.testing.assert_allclose([abs(c["product"]) for c in t.top_contributions], biggest, atol=1e-6)


def test_conv_patches_hold_zero_padding_and_the_real_neighbourhood(case):
    clf, tensor, outputs, reference, _ = case["lenet5"]
    corner = trace(clf, tensor, "C1", 3, 0, 0, outputs=outputs)
    assert corner.inputs.shape == (1, 5, 5) and corner.origin == (-2, -2)
    assert not corner.inputs[:, :2, :].any() and not corner.inputs[:, :, :2].any()  # C1 pads by 2
    np.testing.assert_array_equal(corner.inputs[0, 2:, 2:], tensor[0, 0, :3, :3].numpy())
    far = trace(clf, tensor, "C1", 3, 27, 27, outputs=outputs)
    np.testing.assert_array_equal(far.inputs[0, :3, :3], tensor[0, 0, 25:, 25:].numpy())
    assert not far.inputs[:, 3:, :].any() and not far.inputs[:, :, 3:].any()
    # C3 reads S2 (after C1's ReLU and pooling): a 6x5x5 block starting at (4, 6)
    inner = trace(clf, tensor, "C3", 5, 4, 6, outputs=outputs)
    np.testing.assert_array_equal(inner.inputs, reference["S2"][1][0, :, 4:9, 6:11].numpy())
    # C5's patch is the whole S4 output; F6 reads C5 after ReLU, flattened
    np.testing.assert_array_equal(trace(clf, tensor, "C5", 7, outputs=outputs).inputs,
                                  reference["S4"][1][0].numpy())
    np.testing.assert_array_equal(trace(clf, tensor, "F6", 0, outputs=outputs).inputs,
                                  reference["C5"][1][0, :, 0, 0].numpy())


@pytest.mark.parametrize("name, layer, y, x, expected", [
    ("lenet5", "C1", 0, 0, [0, 0, 2, 2]),       # 5x5 kernel at rows/cols -2..2, clipped
    ("lenet5", "C1", 27, 27, [25, 25, 27, 27]),  # 25..29 clipped
    ("lenet5", "S2", 0, 0, [0, 0, 3, 3]),       # C1 rows 0-1 -> input -2..3
    # C3 (4, 6): S2 rows 4-8, cols 6-10 -> C1 rows 8-17, cols 12-21 -> input rows 6-19, cols 10-23
    ("lenet5", "C3", 4, 6, [6, 10, 19, 23]),
    # S4 (1, 2): C3 rows 2-3, cols 4-5 -> S2 rows 2-7, cols 4-9 -> C1 rows 4-15, cols 8-19
    # -> input rows 2-17, cols 6-21
    ("lenet5", "S4", 1, 2, [2, 6, 17, 21]),
    ("lenet5", "C5", 0, 0, [0, 0, 27, 27]),     # S4 0-4 -> C3 0-9 -> S2 0-13 -> C1 0-27 -> -2..29
    ("lenet5", "F6", 0, 0, [0, 0, 27, 27]),
    ("convnet", "conv1", 0, 0, [0, 0, 4, 4]),
    ("convnet", "conv2", 0, 0, [0, 0, 13, 13]),  # pool1 0-4 -> conv1 0-9 -> input 0-13
    ("convnet", "pool2", 4, 4, [16, 16, 31, 31]),  # conv2 8-9 -> pool1 8-13 -> conv1 16-27 -> 16-31
    ("convnet", "fc2", 0, 0, [0, 0, 31, 31]),
])
def test_receptive_fields_match_hand_computation(case, name, layer, y, x, expected):
    clf, tensor, outputs, _, _ = case[name]
    assert list(trace(clf, tensor, layer, 0, y, x, outputs=outputs).receptive_field) == expected


@pytest.mark.parametrize("layer, channel, y, x, words", [
    ("C1_relu", 0, 0, 0, "choose one of C1, S2, C3, S4, C5, F6, output"),
    ("conv1", 0, 0, 0, "choose one of"),
    ("C1", 6, 0, 0, "channels 0-5"),
    ("C3", 0, 10, 0, "y 0-9, x 0-9"),
    ("S2", 0, 0, -1, "y 0-13, x 0-13"),
    ("F6", 84, 0, 0, "channels 0-83"),
    ("output", 0, 1, 0, "y = x = 0"),
])
def test_bad_requests_name_the_valid_range(case, layer, channel, y, x, words):
    clf, tensor, outputs, _, _ = case["lenet5"]
    with pytest.raises(TraceError, match=words) as info:
        trace(clf, tensor, layer, channel, y, x, outputs=outputs)
    assert isinstance(info.value, ValueError) and "\n" not in str(info.value)


def test_without_outputs_the_forward_pass_runs_here_and_the_model_is_left_alone(case):
    clf, tensor, outputs, reference, _ = case["convnet"]
    before = {k: v.clone() for k, v in clf.model.state_dict().items()}
    own = trace(clf, tensor, "conv2", 9, 3, 4)
    assert own.pre_activation == pytest.approx(float(reference["conv2"][0][0, 9, 3, 4]), abs=1e-4)
    assert own.activation == "tanh" and trace(clf, tensor, "fc2", 0).activation is None
    assert all(torch.equal(before[k], v) for k, v in clf.model.state_dict().items())
    assert not any(m._forward_hooks for m in clf.model.modules())


def test_json_and_words(case):
    clf, tensor, outputs, reference, _ = case["lenet5"]
    t = trace(clf, tensor, "F6", 11, outputs=outputs)
    data = json.loads(json.dumps(t.to_json()))
    assert data["layer"] == "F6" and data["kind"] == "linear" and len(data["inputs"]) == 120
    assert len(data["top_contributions"]) == 10 and data["value"] == t.value
    term = data["top_contributions"][0]   # "at" is where the input sits in C5_relu's output
    assert term["input"] == pytest.approx(float(reference["C5"][1][0, term["at"][0], 0, 0]))
    # C1 at (0, 0): patch rows/cols 0-1 are C1's zero padding, the rest is input[0, i-2, j-2]
    corner = trace(clf, tensor, "C1", 0, 0, 0, outputs=outputs)
    for term in corner.top_contributions:
        _, i, j = term["index"]
        assert term["at"] == (None if i < 2 or j < 2 else [0, i - 2, j - 2])
    text = describe(corner)
    assert "pre-activation" in text and "ReLU -> value" in text
    assert ("padding" in text) == any(term["at"] is None for term in corner.top_contributions[:5])
    assert "C3[5, 4, 6]" in repr(trace(clf, tensor, "C3", 5, 4, 6, outputs=outputs))


# ---------------------------------------------------------------------------- command line

def run_trace(*args):
    return subprocess.run([sys.executable, "-m", "lenet", "trace", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trace_inputs")
    Image.fromarray(ring()).save(folder / "zero.png")
    Image.new("L", (100, 100), 255).save(folder / "blank.png")
    (folder / "notes.png").write_bytes(b"not an image at all")
    return folder


def test_cli_json_has_the_trace_with_matching_shapes(case, images):
    proc = run_trace("--model", "lenet5", "--layer", "C3", "--channel", 5, "--y", 4, "--x", 6,
                     "--json", images / "zero.png")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"layer", "channel", "y", "x", "receptive_field", "inputs", "weights", "bias",
            "pre_activation", "value", "label"} <= set(data)
    assert np.shape(data["inputs"]) == np.shape(data["weights"]) == (6, 5, 5)
    assert data["receptive_field"] == [6, 10, 19, 23]
    reference = case["lenet5"][3]["C3"]   # the same ring, recomputed independently
    assert data["pre_activation"] == pytest.approx(float(reference[0][0, 5, 4, 6]), abs=1e-4)
    assert data["value"] == pytest.approx(float(reference[1][0, 5, 4, 6]), abs=1e-4)


def test_cli_text_writes_the_sum_out(images):
    proc = run_trace("--model", "lenet5", "--layer", "output", "--channel", 0, images / "zero.png")
    assert proc.returncode == 0, proc.stderr
    assert "more terms" in proc.stdout and "+ bias" in proc.stdout and "= pre-activation" in proc.stdout


@pytest.mark.parametrize("args, code, words", [
    (("--layer", "C7", "zero.png"), 2, "choose one of"),
    (("--layer", "C1", "--channel", 6, "zero.png"), 2, "channels 0-5"),
    (("--layer", "C1", "notes.png"), 1, "not an image"),
    (("--layer", "C1", "blank.png"), 1, "nothing drawn"),
])
def test_cli_errors_are_one_line(images, args, code, words):
    *options, file = args
    proc = run_trace("--model", "lenet5", *options, images / file)
    assert proc.returncode == code and proc.stdout == ""
    assert proc.stderr.startswith("error: ") and words in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
