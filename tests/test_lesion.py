"""Switching parts off (the lesion lab): the page's engine with parts off (net.forward's `off`,
and `reuse` for a toggle) against PyTorch with the same outputs zeroed by forward hooks
(lenet.inside.lesion.outputs_with_off); web/lesion.js's per-channel effects and lesion.py's
test-set accuracies against an independent way, a copy of the model whose conv weights and
bias for that channel are zero; and what a part that is not there gets, in both engines."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA
from helpers import warn_stand_in

from lenet.inside.lesion import (
    LesionError,
    accuracies_with_each_off,
    first_convs,
    outputs_with_off,
)
from lenet.net.checkpoint import averages_mirror, default_checkpoint, load_checkpoint
from lenet.net.models import answer_logits, normalize
from lenet.training.data import load_split

TOLERANCE = 1e-4   # max |page - torch| for any layer's value (float32 rounding is ~1e-6)
DATASETS = {"lenet5": ("mnist", SHARED_DATA / "MNIST" / "raw"),
            "convnet": ("cifar10", SHARED_DATA / "cifar10")}
# Sets of parts off, each tried alone and as a toggle from the set before it: conv, pooling
# and linear parts, several layers at once, the last channel of a layer.
OFF = {
    "lenet5": [{"C1": [0, 3]}, {"S2": [1]}, {"C3": [2, 5, 15], "F6": [0, 10, 83]},
               {"C1": [5], "S4": [0, 7], "C5": [119]}, {"F6": list(range(0, 84, 3))}],
    "convnet": [{"conv1": [0, 5]}, {"pool1": [3, 15]}, {"conv2": [0, 64, 127], "fc1": [1, 2]},
                {"conv1": [9], "pool2": [10], "fc1": [63]}, {"conv2": list(range(0, 128, 2))}],
}

# Every run's outputs and logits as lists; `sets[k]` alone, then as a toggle from the run of
# `sets[k - 1]` (the first from the run with nothing off).
RUNS_JS = """async ({url, pixels, sets}) => {
  (await import('/web/shared.js')).setFiles('/');
  const net = await (await import('/web/engine.js')).loadNetwork(url);
  const input = net.normalize(Float32Array.from(pixels));
  const plain = (r) => ({off: r.off, logits: Array.from(r.logits), ownLogits: Array.from(r.ownLogits),
    mirrorLogits: r.mirrorLogits && Array.from(r.mirrorLogits),
    outputs: Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, Array.from(v.data)]))});
  let previous = net.forward(input);
  const found = [];
  for (const off of sets) {
    const alone = net.forward(input, {off}), toggled = net.forward(input, {off, reuse: previous});
    found.push({alone: plain(alone), toggled: plain(toggled)});
    previous = toggled;
  }
  return found;
}"""

EFFECTS_JS = """async ({url, pixels, off}) => {
  (await import('/web/shared.js')).setFiles('/');
  const net = await (await import('/web/engine.js')).loadNetwork(url);
  const lesion = await import('/web/lesion.js');
  const run = net.forward(net.normalize(Float32Array.from(pixels)), {off});
  const e = lesion.effects(net, run);
  return {cls: e.cls, base: e.base, firstConvs: lesion.firstConvs(net),
          layers: Object.fromEntries(Object.entries(e.layers).map(([k, v]) => [k, Array.from(v)]))};
}"""


def url(name: str) -> str:
    return f"/checkpoints/{name}.safetensors"


@pytest.fixture(scope="module")
def models():
    return {name: load_checkpoint(default_checkpoint(name)) for name in DATASETS}


@pytest.fixture(scope="module")
def test_sets(models):
    """Per model: test pixels (N, C, H, W) uint8 and labels; random ones where the data is absent."""
    found = {}
    for name, (dataset, folder) in DATASETS.items():
        meta = models[name][1]
        if folder.is_dir():
            x, y, _ = load_split(dataset, SHARED_DATA, train=False, classes=tuple(meta["classes"]))
        else:
            warn_stand_in(folder, "random pixels")
            rng = np.random.default_rng(0)
            x = torch.from_numpy(rng.integers(0, 256, (300, *meta["input_shape"]), dtype=np.uint8))
            y = torch.from_numpy(rng.integers(0, 10, 300))
        found[name] = (x, y)
    return found


def worst(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def pixels_of(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels -> float in [0, 1], as the page takes them."""
    return x.float() / 255


# ---------------------------------------------------------------------------- parts off

@pytest.mark.parametrize("name", DATASETS)
def test_the_page_with_parts_off_equals_torch_with_those_outputs_zeroed(name, models, test_sets, js_page):
    """Every named output within TOLERANCE, and the mirror image's logits, for each set of
    parts off; the same whether computed anew or resumed from the run before (a toggle)."""
    model, meta = models[name]
    pixels = pixels_of(test_sets[name][0][:1])
    page = js_page.evaluate(RUNS_JS, {"url": url(name), "pixels": pixels.reshape(-1).tolist(),
                                      "sets": OFF[name]})
    for off, runs in zip(OFF[name], page):
        torch_outputs = outputs_with_off(model, meta, pixels, off)
        mirror = (outputs_with_off(model, meta, pixels.flip(-1), off)[next(reversed(torch_outputs))]
                  if averages_mirror(meta) else None)
        for how, run in runs.items():
            assert run["off"] == {k: sorted(v) for k, v in off.items()}
            assert list(run["outputs"]) == list(torch_outputs)
            for layer, values in torch_outputs.items():
                diff = worst(run["outputs"][layer], values.reshape(-1))
                assert diff <= TOLERANCE, f"{name} {layer} with {off} off ({how}): off by {diff:.2e}"
            if mirror is not None:
                assert worst(run["mirrorLogits"], mirror[0]) <= TOLERANCE, f"{name} mirror, {off} ({how})"
            else:
                assert run["mirrorLogits"] is None


def test_a_toggle_from_another_input_is_computed_anew(models, test_sets, js_page):
    """`reuse` of a run of another input (a caller's slip) still gives that input's numbers."""
    model, meta = models["convnet"]
    x = pixels_of(test_sets["convnet"][0][:2])
    off = {"conv1": [2], "fc1": [5]}
    page = js_page.evaluate("""async ({url, first, second, off}) => {
      const net = await (await import('/web/engine.js')).loadNetwork(url);
      const other = net.forward(net.normalize(Float32Array.from(first)));
      return Array.from(net.forward(net.normalize(Float32Array.from(second)), {off, reuse: other}).ownLogits);
    }""", {"url": url("convnet"), "first": x[0].reshape(-1).tolist(), "second": x[1].reshape(-1).tolist(),
           "off": off})
    assert worst(page, outputs_with_off(model, meta, x[1:], off)["fc2"][0]) <= TOLERANCE


def test_mirror_false_skips_the_mirror_pass_and_a_toggle_after_it_takes_it_again(models, test_sets, js_page):
    """`mirror: false` (the ascent's runs): the ConvNet's own pass alone, its logits the image's
    own; a toggle resumed from such a run computes the mirror image's pass afresh."""
    model, meta = models["convnet"]
    x = pixels_of(test_sets["convnet"][0][:1])
    off = {"conv2": [3], "fc1": [7]}
    page = js_page.evaluate("""async ({url, pixels, off}) => {
      const net = await (await import('/web/engine.js')).loadNetwork(url);
      const input = net.normalize(Float32Array.from(pixels));
      const own = net.forward(input, {mirror: false}), toggled = net.forward(input, {off, reuse: own});
      const list = (a) => a && Array.from(a);
      return {own: {logits: list(own.logits), mirrorLogits: own.mirrorLogits,
                    conv2: list(own.outputs.conv2.data)},
              toggled: {logits: list(toggled.logits), mirrorLogits: list(toggled.mirrorLogits)}};
    }""", {"url": url("convnet"), "pixels": x.reshape(-1).tolist(), "off": off})
    plain = outputs_with_off(model, meta, x, {})
    assert page["own"]["mirrorLogits"] is None
    assert worst(page["own"]["logits"], plain["fc2"][0]) <= TOLERANCE
    assert worst(page["own"]["conv2"], plain["conv2"].reshape(-1)) <= TOLERANCE
    own = outputs_with_off(model, meta, x, off)["fc2"][0]
    mirror = outputs_with_off(model, meta, x.flip(-1), off)["fc2"][0]
    assert worst(page["toggled"]["mirrorLogits"], mirror) <= TOLERANCE
    assert worst(page["toggled"]["logits"], (own + mirror) / 2) <= TOLERANCE


# ---------------------------------------------------------------------------- effects

def zeroed(model, layer: str, channel: int):
    """A copy of ``model`` whose conv ``layer`` has channel ``channel``'s weights and bias zero:
    its output plane is zero, as if switched off (an independent way from hooks)."""
    copied = copy.deepcopy(model)
    conv = dict(copied.features.named_children())[layer]
    with torch.no_grad():
        conv.weight[channel] = 0
        conv.bias[channel] = 0
    return copied


def least_sure(model, meta, pixels: torch.Tensor) -> torch.Tensor:
    """The one image (1 x C x H x W) of ``pixels`` that the model answers least surely: where
    switching a channel off is most likely to move the answer, so that the bars differ."""
    with torch.inference_mode():
        logits = answer_logits(model, normalize(pixels, meta["mean"], meta["std"]), averages_mirror(meta))
    i = int(torch.softmax(logits, 1).max(1).values.argmin())
    return pixels[i:i + 1]


@pytest.mark.parametrize("name", DATASETS)
def test_effects_equal_torch_with_each_channel_weights_zeroed(name, models, test_sets, js_page):
    """The answer's probability with each channel of the first two conv layers off alone."""
    model, meta = models[name]
    pixels = least_sure(model, meta, pixels_of(test_sets[name][0][:50]))
    page = js_page.evaluate(EFFECTS_JS, {"url": url(name), "pixels": pixels.reshape(-1).tolist(), "off": {}})
    inputs, mirror = normalize(pixels, meta["mean"], meta["std"]), averages_mirror(meta)
    with torch.inference_mode():
        base = torch.softmax(answer_logits(model, inputs, mirror)[0], 0)
        assert page["cls"] == int(base.argmax()) and abs(page["base"] - float(base.max())) < 1e-5
        assert page["firstConvs"] == first_convs(meta) == list(page["layers"])
        for layer, found in page["layers"].items():
            expected = [float(torch.softmax(answer_logits(zeroed(model, layer, c), inputs, mirror)[0], 0)
                              [page["cls"]]) for c in range(len(found))]
            assert worst(found, expected) <= 1e-5, f"{name} {layer}"
    assert min(min(v) for v in page["layers"].values()) < float(base.max()) - 0.01   # some matter


def test_effects_come_on_top_of_the_parts_already_off(models, test_sets, js_page):
    """With parts off in the run, each bar switches one more off; one already off changes nothing."""
    model, meta = models["lenet5"]
    pixels, off = pixels_of(test_sets["lenet5"][0][2:3]), {"C1": [1], "F6": [4, 40]}
    page = js_page.evaluate(EFFECTS_JS, {"url": url("lenet5"), "pixels": pixels.reshape(-1).tolist(),
                                         "off": off})
    for layer, found in page["layers"].items():
        expected = []
        for c in range(len(found)):
            outputs = outputs_with_off(zeroed(model, layer, c), meta, pixels, off)
            expected.append(float(torch.softmax(outputs["output"][0], 0)[page["cls"]]))
        assert worst(found, expected) <= 1e-5, layer
    assert page["layers"]["C1"][1] == pytest.approx(page["base"], abs=1e-6)


# ---------------------------------------------------------------------------- test-set accuracy

@pytest.mark.slow
@pytest.mark.parametrize("name, images, every", [("lenet5", 300, 1), ("convnet", 200, 8)])
def test_accuracies_with_each_off_equal_the_weight_zeroing_way(name, images, every, models, test_sets):
    """On a few hundred test images: each channel of the first two conv layers (every
    ``every``th of the ConvNet's conv2, to keep it short) against a zeroed copy's answers."""
    model, meta = models[name]
    x, y = (t[:images] for t in test_sets[name])
    found = accuracies_with_each_off(model, meta, x, y, first_convs(meta), batch=64)
    inputs, mirror = normalize(x, meta["mean"], meta["std"]), averages_mirror(meta)
    with torch.inference_mode():
        assert found.baseline == int((answer_logits(model, inputs, mirror).argmax(1) == y).sum()) / images
        for k, layer in enumerate(found.layers):
            assert found.accuracies[layer].dtype == np.float32
            for c in range(0, len(found.accuracies[layer]), every if k else 1):
                answers = answer_logits(zeroed(model, layer, c), inputs, mirror).argmax(1)
                expected = int((answers == y).sum()) / images
                # a tie broken the other way by rounding may move one image
                assert abs(found.accuracies[layer][c] - expected) <= 1 / images + 1e-6, f"{layer} {c}"


# ---------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("off, message", [
    ({"C1_relu": [0]}, "lenet5 has no layer 'C1_relu' to switch parts off in"),
    ({"output": [0]}, "lenet5 has no layer 'output' to switch parts off in"),
    ({"C3": [16]}, "C3 has channels 0-15, not 16"),
    ({"F6": [-1]}, "F6 has channels 0-83, not -1"),
])
def test_parts_that_are_not_there_are_refused_in_one_line(off, message, models, js_page):
    model, meta = models["lenet5"]
    with pytest.raises(LesionError) as caught:
        outputs_with_off(model, meta, torch.zeros(1, 1, 28, 28), off)
    assert str(caught.value) == message
    layer = next(iter(off))
    if layer not in ("C3", "F6"):
        with pytest.raises(LesionError, match=f"^{message}$"):
            accuracies_with_each_off(model, meta, torch.zeros(1, 1, 28, 28), torch.zeros(1), [layer])
    page = js_page.evaluate("""async ({url, off, layer}) => {
      const net = await (await import('/web/engine.js')).loadNetwork(url);
      const lesion = await import('/web/lesion.js');
      const run = net.forward(new Float32Array(784));
      const said = (f) => { try { f(); return null; } catch (e) { return e.message; } };
      return {forward: said(() => net.forward(run.input, {off, reuse: run})),
              effects: said(() => lesion.effects(net, run, [layer]))};
    }""", {"url": url("lenet5"), "off": off, "layer": layer})
    assert page["forward"] == message
    if layer not in ("C3", "F6"):
        assert page["effects"] == message
