"""The page's JavaScript engine (web/engine.js) in Chromium against the Python engine
and torch, on the committed checkpoints: every layer's output, the answer (with the ConvNet's
mirror image), the numbers the views write out (display pixels, the softmax's exponentials
and denominator, a trace's sum of products) against numpy, Grad-CAM and saliency against
torch.autograd, traces, receptive fields, the names the layer table decides, the trace panel's
words, and what a checkpoint file that is not one gets. Arrays cross between Python and the
page as lists."""
from __future__ import annotations

import json
import re
import struct

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT, SHARED_DATA
from helpers import ring, warn_stand_in
from safetensors.torch import save as safetensors_bytes
from torch import nn

from lenet.inputs.synth import render
from lenet.inside.inference import Classifier, attribution_maps
from lenet.inside.trace import TraceError, receptive_field, trace, traceable_layers
from lenet.net.checkpoint import default_checkpoint, self_description
from lenet.net.models import REGISTRY, LeNet5, normalize
from lenet.training.data import load_split

MODELS = ("lenet5", "lenet5-classic", "dense", "convnet")
TOLERANCE = 1e-4       # max |JS - torch| for a layer's values (float32 rounding is ~1e-6)

# Plain lists from typed arrays, so that page.evaluate can hand them back as JSON.
LIST = "const list = (a) => (a === null || a === undefined ? a : Array.from(a));"

FORWARD_JS = """async ({url, inputs, classes}) => {
  const e = await import('/web/engine.js');
  """ + LIST + """
  const net = await e.loadNetwork(url);
  // Every run first, its maps and lists only at the end: a run the page keeps must survive
  // later calls unchanged.
  const runs = inputs.map((x) => net.forward(Float32Array.from(x)));
  return {
    network: {name: net.name, classes: net.classes, inputShape: net.inputShape,
              mirrorAverage: net.mirrorAverage, camLayer: net.camLayer, camOutput: net.camOutput,
              shapes: Object.fromEntries(net.layers.filter((l) => l.name)
                                              .map((l) => [l.name, l.shape])),
              shownAfter: Object.fromEntries(net.layers.filter((l) => l.name)
                                                  .map((l) => [l.name, net.shownAfter(l.name)]))},
    runs: runs.map((r, n) => ({
      keys: Object.keys(r.outputs),
      outputs: Object.fromEntries(Object.entries(r.outputs)
                                    .map(([k, v]) => [k, {shape: v.shape, data: list(v.data)}])),
      ownLogits: list(r.ownLogits), mirrorLogits: list(r.mirrorLogits), logits: list(r.logits),
      probabilities: list(r.probabilities), top: r.top, pixels: list(r.pixels),
      exponentials: list(r.exponentials), denominator: r.denominator,
      maps: classes[n].map((k) => {
        const a = net.attributions(r, k);
        return {gradCam: list(a.gradCam), saliency: list(a.saliency), camLayer: a.camLayer,
                camOutput: a.camOutput, gradCamMax: a.gradCamMax, saliencyMax: a.saliencyMax};
      }),
    })),
  };
}"""


def url(name: str) -> str:
    return f"/checkpoints/{name}.safetensors"


def flat(t: torch.Tensor) -> list[float]:
    return t.detach().reshape(-1).tolist()


def inputs_for(clf: Classifier) -> dict[str, torch.Tensor]:
    """Varied normalised (1, C, H, W) inputs: what users give, noise, and nothing at all."""
    rng = np.random.default_rng(0)
    c, h, w = clf.channels, clf.height, clf.width

    def as_input(pixels) -> torch.Tensor:
        pixels = torch.as_tensor(pixels, dtype=torch.float32).reshape(1, c, h, w)
        return normalize(pixels, clf.mean, clf.std)

    if clf.is_digit_model:
        digits = [ring()]
        if (SHARED_DATA / "MNIST" / "raw").is_dir():      # real test digits, drawn as users do
            images, _, _ = load_split("mnist", SHARED_DATA, train=False)
            digits = [images[i, 0].numpy() for i in (0, 1, 2)]
        else:
            warn_stand_in(SHARED_DATA / "MNIST" / "raw", "a drawn ring")
        found = {"ring": as_input(ring() / 255)}
        for i, digit in enumerate(digits):
            found[f"drawn {i}"] = clf.prepare(render(digit, rng, "sketchpad"))[0]
        found["random"] = as_input(rng.uniform(0, 1, (h, w)))
        found["blank"] = as_input(np.zeros((h, w)))
        return found
    found = {"random": as_input(rng.uniform(0, 1, (c, h, w))),
             "grey": as_input(np.full((c, h, w), 0.5))}
    photos = sorted((SHARED_DATA / "cifar10" / "test" / "cat").glob("*.jpg"))[:2]
    if not photos:
        warn_stand_in(SHARED_DATA / "cifar10", "noise and grey")
    for i, path in enumerate(photos):                    # real CIFAR-10 photos when present
        found[f"photo {i}"] = clf.prepare(path)[0]
    if not photos:
        gradient = np.linspace(0, 1, w)[None, None] * np.linspace(1, 0.2, c)[:, None, None]
        found["gradient"] = as_input(np.broadcast_to(gradient, (c, h, w)))
    return found


def module_named(model: nn.Module, name: str) -> nn.Module:
    """The leaf module the course calls ``name`` (``C3_relu`` is ``features.C3_relu``)."""
    return next(m for qualified, m in model.named_modules() if qualified.rsplit(".", 1)[-1] == name)


def torch_maps(model: nn.Module, tensor: torch.Tensor, layer: str | None, k: int):
    """Grad-CAM as Selvaraju et al. define it on the output of the module named ``layer``
    (caught by a forward hook) and saliency, |d logit / d input| over the channels, both by
    torch.autograd on ``model`` itself: none of lenet's attribution code."""
    caught = {}
    hook = module_named(model, layer).register_forward_hook(
        lambda _m, _i, out: caught.update(out=out)) if layer else None
    try:
        x = tensor.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            logit = model(x)[0, k]
            grads = torch.autograd.grad(logit, [x, *caught.values()])
    finally:
        if hook:
            hook.remove()
    saliency = grads[0][0].abs().amax(0).numpy()
    if not layer:
        return None, saliency
    maps, weights = caught["out"][0].detach(), grads[1][0].mean(dim=(1, 2))
    cam = F.relu((weights[:, None, None] * maps).sum(0))
    cam = F.interpolate(cam[None, None], size=tensor.shape[-2:], mode="bilinear",
                        align_corners=False)[0, 0]
    return cam.numpy(), saliency


@pytest.fixture(scope="module")
def classifiers():
    return {name: Classifier.from_checkpoint(default_checkpoint(name)) for name in MODELS}


@pytest.fixture(scope="module")
def compared(classifiers, js_page):
    """Per model: the inputs, torch's answers and maps for them, and the page's."""
    found = {}
    for name, clf in classifiers.items():
        inputs = inputs_for(clf)
        reference = []
        for tensor in inputs.values():
            with torch.inference_mode():
                logits, outputs, mirror = clf.answer(tensor)
            probabilities = torch.softmax(logits[0], 0)
            top = int(probabilities.argmax())
            # The answer, another class and the least likely one: maps for a class not shown too.
            classes = sorted({top, (top + 3) % len(clf.classes), int(probabilities.argmin())})
            maps = {k: torch_maps(clf.model, tensor, clf.cam_output, k) for k in classes}
            reference.append(dict(tensor=tensor, logits=logits[0], outputs=outputs, mirror=mirror,
                                  probabilities=probabilities, top=top, classes=classes, maps=maps))
        page = js_page.evaluate(FORWARD_JS, {
            "url": url(name), "inputs": [flat(t) for t in inputs.values()],
            "classes": [r["classes"] for r in reference]})
        found[name] = dict(labels=list(inputs), reference=reference, page=page)
    return found


def realistic(compared, name: str) -> int:
    """The index of a drawn digit or a real photo among ``compared[name]``'s inputs."""
    labels = compared[name]["labels"]
    return next((i for i, label in enumerate(labels) if label.startswith(("drawn", "photo"))),
                labels.index("random"))


def worst(a, b) -> float:
    """The largest |a - b|, in float64."""
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


# ---------------------------------------------------------------------------- the network

@pytest.mark.parametrize("name", MODELS)
def test_network_description_matches_the_classifier(name, classifiers, compared):
    clf, network = classifiers[name], compared[name]["page"]["network"]
    assert network["name"] == clf.name and tuple(network["classes"]) == clf.classes
    assert network["inputShape"] == {"channels": clf.channels, "height": clf.height,
                                     "width": clf.width}
    assert network["mirrorAverage"] == clf.mirror_average
    assert {k: tuple(v) for k, v in network["shapes"].items()} == clf.shapes


@pytest.mark.parametrize("name", MODELS)
def test_the_layer_table_names_the_same_layers_in_both_engines(name, classifiers, compared):
    """Grad-CAM's layer is the model spec's in both engines, with one meaning (the conv,
    read after its activation); what follows each layer is the Python model's own order."""
    clf, network = classifiers[name], compared[name]["page"]["network"]
    assert network["camLayer"] == clf.cam_layer == REGISTRY[name].cam_layer
    assert network["camOutput"] == clf.cam_output
    assert network["shownAfter"] == {n: clf.activation_of(n) for n in clf.shapes}
    # Read off the model's modules: a layer followed by a ReLU or tanh shows that one.
    layers = [*clf.model.features.named_children(), *clf.model.classifier.named_children()]
    for (here, _), (after, module) in zip(layers, layers[1:]):
        if isinstance(module, (nn.ReLU, nn.Tanh)):
            assert network["shownAfter"][here] == after
        elif not isinstance(dict(layers)[here], (nn.ReLU, nn.Tanh)):
            assert network["shownAfter"][here] == here
    convs = [n for n, m in clf.model.features.named_children()     # larger than 1x1
             if isinstance(m, nn.Conv2d) and max(clf.shapes[n][1:]) > 1]
    assert network["camLayer"] == (convs[-1] if convs else None)


@pytest.mark.parametrize("name", MODELS)
def test_every_layer_and_the_answer_match_torch(name, compared):
    worst_by_layer = {}
    for label, ref, run in zip(compared[name]["labels"], compared[name]["reference"],
                               compared[name]["page"]["runs"]):
        assert run["keys"] == list(ref["outputs"]), "layers missing, extra or out of order"
        for layer, out in ref["outputs"].items():
            page = run["outputs"][layer]
            assert tuple(page["shape"]) == tuple(out.shape[1:]), layer
            diff = worst(page["data"], flat(out[0]))
            worst_by_layer[layer] = max(worst_by_layer.get(layer, 0.0), diff)
            assert diff <= TOLERANCE, f"{name} {layer} on {label}: off by {diff:.2e}"
        own = next(reversed(ref["outputs"].values()))[0]
        assert worst(run["ownLogits"], flat(own)) <= TOLERANCE, label
        assert worst(run["logits"], flat(ref["logits"])) <= TOLERANCE, label
        assert worst(run["probabilities"], flat(ref["probabilities"])) <= 1e-5, label
        assert run["top"] == ref["top"], label
        if ref["mirror"] is None:
            assert run["mirrorLogits"] is None
        else:   # the answer is the mean with the mirror image's logits
            assert worst(run["mirrorLogits"], flat(ref["mirror"])) <= TOLERANCE, label
            assert worst(run["logits"], flat((own + ref["mirror"]) / 2)) <= TOLERANCE, label
    print(f"\n{name}: worst |JS - torch| per layer " +
          ", ".join(f"{k} {v:.1e}" for k, v in worst_by_layer.items()))


def test_the_mirror_image_changes_the_convnet_answer(compared):
    """Guards the test above: the mirror logits differ from the image's own, so averaging
    them is really checked."""
    runs = compared["convnet"]["page"]["runs"]
    assert max(worst(r["mirrorLogits"], r["ownLogits"]) for r in runs) > 0.1


@pytest.mark.parametrize("name", MODELS)
def test_the_numbers_the_views_write_match_numpy(name, classifiers, compared):
    """The display pixels (the normalised input taken back to [0, 1]) and the softmax's
    exponentials and denominator, each against numpy on torch's own tensors."""
    clf = classifiers[name]
    mean, std = (np.asarray(v, np.float64)[:, None, None] for v in (clf.mean, clf.std))
    for label, ref, run in zip(compared[name]["labels"], compared[name]["reference"],
                               compared[name]["page"]["runs"]):
        pixels = np.clip(ref["tensor"][0].numpy().astype(np.float64) * std + mean, 0, 1)
        assert worst(run["pixels"], pixels.ravel()) <= 1e-6, label
        exponentials = np.exp(ref["logits"].numpy().astype(np.float64))
        # e^z is off by e^(JS - torch) - 1 of itself: about the logits' own tolerance.
        assert np.allclose(run["exponentials"], exponentials, rtol=2 * TOLERANCE, atol=0), label
        assert run["denominator"] == pytest.approx(exponentials.sum(), rel=2 * TOLERANCE), label
        assert worst(run["probabilities"], exponentials / exponentials.sum()) <= 1e-5, label


@pytest.mark.parametrize("name", MODELS)
def test_grad_cam_and_saliency_match_autograd(name, classifiers, compared):
    """The page's maps against torch_maps: Grad-CAM by a hook on the layer the page names."""
    for label, ref, run in zip(compared[name]["labels"], compared[name]["reference"],
                               compared[name]["page"]["runs"]):
        for k, maps in zip(ref["classes"], run["maps"]):
            cam, sal = ref["maps"][k]
            assert maps["camLayer"] == classifiers[name].cam_layer
            assert maps["camOutput"] == classifiers[name].cam_output
            where = f"{label} class {k}"
            assert worst(maps["saliency"], sal.ravel()) <= 1e-4 * sal.max() + 1e-6, where
            assert maps["saliencyMax"] == pytest.approx(float(sal.max()), rel=1e-4, abs=1e-6)
            if cam is None:
                assert maps["gradCam"] is None
                continue
            assert worst(maps["gradCam"], cam.ravel()) <= 1e-4 * cam.max() + 1e-6, where
            assert maps["gradCamMax"] == pytest.approx(float(cam.max()), rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("name", ["lenet5", "convnet"])
def test_the_python_engines_maps_match_the_same_reference(name, classifiers, compared):
    """The two engines are held to one independent Grad-CAM, not only to each other."""
    clf, ref = classifiers[name], compared[name]["reference"][0]
    k = ref["classes"][0]
    cam, sal = attribution_maps(clf.model, ref["tensor"], clf.cam_output, k)
    assert worst(cam, ref["maps"][k][0]) <= 1e-5 * ref["maps"][k][0].max() + 1e-7
    assert worst(sal, ref["maps"][k][1]) <= 1e-6


def test_a_class_other_than_the_answer_has_other_maps(compared):
    """Guards the test above: the maps really depend on the class asked about."""
    run = compared["lenet5"]["page"]["runs"][0]
    assert worst(run["maps"][0]["saliency"], run["maps"][-1]["saliency"]) > 1e-3


# ---------------------------------------------------------------------------- tracing

TRACE_JS = """async ({url, input, queries}) => {
  const e = await import('/web/engine.js');
  """ + LIST + """
  const net = await e.loadNetwork(url);
  const run = net.forward(Float32Array.from(input));
  return queries.map(([layer, channel, y, x]) => {
    const t = net.trace(run, layer, channel, y, x);
    return {...t, inputs: list(t.inputs), weights: list(t.weights), products: list(t.products),
            reads: net.reads(layer, channel, y, x)};
  });
}"""


def trace_queries(clf: Classifier) -> list[tuple[str, int, int, int]]:
    """Every traceable layer at its corners and middle, first and last channel; C1's corner
    reads the zero padding."""
    queries = []
    for layer in traceable_layers(clf):
        shape = clf.shapes[layer]
        if len(shape) == 1:
            queries += [(layer, 0, 0, 0), (layer, shape[0] - 1, 0, 0), (layer, shape[0] // 2, 0, 0)]
            continue
        c, h, w = shape
        for channel, y, x in ((0, 0, 0), (c - 1, h - 1, w - 1), (c // 2, h // 2, w // 3),
                              (1 % c, 0, w - 2 if w > 1 else 0), (c - 1, h // 3, 0)):
            queries.append((layer, channel, y, x))
    return queries


def numpy_sum_of_products(clf: Classifier, tensor: torch.Tensor, layer: str, channel: int,
                          y: int, x: int) -> float:
    """Σ input × weight for one unit of a conv or linear ``layer`` (an activation's name:
    the layer before it), in float64 numpy, from torch's forward outputs and the module's
    weights: the patch cut from the zero-padded source by hand."""
    with torch.inference_mode():
        _, outputs = clf.forward(tensor)
    names = ["input", *outputs]
    values = {"input": tensor, **outputs}
    layer = layer if isinstance(module_named(clf.model, layer), (nn.Conv2d, nn.Linear)) \
        else names[names.index(layer) - 1]
    module = module_named(clf.model, layer)
    source = values[names[names.index(layer) - 1]][0].numpy().astype(np.float64)
    weight = module.weight[channel].detach().numpy().astype(np.float64)
    if isinstance(module, nn.Linear):
        return float(source.ravel() @ weight)
    (ph, pw), (sh, sw), (kh, kw) = module.padding, module.stride, module.kernel_size
    padded = np.pad(source, ((0, 0), (ph, ph), (pw, pw)))
    return float((padded[:, y * sh:y * sh + kh, x * sw:x * sw + kw] * weight).sum())


def same_top_terms(page: list[dict], python: list[dict]) -> None:
    """Same products, largest |product| first. Where two sizes are equal (zeros from the
    padding or a ReLU) numpy's argpartition leaves their order open, so only terms whose size
    is unique in the list are matched by position."""
    assert [t.keys() for t in page] == [t.keys() for t in python]
    sizes = [abs(t["product"]) for t in python]
    for mine, theirs in zip(page, python):
        assert mine["product"] == pytest.approx(theirs["product"], abs=1e-6)
        if sum(abs(s - abs(theirs["product"])) <= 1e-6 for s in sizes) == 1:
            assert mine["index"] == theirs["index"] and mine["at"] == theirs["at"]
            assert mine["input"] == pytest.approx(theirs["input"], abs=1e-5)
            assert mine["weight"] == theirs["weight"]


@pytest.mark.parametrize("name", ["lenet5", "convnet", "lenet5-classic", "dense"])
def test_trace_matches_python(name, classifiers, compared, js_page):
    clf = classifiers[name]
    tensor = compared[name]["reference"][realistic(compared, name)]["tensor"]
    queries = trace_queries(clf)
    page = js_page.evaluate(TRACE_JS, {"url": url(name), "input": flat(tensor), "queries": queries})
    for (layer, channel, y, x), mine in zip(queries, page):
        theirs = trace(clf, tensor, layer, channel, y, x).as_dict()
        where = f"{layer}[{channel}, {y}, {x}]"
        for key in ("model", "layer", "kind", "channel", "y", "x", "source", "receptive_field",
                    "activation", "origin", "pool", "winner"):
            assert mine[key] == theirs[key], f"{where} {key}"
        assert tuple(mine["shape"]) == np.shape(theirs["inputs"]), where
        assert worst(mine["inputs"], np.ravel(theirs["inputs"])) <= TOLERANCE, where
        for key in ("value", "map_value_before", "pre_activation", "bias"):
            if theirs[key] is None:
                assert mine[key] is None, f"{where} {key}"
            else:
                assert mine[key] == pytest.approx(theirs[key], abs=TOLERANCE), f"{where} {key}"
        if theirs["kind"] != "pool":
            assert mine["weights"] == np.ravel(theirs["weights"]).tolist(), where
            assert worst(mine["products"], np.ravel(theirs["products"])) <= TOLERANCE, where
            total = numpy_sum_of_products(clf, tensor, layer, channel, y, x)
            assert mine["sum_of_products"] == pytest.approx(total, abs=TOLERANCE), where
            assert mine["pre_activation"] == mine["sum_of_products"] + mine["bias"], where
        else:
            assert mine["sum_of_products"] is None, where
        same_top_terms(mine["top_contributions"], theirs["top_contributions"])
        # What the unit reads, for the page's outline: the patch of the trace, clipped.
        reads, source_shape = mine["reads"], (clf.channels, clf.height, clf.width)
        if theirs["source"] != "input":
            source_shape = clf.shapes[theirs["source"]]
        assert reads["source"] == theirs["source"]
        if theirs["kind"] == "linear":
            assert reads["window"] is None and reads["channels"] == list(range(source_shape[0]))
            continue
        top, left = theirs["origin"]
        _, kh, kw = np.shape(theirs["inputs"])
        assert reads["window"] == [max(top, 0), max(left, 0), min(top + kh, source_shape[1]) - 1,
                                   min(left + kw, source_shape[2]) - 1], where
        expected = [channel] if theirs["kind"] == "pool" else list(range(source_shape[0]))
        assert reads["channels"] == expected, where


def test_traces_cover_padding_and_pool_winners(classifiers, compared):
    """Guards the test above: it met the padding and max-pool winners away from the corner."""
    clf = classifiers["lenet5"]
    tensor = compared["lenet5"]["reference"][realistic(compared, "lenet5")]["tensor"]
    traces = [trace(clf, tensor, *q).as_dict() for q in trace_queries(clf)]
    assert any(t["layer"] == "C1" and t["origin"][0] < 0 for t in traces)
    assert any(t["pool"] == "max" and t["winner"] != [0, 0] for t in traces)


def test_an_activation_is_traced_as_the_layer_before_it(compared, js_page):
    tensor = compared["lenet5"]["reference"][realistic(compared, "lenet5")]["tensor"]
    page = js_page.evaluate(TRACE_JS, {"url": url("lenet5"), "input": flat(tensor),
                                       "queries": [["C3_relu", 2, 3, 4], ["C3", 2, 3, 4]]})
    assert page[0] == page[1] and page[0]["layer"] == "C3"


PANEL_JS = """async ({url, input, queries}) => {
  const e = await import('/web/engine.js');
  const {traceHtml} = await import('/web/trace_panel.js');
  const {softmaxMath} = await import('/web/live.js');
  const net = await e.loadNetwork(url);
  const run = net.forward(Float32Array.from(input));
  const outputName = net.layers.at(-1).name, box = document.createElement('div');
  document.body.append(box);          // laid out, so that innerText reads as a person does
  const shown = (html) => { box.innerHTML = html; return {html, text: box.innerText}; };
  const traces = queries.map((q) => net.trace(run, ...q));
  return {
    traces: traces.map((t) => shown(traceHtml(t, {classes: net.classes, outputName, run}))),
    sums: traces.map((t) => t.sum_of_products), values: traces.map((t) => t.value),
    largest: traces.map((t) => t.top_contributions[0]?.at ?? null),
    softmax: shown(softmaxMath(net.classes, run, run.top)),
    softmaxOlderCall: softmaxMath(net.classes, run.logits, run.probabilities, run.top),
    logits: Array.from(run.logits), mirrorLogits: run.mirrorLogits && Array.from(run.mirrorLogits),
  };
}"""


def words(text: str) -> str:
    return " ".join(text.split())


def dash(v: float) -> str:
    """Three decimals with a true minus sign, as the page writes a number."""
    return f"{v:.3f}".replace("-", "−")


def term(v: float) -> str:
    """A number added to a sum, as the page writes it: "+ 0.123", "− 0.123"."""
    return ("− " if v < 0 else "+ ") + f"{abs(v):.3f}"


def test_the_trace_panel_names_units_in_plain_words(classifiers, compared, js_page):
    clf = classifiers["lenet5"]
    tensor = compared["lenet5"]["reference"][realistic(compared, "lenet5")]["tensor"]
    queries = [["C3_relu", 5, 4, 6], ["output", 3, 0, 0], ["S4", 5, 2, 3], ["C5", 7, 0, 0],
               ["F6", 55, 0, 0]]
    page = js_page.evaluate(PANEL_JS, {"url": url("lenet5"), "input": flat(tensor),
                                       "queries": queries})
    c3, output, s4, c5, f6 = (words(t["text"]) for t in page["traces"])
    assert c3.startswith("C3 after ReLU, channel 5, row 4, column 6 ")
    assert s4.startswith("S4, channel 5, row 2, column 3 ")
    assert "window of C3 after ReLU, channel 5:" in s4
    assert c5.startswith("C5 after ReLU, channel 7 ") and f6.startswith("F6 after ReLU, unit 55 ")
    assert output.startswith("output · “3”")
    # The largest terms say where each input sits: S4 maps for C5, F6's units for the output.
    assert f"F6 after ReLU, unit {page['largest'][1][0]} " in output
    c, y, x = page["largest"][3]
    assert f"S4, channel {c}, row {y}, column {x} " in c5
    for text in (c3, output, s4, c5, f6):
        assert not re.search(r"_relu|\[\d", text), text      # no "C3_relu [5, 4, 6]"
    # The sum shown is the engine's sum of products (held to numpy above), then the bias.
    bias = float(clf.model.features.C3.bias[5])
    assert f"Sum of the 150 products {dash(page['sums'][0])} {term(bias)} (bias)" in c3


def test_the_softmax_writes_its_exponentials_as_powers_of_ten(compared, js_page):
    """Never "1.706e+9": each e^z and their sum as m × 10^n, matching numpy's."""
    tensor = compared["lenet5"]["reference"][realistic(compared, "lenet5")]["tensor"]
    page = js_page.evaluate(PANEL_JS, {"url": url("lenet5"), "input": flat(tensor),
                                       "queries": [["output", 0, 0, 0]]})
    exponentials = np.exp(np.asarray(page["logits"], np.float64))
    assert exponentials.max() >= 1e4      # large enough that JavaScript's own would say e+
    for html in (page["softmax"]["html"], page["softmaxOlderCall"], page["traces"][0]["html"]):
        assert not re.search(r"\de[+-]?\d", html), html
    html = page["softmax"]["html"]
    for value in (*exponentials, exponentials.sum()):
        exponent = int(np.floor(np.log10(value)))
        if -3 <= exponent < 4:
            continue
        mantissa = value / 10.0 ** exponent
        written = re.findall(rf"(\d\.\d{{3}}) × 10<sup>{exponent}</sup>".replace("-", "−"), html)
        assert any(abs(float(m) - mantissa) <= 2e-3 * mantissa for m in written), (value, written)
    assert page["softmaxOlderCall"] == html


def test_the_photo_trace_says_how_its_logit_becomes_the_answer(compared, js_page):
    """A model that averages with the mirror image: the trace's value is this photo's logit,
    the answer's z is the mean, and the panel says both, with the engine's numbers."""
    tensor = compared["convnet"]["reference"][realistic(compared, "convnet")]["tensor"]
    page = js_page.evaluate(PANEL_JS, {"url": url("convnet"), "input": flat(tensor),
                                       "queries": [["fc2", 8, 0, 0], ["conv1", 2, 3, 4]]})
    text, conv1 = (words(t["text"]) for t in page["traces"])
    own, mirror, mean = page["values"][0], page["mirrorLogits"][8], page["logits"][8]
    assert mean == pytest.approx((own + mirror) / 2, abs=1e-6)
    assert f"= {dash(own)}, this image's own logit z." in text
    assert f"The mirror image's logit for “ship” is {dash(mirror)};" in text
    assert f"({dash(own)} {term(mirror)}) / 2 = {dash(mean)}, the z shown beside “ship”" in text
    assert "input, red channel" in conv1 and "input, blue channel" in conv1


def test_a_new_activation_is_one_entry_in_each_engines_table(js_page):
    """LeNet-5 with sigmoids: layers.ACTIVATIONS and engine.js's KINDS already know it, so the
    page rebuilds and traces it as torch computes it, with nothing else to change."""
    class LeNetSigmoid(LeNet5):
        activation = nn.Sigmoid
    torch.manual_seed(1)
    model = LeNetSigmoid().eval()
    meta = self_description(model, {"model": "lenet5", "classes": [str(d) for d in range(10)],
                                     "input_shape": [1, 28, 28], "mean": [0.0], "std": [1.0]})
    content = safetensors_bytes(model.state_dict(), metadata={"lenet": json.dumps(meta)})
    x = torch.rand(1, 1, 28, 28)
    page = js_page.evaluate("""async ({bytes, input}) => {
        const e = await import('/web/engine.js');
        const net = e.networkFromBuffer(new Uint8Array(bytes).buffer);
        const run = net.forward(Float32Array.from(input));
        const t = net.trace(run, "C3_sigmoid", 2, 3, 4);
        return {c3: Array.from(run.outputs.C3_sigmoid.data), logits: Array.from(run.logits),
                value: t.value, activation: t.activation, words: t.layer_words,
                cam: net.camOutput, saliency: Array.from(net.attributions(run, 4).saliency)};
    }""", {"bytes": list(content), "input": flat(x)})
    with torch.no_grad():
        c3 = torch.sigmoid(model.features[:4](x))
        logits = model(x)
    assert worst(page["c3"], flat(c3)) <= TOLERANCE and worst(page["logits"], flat(logits)) <= TOLERANCE
    assert page["value"] == pytest.approx(float(c3[0, 2, 3, 4]), abs=TOLERANCE)
    assert (page["activation"], page["words"], page["cam"]) == ("sigmoid", "C3 after sigmoid", "C3_sigmoid")
    _, saliency = torch_maps(model, x, None, 4)
    assert worst(page["saliency"], saliency.ravel()) <= 1e-4 * saliency.max() + 1e-7


@pytest.mark.parametrize("name", MODELS)
def test_receptive_field_matches_python(name, classifiers, js_page):
    clf = classifiers[name]
    queries = []
    for layer, shape in clf.shapes.items():
        h, w = shape[1:] if len(shape) == 3 else (1, 1)
        queries += [(layer, y, x) for y, x in {(0, 0), (h - 1, w - 1), (h // 2, w // 3)}]
    page = js_page.evaluate("""async ({url, queries}) => {
        const net = await (await import('/web/engine.js')).loadNetwork(url);
        return queries.map(([layer, y, x]) => net.receptiveField(layer, y, x));
    }""", {"url": url(name), "queries": queries})
    assert page == [list(receptive_field(clf, *q)) for q in queries]


def test_trace_errors_name_the_valid_range(classifiers, js_page):
    clf = classifiers["lenet5"]
    blank = torch.zeros(1, 1, 28, 28)
    bad = [("S9", 0, 0, 0), ("C1", 6, 0, 0), ("C1", 0, 28, 3), ("F6", 1, 1, 0), ("S2", -1, 0, 0)]
    page = js_page.evaluate("""async ({url, bad}) => {
        const net = await (await import('/web/engine.js')).loadNetwork(url);
        const run = net.forward(new Float32Array(28 * 28));
        return bad.map((q) => {
            try { net.trace(run, ...q); return null; } catch (err) { return err.message; }
        });
    }""", {"url": url("lenet5"), "bad": bad})
    for query, message in zip(bad, page):
        with pytest.raises(TraceError) as python:
            trace(clf, blank, *query)
        assert message == str(python.value)


# ---------------------------------------------------------------------------- reading files

PARSE_JS = """async ({bytes}) => {
  const e = await import('/web/engine.js');
  try {
    const {meta, tensors} = e.parseSafetensors(new Uint8Array(bytes).buffer);
    const plain = Object.entries(tensors)
      .map(([k, t]) => [k, {shape: t.shape, data: Array.from(t.data)}]);
    return {meta, tensors: Object.fromEntries(plain)};
  } catch (err) {
    return {error: err.message};
  }
}"""


def safetensors_file(tensors: dict[str, np.ndarray], meta: dict, pad: int) -> bytes:
    """A safetensors file written by hand, its header padded with ``pad`` spaces so that the
    tensor data can start off a 4-byte boundary."""
    header, offset, data = {"__metadata__": {"lenet": json.dumps(meta)}}, 0, b""
    for name, array in tensors.items():
        raw = array.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset, data = offset + len(raw), data + raw
    text = json.dumps(header).encode() + b" " * pad
    return struct.pack("<Q", len(text)) + text + data


@pytest.mark.parametrize("pad", [0, 1, 2, 3])
def test_tensors_are_read_at_any_alignment(pad, js_page):
    rng = np.random.default_rng(pad)
    tensors = {"a": rng.normal(size=(3, 2)).astype(np.float32),
               "b": rng.normal(size=5).astype(np.float32)}
    content = safetensors_file(tensors, {"model": "x"}, pad)
    page = js_page.evaluate(PARSE_JS, {"bytes": list(content)})
    assert page["meta"] == {"model": "x"}
    for name, array in tensors.items():
        assert page["tensors"][name] == {"shape": list(array.shape), "data": array.ravel().tolist()}


def test_a_checkpoint_read_off_alignment_answers_as_torch(classifiers, compared, js_page):
    """The committed LeNet-5 with one more header byte: every tensor is copied, none viewed."""
    raw = (ROOT / "checkpoints" / "lenet5.safetensors").read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    shifted = struct.pack("<Q", n + 1) + raw[8:8 + n] + b" " + raw[8 + n:]
    reference = compared["lenet5"]["reference"][realistic(compared, "lenet5")]
    logits = js_page.evaluate("""async ({bytes, input}) => {
        const e = await import('/web/engine.js');
        const net = e.networkFromBuffer(new Uint8Array(bytes).buffer);
        return Array.from(net.forward(Float32Array.from(input)).logits);
    }""", {"bytes": list(shifted), "input": flat(reference["tensor"])})
    assert worst(logits, flat(reference["logits"])) <= TOLERANCE


@pytest.mark.parametrize("content", [
    b"", b"hello", b"\xff" * 64, struct.pack("<Q", 10) + b"not json!!",
    struct.pack("<Q", 2) + b"[]", safetensors_bytes({"w": torch.zeros(2)}),
    safetensors_bytes({"w": torch.zeros(2)}, metadata={"lenet": "{not json"}),
], ids=["empty", "short", "garbage", "header not JSON", "header not a table", "no metadata",
        "bad metadata"])
def test_a_file_that_is_not_a_checkpoint_gets_one_line(content, js_page):
    error = js_page.evaluate(PARSE_JS, {"bytes": list(content)})["error"]
    assert "not a lenet checkpoint" in error and "\n" not in error


def test_normalize_matches_the_training_recipe(classifiers, js_page):
    clf = classifiers["convnet"]
    pixels = np.random.default_rng(3).uniform(0, 1, (1, 3, 32, 32)).astype(np.float32)
    page = js_page.evaluate("""async ({url, pixels}) => {
        const net = await (await import('/web/engine.js')).loadNetwork(url);
        return Array.from(net.normalize(Float32Array.from(pixels)));
    }""", {"url": url("convnet"), "pixels": pixels.ravel().tolist()})
    assert worst(page, flat(normalize(torch.from_numpy(pixels), clf.mean, clf.std))) <= 1e-6


def test_a_missing_checkpoint_gets_one_line(js_page):
    error = js_page.evaluate("""async () => {
        const e = await import('/web/engine.js');
        try { await e.loadNetwork('/checkpoints/no-such-model.safetensors'); return null; }
        catch (err) { return err.message; }
    }""")
    assert "HTTP 404" in error and "\n" not in error
