"""What a unit wants: the page's gradient ascent (web/ascent.js) judged by PyTorch, and the
nine test images per channel (lenet/inside/wants.py) against a brute-force recomputation.

(a) For every channel of LeNet-5's C1 and C3 (the unit at the map's centre) and every class
    of its output layer, the page's ascended input (100 steps from grey), evaluated by torch
    at the unit, beats the largest value the channel reaches on any MNIST test image (the
    best of the nine). One exception is arithmetic, not taste: C1 is linear in the pixels,
    so its greatest value over [0, 1] inputs is the filter's sign pattern, and a test digit
    that holds that pattern exactly can only be equalled.
(b) top_crops' indices, values, positions and crops equal a recomputation by hand-written
    geometry, on real test images and on small synthetic ones (ties, floats, the ConvNet).
(c) A unit that does not exist, or bad settings, gets a one-line error in both languages.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import ROOT, SHARED_DATA
from helpers import warn_stand_in
from torch import nn

from lenet.inside.wants import WantsError, top_crops
from lenet.net.checkpoint import load_checkpoint
from lenet.training.data import load_split

CHECKPOINTS = ROOT / "checkpoints"
TOLERANCE = 1e-4   # |page - torch| for one value, as tests/test_engine_js.py
LENET_UNITS = {"C1": 6, "C3": 16, "output": 10}
# Each conv layer's receptive field at (y, x) in input rows (columns alike), worked out by
# hand from the layer table (kernel 5, stride-2 pooling, C1's padding 2): (first, size).
FIELDS = {("lenet5", "C1"): lambda y: (y - 2, 5), ("lenet5", "C3"): lambda y: (2 * y - 2, 14),
          ("convnet", "conv1"): lambda y: (y, 5), ("convnet", "conv2"): lambda y: (2 * y, 14)}

ASCEND_JS = """async ({units, digit}) => {
  (await import('/web/shared.js')).setFiles('/');
  const e = await import('/web/engine.js'), a = await import('/web/ascent.js');
  const net = await e.loadNetwork('/checkpoints/lenet5.safetensors');
  const ascents = [];
  for (const [layer, count] of Object.entries(units)) {
    const at = a.unitCentre(net, layer);
    for (let channel = 0; channel < count; channel++) {
      const r = a.ascend(net, {layer, channel, ...at}, {steps: 100});
      ascents.push({layer, channel, ...at, value: r.value, pixels: Array.from(r.pixels),
                    last: r.values.at(-1), count: r.values.length});
    }
  }
  const unit = {layer: 'C3', channel: 5, ...a.unitCentre(net, 'C3')};
  const start = net.forward(net.normalize(Float32Array.from(digit)));
  const fromDigit = a.ascend(net, unit, {from: digit, steps: 30});
  const again = a.ascend(net, {layer: 'C1', channel: 2, y: 14, x: 14});
  const first = ascents.find((r) => r.layer === 'C1' && r.channel === 2);
  const error = (f) => { try { f(); return null; } catch (err) { return err.message; } };
  const c1 = {layer: 'C1', channel: 0, y: 14, x: 14};
  // The ConvNet: three channels, each with its own mean and std (LeNet-5's are 0 and 1).
  const convnet = await e.loadNetwork('/checkpoints/convnet.safetensors');
  const photo = a.ascend(convnet, {layer: 'fc2', channel: 3}, {steps: 20});
  const grey = convnet.forward(convnet.normalize(new Float32Array(3 * 32 * 32).fill(0.5)));
  return {ascents,
    photo: {pixels: Array.from(photo.pixels), value: photo.value, grey: grey.outputs.fc2.data[3]},
    fromDigit: {before: start.outputs.C3.data[(5 * 10 + unit.y) * 10 + unit.x], after: fromDigit.value},
    repeatable: again.pixels.every((v, i) => v === first.pixels[i]),
    errors: [
      error(() => a.ascend(net, {layer: 'C9', channel: 0})),
      error(() => a.ascend(net, {layer: 'C1', channel: 6, y: 14, x: 14})),
      error(() => a.ascend(net, {layer: 'C3', channel: 0, y: 10, x: 0})),
      error(() => a.ascend(net, {layer: 'output', channel: -1})),
      error(() => a.ascend(net, c1, {steps: 0})),
      error(() => a.ascend(net, c1, {from: new Float32Array(10)})),
      error(() => a.ascend(net, c1, {off: {C9: [0]}})),
      error(() => a.unitCentre(net, 'nowhere')),
    ]};
}"""


# ---------------------------------------------------------------------------- references

def module_named(model: nn.Module, name: str) -> nn.Module:
    return next(m for qualified, m in model.named_modules() if qualified.rsplit(".", 1)[-1] == name)


def torch_outputs(model: nn.Module, meta: dict, pixels: torch.Tensor, names) -> dict[str, torch.Tensor]:
    """Each named module's output for (N, C, H, W) pixels in [0, 1], caught by forward hooks
    on the model's own forward (none of lenet.inside's code)."""
    caught = {}
    hooks = [module_named(model, n).register_forward_hook(
        lambda _m, _i, out, n=n: caught.__setitem__(n, out.detach())) for n in names]
    mean = torch.tensor(meta["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(meta["std"]).view(1, -1, 1, 1)
    with torch.no_grad():
        model.eval()((pixels - mean) / std)
    for h in hooks:
        h.remove()
    return caught


def brute_force_top(model, meta, images: np.ndarray, layer: str, k: int):
    """(indices, values, positions) per channel by exhaustive search: every image's every
    position, ranked by (value descending, image index ascending) with np.lexsort."""
    out = torch_outputs(model, meta, torch.from_numpy(images).float() / 255, [layer])[layer].numpy()
    flat = out.reshape(out.shape[0], out.shape[1], -1)                     # (N, channels, positions)
    width = out.shape[3] if out.ndim == 4 else 1
    indices, values, positions = [], [], []
    for c in range(flat.shape[1]):
        best = flat[:, c].max(axis=1)
        order = np.lexsort((np.arange(len(best)), -best))[:k]
        where = [int(np.flatnonzero(flat[i, c] == best[i])[0]) for i in order]   # first in row order
        indices.append(order)
        values.append(best[order])
        positions.append([(w // width, w % width) for w in where])
    return np.array(indices), np.array(values), np.array(positions)


def hand_crop(image: np.ndarray, model_name: str, layer: str, y: int, x: int) -> np.ndarray:
    """(C, H, W) uint8 -> the receptive field at (y, x) by FIELDS, zero outside the image."""
    (top, size), (left, _) = FIELDS[model_name, layer](y), FIELDS[model_name, layer](x)
    pad = 16
    padded = np.pad(image, ((0, 0), (pad, pad), (pad, pad)))
    return padded[:, pad + top:pad + top + size, pad + left:pad + left + size].transpose(1, 2, 0)


def mnist_test() -> np.ndarray:
    """The MNIST test set (N, 1, 28, 28) uint8; the gallery's stored test digits stand in."""
    if (SHARED_DATA / "MNIST" / "raw").is_dir():
        return load_split("mnist", SHARED_DATA, train=False)[0].numpy()
    from lenet.inside.gallery import gallery_path, load_gallery
    warn_stand_in(SHARED_DATA / "MNIST" / "raw", "the gallery's few hundred test digits")
    images = load_gallery(gallery_path(CHECKPOINTS / "lenet5.safetensors")).images
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2))


def check_equal(found, images, model, meta, layer, model_name=None, k=9) -> None:
    """One layer's TopCrops against brute_force_top and hand_crop."""
    indices, values, positions = brute_force_top(model, meta, images, layer, k)
    np.testing.assert_array_equal(found.indices, indices)
    np.testing.assert_allclose(found.values, values, rtol=0, atol=1e-5)
    if model_name is None:                                    # a linear layer: whole images
        np.testing.assert_array_equal(found.positions, 0)
        np.testing.assert_array_equal(found.crops, images[indices].transpose(0, 1, 3, 4, 2))
        return
    np.testing.assert_array_equal(found.positions, positions)
    crops = np.array([[hand_crop(images[i], model_name, layer, y, x) for i, (y, x) in zip(row, spots)]
                      for row, spots in zip(indices, positions)])
    np.testing.assert_array_equal(found.crops, crops)


# ---------------------------------------------------------------------------- (a) the page's ascent

@pytest.fixture(scope="module")
def lenet():
    return load_checkpoint(CHECKPOINTS / "lenet5.safetensors")


@pytest.fixture(scope="module")
def page_ascents(js_page):
    digit = mnist_test()[0, 0].reshape(-1) / 255
    return js_page.evaluate(ASCEND_JS, {"units": LENET_UNITS, "digit": digit.tolist()})


def c1_greatest(model, meta) -> np.ndarray:
    """C1's greatest value at an inside position over inputs in [0, 1], per channel: it is
    linear in the pixels, so each pixel goes to whichever end its weight favours."""
    conv = module_named(model, "C1")
    w = conv.weight.detach().double()[:, 0]                  # (6, 5, 5)
    low, high = (0 - meta["mean"][0]) / meta["std"][0], (1 - meta["mean"][0]) / meta["std"][0]
    return (torch.maximum(w * low, w * high).sum((1, 2)) + conv.bias.detach().double()).numpy()


def test_the_ascended_input_beats_the_best_test_images(page_ascents, lenet):
    model, meta = lenet
    images = mnist_test()
    found = top_crops(model, meta, images, list(LENET_UNITS))
    greatest = c1_greatest(model, meta)
    for layer in LENET_UNITS:
        check_equal(found[layer], images, model, meta, layer, None if layer == "output" else "lenet5")
    for r in page_ascents["ascents"]:
        layer, channel = r["layer"], r["channel"]
        assert len(r["pixels"]) == 28 * 28 and min(r["pixels"]) >= 0 and max(r["pixels"]) <= 1
        assert (r["count"], r["last"]) == (100, r["value"])
        pixels = torch.tensor(r["pixels"]).view(1, 1, 28, 28)
        out = torch_outputs(model, meta, pixels, [layer])[layer][0, channel]
        torch_value = float(out if out.dim() == 0 else out[r["y"], r["x"]])
        assert abs(torch_value - r["value"]) < TOLERANCE, (layer, channel)     # the page's own figure
        best = float(found[layer].values[channel].max())      # the best of the nine
        if layer == "C1" and best > greatest[channel] - TOLERANCE:
            # a test digit holds the filter's sign pattern: nothing can beat it, the page equals it
            assert torch_value > best - TOLERANCE, (layer, channel, torch_value, best)
        else:
            assert torch_value > best, (layer, channel, torch_value, best)


def test_the_ascent_climbs_from_the_current_input_and_repeats_itself(page_ascents):
    assert page_ascents["fromDigit"]["after"] > page_ascents["fromDigit"]["before"] + 1
    assert page_ascents["repeatable"]


def test_the_convnet_ascent_is_in_pixels_and_climbs(page_ascents):
    """The ConvNet's class logit, 20 steps from grey: the page's pixels, normalised by torch
    with the checkpoint's mean and std, give the value the page reports, well above grey's."""
    model, meta = load_checkpoint(CHECKPOINTS / "convnet.safetensors")
    photo = page_ascents["photo"]
    pixels = torch.tensor(photo["pixels"]).view(1, 3, 32, 32)
    assert pixels.min() >= 0 and pixels.max() <= 1
    logit = float(torch_outputs(model, meta, pixels, ["fc2"])["fc2"][0, 3])
    assert abs(logit - photo["value"]) < TOLERANCE
    assert logit > photo["grey"] + 5


# ---------------------------------------------------------------------------- (b) top_crops

def test_top_crops_of_a_test_subset_equal_a_brute_force_search(lenet):
    model, meta = lenet
    images = mnist_test()[:1500]
    found = top_crops(model, meta, images, ["C1", "C3", "output"], k=9)
    for layer in ("C1", "C3"):
        assert found[layer].crops.shape[2:] == ((5, 5, 1) if layer == "C1" else (14, 14, 1))
        check_equal(found[layer], images, model, meta, layer, "lenet5")
    check_equal(found["output"], images, model, meta, "output")


def test_top_crops_on_synthetic_photos_with_ties_and_floats():
    """The ConvNet (three channels, its own mean and std, no padding) on random photos, given
    as floats in [0, 1]; every photo appears twice, so that equal values must keep the test
    set's order."""
    model, meta = load_checkpoint(CHECKPOINTS / "convnet.safetensors")
    rng = np.random.default_rng(23)
    photos = rng.integers(0, 256, (20, 3, 32, 32), dtype=np.uint8)
    photos = np.concatenate([photos, photos])                             # ties: i and i + 20
    found = top_crops(model, meta, torch.from_numpy(photos).float() / 255, ["conv1", "conv2", "fc2"], k=4)
    for layer in ("conv1", "conv2"):
        check_equal(found[layer], photos, model, meta, layer, "convnet", k=4)
    check_equal(found["fc2"], photos, model, meta, "fc2", k=4)
    assert all(found["fc2"].indices[c, 1] == found["fc2"].indices[c, 0] + 20 for c in range(10))


def test_lenet_crops_reach_into_the_padding():
    """A stroke at the top-left corner: C1's best position there has a field 2 pixels past
    the image, which the crop fills with zeros (black), the image itself in the rest."""
    model, meta = load_checkpoint(CHECKPOINTS / "lenet5.safetensors")
    image = np.zeros((3, 1, 28, 28), np.uint8)
    image[:, 0, :3, :3] = 255
    image[1, 0, 10:20, 10:20] = 40                               # a dimmer patch inside
    found = top_crops(model, meta, image, ["C1", "C3"], k=3)
    check_equal(found["C1"], image, model, meta, "C1", "lenet5", k=3)
    check_equal(found["C3"], image, model, meta, "C3", "lenet5", k=3)


# ---------------------------------------------------------------------------- (c) one-line errors

def test_bad_units_get_one_line(page_ascents):
    errors = page_ascents["errors"]
    assert all(e and "\n" not in e for e in errors), errors
    assert "C9" in errors[0] and "0-5" in errors[1] and "y 0-9" in errors[2] and "0-9" in errors[3]
    assert "steps" in errors[4] and "784" in errors[5] and "C9" in errors[6]


def test_top_crops_refuses_in_one_line(lenet):
    model, meta = lenet
    images = np.zeros((4, 1, 28, 28), np.uint8)
    for layers, k, words, given in ((["S2"], 2, "choose from C1, C3, C5, F6, output", images),
                                    (["C1"], 5, "1-4", images), (["C1"], 0, "1-4", images),
                                    (["C1"], 1, "(N, 1, 28, 28), not (4, 28, 28)", images[:, 0])):
        with pytest.raises(WantsError) as caught:
            top_crops(model, meta, given, layers, k=k)
        assert words in str(caught.value) and "\n" not in str(caught.value)
