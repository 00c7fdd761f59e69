"""The Gradio app: each handler called directly, start-up failures, and the app as an API
through gradio_client against a launched server."""
import base64
import io
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw

from conftest import ROOT

app = pytest.importorskip("app", reason="app.py needs gradio and the committed checkpoints")


def seven_png(size: int = 112) -> bytes:
    image = Image.new("RGB", (size, size), "white")
    s = size / 112
    ImageDraw.Draw(image).line([(30 * s, 20 * s), (80 * s, 20 * s), (50 * s, 95 * s)],
                               fill="black", width=round(9 * s))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def photo_file(tmp_path, name="photo.jpg") -> str:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (120, 160, 3), np.uint8)).save(tmp_path / name)
    return str(tmp_path / name)


# ---------------------------------------------------------------------------- handlers

def test_a_drawn_seven_shows_everything():
    status, label, seen = app.classify_sketch(data_url(seven_png()))
    assert len(label) == 3 and max(label, key=label.get) == "7"
    assert status.startswith("**7**")
    cam, sal, *maps = app.sketch_pictures(data_url(seven_png()), app.EXPLAIN_TOP)
    assert seen.size == (28, 28) and cam.size == sal.size == (224, 224)
    assert len(maps) == 5 and all(isinstance(m, Image.Image) for m in maps)


def test_a_cleared_pad_clears_the_outputs_and_asks_for_a_digit():
    status, *rest = app.classify_sketch("")
    assert status == "Draw a digit on the pad." and all(r is None for r in rest)
    assert all(r is None for r in app.sketch_pictures("", app.EXPLAIN_TOP))
    blank = Image.new("RGB", (112, 112), "white")
    buffer = io.BytesIO()
    blank.save(buffer, "PNG")
    status, *rest = app.classify_sketch(data_url(buffer.getvalue()))
    assert "Nothing drawn" in status and all(r is None for r in rest)
    assert all(r is None for r in app.sketch_pictures(data_url(buffer.getvalue()), None))


def test_explaining_another_class_changes_the_heatmaps():
    top_cam, top_sal, *_ = app.sketch_pictures(data_url(seven_png()), app.EXPLAIN_TOP)
    three_cam, three_sal, *_ = app.sketch_pictures(data_url(seven_png()), "3")
    assert np.asarray(top_sal).tobytes() != np.asarray(three_sal).tobytes()


@pytest.mark.parametrize("value", ["data:text/html;base64,PGI+", "data:image/png;base64,@@@",
                                   "data:image/png;base64," + base64.b64encode(b"junk").decode()])
def test_a_bad_pad_value_is_a_warning_not_a_crash(value):
    with pytest.warns(UserWarning):
        status, *rest = app.classify_sketch(value)
    assert status.startswith("⚠️") and "\n" not in status and all(r is None for r in rest)
    assert all(r is None for r in app.sketch_pictures(value, None))  # no second toast


def test_photo_handler_and_its_bad_inputs(tmp_path):
    status, label, seen = app.classify_photo(photo_file(tmp_path))
    cam, sal, *maps = app.photo_pictures(photo_file(tmp_path), None)
    assert len(label) == 3 and seen.size == (32, 32) and cam.size == (224, 224) and len(maps) == 4
    assert app.classify_photo(None)[0].startswith("Upload a photo")
    (tmp_path / "doc.pdf").write_bytes(b"%PDF-1.4\n%%EOF")
    (tmp_path / "empty.png").write_bytes(b"")
    for bad, words in (("doc.pdf", "not an image"), ("empty.png", "empty")):
        with pytest.warns(UserWarning):
            status, *rest = app.classify_photo(str(tmp_path / bad))
        assert words in status and all(r is None for r in rest)


def test_digit_upload_goes_through_the_digit_pipeline(tmp_path):
    (tmp_path / "seven.png").write_bytes(seven_png(600))
    status, label, seen = app.classify_digit_file(str(tmp_path / "seven.png"))
    assert max(label, key=label.get) == "7" and seen.size == (28, 28)


def test_an_unexpected_bug_is_logged_not_shown(monkeypatch, caplog):
    monkeypatch.setattr(app.PHOTOS, "predict", lambda _source: 1 / 0)
    with pytest.warns(UserWarning):
        status, *_ = app.classify_photo("never-seen-before.png")
    assert "Something went wrong" in status and "ZeroDivisionError" not in status
    assert "ZeroDivisionError" in caplog.text


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_bad_checkpoint_stops_start_up_with_one_line(damage, tmp_path):
    path = tmp_path / "lenet5.safetensors"
    if damage == "corrupt":
        path.write_bytes(b"\x00" * 100)
    env = {**os.environ, "LENET_LENET5_CHECKPOINT": str(path)}
    proc = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0]
    assert "python train.py --model lenet5" in lines[0]


# ---------------------------------------------------------------------------- as an API

@pytest.fixture(scope="module")
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True,
                    quiet=True, max_file_size=app.MAX_FILE_SIZE)
    yield f"http://127.0.0.1:{port}/"
    app.demo.close()


def test_gradio_client_sketch_upload_and_bad_file(server, tmp_path):
    from gradio_client import Client, handle_file
    client = Client(server, download_files=False, verbose=False)
    status, label, seen = client.predict(data_url(seven_png()), api_name="/classify_sketch")
    assert label["label"] == "7" and status.startswith("**7**")
    cam, sal, *maps = client.predict(data_url(seven_png()), "3", api_name="/sketch_pictures")
    assert len(maps) == 5 and all(m["path"].endswith(".png") for m in (cam, sal, *maps))
    status, label, seen = client.predict(handle_file(photo_file(tmp_path)),
                                         api_name="/classify_photo")
    assert label["label"] in app.PHOTOS.classes
    (tmp_path / "doc.png").write_bytes(b"%PDF-1.4 not really a picture")
    status, label, seen = client.predict(handle_file(str(tmp_path / "doc.png")),
                                         api_name="/classify_photo")
    assert "not an image" in status and not label
    # The server is still there and still right.
    status, label, seen = client.predict(data_url(seven_png()), api_name="/classify_sketch")
    assert label["label"] == "7"


def test_every_event_is_an_api_endpoint(server):
    from gradio_client import Client
    names = set(Client(server, download_files=False, verbose=False).view_api(
        print_info=False, return_format="dict")["named_endpoints"])
    assert {"/classify_sketch", "/sketch_pictures", "/classify_digit", "/digit_pictures",
            "/explain_sketch", "/classify_photo", "/photo_pictures", "/explain_photo"} <= names


def test_an_oversized_upload_is_refused_and_the_server_stays_up(server, tmp_path):
    from gradio_client import Client, handle_file
    big = tmp_path / "huge.png"
    big.write_bytes(b"\x89PNG" + os.urandom(11 * 1024 * 1024))  # over MAX_FILE_SIZE
    client = Client(server, download_files=False, verbose=False)
    with pytest.raises(Exception):
        client.predict(handle_file(str(big)), api_name="/classify_photo")
    status, label, seen = client.predict(data_url(seven_png()), api_name="/classify_sketch")
    assert label["label"] == "7"


def test_a_burst_of_requests_all_get_answers(server, tmp_path):
    from gradio_client import Client, handle_file
    client = Client(server, download_files=False, verbose=False)
    photo = photo_file(tmp_path)
    jobs = [client.submit(data_url(seven_png()), api_name="/classify_sketch") for _ in range(15)]
    jobs += [client.submit(handle_file(photo), api_name="/classify_photo") for _ in range(15)]
    results = [job.result(timeout=120) for job in jobs]
    assert all(r[1]["label"] == "7" for r in results[:15])
    assert all(r[1]["label"] in app.PHOTOS.classes for r in results[15:])
