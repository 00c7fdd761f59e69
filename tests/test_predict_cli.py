"""``python -m lenet predict``: text and JSON lines, saved maps, and every bad-input kind."""
import json
import subprocess
import sys

import pytest
from conftest import ROOT
from helpers import random_classifier, ring
from PIL import Image
from test_preprocess import BAD

from lenet.net.checkpoint import save_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    clf = random_classifier("lenet5")
    path = tmp_path_factory.mktemp("ckpt") / "lenet5.safetensors"
    save_checkpoint(path, clf.model, clf.meta)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    Image.fromarray(ring()).save(folder / "zero.png")
    Image.new("L", (100, 100), 255).save(folder / "blank.png")
    for kind, (data, _) in BAD.items():
        (folder / f"{kind.replace(' ', '_')}.png").write_bytes(data)
    return folder


def predict(checkpoint, *args):
    return subprocess.run([sys.executable, "-m", "lenet", "predict", "--model", "lenet5",
                           "--checkpoint", str(checkpoint), *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_json_lines_for_good_blank_and_every_bad_file(checkpoint, files):
    bad = [files / f"{k.replace(' ', '_')}.png" for k in BAD]
    proc = predict(checkpoint, "--json", "--top", "2", files / "zero.png", files / "blank.png", *bad)
    assert proc.returncode == 1                       # some files failed
    assert "Traceback" not in proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["path"] for line in lines] == [str(files / "zero.png"), str(files / "blank.png"),
                                                *map(str, bad)]
    good, blank, *errors = lines
    assert good["label"] in "0123456789" and len(good["confidences"]) == 2
    assert good["confidences"][good["label"]] == max(good["confidences"].values())
    assert blank == {"path": str(files / "blank.png"), "label": "nothing drawn", "confidences": {}}
    for (kind, (_, words)), line in zip(BAD.items(), errors):
        assert set(line) == {"path", "error"} and words in line["error"], kind


def test_text_output_and_success_exit(checkpoint, files):
    proc = predict(checkpoint, files / "zero.png")
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"{files / 'zero.png'}: ") and "%" in proc.stdout


def test_save_maps_writes_every_picture(checkpoint, files, tmp_path):
    proc = predict(checkpoint, "--save-maps", tmp_path / "maps", files / "zero.png")
    assert proc.returncode == 0, proc.stderr
    written = {p.name for p in (tmp_path / "maps").iterdir()}
    assert written == {f"zero_{n}.png" for n in
                       ("input", "gradcam", "saliency", "C1", "S2", "C3", "S4", "C5")}


def test_a_missing_checkpoint_is_one_line(tmp_path, files):
    proc = predict(tmp_path / "none.safetensors", files / "zero.png")
    assert proc.returncode == 2 and proc.stderr.startswith("error: checkpoint")
    assert len(proc.stderr.strip().splitlines()) == 1
