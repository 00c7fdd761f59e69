"""Issue 21: the server refuses what it cannot afford. Each probe of the issue, as small as it
can be made, against what the server still takes since issue 22 moved every tab into the page
(the API-only endpoints, the upload route, request bodies): a picture whose header declares
more pixels than the path takes (refused before a pixel is decoded), a drawing's data URL and
a request's body over their bounds, the memo's keys, the side door past the queue, the
file-existence oracle, the 10 MB limit on every endpoint that takes an upload, and settings no
one can use (NaN, 1e308, None): each answered with one line, none logged as a bug.
benchmarks/probes.py sends the same probes to a running app and times them.

The gallery's events are gone (the page draws its sheets: the Python handler's answers to bad
seeds are in tests/test_ui_gallery.py). The invariance lab has no endpoint any more either,
but its Python handlers remain the page's reference, so their answers to unusable settings are
still held here."""
import base64
import io
import json
import logging
import math
import struct
import sys
import warnings
from pathlib import Path

import gradio as gr
import httpx
import pytest
from gradio.utils import get_upload_folder
from helpers import data_url, declared_png, drawing_value, seven_png
from PIL import Image

import ui.api
from lenet.inputs.images import InputError, open_image
from lenet.inputs.pad import drawing_digit
from lenet.inside.memo import SingleFlight
from ui.api import decode_data_url
from ui.blocks import DEFAULTS, PHOTO, UPLOAD
from ui.invariance import DIGIT
from ui.view import shown_input

SERVER_FILE = Path(sys.executable)   # a file that exists on every server this runs on


# ---------------------------------------------------------------------------- crafted files

def declared_jpeg(width: int, height: int) -> bytes:
    """An 8x8 JPEG whose frame header (SOF0: precision, height, width) declares more."""
    buffer = io.BytesIO()
    Image.new("L", (8, 8), 255).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def png_of(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, "PNG")
    return buffer.getvalue()


def padded_png(path: Path, megabytes: int) -> str:
    """A real picture followed by ``megabytes`` of zeros, which every reader ignores: a file
    over the upload limit that opens fine."""
    path.write_bytes(seven_png() + bytes(megabytes * 2**20))
    return str(path)


# ---------------------------------------------------------------------------- sizes

@pytest.mark.parametrize("data", [declared_png(8000, 8000), declared_jpeg(10000, 8900),
                                  png_of(1200, 900)], ids=["png header", "jpeg header", "png"])
def test_a_drawing_larger_than_a_megapixel_is_refused_before_decoding(data):
    """A drawing comes from a 280x280 pad: more than a megapixel is refused from the header,
    for every format (the crafted files have no pixels to decode)."""
    width, height = Image.open(io.BytesIO(data)).size
    with pytest.raises(InputError, match=rf"{width}x{height} pixels; the limit is 1 megapixel$"):
        drawing_digit(data)
    assert not drawing_digit(seven_png(280)).empty   # the pad's own size is read


def test_a_photo_over_the_pixel_limit_is_refused_for_jpeg_too():
    """The photo path's 64-megapixel limit holds for JPEG, whose reduced decode still reads
    every block."""
    with pytest.raises(InputError, match="10000x8900 pixels; the limit is 64 megapixels"):
        open_image(declared_jpeg(10000, 8900), target=128)


def test_a_drawings_data_url_is_bounded_before_it_is_decoded(monkeypatch):
    over = "data:image/png;base64," + "A" * (4 * math.ceil(1.05 * 2**20 / 3))   # 1.05 MB
    monkeypatch.setattr(ui.api.base64, "b64decode", lambda *a, **k: pytest.fail("decoded"))
    with pytest.raises(InputError, match=r"the drawing is 1.1 MB; the limit is 1 MB: draw on"):
        decode_data_url(over)   # /classify_sketch, /sketch_pictures, /building_block
    # The draw view's value, which the invariance lab's Python handler reads (no endpoint).
    with pytest.raises(InputError, match=r"the drawing is 1.2 MB; the limit is 1 MB: press Clear"):
        shown_input(json.dumps({"kind": "drawing", "drawing": over + "A" * 2**17}))
    monkeypatch.undo()
    assert decode_data_url(data_url(seven_png(280))) == seven_png(280)


def test_memos_keep_a_digest_of_bytes_not_the_bytes():
    """A memo of drawings holds each drawing's SHA-256, not its PNG: the bytes are the
    caller's alone once the call returns."""
    memo = SingleFlight(len, maxsize=4)
    drawing = bytes(2**20)
    held = sys.getrefcount(drawing)
    assert memo(drawing) == 2**20 and sys.getrefcount(drawing) == held
    assert memo(bytes(2**20)) == 2**20 and memo.computed == 1   # equal bytes, one entry


# ---------------------------------------------------------------------------- files

def test_only_a_path_gradio_validated_is_opened(tmp_path, monkeypatch):
    """A FileData with no path and a data URL naming a server file is no file at all (as
    when none is sent); so is any path outside Gradio's upload folder."""
    named = "data:text/plain;base64," + base64.b64encode(str(SERVER_FILE).encode()).decode()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))   # Gradio's upload folder, here
    inside = Path(get_upload_folder()) / "0123abcd" / "seven.png"
    inside.parent.mkdir()
    inside.write_bytes(seven_png())
    from ui.components import uploaded_file  # the API's files (FileData as dicts)
    meta = {"_type": "gradio.FileData"}
    assert uploaded_file({"path": str(inside), "meta": meta}) == str(inside)
    assert uploaded_file({"path": None, "url": named, "meta": meta}) is None
    assert uploaded_file({"path": str(SERVER_FILE), "meta": meta}) is None
    assert uploaded_file({"path": str(inside)}) is None   # Gradio checks only those with meta


def api_endpoint(built, name: str):
    """The function behind an API-only endpoint, as the queue calls it."""
    return next(fn.fn for fn in built.demo.fns.values() if fn.api_name == name)


def test_a_url_only_photo_answers_as_no_photo(built):
    classify = api_endpoint(built, "classify_photo")
    named = "data:text/plain;base64," + base64.b64encode(str(SERVER_FILE).encode()).decode()
    crafted = {"path": None, "url": named, "meta": {"_type": "gradio.FileData"}}
    assert classify(crafted) == classify(None)
    assert classify(None)[0].startswith("Upload a photo")


def refused_or_answered(call) -> str:
    """An endpoint's one line: its status or message, or the error it raises for the caller
    (the toasts are not what is tested here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = call()
        except gr.Error as exc:
            return exc.message
    first = out[0] if isinstance(out, tuple) else out
    if not isinstance(first, str):   # /photo_pictures: its pictures
        return f"{sum(p is not None for p in out)} pictures"
    return json.loads(first)["text"] if first.startswith("{") and '"message"' in first else first


def test_the_10_mb_limit_holds_on_every_endpoint_that_takes_an_upload(built, tmp_path, monkeypatch):
    """Each endpoint with a file parameter, called as the queue calls it with a file Gradio
    received: over 10 MB is one line naming the limit; the same picture under it is read."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))   # Gradio's upload folder, here
    folder = Path(get_upload_folder()) / "0123abcd"
    folder.mkdir(parents=True)
    meta = {"_type": "gradio.FileData"}
    big = {"path": padded_png(folder / "big.png", 11), "meta": meta}
    small = {"path": padded_png(folder / "small.png", 0), "meta": meta}

    def block(**given):
        return lambda: api_endpoint(built, "building_block")(*{**DEFAULTS, **given}.values())

    calls = {"classify_photo": lambda f: lambda: api_endpoint(built, "classify_photo")(f),
             "photo_pictures": lambda f: lambda: api_endpoint(built, "photo_pictures")(f),
             "prepare_photo": lambda f: lambda: api_endpoint(built, "prepare_photo")(f),
             "prepare_digit": lambda f: lambda: api_endpoint(built, "prepare_digit")(f),
             "building_block, upload": lambda f: block(source=UPLOAD, upload=f),
             "building_block, photo": lambda f: block(source=PHOTO, photo=f)}
    for name, call in calls.items():
        refused, read = refused_or_answered(call(big)), refused_or_answered(call(small))
        assert refused.endswith(("photo is 11 MB; the limit is 10 MB: choose a smaller one",
                                 "picture is 11 MB; the limit is 10 MB: choose a smaller one")), name
        assert "\n" not in refused and "limit" not in read and read != refused, (name, read)
        assert not read.startswith("0 pictures"), name


# ---------------------------------------------------------------------------- settings

def loaded(built):
    return built.lab.load(DIGIT, drawing_value(seven_png()), None).loaded


BAD_SETTINGS = {
    "stride NaN": (lambda b: b.blocks.run(**{**DEFAULTS, "stride": math.nan}), "stride"),
    "padding NaN": (lambda b: b.blocks.run(**{**DEFAULTS, "padding": math.nan}), "padding"),
    "pool size NaN": (lambda b: b.blocks.run(**{**DEFAULTS, "pool": "max",
                                                "pool_size": math.nan}), "pool size"),
    "pool stride inf": (lambda b: b.blocks.run(**{**DEFAULTS, "pool_stride": math.inf}),
                        "pool stride"),
    "filters NaN": (lambda b: b.blocks.run(**{**DEFAULTS, "kernel": "N random filters",
                                              "count": math.nan}), "number of random filters"),
    "seed 1e308": (lambda b: b.blocks.run(**{**DEFAULTS, "kernel": "N random filters",
                                             "seed": 1e308}), "seed"),
    "bias 1e308": (lambda b: b.blocks.run(**{**DEFAULTS, "bias": 1e308}), "bias"),
    "pool None": (lambda b: b.blocks.run(**{**DEFAULTS, "pool": None}), "pooling"),
    "source None": (lambda b: b.blocks.run(**{**DEFAULTS, "source": None}), "picture"),
    "maps None": (lambda b: b.blocks.run(**{**DEFAULTS, "maps_as": None}), "show the maps"),
    # The invariance lab's Python handlers (the page's reference; no endpoint reaches them).
    "erase NaN": (lambda b: b.lab.curves(loaded(b), erase_size=math.nan), "erased square"),
    "erase row NaN": (lambda b: b.lab.step(loaded(b), erase_size=4, erase_y=math.nan),
                      "centre row"),
    "rotation 1e308": (lambda b: b.lab.step(loaded(b), rotation=1e308), "rotation"),
    "shift NaN": (lambda b: b.lab.load(DIGIT, drawing_value(seven_png()), None,
                                       shift_x=math.nan), "shift right"),
}


@pytest.mark.parametrize("probe", list(BAD_SETTINGS))
def test_settings_no_one_can_use_get_one_line_reasons(probe, built, caplog):
    """Answered in the status line with the setting's name, and nothing logged as a bug."""
    send, setting = BAD_SETTINGS[probe]
    with pytest.warns(UserWarning):
        status = send(built).status
    assert status.startswith("⚠️ ") and setting in status and "\n" not in status
    assert "went wrong" not in status
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_text_typed_into_the_kernel_table_is_shown_as_text(built):
    """The status line and the toast render HTML: what was typed comes back escaped."""
    typed = "<img src=x onerror=alert(1)>"
    with pytest.warns(UserWarning) as toasts:
        status = built.blocks.run(**{**DEFAULTS, "kernel": "custom 3x3",
                                     "custom": [[typed, 0, 0], [0, 1, 0], [0, 0, 0]]}).status
    for shown in (status, str(toasts[0].message)):
        assert "&lt;img src=x onerror=alert(1)&gt;" in shown and "<img" not in shown


# ---------------------------------------------------------------------------- the queue

def test_no_event_runs_outside_the_queue(built):
    """An event marked queue=False can be called by its number at /gradio_api/run/predict,
    as often as anyone likes; and api_open=False closes /gradio_api/run/<name>."""
    assert not built.demo.api_open
    outside = [fn.name for fn in built.demo.fns.values() if not fn.queue]
    assert outside == []


def test_the_run_route_refuses_and_the_client_still_answers(server):
    from gradio_client import Client
    drawing = data_url(seven_png())
    side = httpx.post(f"{server}gradio_api/run/classify_sketch", json={"data": [drawing]},
                      timeout=30)
    assert side.status_code == 404
    config = httpx.get(f"{server}config", timeout=30).json()
    for dep in config["dependencies"]:
        by_number = httpx.post(f"{server}gradio_api/run/predict", timeout=30,
                               json={"data": [None] * len(dep["inputs"]), "fn_index": dep["id"]})
        assert by_number.status_code != 200, dep["id"]
    status, *_ = Client(server, download_files=False, verbose=False).predict(
        drawing, api_name="/classify_sketch")
    assert status.startswith("**7**")


def test_request_bodies_are_bounded(server):
    """An event's body over 2 MB is refused (413, one line) whether its length is declared
    or it comes in chunks; uploads keep their own, larger limit; a drawing passes."""
    join = f"{server}gradio_api/queue/join"
    sketch = next(d["id"] for d in httpx.get(f"{server}config", timeout=30).json()["dependencies"]
                  if d.get("api_name") == "classify_sketch")
    body = json.dumps({"data": ["data:image/png;base64," + "A" * 3 * 2**20], "fn_index": sketch,
                       "session_hash": "limits"}).encode()
    declared = httpx.post(join, content=body, headers={"Content-Type": "application/json"},
                          timeout=30)
    assert declared.status_code == 413 and "larger than 2 MB" in declared.json()["detail"]
    chunks = (body[i:i + 2**16] for i in range(0, len(body), 2**16))   # no Content-Length
    chunked = httpx.post(join, content=chunks, headers={"Content-Type": "application/json"},
                         timeout=30)
    assert chunked.status_code == 413
    upload = httpx.post(f"{server}gradio_api/upload", timeout=30,
                        files={"files": ("big.png", seven_png() + bytes(3 * 2**20))})
    assert upload.status_code == 200
    small = json.dumps({"data": [data_url(seven_png())], "fn_index": sketch, "session_hash": "x"})
    assert httpx.post(join, content=small, headers={"Content-Type": "application/json"},
                      timeout=30).status_code == 200
