"""The Gradio app: each handler called directly, start-up failures, and the app as an API
through gradio_client against a launched server."""
import base64
import io
import json
import os
import re
import subprocess
import sys

import gradio as gr
import numpy as np
import pytest
import torch
from conftest import ROOT
from helpers import data_url, seven_png
from PIL import Image

import app
from lenet.inputs.images import InputError
from ui.api import EXPLAIN_TOP
from ui.view import shown_input


def photo_file(tmp_path, name="photo.jpg") -> str:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (120, 160, 3), np.uint8)).save(tmp_path / name)
    return str(tmp_path / name)


# ---------------------------------------------------------------------------- handlers

def nothing_shown(result) -> bool:
    """Every output of a handler's result empty."""
    return all(value is None for value in vars(result).values())


def test_a_drawn_seven_shows_everything(built):
    answer = built.draw.classify_sketch(data_url(seven_png()))
    label = answer.confidences
    assert len(label) == 10 and max(label, key=label.get) == "7"
    assert sum(label.values()) == pytest.approx(1, abs=1e-5)
    assert answer.status.startswith("**7**")
    assert "p(7) = e^{z_7}" in answer.softmax and "**Logits z**" in answer.softmax
    shown = built.draw.sketch_pictures(data_url(seven_png()), EXPLAIN_TOP)
    seen, cam = answer.seen, shown.grad_cam
    assert seen.size == (28, 28) and cam.size == shown.saliency.size
    assert cam.width > seen.width and cam.height > seen.height   # enlarged to be seen
    assert list(shown.maps) == ["C1", "S2", "C3", "S4", "C5"] and list(shown.linear) == ["F6", "output"]
    assert all(isinstance(m, Image.Image)
               for m in (shown.steps, *shown.maps.values(), *shown.linear.values()))


def test_the_api_reads_a_drawing_with_the_pads_recipe(built):
    """/classify_sketch answers what the page shows for the same drawing: the pad's recipe
    (lenet.inputs.pad), then LeNet-5 on exactly those pixels."""
    from lenet.inputs.pad import pad_digit, pad_ink
    png = seven_png(280)
    answer = built.draw.classify_sketch(data_url(png))
    label, seen = answer.confidences, answer.seen
    pixels = pad_digit(pad_ink(Image.open(io.BytesIO(png)))).pixels
    assert np.array_equal(np.asarray(seen), (pixels * 255).round().astype(np.uint8))
    logits = built.models["lenet5"].model(torch.from_numpy(pixels)[None, None])
    expected = torch.softmax(logits[0], 0).detach().numpy()
    assert [label[str(k)] for k in range(10)] == pytest.approx(expected, abs=1e-6)


def test_label_and_pictures_of_one_drawing_share_one_prediction(built):
    png = seven_png(140)  # a drawing no other test sends
    before = built.draw.api.predict.computed
    built.draw.classify_sketch(data_url(png))
    built.draw.sketch_pictures(data_url(png), EXPLAIN_TOP)
    built.draw.sketch_pictures(data_url(png), "3")
    assert built.draw.api.predict.computed == before + 1


def test_a_cleared_pad_clears_the_outputs_and_asks_for_a_digit(built):
    answer = built.draw.classify_sketch("")
    assert answer.status == "Draw a digit on the pad." and answer.confidences is answer.seen is None
    assert nothing_shown(built.draw.sketch_pictures("", EXPLAIN_TOP))
    blank = Image.new("RGB", (112, 112), "white")
    buffer = io.BytesIO()
    blank.save(buffer, "PNG")
    answer = built.draw.classify_sketch(data_url(buffer.getvalue()))
    assert "Nothing drawn" in answer.status and answer.confidences is answer.seen is None
    assert nothing_shown(built.draw.sketch_pictures(data_url(buffer.getvalue()), None))


def test_explaining_another_class_changes_the_heatmaps(built):
    top = built.draw.sketch_pictures(data_url(seven_png()), EXPLAIN_TOP)
    three = built.draw.sketch_pictures(data_url(seven_png()), "3")
    assert np.asarray(top.grad_cam).tobytes() != np.asarray(three.grad_cam).tobytes()
    assert np.asarray(top.saliency).tobytes() != np.asarray(three.saliency).tobytes()


def test_an_upload_is_prepared_by_the_general_recipe_and_handed_to_the_page(tmp_path, built):
    (tmp_path / "seven.png").write_bytes(seven_png(600))
    value = json.loads(built.draw.take_upload(str(tmp_path / "seven.png")))
    assert value["kind"] == "upload" and len(value["pixels"]) == 28 * 28
    tensor, _ = built.models["lenet5"].prepare(str(tmp_path / "seven.png"))   # the recipe for uploads
    assert np.asarray(value["pixels"]) == pytest.approx(tensor.numpy().ravel(), abs=1e-6)
    shown = shown_input(json.dumps(value))
    assert built.models["lenet5"].predict_pixels(shown.pixels[None]).label == "7"


def test_an_unusable_upload_is_one_line_in_the_view(tmp_path, built):
    (tmp_path / "doc.png").write_bytes(b"%PDF-1.4 not really a picture")
    message = json.loads(built.draw.take_upload(str(tmp_path / "doc.png")))
    assert message["kind"] == "message" and "not an image" in message["text"]
    assert "\n" not in message["text"]
    Image.new("RGB", (60, 60), "white").save(tmp_path / "white.png")
    message = json.loads(built.draw.take_upload(str(tmp_path / "white.png")))
    assert message["kind"] == "message" and "No digit" in message["text"]
    assert built.draw.take_upload(None) == ""


def test_the_other_tabs_read_the_drawing_as_the_page_showed_it():
    from lenet.inputs.pad import pad_digit, pad_ink
    png = seven_png(280)
    shown = shown_input(json.dumps({"kind": "drawing", "drawing": data_url(png)}))
    assert shown.png == png
    assert np.array_equal(shown.pixels, pad_digit(pad_ink(Image.open(io.BytesIO(png)))).pixels)
    blank = io.BytesIO()
    Image.new("RGB", (280, 280), "white").save(blank, "PNG")
    assert shown_input(json.dumps({"kind": "drawing",
                                   "drawing": data_url(blank.getvalue())})).pixels is None
    assert shown_input("") is None
    for damaged in ("{", json.dumps({"kind": "upload", "pixels": [1, 2]}),
                    json.dumps({"kind": "upload", "pixels": [float("nan")] * 784})):
        with pytest.raises(InputError):
            shown_input(damaged)


@pytest.mark.parametrize("value", ["data:text/html;base64,PGI+", "data:image/png;base64,@@@",
                                   "data:image/png;base64," + base64.b64encode(b"junk").decode()])
def test_a_bad_pad_value_is_a_warning_not_a_crash(value, built):
    with pytest.warns(UserWarning):
        answer = built.draw.classify_sketch(value)
    assert answer.status.startswith("⚠️") and "\n" not in answer.status
    assert answer.confidences is answer.seen is answer.softmax is None
    assert nothing_shown(built.draw.sketch_pictures(value, None))  # and no second toast


def test_photo_api_handler_and_its_bad_inputs(tmp_path, built):
    answer = built.photo.classify_photo(photo_file(tmp_path))
    shown = built.photo.pictures(photo_file(tmp_path), None)
    seen, cam = answer.seen, shown.grad_cam
    assert len(answer.confidences) == 10 and seen.size == (32, 32)
    assert len(shown.maps) == 4 and len(shown.linear) == 2
    assert cam.width > seen.width and cam.height > seen.height   # enlarged to be seen
    assert built.photo.classify_photo(None).status.startswith("Upload a photo")
    (tmp_path / "doc.pdf").write_bytes(b"%PDF-1.4\n%%EOF")
    (tmp_path / "empty.png").write_bytes(b"")
    for bad, words in (("doc.pdf", "not an image"), ("empty.png", "empty")):
        with pytest.warns(UserWarning):
            answer = built.photo.classify_photo(str(tmp_path / bad))
        assert words in answer.status
        assert answer.confidences is answer.seen is answer.softmax is None


def test_a_photo_upload_is_handed_to_the_page_as_its_32x32_input(tmp_path, built):
    taken = built.photo.take_upload(photo_file(tmp_path))
    value, kept = json.loads(taken.view), taken.shown
    tensor, _ = built.models["convnet"].prepare(photo_file(tmp_path))          # the recipe for photos
    assert value["kind"] == "upload" and kept == photo_file(tmp_path)
    assert np.asarray(value["pixels"]) == pytest.approx(
        built.models["convnet"].pixels(tensor).ravel(), abs=1e-6)
    (tmp_path / "doc.png").write_bytes(b"%PDF-1.4 not a picture")
    taken = built.photo.take_upload(str(tmp_path / "doc.png"))
    assert json.loads(taken.view)["kind"] == "message" and taken.shown is None  # the old answer goes


@pytest.mark.parametrize("tab, what", [("draw", "picture"), ("photo", "photo")])
def test_an_upload_over_the_limit_is_answered_with_the_limit_in_words(tmp_path, tab, what, built):
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8" + bytes(11 * 2**20))
    value = getattr(built, tab).take_upload(str(big))
    message = json.loads(value if isinstance(value, str) else value.view)
    assert message == {"kind": "message", "id": message["id"],
                       "text": f"⚠️ the {what} is 11 MB; the limit is 10 MB: choose a smaller one"}


def test_an_unexpected_bug_is_logged_not_shown(monkeypatch, caplog, built):
    monkeypatch.setattr(built.photo.api, "predict", lambda _source: 1 / 0)  # the API's path
    with pytest.warns(UserWarning):
        status = built.photo.classify_photo("never-seen-before.png").status
    assert "Something went wrong" in status and "ZeroDivisionError" not in status
    assert "ZeroDivisionError" in caplog.text


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_bad_checkpoint_stops_start_up_with_one_line(damage, tmp_path, monkeypatch):
    path = tmp_path / "lenet5.safetensors"
    if damage == "corrupt":
        path.write_bytes(b"\x00" * 100)
    monkeypatch.setenv("LENET_LENET5_CHECKPOINT", str(path))
    with pytest.raises(app.MissingModel) as stopped:   # main() exits with this message
        app.build()
    message = str(stopped.value)
    assert "\n" not in message and str(path) in message
    assert "python train.py --model lenet5" in message


def test_the_app_as_a_process_imports_quietly_and_stops_with_one_line(tmp_path):
    """What a user of ``python app.py`` sees, in one Python process (the slow part is starting
    it): importing app.py reads no checkpoint and leaves torch's threads alone; then app.py run
    as a script with a missing checkpoint exits non-zero with one line on stderr."""
    env = {**os.environ, "LENET_LENET5_CHECKPOINT": str(tmp_path / "missing.safetensors")}
    code = ("import torch; before = torch.get_num_threads(); import app; "
            "print('imported', before, torch.get_num_threads(), flush=True); "
            "import runpy; runpy.run_path('app.py', run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    imported, before, after = proc.stdout.split()
    assert imported == "imported" and before == after, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0 and len(lines) == 1, proc.stderr
    assert "missing.safetensors" in lines[0] and "python train.py --model lenet5" in lines[0]


# ---------------------------------------------------------------------------- as an API

def test_gradio_client_sketch_upload_and_bad_file(server, tmp_path, built):
    from gradio_client import Client, handle_file
    client = Client(server, download_files=False, verbose=False)
    status, label, seen, _ = client.predict(data_url(seven_png()), api_name="/classify_sketch")
    assert label["label"] == "7" and status.startswith("**7**")
    cam, sal, steps, *maps = client.predict(data_url(seven_png()), "3", None,
                                            api_name="/sketch_pictures")
    assert len(maps) == 7 and all(m["path"].endswith(".png") for m in (cam, sal, steps, *maps))
    status, label, seen, _ = client.predict(handle_file(photo_file(tmp_path)),
                                            api_name="/classify_photo")
    assert label["label"] in built.photo.api.clf.classes
    (tmp_path / "doc.png").write_bytes(b"%PDF-1.4 not really a picture")
    status, label, seen, _ = client.predict(handle_file(str(tmp_path / "doc.png")),
                                            api_name="/classify_photo")
    assert "not an image" in status and not label
    # The server is still there and still right.
    status, label, seen, _ = client.predict(data_url(seven_png()), api_name="/classify_sketch")
    assert label["label"] == "7"


def test_every_event_is_an_api_endpoint(server):
    from gradio_client import Client
    names = set(Client(server, download_files=False, verbose=False).view_api(
        print_info=False, return_format="dict")["named_endpoints"])
    assert {"/classify_sketch", "/sketch_pictures", "/prepare_digit", "/classify_photo",
            "/photo_pictures", "/prepare_photo"} <= names


def test_an_oversized_upload_is_refused_and_the_server_stays_up(server, tmp_path):
    from gradio_client import Client, handle_file
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG" + os.urandom(11 * 1024 * 1024))  # over the 10 MB limit
    client = Client(server, download_files=False, verbose=False)
    status, label, _, _ = client.predict(handle_file(str(big)), api_name="/classify_photo")
    assert status == "⚠️ the photo is 11 MB; the limit is 10 MB: choose a smaller one" and not label
    huge = tmp_path / "huge.png"
    huge.write_bytes(b"\x89PNG" + os.urandom(51 * 1024 * 1024))  # over Gradio's MAX_FILE_SIZE
    with pytest.raises(Exception):
        client.predict(handle_file(str(huge)), api_name="/classify_photo")
    status, label, seen, _ = client.predict(data_url(seven_png()), api_name="/classify_sketch")
    assert label["label"] == "7"


# MNIST's test set per class, as published with it (yann.lecun.com/exdb/mnist): 10,000 in all.
MNIST_TEST_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)


def inside_section(built, title: str) -> list:
    """The components the "Inside the models" tab shows for the model called ``title``."""
    tab = next(b for b in built.demo.blocks.values() if isinstance(b, gr.Tab) and b.id == "inside")
    return next(column.children for column in tab.children if isinstance(column, gr.Column)
                and column.children[0].value.startswith(f"### {title}\n"))


def charted_errors(section: list) -> dict[str, float]:
    """The per-class error chart's bars as the page sends them: class -> % (each bar's
    tooltip, two decimals)."""
    charts = next(c.value for c in section if isinstance(c, gr.HTML) and "Test error per" in c.value)
    chart = charts[charts.index("Test error per class"):]
    return {name: float(value)
            for name, value in re.findall(r"<title>([^<:]+): ([\d.]+)</title>", chart)}


def test_the_inside_tab_charts_the_errors_its_confusion_matrix_shows(built):
    """Each model's bars against the confusion matrix shown under them (1 - diagonal / row);
    LeNet-5's also against its gallery, which holds every test mistake, and MNIST's published
    class sizes."""
    for clf in built.models.values():
        section = inside_section(built, clf.meta["title"])
        matrix = next(c.value for c in section if isinstance(c, gr.Dataframe)
                      and c.value["headers"][0].startswith("true"))
        expected = {row[0]: 100 * (1 - row[1 + k] / sum(row[1:])) for k, row in enumerate(matrix["data"])}
        assert list(charted_errors(section)) == list(clf.classes)
        assert charted_errors(section) == pytest.approx(expected, abs=0.005), clf.meta["title"]
    gallery = built.gallery.galleries["lenet5"][1]
    wrong = np.bincount(gallery.labels[gallery.is_mistake], minlength=10)
    by_gallery = {str(k): 100 * wrong[k] / MNIST_TEST_COUNTS[k] for k in range(10)}
    assert charted_errors(inside_section(built, built.models["lenet5"].meta["title"])) == \
        pytest.approx(by_gallery, abs=0.005)


def test_the_inside_tab_separates_thousands_and_draws_no_vega_lite(built):
    section = inside_section(built, built.models["lenet5"].meta["title"])
    table = next(c.value for c in section if isinstance(c, gr.Dataframe)
                 and c.value["headers"][0] == "layer")
    parameters = {row[0]: row[-1] for row in table["data"]}
    assert parameters["C5"] == "48,120" and parameters["total"] == "61,706"  # 16*5*5*120 + 120
    assert not any(isinstance(b, (gr.BarPlot, gr.LinePlot))
                   for b in built.demo.blocks.values())            # no Vega-Lite on the page


def test_the_warm_up_sends_every_route_real_arguments(server, caplog):
    """Each start paid the first request's costs with a call that failed for want of its
    arguments; every warm-up call now gets an answer."""
    import logging
    with caplog.at_level(logging.WARNING, logger="app"):
        app.warm_up(server)
    assert "warm-up request failed" not in caplog.text
