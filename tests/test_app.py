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


def test_the_apis_upload_is_prepared_by_the_general_recipe(tmp_path, built):
    (tmp_path / "seven.png").write_bytes(seven_png(600))
    value = json.loads(built.draw.take_upload(str(tmp_path / "seven.png")))
    assert value["kind"] == "upload" and len(value["pixels"]) == 28 * 28
    tensor, _ = built.models["lenet5"].prepare(str(tmp_path / "seven.png"))   # the recipe for uploads
    assert np.asarray(value["pixels"]) == pytest.approx(tensor.numpy().ravel(), abs=1e-6)
    shown = shown_input(json.dumps(value))
    assert built.models["lenet5"].predict_pixels(shown.pixels[None]).label == "7"


def test_an_unusable_upload_is_one_line_for_the_api(tmp_path, built):
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


def test_the_apis_photo_upload_is_its_32x32_input(tmp_path, built):
    value = json.loads(built.photo.take_upload(photo_file(tmp_path)))
    tensor, _ = built.models["convnet"].prepare(photo_file(tmp_path))          # the recipe for photos
    assert value["kind"] == "upload" and value["caption"] == "your photo"
    assert np.asarray(value["pixels"]) == pytest.approx(
        built.models["convnet"].pixels(tensor).ravel(), abs=1e-6)
    (tmp_path / "doc.png").write_bytes(b"%PDF-1.4 not a picture")
    message = json.loads(built.photo.take_upload(str(tmp_path / "doc.png")))
    assert message["kind"] == "message" and "not an image" in message["text"]
    assert built.photo.take_upload(None) == ""


def test_the_draw_and_photo_tabs_have_no_events_but_the_api(built):
    """Uploads, Clear and hand-overs stay in the page: no component of either tab is an
    event's input, output or trigger, and neither tab has an upload box of Gradio's."""
    from gradio.components.api_component import Api  # gr.api's stand-ins: no frontend
    tabs = [b for b in built.demo.blocks.values() if isinstance(b, gr.Tab) and b.id in ("draw", "photo")]
    placed = {id(c) for tab in tabs for c in descendants(tab) if not isinstance(c, Api)}
    assert len(tabs) == 2 and not any(isinstance(c, gr.Image) for tab in tabs for c in descendants(tab))
    for fn in built.demo.fns.values():
        triggers = [built.demo.blocks.get(block_id) for block_id, _ in fn.targets]
        assert not {id(c) for c in [*fn.inputs, *fn.outputs, *triggers]} & placed, fn.api_name


def descendants(block) -> list:
    children = getattr(block, "children", [])
    return [*children, *(c for child in children for c in descendants(child))]


@pytest.mark.parametrize("tab, what", [("draw", "picture"), ("photo", "photo")])
def test_an_upload_over_the_limit_is_answered_with_the_limit_in_words(tmp_path, tab, what, built):
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8" + bytes(11 * 2**20))
    message = json.loads(getattr(built, tab).take_upload(str(big)))
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
    # An upload prepared as the network's input, as the page once received it.
    prepared = json.loads(client.predict(handle_file(photo_file(tmp_path)), api_name="/prepare_photo"))
    assert prepared["kind"] == "upload" and len(prepared["pixels"]) == 3 * 32 * 32
    (tmp_path / "seven.png").write_bytes(seven_png(600))
    prepared = json.loads(client.predict(handle_file(str(tmp_path / "seven.png")), api_name="/prepare_digit"))
    assert built.models["lenet5"].predict_pixels(
        np.asarray(prepared["pixels"], np.float32).reshape(1, 28, 28)).label == "7"
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


def inside_tab(built) -> gr.HTML:
    """The "Inside the models" tab's one component: the page's own tab (web/inside_tab.js)."""
    tab = next(b for b in built.demo.blocks.values() if isinstance(b, gr.Tab) and b.id == "inside")
    (view,) = tab.children
    return view


def test_the_inside_tab_is_the_pages_own_and_the_server_serves_what_it_reads(built, server):
    """The tab's HTML names every model the app loaded, by a path the app serves as that
    checkpoint's very bytes; the page's modules for it are served too (the page draws every
    table, filter and chart from these files: tests/test_inside_page.py)."""
    import html
    import urllib.request

    from lenet.page import tab_html
    view = inside_tab(built)
    start = json.loads(html.unescape(re.search(r'data-start="([^"]*)"', view.html_template).group(1)))
    assert view.html_template == tab_html("inside", {k: v for k, v in start.items() if k != "module"})
    assert [m["name"] for m in start["models"]] == list(built.models)
    assert start["module"] == "inside_tab.js"
    get = lambda path: urllib.request.urlopen(f"{server}gradio_api/file={path}", timeout=10).read()  # noqa: E731
    for model in start["models"]:
        assert get(model["path"]) == app.checkpoint_path(model["name"]).read_bytes(), model["name"]
    for module in ("inside_tab.js", "inside_numbers.js", "inside_tab.css", "charts.js"):
        assert get(f"web/{module}") == (ROOT / "web" / module).read_bytes()


def test_the_inside_tab_sends_nothing_to_the_server_and_draws_no_vega_lite(built):
    """Choosing a model happens in the page: no event of the app reads or writes the tab."""
    view = inside_tab(built)
    for dependency in built.demo.config["dependencies"]:
        ids = [t[0] for t in dependency["targets"]] + dependency["inputs"] + dependency["outputs"]
        assert view._id not in ids, dependency.get("api_name")
    assert not any(isinstance(b, (gr.BarPlot, gr.LinePlot))
                   for b in built.demo.blocks.values())            # no Vega-Lite on the page


def test_the_warm_up_sends_every_route_real_arguments(server, caplog):
    """Each start paid the first request's costs with a call that failed for want of its
    arguments; every warm-up call now gets an answer."""
    import logging
    with caplog.at_level(logging.WARNING, logger="app"):
        app.warm_up(server)
    assert "warm-up request failed" not in caplog.text
