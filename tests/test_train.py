"""train.py and ``python -m lenet evaluate`` end to end, on tiny generated data."""
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT
from PIL import Image
from safetensors import safe_open

from lenet.inside.gallery import load_gallery
from lenet.net.checkpoint import answer_accuracy, averages_mirror, default_checkpoint, load_checkpoint
from lenet.net.models import REGISTRY


def run(*args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


@pytest.fixture(scope="module")
def stated() -> dict[str, dict]:
    """model -> the epochs, peak lr, batch size and optimizer ``train.py --help`` says it is
    trained with when no option says otherwise (a wide terminal: one line per option)."""
    proc = run("train.py", "--help", env={**os.environ, "COLUMNS": "1000"})
    assert proc.returncode == 0, proc.stderr
    recipes = {}
    for key, words in (("epochs", "epochs"), ("lr", "one-cycle schedule"),
                       ("batch_size", "batch size")):
        listed = re.search(rf"{words} \(default: ([^)]*)\)", proc.stdout).group(1)
        for item in listed.split(", "):
            name, value = item.rsplit(" ", 1)
            recipes.setdefault(name, {})[key] = float(value)
    for item in re.search(r"optimizers: ([^;]*);", proc.stdout).group(1).split(", "):
        name, optimizer = item.split(" ", 1)
        recipes[name]["optimizer"] = optimizer
    return recipes


@pytest.mark.parametrize("model, fixture, optimizer", [
    ("lenet5", "tiny_mnist", "SGD nesterov"), ("convnet", "tiny_image_folder", "SGD nesterov"),
    ("lenet5-classic", "tiny_mnist", "Adam"), ("dense", "tiny_mnist", "SGD"),
    ("dense-cifar", "tiny_image_folder", "SGD")])
def test_dry_run_writes_a_loadable_checkpoint_curves_and_gallery(model, fixture, optimizer,
                                                                 stated, request, tmp_path):
    data_root, _ = request.getfixturevalue(fixture)
    out = tmp_path / "out"
    proc = run("train.py", "--model", model, "--dry-run", "--data-dir", str(data_root),
               "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "test accuracy" in proc.stdout and "confusion matrix" in proc.stdout
    net, meta = load_checkpoint(out / f"{model}.safetensors")
    assert meta["model"] == model and meta["data"]["dry_run"] is True
    assert len(meta["history"]) == 1 and 0 <= meta["test_accuracy"] <= 1
    assert len(meta["confusion_matrix"]) == 10 and len(meta["per_class_accuracy"]) == 10
    assert meta["hyperparameters"]["optimizer"] == optimizer
    # With no option given, training used the recipe the help states (a dry run: 1 epoch).
    assert {key: meta["hyperparameters"][key] for key in ("lr", "batch_size", "optimizer")} \
        == {key: stated[model][key] for key in ("lr", "batch_size", "optimizer")}
    assert Image.open(out / f"{model}_curves.png").size[0] > 300
    gallery = load_gallery(out / f"{model}.gallery.safetensors")
    # The gallery holds the app's answers: a model trained with flips averages mirror images.
    assert averages_mirror(meta) == gallery.meta["mirror_average"] == (model == "convnet")
    assert gallery.meta["test_accuracy"] == pytest.approx(answer_accuracy(meta))
    assert gallery.meta["test_size"] == meta["data"]["test"] == len(gallery)
    # The experiments' stored files, for a model with conv layers (the dense baselines have none).
    has_convs = any(row["kind"] == "conv" for row in meta["layers"])
    assert has_convs == (not model.startswith("dense"))
    for suffix in ("experiments", "neighbours"):
        assert (out / f"{model}.{suffix}.safetensors").is_file() == has_convs, suffix
    # The same seed gives the same weights.
    out2 = tmp_path / "again"
    assert run("train.py", "--model", model, "--dry-run", "--data-dir", str(data_root),
               "--out", str(out2)).returncode == 0
    with safe_open(str(out / f"{model}.safetensors"), "pt") as a, \
            safe_open(str(out2 / f"{model}.safetensors"), "pt") as b:
        for key in a.keys():
            assert a.get_tensor(key).equal(b.get_tensor(key)), key


def test_lr_sweep_dry_run_saves_its_plot(tiny_mnist, tmp_path):
    data_root, _ = tiny_mnist
    proc = run("train.py", "--model", "lenet5", "--lr-sweep", "--dry-run",
               "--data-dir", str(data_root), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("final validation loss") == 3
    assert (tmp_path / "lenet5_lr_sweep.png").is_file()


def test_missing_dataset_gives_one_line_not_a_traceback(tmp_path):
    (tmp_path / "train").mkdir()  # an image-folder tree with no test/: nothing to read
    proc = run("train.py", "--model", "convnet", "--dry-run", "--data-dir",
               str(tmp_path / "train"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error:") and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_bad_arguments_are_refused_by_argparse(tmp_path):
    proc = run("train.py", "--epochs", "0", "--out", str(tmp_path))
    assert proc.returncode == 2 and "--epochs must be at least 1" in proc.stderr


def test_the_help_states_the_recipe_that_made_the_committed_checkpoints(stated):
    """What ``--help`` says each model is trained with is what its committed checkpoint
    records it was trained with (the dry runs above check that training uses it)."""
    assert set(stated) == set(REGISTRY)
    for name, recipe in stated.items():
        hp = load_checkpoint(default_checkpoint(name))[1]["hyperparameters"]
        assert recipe == {key: hp[key] for key in recipe}, name


def test_evaluate_cli_reports_accuracy_of_a_checkpoint(tiny_mnist, tmp_path):
    data_root, _ = tiny_mnist
    assert run("train.py", "--model", "lenet5", "--dry-run", "--data-dir", str(data_root),
               "--out", str(tmp_path)).returncode == 0
    proc = run("-m", "lenet", "evaluate", "--model", "lenet5", "--checkpoint",
               str(tmp_path / "lenet5.safetensors"), "--data-dir", str(data_root))
    assert proc.returncode == 0, proc.stderr
    assert "test accuracy" in proc.stdout and "on 60 images" in proc.stdout
    wrong = run("-m", "lenet", "evaluate", "--model", "convnet", "--checkpoint",
                str(tmp_path / "lenet5.safetensors"), "--data-dir", str(data_root))
    assert wrong.returncode == 2 and "holds lenet5" in wrong.stderr


def test_ctrl_c_exits_cleanly_without_a_checkpoint(tiny_mnist, tmp_path):
    import signal
    data_root, _ = tiny_mnist
    proc = subprocess.Popen([sys.executable, "train.py", "--model", "lenet5", "--epochs", "100000",
                             "--data-dir", str(data_root), "--out", str(tmp_path / "out")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    # device, data, then the first epoch: training has started
    assert "epoch" in "".join(proc.stdout.readline() for _ in range(3))
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_one_epoch_matches_a_plain_pytorch_loop(smoothing):
    """The engine's loop (tensor batches, channels-last) against the textbook NCHW loop."""
    import torch
    from torch.nn import functional as F

    from lenet.net.models import LeNet5
    from lenet.training.engine import prepare_model, train_one_epoch
    torch.manual_seed(0)
    x = torch.randint(0, 256, (96, 1, 28, 28), dtype=torch.uint8)
    y = torch.randint(0, 10, (96,))
    reference, model = LeNet5(), LeNet5()
    model.load_state_dict(reference.state_dict())
    model = prepare_model(model, torch.device("cpu"))
    hp = dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    stats = train_one_epoch(model, x, y, optimizer=torch.optim.SGD(model.parameters(), **hp),
                            scheduler=None, batch_size=32, mean=(0.5,), std=(0.25,),
                            generator=torch.Generator().manual_seed(1),
                            label_smoothing=smoothing)
    optimizer = torch.optim.SGD(reference.parameters(), **hp)
    order = torch.randperm(96, generator=torch.Generator().manual_seed(1))
    losses = []
    for start in range(0, 96, 32):
        idx = order[start:start + 32]
        logits = reference((x[idx].float() / 255 - 0.5) / 0.25)
        # Smoothed targets written out: 1 - s on the label plus s spread over all 10 classes.
        target = F.one_hot(y[idx], 10).float() * (1 - smoothing) + smoothing / 10
        loss = -(target * torch.log_softmax(logits, 1)).sum(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert stats["step_losses"] == pytest.approx(losses, abs=1e-5)
    for (name, a), b in zip(model.state_dict().items(), reference.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4, msg=name)


def test_recipe_changes_are_recorded_and_bad_ones_refused_in_one_line(tiny_mnist, tmp_path):
    data_root, _ = tiny_mnist
    proc = run("train.py", "--model", "lenet5", "--dry-run", "--data-dir", str(data_root),
               "--out", str(tmp_path), "--recipe", "label_smoothing=0.1", "--recipe", "pad=0")
    assert proc.returncode == 0, proc.stderr
    hp = load_checkpoint(tmp_path / "lenet5.safetensors")[1]["hyperparameters"]
    assert hp["label_smoothing"] == 0.1 and hp["pad"] == 0
    assert hp["lr"] == REGISTRY["lenet5"].training["lr"]       # the rest is the recipe's
    for bad, words in ((["--recipe", "colour=1"], "expected KEY=VALUE"),
                       (["--recipe", "epochs=many"], "is not a valid int"),
                       (["--recipe", "optimizer=lbfgs"], "use one of sgd, adam"),
                       (["--model", "convnet", "--fast"], "convnet has no fast preset")):
        proc = run("train.py", *bad, "--out", str(tmp_path / "no"))
        assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr


def test_fast_preset_changes_only_what_it_states():
    sys.path.insert(0, str(ROOT))
    import train
    plain = train.recipe_for("lenet5", train.parse_args(["--model", "lenet5"]))
    fast = train.recipe_for("lenet5", train.parse_args(["--model", "lenet5", "--fast"]))
    assert REGISTRY["lenet5"].fast and fast == {**plain, **REGISTRY["lenet5"].fast}
    # Options given on top still win over the preset.
    assert train.recipe_for("lenet5", train.parse_args(
        ["--model", "lenet5", "--fast", "--epochs", "7"]))["epochs"] == 7

