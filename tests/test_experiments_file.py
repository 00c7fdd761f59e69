"""The stored experiments (issue 23): the files beside lenet5 and convnet that
lenet/inside/experiments.py writes hold the test accuracy with each channel of the first two
conv layers switched off, recomputed here independently (the channel's weights and bias zeroed
in a copy of the model, the whole test set evaluated, with the mirror average for the
ConvNet), and each channel's nine best test images, recomputed with top_crops; the page reads
the same numbers (web/experiments_file.js); the app's start data and the static site carry the
files; a missing or corrupt file is one line; ``python -m lenet experiments`` writes both files."""
from __future__ import annotations

import copy
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT, SHARED_DATA
from helpers import answer_accuracy_here
from safetensors.numpy import save as safetensors_bytes

from lenet.inside.experiments import (
    ExperimentsError,
    crop_layers,
    has_experiments,
    load_experiments,
)
from lenet.inside.wants import top_crops
from lenet.net.checkpoint import default_checkpoint, load_checkpoint
from lenet.net.files import experiments_path, neighbours_path
from lenet.training.data import load_split

MODELS = ("lenet5", "convnet")
FIRST_CONVS = {"lenet5": ["C1", "C3"], "convnet": ["conv1", "conv2"]}
CHECKED = (0, -1)          # channels recomputed per layer: the first and the last
MAX_BYTES = 2 * 10**6


def stored(name: str):
    return load_experiments(experiments_path(default_checkpoint(name)))


@pytest.fixture(scope="module")
def test_sets():
    found = {}
    for name in MODELS:
        model, meta = load_checkpoint(default_checkpoint(name))
        x, y, _ = load_split(meta["dataset"], SHARED_DATA, train=False, classes=tuple(meta["classes"]))
        found[name] = (model, meta, x, y)
    return found


def test_the_files_are_small_and_list_what_they_hold():
    for name in MODELS:
        assert experiments_path(default_checkpoint(name)).stat().st_size < MAX_BYTES, name
        found = stored(name)
        meta = load_checkpoint(default_checkpoint(name))[1]
        assert list(found.lesion.layers) == FIRST_CONVS[name]
        assert list(found.crops) == [*FIRST_CONVS[name], "output" if name == "lenet5" else "fc2"]
        assert crop_layers(meta) == list(found.crops)
        assert found.meta["test_size"] == 10000 and found.meta["mirror_average"] == (name == "convnet")
        for layer, crops in found.crops.items():
            assert crops.crops.dtype == np.uint8 and crops.indices.shape[1] == 9, layer


def test_the_dense_baseline_has_nothing_to_switch_off():
    assert not has_experiments(load_checkpoint(default_checkpoint("dense"))[1])


# ---------------------------------------------------------------------------- independent references
def accuracy_with_channel_zeroed(model, meta, x, y, layer: str, channel: int) -> float:
    """Test accuracy of a copy of ``model`` whose conv ``layer`` has ``channel``'s weights and
    bias zeroed (its output plane is then zero), answering as the app does."""
    lesioned = copy.deepcopy(model)
    conv = dict(lesioned.features.named_children())[layer]
    with torch.no_grad():
        conv.weight[channel] = 0
        conv.bias[channel] = 0
    return answer_accuracy_here(lesioned, meta, x, y)


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_stored_accuracies_equal_a_recomputation_with_the_channel_zeroed(test_sets, name):
    model, meta, x, y = test_sets[name]
    found = stored(name)
    assert abs(found.lesion.baseline - baseline(model, meta, x, y)) <= 1e-9
    for layer in FIRST_CONVS[name]:
        for channel in CHECKED:
            channel %= len(found.lesion.accuracies[layer])
            expected = accuracy_with_channel_zeroed(model, meta, x, y, layer, channel)
            # One image at most: the stored figure adds each channel's change to the next layer
            # instead of running the zeroed model, which moves logits by ~1e-6 and can turn an
            # image whose two best logits tie to that precision.
            difference = abs(found.lesion.accuracies[layer][channel] - expected)
            assert difference <= 1 / len(x) + 1e-7, (layer, channel)


def baseline(model, meta, x, y) -> float:
    """Test accuracy with nothing off, answering as the app does."""
    unchanged = copy.deepcopy(model)
    mean = torch.tensor(meta["mean"])[:, None, None]
    std = torch.tensor(meta["std"])[:, None, None]
    with torch.inference_mode():
        inputs = (x.float() / 255 - mean) / std
        logits = unchanged(inputs)
        if meta["mirror_average"]:
            logits = (logits + unchanged(inputs.flip(-1))) / 2
    return int((logits.argmax(1) == y).sum()) / len(x)


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_stored_crops_equal_top_crops_recomputed(test_sets, name):
    model, meta, x, y = test_sets[name]
    found = stored(name)
    again = top_crops(model, meta, x, list(found.crops), k=9)
    for layer, crops in found.crops.items():
        assert np.array_equal(crops.indices, again[layer].indices), layer
        # The same sums in another order (train.py writes with one thread, the test may
        # use more) may differ in the last bit; which images win may not.
        np.testing.assert_allclose(crops.values, again[layer].values, rtol=1e-6, err_msg=layer)
        assert np.array_equal(crops.positions, again[layer].positions), layer
        assert np.array_equal(crops.crops, again[layer].crops), layer
        assert np.array_equal(found.labels[layer], y.numpy()[crops.indices]), layer
    # The output layer's crops are whole test images, best first.
    last = list(found.crops)[-1]
    best = x[found.crops[last].indices[3, 0]].permute(1, 2, 0).numpy()
    assert np.array_equal(found.crops[last].crops[3, 0], best)


# ---------------------------------------------------------------------------- the page
PAGE_JS = """async ({name}) => {
  (await import('/web/shared.js')).setFiles('/');
  const {loadExperiments} = await import('/web/experiments_file.js');
  const found = await loadExperiments(`checkpoints/${name}.experiments.safetensors`);
  return {baseline: found.lesion.baseline,
    lesion: Object.fromEntries(Object.entries(found.lesion.layers).map(([k, v]) => [k, Array.from(v)])),
    crops: Object.fromEntries(Object.entries(found.crops).map(([k, c]) => [k, {channels: c.channels,
      k: c.k, indices: c.indices, labels: c.labels, values: Array.from(c.values),
      last: c.pictures(c.channels - 1).map((p) => ({width: p.width, height: p.height,
                                                    rgba: Array.from(p.pixels)}))}])),
  };
}"""


@pytest.mark.browser
@pytest.mark.parametrize("name", MODELS)
def test_the_page_reads_what_python_stored(js_page, name):
    page = js_page.evaluate(PAGE_JS, {"name": name})
    found = stored(name)
    assert page["baseline"] == found.lesion.baseline
    assert page["lesion"] == {k: v.tolist() for k, v in found.lesion.accuracies.items()}
    assert list(page["crops"]) == list(found.crops)
    for layer, crops in found.crops.items():
        ours = page["crops"][layer]
        assert (ours["channels"], ours["k"]) == crops.indices.shape
        assert ours["indices"] == crops.indices.reshape(-1).tolist()
        assert ours["labels"] == found.labels[layer].reshape(-1).tolist()
        assert ours["values"] == crops.values.reshape(-1).tolist()
        for rank, picture in enumerate(ours["last"]):
            crop = crops.crops[-1, rank]                        # (h, w, C)
            rgba = np.array(picture["rgba"], np.uint8).reshape(picture["height"], picture["width"], 4)
            assert np.array_equal(rgba[..., :3], np.broadcast_to(crop, crop.shape[:2] + (3,))), (layer, rank)
            assert np.all(rgba[..., 3] == 255)


PAGE_ERRORS_JS = """async () => {
  (await import('/web/shared.js')).setFiles('/');
  const {loadExperiments, parseExperiments} = await import('/web/experiments_file.js');
  const said = async (f) => { try { await f(); return null; } catch (e) { return e.message; } };
  const bytes = (text) => new TextEncoder().encode(text);
  const header = (json) => { const h = bytes(json), out = new Uint8Array(8 + h.length);
    out.set([h.length], 0); out.set(h, 8); return out.buffer; };
  return {
    missing: await said(() => loadExperiments('checkpoints/nothing.experiments.safetensors')),
    short: await said(() => parseExperiments(new Uint8Array(3).buffer, 'x')),
    noMeta: await said(() => parseExperiments(header('{}'), 'x')),
    cut: await said(() => parseExperiments(header(JSON.stringify({__metadata__: {lenet_experiments:
      JSON.stringify({format_version: 1, baseline: 1, lesion_layers: ['C1'], crop_layers: []})},
      'lesion.C1': {dtype: 'F32', shape: [6], data_offsets: [0, 24]}})), 'x')),
    channel: await said(async () => (await loadExperiments('checkpoints/lenet5.experiments.safetensors'))
      .crops.C1.pictures(6)),
  };
}"""


@pytest.mark.browser
def test_the_page_says_in_one_line_why_a_file_cannot_be_read(js_page):
    said = js_page.evaluate(PAGE_ERRORS_JS)
    assert said["missing"] == "could not fetch checkpoints/nothing.experiments.safetensors (HTTP 404)"
    assert said["short"].startswith("x is not a lenet experiments file (too short for a header)")
    assert "(it has no lenet_experiments metadata)" in said["noMeta"]
    assert "(lesion.C1 is cut short)" in said["cut"]
    assert said["channel"] == "C1 has channels 0-5, not 6"
    assert all("\n" not in line for line in said.values())


def test_python_says_in_one_line_how_to_make_a_missing_or_corrupt_file(tmp_path):
    remedy = r"not found; make it with: python -m lenet experiments --model m$"
    with pytest.raises(ExperimentsError, match=remedy):
        load_experiments(tmp_path / "m.experiments.safetensors")
    bad = tmp_path / "lenet5.experiments.safetensors"
    for data in (b"\x00" * 20, safetensors_bytes({"a": np.zeros(2, np.float32)}, metadata={"x": "1"})):
        bad.write_bytes(data)
        with pytest.raises(ExperimentsError) as caught:
            load_experiments(bad)
        assert "\n" not in str(caught.value) and str(caught.value).endswith("--model lenet5")


# ---------------------------------------------------------------------------- the shells
def test_the_start_data_names_the_files_and_null_where_there_are_none(tmp_path):
    from lenet.page import tab_starts
    bare = tmp_path / "lenet5.safetensors"             # a checkpoint without the files beside it
    bare.write_bytes(default_checkpoint("lenet5").read_bytes())
    named = lambda p: f"checkpoints/{p.name}"  # noqa: E731
    starts = tab_starts({name: default_checkpoint(name) for name in MODELS}, named)
    assert starts["draw"]["models"][0]["experiments"] == "checkpoints/lenet5.experiments.safetensors"
    assert starts["photo"]["models"][0]["experiments"] == "checkpoints/convnet.experiments.safetensors"
    starts = tab_starts({"lenet5": bare, "convnet": default_checkpoint("convnet")}, named)
    lenet5 = starts["draw"]["models"][0]
    assert lenet5["experiments"] is None and lenet5["neighbours"] is None


def test_the_static_site_carries_the_files_and_does_not_take_them_for_models(tmp_path):
    from lenet.net.models import REGISTRY
    from lenet.page.site import build_site, checkpoints
    found = checkpoints()
    # Every registered model whose checkpoint is committed, and nothing else (no side file).
    assert sorted(found) == sorted(n for n in REGISTRY if default_checkpoint(n).is_file())
    site = build_site(tmp_path / "site")
    for name in MODELS:
        for path in (experiments_path(default_checkpoint(name)), neighbours_path(default_checkpoint(name))):
            assert f"checkpoints/{path.name}" in site.files
            assert (site.path / "checkpoints" / path.name).read_bytes() == path.read_bytes()
    assert f"checkpoints/{experiments_path(ROOT / 'checkpoints/lenet5.safetensors').name}" in \
        (site.path / "index.html").read_text()


def test_the_app_serves_the_files_its_page_names(app_url):
    import urllib.request
    page = urllib.request.urlopen(app_url, timeout=60).read().decode()
    for name in MODELS:
        for path in (experiments_path(default_checkpoint(name)), neighbours_path(default_checkpoint(name))):
            assert f"checkpoints/{path.name}" in page
            served = urllib.request.urlopen(f"{app_url}gradio_api/file=checkpoints/{path.name}", timeout=60)
            assert served.read() == path.read_bytes()


# ---------------------------------------------------------------------------- the command
@pytest.mark.slow
def test_experiments_command_writes_both_files(tiny_mnist, tmp_path):
    root, _ = tiny_mnist
    checkpoint = tmp_path / "lenet5.safetensors"
    checkpoint.write_bytes(default_checkpoint("lenet5").read_bytes())
    done = subprocess.run([sys.executable, "-m", "lenet", "experiments", "--model", "lenet5",
                           "--checkpoint", str(checkpoint), "--data-dir", str(root)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    found = load_experiments(experiments_path(checkpoint))
    assert found.meta["test_size"] == 60 and found.crops["C1"].indices.max() < 60
    assert str(neighbours_path(checkpoint)) in done.stdout
    wrong = subprocess.run([sys.executable, "-m", "lenet", "experiments", "--model", "convnet",
                            "--checkpoint", str(checkpoint), "--data-dir", str(root)],
                           capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert wrong.returncode == 2 and wrong.stderr.strip().count("\n") == 0
