"""The committed checkpoints load, describe themselves, and reach the issue's accuracy floors."""
import pytest

from lenet.checkpoint import default_checkpoint, load_checkpoint
from lenet.data import load_split
from lenet.engine import evaluate
from lenet.models import count_parameters
from conftest import SHARED_DATA

FLOORS = {"lenet5": (0.993, SHARED_DATA), "convnet": (0.75, SHARED_DATA / "cifar10")}
PARAMETERS = {"lenet5": 61706, "convnet": 258058}


@pytest.mark.parametrize("name", ["lenet5", "convnet"])
def test_committed_checkpoint_loads_and_describes_itself(name):
    path = default_checkpoint(name)
    assert path.stat().st_size < 10 * 1024 * 1024  # Spaces needs LFS above 10 MB
    model, meta = load_checkpoint(path)
    assert count_parameters(model) == meta["parameters"] == PARAMETERS[name]
    assert meta["data"]["dry_run"] is False
    for key in ("classes", "input_shape", "mean", "std", "per_class_accuracy",
                "confusion_matrix", "history", "hyperparameters", "versions", "date"):
        assert meta[key], key
    assert len(meta["history"]) == meta["hyperparameters"]["epochs"]
    assert meta["test_accuracy"] >= FLOORS[name][0]
    assert path.with_name(f"{name}_curves.png").is_file()


@pytest.mark.parametrize("name", ["lenet5", "convnet"])
def test_committed_checkpoint_reaches_its_floor_on_the_real_test_set(name):
    floor, data_dir = FLOORS[name]
    if not data_dir.is_dir():
        pytest.skip(f"{data_dir} is absent: the real test set is needed for this check")
    model, meta = load_checkpoint(default_checkpoint(name))
    x, y, _ = load_split(meta["dataset"], data_dir, train=False, classes=tuple(meta["classes"]))
    assert len(x) == 10000
    accuracy = evaluate(model, x, y, mean=meta["mean"], std=meta["std"])["accuracy"]
    assert accuracy >= floor
    assert accuracy == pytest.approx(meta["test_accuracy"], abs=1e-3)  # what training recorded
