"""train.py --device: the choice, the one-line refusal, and checkpoints that load on a CPU."""
import subprocess
import sys

import pytest
import torch
from conftest import ROOT
from safetensors import safe_open

from lenet.net.checkpoint import load_checkpoint
from lenet.training.augment import random_crop_flip, random_resample
from lenet.training.data import load_split
from lenet.training.engine import DeviceError, evaluate, resolve_device

HAS_CUDA = torch.cuda.is_available()
HAS_MPS = torch.backends.mps.is_available()


def train(*args):
    return subprocess.run([sys.executable, "train.py", "--dry-run", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def check_checkpoint_serves_on_cpu(path, data_root, device: str) -> None:
    with safe_open(str(path), "pt") as f:  # the file itself holds CPU tensors
        assert all(f.get_tensor(k).device.type == "cpu" for k in f.keys())
    model, meta = load_checkpoint(path)
    assert meta["device"].startswith(device)
    assert all(p.device.type == "cpu" for p in model.parameters())
    x, y, _ = load_split("mnist", data_root, train=False)
    accuracy = evaluate(model, x, y, mean=meta["mean"], std=meta["std"])["accuracy"]
    assert accuracy == pytest.approx(meta["test_accuracy"])  # recorded where it is served


@pytest.mark.parametrize("device", [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not HAS_CUDA, reason="no CUDA GPU on this machine")),
    pytest.param("mps", marks=pytest.mark.skipif(not HAS_MPS, reason="no Apple GPU on this machine"))])
def test_a_dry_run_on_each_device_writes_a_checkpoint_that_serves_on_the_cpu(device, tiny_mnist,
                                                                             tmp_path):
    data_root, _ = tiny_mnist
    proc = train("--model", "lenet5", "--device", device, "--data-dir", str(data_root),
                 "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert f"device: {device}" in proc.stdout
    check_checkpoint_serves_on_cpu(tmp_path / "lenet5.safetensors", data_root, device)


@pytest.mark.parametrize("cuda, mps, expected", [
    (True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu(cuda, mps, expected, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert resolve_device("auto") == torch.device(expected)
    if not cuda:
        with pytest.raises(DeviceError, match="no CUDA device"):
            resolve_device("cuda")


@pytest.mark.skipif(HAS_CUDA or HAS_MPS, reason="auto picks the GPU on this machine")
def test_auto_is_the_cpu_on_a_machine_without_a_gpu(tiny_mnist, tmp_path):
    data_root, _ = tiny_mnist
    proc = train("--model", "dense", "--device", "auto", "--data-dir", str(data_root),
                 "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "device: cpu" in proc.stdout
    assert load_checkpoint(tmp_path / "dense.safetensors")[1]["device"].startswith("cpu")


@pytest.mark.skipif(HAS_CUDA, reason="this machine has CUDA, so asking for it succeeds")
def test_asking_for_a_missing_cuda_is_one_line_and_exit_2(tiny_mnist, tmp_path):
    data_root, _ = tiny_mnist
    proc = train("--model", "lenet5", "--device", "cuda", "--data-dir", str(data_root),
                 "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "--device" in lines[0], lines
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA GPU on this machine")
def test_a_seed_augments_alike_on_cpu_and_cuda():
    x = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8)
    on_cpu = random_crop_flip(random_resample(x, 0.5, torch.Generator().manual_seed(1)), 4, True,
                              torch.Generator().manual_seed(2))
    on_gpu = random_crop_flip(random_resample(x.cuda(), 0.5, torch.Generator().manual_seed(1)),
                              4, True, torch.Generator().manual_seed(2))
    # The same images are chosen, cropped and flipped; resampling may round one level apart.
    assert (on_gpu.cpu().int() - on_cpu.int()).abs().max() <= 1
