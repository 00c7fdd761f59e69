"""The committed checkpoints load, describe themselves, and reach the issue's accuracy floors."""
import pytest
from conftest import SHARED_DATA
from helpers import ring
from PIL import Image

from lenet.inside.inference import Classifier
from lenet.net.checkpoint import default_checkpoint, load_checkpoint
from lenet.net.models import count_parameters, layer_table
from lenet.training.data import load_split
from lenet.training.engine import evaluate

FLOORS = {"lenet5": (0.995, SHARED_DATA), "convnet": (0.78, SHARED_DATA / "cifar10"),
          "lenet5-classic": (0.985, SHARED_DATA), "dense": (0.90, SHARED_DATA)}
PARAMETERS = {"lenet5": 61706, "convnet": 258058, "lenet5-classic": 61706, "dense": 7850}


@pytest.mark.parametrize("name", list(FLOORS))
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
def test_retrained_checkpoints_record_their_device_and_recipe(name):
    _, meta = load_checkpoint(default_checkpoint(name))
    assert meta["device"].split()[0] in ("cpu", "cuda", "mps")
    # The ConvNet is trained on softened photos too, so the way a photo arrives does not
    # change its answer (benchmarks/photo_consistency.py); digits are not.
    assert (meta["hyperparameters"]["resample"] > 0) == (name == "convnet")


@pytest.mark.parametrize("name", list(FLOORS))
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


@pytest.mark.parametrize("name", ["lenet5-classic", "dense"])
def test_the_app_engine_serves_the_mnist_variants(name):
    clf = Classifier.from_checkpoint(default_checkpoint(name))
    result = clf.predict(Image.fromarray(ring()))
    assert result.label == "0"
    assert result.probabilities.sum() == pytest.approx(1, abs=1e-5)
    cam, sal = clf.attributions(result.tensor, result.index)
    assert sal.shape == (28, 28)
    if name == "dense":  # no convolution, so no Grad-CAM; saliency still explains
        assert clf.cam_layer is None and clf.cam_output is None and cam is None
        assert result.feature_maps == {}
    else:
        assert (clf.cam_layer, clf.cam_output) == ("C3", "C3_tanh") and cam.shape == (28, 28)


@pytest.mark.parametrize("name", list(FLOORS))
def test_committed_checkpoints_state_their_layers_and_test_time_rule(name):
    """What the page's engine rebuilds each network from (web/engine.js)."""
    model, meta = load_checkpoint(default_checkpoint(name))
    assert meta["layers"] == layer_table(model)
    names = [row["name"] for row in meta["layers"] if row["name"]]
    assert names == [n for n, _ in model.features.named_children()] + \
        [n for n, _ in model.classifier.named_children()]
    assert meta["mirror_average"] is (name == "convnet")   # trained with flips: photos only
