"""Checkpoints: round trip, atomic writes, and refusal of anything that is not one of ours."""
import os
import pickle

import pytest
import torch

from lenet.net.checkpoint import (
    CheckpointError,
    atomic_write_bytes,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from lenet.net.models import ConvNet, LeNet5

META = {"model": "lenet5", "title": "LeNet-5 on MNIST", "dataset": "mnist",
        "classes": [str(d) for d in range(10)], "input_shape": [1, 28, 28],
        "mean": [0.0], "std": [1.0], "test_accuracy": 0.5, "history": [{"epoch": 1}]}


def test_round_trip_keeps_weights_outputs_and_metadata(tmp_path):
    torch.manual_seed(0)
    model = LeNet5().eval()
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, model, META)
    loaded, meta = load_checkpoint(path)
    x = torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(loaded(x), model(x))
    assert not loaded.training
    assert meta["classes"] == META["classes"] and meta["history"] == META["history"]
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temp files left


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_files_are_refused_with_a_clear_error(tmp_path, damage):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, LeNet5(), META)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": os.urandom(4096),
                      "empty": b""}[damage])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.safetensors")


def test_weights_of_another_architecture_are_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, ConvNet(), META)  # ConvNet weights, metadata claiming LeNet-5
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(path)


class _Payload:
    def __reduce__(self):
        return (open, ("/tmp/lenet-pickle-was-executed", "w"))


def test_a_pickle_is_never_unpickled(tmp_path):
    marker = "/tmp/lenet-pickle-was-executed"
    if os.path.exists(marker):
        os.remove(marker)
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"state_dict": _Payload()}))
    with pytest.raises(CheckpointError):
        read_checkpoint(path)
    assert not os.path.exists(marker)


def test_an_interrupted_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "file.bin"
    path.write_bytes(b"old contents")

    def fail(_fd):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(path, b"new contents that never fully land")
    assert path.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_a_saved_checkpoint_describes_its_layers_for_a_reader_without_torch(tmp_path):
    """The layer table names every stage with its sizes and the tensors that hold its
    weights; the test-time rule follows the training flag."""
    from safetensors.numpy import load_file
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, LeNet5(), {**META, "hyperparameters": {"flip": False}})
    meta = read_checkpoint(path)[1]
    table = {row["name"]: row for row in meta["layers"]}
    assert table["C1"] == {"name": "C1", "kind": "conv", "inputs": 1, "outputs": 6,
                           "kernel": [5, 5], "stride": [1, 1], "padding": [2, 2],
                           "weight": "features.C1.weight", "bias": "features.C1.bias"}
    assert table["S2"]["kind"] == "maxpool" and table["S2"]["stride"] == [2, 2]
    assert table["C1_relu"]["kind"] == "relu" and table[""]["kind"] == "flatten"
    tensors = load_file(str(path))
    for row in meta["layers"]:
        if "weight" in row:
            assert tensors[row["weight"]].shape[0] == row["outputs"]
    assert meta["mirror_average"] is False
    save_checkpoint(path, ConvNet(), {**META, "model": "convnet", "hyperparameters": {"flip": True}})
    assert read_checkpoint(path)[1]["mirror_average"] is True
