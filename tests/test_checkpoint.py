"""Checkpoints: round trip, atomic writes, and refusal of anything that is not one of ours."""
import json
import os
import pickle
import shutil
import struct

import pytest
import torch

from lenet.net.checkpoint import (
    CheckpointError,
    atomic_write_bytes,
    default_checkpoint,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from lenet.net.models import REGISTRY, ConvNet, LeNet5

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
    """The layer table names every stage with its sizes, the tensors that hold its weights
    and the output that holds it after its activation; Grad-CAM's layer comes from the spec;
    the test-time rule follows the training flag."""
    from safetensors.numpy import load_file
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, LeNet5(), {**META, "hyperparameters": {"flip": False}})
    meta = read_checkpoint(path)[1]
    table = {row["name"]: row for row in meta["layers"]}
    assert table["C1"] == {"name": "C1", "kind": "conv", "inputs": 1, "outputs": 6,
                           "kernel": [5, 5], "stride": [1, 1], "padding": [2, 2],
                           "weight": "features.C1.weight", "bias": "features.C1.bias",
                           "after_activation": "C1_relu"}
    assert table["S2"]["kind"] == "maxpool" and table["S2"]["stride"] == [2, 2]
    assert table["C1_relu"]["kind"] == "relu" and table[""] == {"name": "", "kind": "flatten"}
    assert {n: row["after_activation"] for n, row in table.items() if n} == {
        "C1": "C1_relu", "C1_relu": "C1_relu", "S2": "S2", "C3": "C3_relu", "C3_relu": "C3_relu",
        "S4": "S4", "C5": "C5_relu", "C5_relu": "C5_relu", "F6": "F6_relu", "F6_relu": "F6_relu",
        "output": "output"}
    assert meta["cam_layer"] == "C3"
    tensors = load_file(str(path))
    for row in meta["layers"]:
        if "weight" in row:
            assert tensors[row["weight"]].shape[0] == row["outputs"]
    assert meta["mirror_average"] is False
    save_checkpoint(path, ConvNet(), {**META, "model": "convnet", "hyperparameters": {"flip": True}})
    assert read_checkpoint(path)[1]["mirror_average"] is True


def test_refreshing_the_metadata_keeps_every_tensor_byte(tmp_path):
    """tools/checkpoint_meta.py: a file saved before the table said what follows each layer
    and which layer Grad-CAM reads gets both, its tensors untouched; a current file is left
    as it is (the committed ones among them)."""
    from tools.checkpoint_meta import refresh, split

    path = tmp_path / "m.safetensors"
    save_checkpoint(path, LeNet5(), META)
    current = path.read_bytes()
    header, data = split(current)
    old = json.loads(header["__metadata__"]["lenet"])
    del old["cam_layer"]
    for row in old["layers"]:
        row.pop("after_activation", None)
    header["__metadata__"]["lenet"] = json.dumps(old)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    assert refresh(path)
    header_now, data_now = split(path.read_bytes())
    assert data_now == data and {k: v for k, v in header_now.items() if k != "__metadata__"} \
        == {k: v for k, v in header.items() if k != "__metadata__"}
    assert json.loads(header_now["__metadata__"]["lenet"]) == read_checkpoint(path)[1] \
        == json.loads(split(current)[0]["__metadata__"]["lenet"])
    assert not refresh(path)
    for name in REGISTRY:
        copy = tmp_path / f"{name}.safetensors"
        shutil.copyfile(default_checkpoint(name), copy)
        assert not refresh(copy), f"checkpoints/{name}: run python tools/checkpoint_meta.py"
