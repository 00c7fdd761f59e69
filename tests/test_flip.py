"""Flipping the answer: the page's search (web/flip.js) in Chromium against PyTorch and the
Python search (lenet/inside/flip.py), and the command ``python -m lenet flip``.

Inputs are real test images: the random test-set sample stored in each committed checkpoint's
gallery (200 MNIST digits for LeNet-5, 100 CIFAR-10 photos for the ConvNet, whose answer is
the mean with the mirror image's), each with a target class drawn with a fixed seed. The
page's changed inputs are classified by PyTorch itself (``answer_logits``), not by either
search, and the sizes are recomputed from the pixels by NumPy.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT
from PIL import Image

from lenet.__main__ import main
from lenet.inputs.images import open_image
from lenet.inputs.preprocess import digit_from_image, photo_pixels
from lenet.inside import flip as search
from lenet.inside.gallery import gallery_path, load_gallery
from lenet.inside.lesion import outputs_with_off
from lenet.net.checkpoint import averages_mirror, default_checkpoint, load_checkpoint
from lenet.net.models import answer_logits, normalize

# model -> how many of its gallery's random test images are searched
CASES = {"lenet5": 200, "convnet": 100}
SUCCESS = 0.95       # the share of flips that must reach the target
SIZE_TOLERANCE = 0.10   # the page's sizes within this fraction of Python's, digit by digit

# Every flip of the batch in one evaluate: the network loads once, the arrays cross as lists.
# `off`: the parts switched off, {layer: [channel, ...]}.
FLIP_JS = """async ({url, inputs, targets, off = {}}) => {
  const {loadNetwork} = await import('/web/engine.js');
  const {flip} = await import('/web/flip.js');
  const net = await loadNetwork(url);
  return inputs.map((pixels, n) => {
    const f = flip(net, Float32Array.from(pixels), targets[n], {off});
    return {found: f.found, pixels: Array.from(f.pixels), change: Array.from(f.change),
            sizes: f.sizes, steps: f.steps, answer: f.answer, before: f.before};
  });
}"""


def test_the_page_reads_the_search_numbers_from_python():
    """web/flip.json is the module's (rewrite it with python -m lenet.inside.flip)."""
    assert json.loads(search.PAGE_FILE.read_text()) == search.page_constants()
    assert search.PAGE_FILE.read_text() == search.render_page_constants()


# ---------------------------------------------------------------------------- the searches

def cases(name: str):
    """(model, meta, pixels (N, C, H, W) float32 in [0, 1], targets (N,)): the gallery's
    random test images, each with a seeded random target class."""
    model, meta = load_checkpoint(default_checkpoint(name))
    gallery = load_gallery(gallery_path(default_checkpoint(name)))
    images = gallery.images[gallery.sample_positions()[:CASES[name]]]          # (N, H, W, C)
    pixels = images.transpose(0, 3, 1, 2).astype(np.float32) / 255
    targets = np.random.default_rng(23).integers(0, len(meta["classes"]), len(pixels))
    return model, meta, pixels, targets


def torch_answers(model, meta, pixels: np.ndarray) -> np.ndarray:
    """PyTorch's answers for (N, C, H, W) pixels, as the app gives them."""
    with torch.inference_mode():
        x = normalize(torch.from_numpy(np.ascontiguousarray(pixels, np.float32)), meta["mean"], meta["std"])
        return answer_logits(model, x, averages_mirror(meta)).argmax(1).numpy()


def numpy_sizes(before: np.ndarray, after: np.ndarray) -> tuple[int, float, float]:
    """(changed, l2, largest) of one change, written out again for the test."""
    d = after.astype(np.float64) - before.astype(np.float64)
    return int((np.abs(d).max(0) >= 1 / 255).sum()), float(np.sqrt((d * d).sum())), float(np.abs(d).max())


def within(page: float, python: float, tolerance: float) -> bool:
    return abs(page - python) <= tolerance * abs(python) + 1e-12


@pytest.fixture(scope="module", params=list(CASES))
def flips(request, js_page):
    """One model's cases searched by the page and by Python: (cases, page's, Python's)."""
    model, meta, pixels, targets = cases(request.param)
    page = js_page.evaluate(FLIP_JS, {"url": f"/checkpoints/{request.param}.safetensors",
                                      "inputs": pixels.reshape(len(pixels), -1).tolist(),
                                      "targets": targets.tolist()})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)    # one small image at a time: on a busy machine threads only wait
    try:
        python = [search.flip(model, meta, p, int(t)) for p, t in zip(pixels, targets)]
    finally:
        torch.set_num_threads(threads)
    return (model, meta, pixels, targets), page, python


@pytest.mark.slow   # 300 searches in the page and in PyTorch: about a minute on 2 cores
def test_the_pages_changed_inputs_make_pytorch_answer_the_target(flips):
    (model, meta, pixels, targets), page, _ = flips
    changed = np.array([f["pixels"] for f in page], np.float32).reshape(pixels.shape)
    assert changed.min() >= 0 and changed.max() <= 1
    answers = torch_answers(model, meta, changed)
    assert (answers == targets).mean() >= SUCCESS
    python = np.array([f.pixels for f in flips[2]])       # the Python search's, likewise
    assert (torch_answers(model, meta, python) == targets).mean() >= SUCCESS
    # the page says it found what PyTorch confirms, and its `answer` is PyTorch's
    found = np.array([f["found"] for f in page])
    assert (answers[found] == targets[found]).all()
    assert (np.array([f["answer"] for f in page]) == answers).all()
    # an input already answered with the target is left as it is
    before = torch_answers(model, meta, pixels)
    for f, b, t, p in zip(page, before, targets, pixels):
        assert f["before"] == b
        if b == t:
            assert f["steps"] == 0 and f["found"] and np.array_equal(f["pixels"], p.reshape(-1))


@pytest.mark.slow
def test_the_pages_sizes_are_the_changes_and_within_10_percent_of_pythons(flips):
    """Per image: the page's sizes are NumPy's of its own change, and each of changed, L2 and
    largest is within 10 % of the Python search's for the same image and target."""
    (model, meta, pixels, targets), page, python = flips
    for n, (f, py, before) in enumerate(zip(page, python, pixels)):
        after = np.array(f["pixels"], np.float32).reshape(before.shape)
        np.testing.assert_allclose(np.array(f["change"]), (after - before).reshape(-1), atol=1e-6)
        changed, l2, largest = numpy_sizes(before, after)
        assert f["sizes"]["changed"] == changed
        assert f["sizes"]["l2"] == pytest.approx(l2, rel=1e-6, abs=1e-9)
        assert f["sizes"]["largest"] == pytest.approx(largest, rel=1e-6, abs=1e-9)
        assert (f["found"], f["answer"]) == (py.found, py.answer), n
        for key in ("changed", "l2", "largest"):
            page_size, python_size = f["sizes"][key], getattr(py.sizes, key)
            assert within(page_size, python_size, SIZE_TOLERANCE), (n, key, page_size, python_size)


def test_the_pages_search_with_parts_off_flips_the_network_with_them_off(js_page):
    """With parts switched off, the search flips the network with those parts off: the page's
    answers before and after are PyTorch's with the same outputs zeroed (lenet.inside.lesion)."""
    model, meta, pixels, targets = cases("lenet5")
    pixels, targets, off = pixels[:20], targets[:20], {"C3": list(range(8))}
    page = js_page.evaluate(FLIP_JS, {"url": "/checkpoints/lenet5.safetensors", "off": off,
                                      "inputs": pixels.reshape(len(pixels), -1).tolist(),
                                      "targets": targets.tolist()})

    def lesioned(x):
        return outputs_with_off(model, meta, torch.from_numpy(x), off)["output"].argmax(1).numpy()
    before = lesioned(pixels)
    assert (before != torch_answers(model, meta, pixels)).any()   # the parts off matter here
    assert [f["before"] for f in page] == before.tolist()
    after = lesioned(np.array([f["pixels"] for f in page], np.float32).reshape(pixels.shape))
    assert [f["answer"] for f in page] == after.tolist()
    assert (after == targets).mean() >= SUCCESS


def test_a_target_that_is_not_a_class_is_refused_in_one_line(js_page):
    model, meta, pixels, _ = cases("lenet5")
    for bad in (10, -1, 2.5, "3", None, True):
        with pytest.raises(search.FlipError, match=r"^the target must be a class index 0-9, not"):
            search.flip(model, meta, pixels[0], bad)
        message = js_page.evaluate("""async ({pixels, bad}) => {
          const {loadNetwork} = await import('/web/engine.js');
          const {flip} = await import('/web/flip.js');
          const net = await loadNetwork('/checkpoints/lenet5.safetensors');
          try { flip(net, Float32Array.from(pixels), bad); } catch (e) { return e.message; }
          return null;
        }""", {"pixels": pixels[0].reshape(-1).tolist(), "bad": bad})
        assert message and message.startswith("the target must be a class index 0-9, not"), bad


# ---------------------------------------------------------------------------- the command

@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """A test digit and a test photo from the galleries as PNG files, with what the models
    answer for them after the app's upload recipe, and a blank page and a text file."""
    folder = tmp_path_factory.mktemp("flip")
    found = {}
    for name, kind in (("lenet5", "digit"), ("convnet", "photo")):
        model, meta, pixels, _ = cases(name)
        image = (pixels[0] * 255).round().astype(np.uint8).transpose(1, 2, 0)
        path = folder / f"{kind}.png"
        Image.fromarray(image[..., 0] if kind == "digit" else image).save(path)
        # the upload recipe, as lenet.inputs has it (the page repeats it: test_upload_recipes)
        opened = open_image(path)
        recipe = (digit_from_image(opened).pixels[None] if kind == "digit"
                  else photo_pixels(opened, meta["input_shape"][1]))
        answer = int(torch_answers(model, meta, recipe[None])[0])
        found[kind] = (path, model, meta, recipe, answer)
    Image.new("L", (60, 60), 255).save(folder / "blank.png")
    (folder / "notes.png").write_text("not a picture")
    return folder, found


@pytest.mark.slow   # starts python -m lenet anew
def test_the_command_writes_the_changed_digit_that_pytorch_answers_with_the_target(pictures):
    folder, found = pictures
    path, model, meta, recipe, answer = found["digit"]
    target = (answer + 3) % 10
    out = folder / "changed.npy"
    proc = subprocess.run([sys.executable, "-m", "lenet", "flip", "--model", "lenet5", "--target",
                           str(target), "--out", str(out), str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    changed = np.load(out)
    assert changed.shape == (1, 28, 28) and changed.dtype == np.float32
    assert changed.min() >= 0 and changed.max() <= 1
    assert torch_answers(model, meta, changed[None])[0] == target
    sizes = numpy_sizes(recipe, changed)
    assert proc.stdout.startswith(f"{path}: LeNet-5") and f"it answers {target}:" in proc.stdout
    assert f"{sizes[0]} pixels changed, L2 {sizes[1]:.3f}" in proc.stdout
    assert proc.stdout.count("\n") == 1 and not proc.stderr


def test_the_command_answers_in_json_and_takes_a_class_name(pictures, capsys):
    folder, found = pictures
    path, model, meta, recipe, answer = found["photo"]
    target = (answer + 1) % 10
    out = folder / "photo.npy"
    code = main(["flip", "--model", "convnet", "--target", meta["classes"][target], "--out",
                 str(out), "--json", str(path)])
    assert code == 0
    line = json.loads(capsys.readouterr().out)
    changed = np.load(out)
    assert changed.shape == (3, 32, 32) and changed.dtype == np.float32
    assert torch_answers(model, meta, changed[None])[0] == target     # with the mirror image
    changed_count, l2, largest = numpy_sizes(recipe, changed)
    assert line == {"path": str(path), "model": "convnet", "target": meta["classes"][target],
                    "before": meta["classes"][answer], "after": meta["classes"][target],
                    "found": True, "steps": line["steps"], "changed": changed_count,
                    "l2": pytest.approx(l2, abs=1e-6), "largest": pytest.approx(largest, abs=1e-6),
                    "out": str(out)}
    assert line["steps"] >= 1


@pytest.mark.parametrize("case, words", [
    ("missing", "no such file"), ("notes.png", "not an image"), ("blank.png", "no digit found"),
    ("target 10", "--target must be a class of lenet5: 0-9; not '10'"),
    ("target dog", "--target must be a class of lenet5: 0-9; not 'dog'"),
    ("out is a folder", "cannot write")])
def test_every_bad_input_gets_one_line_and_exit_code_2(pictures, capsys, case, words):
    folder, found = pictures
    picture, target, out = found["digit"][0], "3", folder / "bad.npy"
    if case.startswith("target"):
        target = case.split()[1]
    elif case == "out is a folder":
        out = folder
    else:
        picture = folder / case
    code = main(["flip", "--model", "lenet5", "--target", target, "--out", str(out), str(picture)])
    printed = capsys.readouterr()
    assert code == 2 and printed.out == ""
    assert printed.err.count("\n") == 1 and printed.err.startswith("error: ") and words in printed.err
    assert not (folder / "bad.npy").exists()
