"""Test-set galleries: what they hold against a fresh evaluation, their file, the committed ones."""
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT
from helpers import random_classifier

from lenet.inside.gallery import (
    Gallery,
    GalleryError,
    build_gallery,
    gallery_path,
    load_gallery,
    save_gallery,
)
from lenet.net.checkpoint import answer_accuracy, default_checkpoint, read_checkpoint, save_checkpoint
from lenet.net.models import normalize
from lenet.training.data import load_split
from lenet.training.engine import evaluate

ARRAYS = ("labels", "predictions", "confidences", "indices", "is_mistake", "in_sample")
BUDGET = 2_000_000  # bytes, all committed galleries together


def random_model(name: str, seed: int = 0):
    clf = random_classifier(name, seed)
    return clf.model, clf.meta


@pytest.fixture(scope="module")
def mnist_test(tiny_mnist):
    root, _ = tiny_mnist
    x, y, _ = load_split("mnist", root, train=False)
    return x, y


@pytest.fixture(scope="module")
def small_gallery(mnist_test):
    model, meta = random_model("lenet5")
    x, y = mnist_test
    return model, meta, build_gallery(model, meta, x, y, n_random=20)


def test_gallery_holds_every_mistake_as_evaluate_sees_them(mnist_test, small_gallery):
    model, meta, g = small_gallery
    x, y = mnist_test
    reference = evaluate(model, x, y, mean=meta["mean"], std=meta["std"])
    wrong = np.flatnonzero((reference["predictions"] != y).numpy())
    assert 0 < len(wrong) < len(x)  # a random model: both kinds are there to tell apart
    assert sorted(g.indices[g.is_mistake]) == sorted(wrong)
    assert g.in_sample.sum() == 20 and len(set(g.indices)) == len(g)
    assert (np.diff(g.indices) > 0).all()  # test-set order
    np.testing.assert_array_equal(g.labels, y.numpy()[g.indices])
    np.testing.assert_array_equal(g.predictions, reference["predictions"].numpy()[g.indices])
    np.testing.assert_array_equal(g.is_mistake, g.labels != g.predictions)
    np.testing.assert_array_equal(g.images, x.numpy()[g.indices].transpose(0, 2, 3, 1))
    # Softmax by hand from the model's own logits.
    with torch.no_grad():
        logits = model(normalize(x[g.indices], meta["mean"], meta["std"])).double().numpy()
    e = np.exp(logits - logits.max(1, keepdims=True))
    probabilities = e / e.sum(1, keepdims=True)
    np.testing.assert_allclose(g.probabilities, probabilities, atol=1e-6)
    np.testing.assert_allclose(g.confidences, probabilities.max(1), atol=1e-6)
    assert g.meta["test_mistakes"] == len(wrong) and g.meta["test_size"] == len(x)
    assert g.meta["test_accuracy"] == pytest.approx(reference["accuracy"])


def test_a_mistake_cap_samples_them_with_the_seed(mnist_test):
    model, meta = random_model("lenet5")
    x, y = mnist_test
    a = build_gallery(model, meta, x, y, n_random=0, n_mistakes=5, seed=1)
    b = build_gallery(model, meta, x, y, n_random=0, n_mistakes=5, seed=1)
    c = build_gallery(model, meta, x, y, n_random=0, n_mistakes=5, seed=2)
    assert len(a) == 5 and a.is_mistake.all() and not a.in_sample.any()
    assert a.meta["test_mistakes"] > 5
    np.testing.assert_array_equal(a.indices, b.indices)
    assert not np.array_equal(a.indices, c.indices)


@pytest.mark.parametrize("name", ["lenet5", "convnet"])
def test_round_trip_keeps_everything(name, tiny_mnist, tiny_image_folder, tmp_path):
    model, meta = random_model(name)
    root = tiny_mnist[0] if name == "lenet5" else tiny_image_folder[0]
    x, y, _ = load_split(meta["dataset"], root, train=False, classes=tuple(meta["classes"]))
    g = build_gallery(model, meta, x, y, n_random=10)
    path = tmp_path / "m.gallery.safetensors"
    size = save_gallery(path, g)
    assert size == path.stat().st_size
    back = load_gallery(path)
    assert isinstance(back, Gallery) and len(back) == len(g)
    assert back.images.dtype == np.uint8 and back.images.shape == (len(g), *x.shape[2:], x.shape[1])
    np.testing.assert_array_equal(back.images, g.images)
    for name_ in ARRAYS:
        np.testing.assert_array_equal(getattr(back, name_), getattr(g, name_), err_msg=name_)
    np.testing.assert_allclose(back.probabilities, g.probabilities, atol=1e-3)  # float16
    assert back.classes == g.classes and back.meta["model"] == name
    i = int(back.mistake_positions()[0])
    assert back.picture(i).size == (x.shape[3], x.shape[2])
    assert back.caption(i).startswith(f"true {g.classes[g.labels[i]]}, predicted ")


def test_loading_never_unpickles(small_gallery, tmp_path, monkeypatch):
    path = tmp_path / "g.gallery.safetensors"
    save_gallery(path, small_gallery[2])

    def refuse(*args, **kwargs):
        raise AssertionError("pickle used")
    for target, attr in ((pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"),
                         (torch, "load"), (np, "load")):
        monkeypatch.setattr(target, attr, refuse)
    assert len(load_gallery(path)) == len(small_gallery[2])


def test_writing_is_atomic(mnist_test, small_gallery, tmp_path, monkeypatch):
    model, meta, g = small_gallery
    path = tmp_path / "g.gallery.safetensors"
    save_gallery(path, g)
    assert os.listdir(tmp_path) == [path.name]  # no temporary file left behind
    before = path.read_bytes()
    x, y = mnist_test
    other = build_gallery(model, meta, x[:3], y[:3])

    def crash(*args):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", crash)  # the write fails at its last step
    with pytest.raises(OSError):
        save_gallery(path, other)
    assert path.read_bytes() == before and os.listdir(tmp_path) == [path.name]


def _corruptions(good: bytes, tmp_path):
    yield "missing", None
    yield "empty", b""
    yield "truncated", good[: len(good) // 2]
    yield "garbage", os.urandom(500)
    # Flip bytes inside the stored PNG: the safetensors header still parses.
    at = good.index(b"\x89PNG") + 60
    yield "broken png", good[:at] + bytes(b ^ 0xFF for b in good[at:at + 40]) + good[at + 40:]
    model, meta = random_model("dense")
    checkpoint = tmp_path / "dense.safetensors"
    save_checkpoint(checkpoint, model, meta)
    yield "a checkpoint", checkpoint.read_bytes()


def test_unreadable_files_give_one_line(small_gallery, tmp_path):
    good_path = tmp_path / "good.gallery.safetensors"
    save_gallery(good_path, small_gallery[2])
    for what, data in _corruptions(good_path.read_bytes(), tmp_path):
        path = tmp_path / "lenet5.gallery.safetensors"
        path.unlink(missing_ok=True)
        if data is not None:
            path.write_bytes(data)
        with pytest.raises(GalleryError) as error:
            load_gallery(path)
        message = str(error.value)
        assert "\n" not in message and str(path) in message, what
        assert "python -m lenet gallery --model lenet5" in message, what


def test_gallery_command_writes_beside_the_checkpoint(tiny_mnist, tmp_path):
    root, _ = tiny_mnist
    model, meta = random_model("lenet5")
    checkpoint = tmp_path / "lenet5.safetensors"
    save_checkpoint(checkpoint, model, meta)
    proc = subprocess.run([sys.executable, "-m", "lenet", "gallery", "--model", "lenet5",
                           "--checkpoint", str(checkpoint), "--data-dir", str(root)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    g = load_gallery(tmp_path / "lenet5.gallery.safetensors")
    assert len(g) == 60 and str(tmp_path / "lenet5.gallery.safetensors") in proc.stdout
    x, y, _ = load_split("mnist", root, train=False)
    expected = build_gallery(model, meta, x, y)
    np.testing.assert_array_equal(g.predictions, expected.predictions)


# ---------------------------------------------------------------------------- committed files

COMMITTED = ("lenet5", "convnet", "lenet5-classic", "dense")


def test_committed_galleries_fit_the_budget_and_match_their_checkpoints():
    total = 0
    for name in COMMITTED:
        checkpoint = default_checkpoint(name)
        path = gallery_path(checkpoint)
        assert path == checkpoint.parent / f"{name}.gallery.safetensors"
        total += path.stat().st_size
        g = load_gallery(path)
        _, meta = read_checkpoint(checkpoint)
        assert g.meta["model"] == name and g.classes == tuple(meta["classes"])
        assert g.meta["test_size"] == 10000 and g.in_sample.sum() == 300
        # The gallery's evaluation is the one training recorded.
        assert g.meta["test_accuracy"] == pytest.approx(answer_accuracy(meta), abs=1e-6)
        assert g.meta["test_mistakes"] == round((1 - answer_accuracy(meta)) * 10000)
        if meta["dataset"] == "mnist":  # every mistake is kept
            assert g.is_mistake.sum() == g.meta["test_mistakes"]
        else:
            assert 300 <= g.is_mistake.sum() < g.meta["test_mistakes"]
    assert total < BUDGET


def test_lenet5_gallery_holds_exactly_its_recorded_mistakes():
    _, meta = read_checkpoint(default_checkpoint("lenet5"))
    g = load_gallery(gallery_path(default_checkpoint("lenet5")))
    assert g.is_mistake.sum() == round((1 - meta["test_accuracy"]) * 10000)
    assert (g.labels[g.is_mistake] != g.predictions[g.is_mistake]).all()
