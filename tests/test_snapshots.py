"""Training snapshots: the steps kept, the file train.py writes beside each checkpoint, and
the figures stored in it against an independent recomputation."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT
from helpers import answer_accuracy_here
from safetensors import safe_open
from test_train import run

from lenet.net.files import META_KEY, snapshots_path
from lenet.net.models import REGISTRY
from lenet.training.data import default_data_dir, load_split
from lenet.training.snapshots import (
    COUNT,
    EARLY_STEPS,
    Snapshot,
    SnapshotError,
    load_snapshots,
    snapshot_steps,
    snapshots_bytes,
)

# The issue's limits on the committed files, in bytes.
SIZE_LIMITS = {"lenet5": 2_000_000, "convnet": 7_000_000}


@pytest.mark.parametrize("total", [3465, 19150, 2955, 1200, 400])
def test_steps_show_the_early_changes_then_spread_to_the_end(total):
    steps = snapshot_steps(total)
    assert 8 <= len(steps) <= 12
    assert steps[0] == 0 and steps[-1] == total
    assert steps == sorted(set(steps))
    assert {s for s in EARLY_STEPS if s < total} <= set(steps)
    # After the early steps the rest of the run is covered evenly (within a rounding step).
    late = [s for s in steps if s > max(s for s in EARLY_STEPS if s < total)]
    gaps = np.diff([max(s for s in EARLY_STEPS if s < total), *late])
    assert gaps.max() - gaps.min() <= 1


def test_a_run_too_short_for_ten_moments_keeps_each_step_once():
    assert snapshot_steps(1) == [0, 1]
    assert snapshot_steps(5) == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValueError):
        snapshot_steps(0)


@pytest.mark.parametrize("model", sorted(SIZE_LIMITS))
def test_a_full_runs_file_fits_the_issues_size(model):
    """COUNT snapshots of the network in half precision, as train.py writes them."""
    spec = REGISTRY[model]
    weights = {k: v.half() for k, v in spec.build().state_dict().items()}
    meta = {"model": model, "title": spec.title, "dataset": spec.dataset,
            "classes": list(spec.classes), "input_shape": list(spec.input_shape),
            "mean": list(spec.mean), "std": list(spec.std), "mirror_average": False}
    data = snapshots_bytes([Snapshot(step, 1.0, 0.5, {k: v.clone() for k, v in weights.items()})
                            for step in range(COUNT)], meta)
    assert len(data) < SIZE_LIMITS[model]


def independent_accuracy(path: Path, k: int, x: torch.Tensor, y: torch.Tensor) -> float:
    """Snapshot ``k``'s test accuracy from the file alone: its tensors into a fresh network,
    pixels normalised here, the mirror image's logits averaged in where the file says so."""
    with safe_open(str(path), "pt") as f:
        meta = json.loads(f.metadata()[META_KEY])
        state = {name.split(".", 1)[1]: f.get_tensor(name).float() for name in f.keys()
                 if name.split(".", 1)[0] == str(k)}
    net = REGISTRY[meta["model"]].build(num_classes=len(meta["classes"]))
    net.load_state_dict(state)
    net.eval()
    return answer_accuracy_here(net, meta, x, y)


@pytest.mark.parametrize("model, fixture", [("lenet5", "tiny_mnist"),
                                            ("convnet", "tiny_image_folder")])
def test_dry_run_writes_snapshots_the_reader_and_a_recomputation_agree_with(model, fixture,
                                                                           request, tmp_path):
    data_root, _ = request.getfixturevalue(fixture)
    proc = run("train.py", "--model", model, "--dry-run", "--data-dir", str(data_root),
               "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    checkpoint = tmp_path / f"{model}.safetensors"
    path = snapshots_path(checkpoint)
    assert path == tmp_path / f"{model}.snapshots.safetensors"
    with safe_open(str(checkpoint), "pt") as f:
        trained = {name: f.get_tensor(name) for name in f.keys()}
        checkpoint_meta = json.loads(f.metadata()[META_KEY])
    with safe_open(str(path), "pt") as f:
        meta = json.loads(f.metadata()[META_KEY])
        names = set(f.keys())
        stored = {name: f.get_tensor(name) for name in names}
    records = meta["snapshots"]
    steps = [r["step"] for r in records]
    assert steps[0] == 0 and steps == sorted(set(steps)) and len(steps) >= 2
    assert meta["model"] == model and meta["mirror_average"] == checkpoint_meta["mirror_average"]
    # Snapshot k holds every checkpoint tensor as "<k>.<name>", in half precision, and nothing else.
    assert names == {f"{k}.{name}" for k in range(len(records)) for name in trained}
    assert {t.dtype for t in stored.values()} == {torch.float16}
    # The last moment is the trained network: the checkpoint's weights rounded to half.
    last = len(records) - 1
    for name, tensor in trained.items():
        assert torch.equal(stored[f"{last}.{name}"], tensor.half()), name
    # The reader gives each moment as a network with those weights.
    loaded = load_snapshots(path)
    assert [s.step for s in loaded.snapshots] == steps
    x = torch.rand(3, *REGISTRY[model].input_shape)
    for k, snap in enumerate(loaded.snapshots):
        reference = REGISTRY[model].build()
        reference.load_state_dict({n: stored[f"{k}.{n}"].float() for n in trained})
        with torch.no_grad():
            assert torch.allclose(snap.model(x), reference.eval()(x), atol=1e-6)
    # Each stored test accuracy is the one recomputed from the file on the test set.
    x_test, y_test, _ = load_split(REGISTRY[model].dataset, data_root, train=False)
    assert len(x_test) <= 128   # the dry run tests on all of it (in another order)
    for k, record in enumerate(records):
        assert record["test_accuracy"] == pytest.approx(
            independent_accuracy(path, k, x_test, y_test), abs=1e-6)
        assert np.isfinite(record["loss"]) and record["loss"] > 0


def test_a_file_that_is_not_a_snapshot_file_gives_one_error(tmp_path):
    bad = tmp_path / "x.snapshots.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(SnapshotError):
        load_snapshots(bad)
    with pytest.raises(SnapshotError):
        load_snapshots(tmp_path / "missing.snapshots.safetensors")


COMMITTED = [m for m in REGISTRY if snapshots_path(ROOT / "checkpoints" / f"{m}.safetensors").is_file()]


@pytest.fixture(scope="module")
def test_sets():
    """The real test sets (../shared/data), per dataset, or a skip where they are absent."""
    cache = {}

    def get(dataset):
        if dataset not in cache:
            try:
                cache[dataset] = load_split(dataset, default_data_dir(), train=False)[:2]
            except Exception as exc:  # noqa: BLE001 - any missing data means: skip
                pytest.skip(f"no {dataset} test set here ({exc})")
        return cache[dataset]
    return get


@pytest.mark.parametrize("model", COMMITTED or [pytest.param("none", marks=pytest.mark.skip(
    reason="no committed snapshot files yet"))])
def test_committed_snapshots_start_at_chance_and_store_true_accuracies(model, test_sets):
    path = snapshots_path(ROOT / "checkpoints" / f"{model}.safetensors")
    if model in SIZE_LIMITS:
        assert path.stat().st_size < SIZE_LIMITS[model]
    with safe_open(str(path), "pt") as f:
        records = json.loads(f.metadata()[META_KEY])["snapshots"]
    assert 8 <= len(records) <= 12
    x, y = test_sets(REGISTRY[model].dataset)
    accuracies = [independent_accuracy(path, k, x, y) for k in range(len(records))]
    assert 0.05 <= accuracies[0] <= 0.15          # the untrained network: chance is 10 %
    assert accuracies[-1] > 0.35                  # and it learned
    for record, accuracy in zip(records, accuracies):
        assert record["test_accuracy"] == pytest.approx(accuracy, abs=2e-4)
