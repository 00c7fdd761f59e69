"""Nothing anyone sends names a server file. Since issue 22 the page sends the server no event:
what a request can still reach is the API-only endpoints (``gr.api``). A crafted request, sent
to the queue as ``gradio_client`` sends them, puts a server path into every parameter of every
endpoint, as text and as a FileData, the other parameters at their defaults (the building
block's source set to the input being probed, so that it is the one read); file parameters
also get a FileData with no path and the server path as its data URL (issue 21). An existing
file and a missing one must get the same answer, so the app is no oracle for which files exist
(nor for their size), and an image that is on the server is never read. The control: a picture
sent through Gradio's upload route, in the same parameter, is read (its answer differs)."""
import base64
import json
import urllib.request
import uuid
from pathlib import Path

import httpx
import pytest
from conftest import ROOT
from helpers import seven_png

from ui.blocks import DRAWING, PHOTO, UPLOAD

EXISTS, MISSING = "/etc/passwd", "/nonexistent/file.png"
SERVER_IMAGE = str(ROOT / "docs" / "screenshot.png")
# The README's list of the API; each must be probed.
ENDPOINTS = {"classify_sketch", "sketch_pictures", "prepare_digit", "classify_photo", "photo_pictures",
             "prepare_photo", "building_block"}
FILES = {("prepare_digit", "path"), ("classify_photo", "path"), ("photo_pictures", "shown"),
         ("prepare_photo", "path"), ("building_block", "upload"), ("building_block", "photo")}
# The building block reads one of its inputs, chosen by ``source``.
SOURCE_OF = {("building_block", "upload"): UPLOAD, ("building_block", "photo"): PHOTO,
             ("building_block", "drawing"): DRAWING}


def call(url: str, fn_index: int, data: list) -> dict:
    """One call through the queue, as ``gradio_client`` sends it: its completion message."""
    session = uuid.uuid4().hex
    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session,
                       "event_data": None, "trigger_id": None}).encode()
    join = urllib.request.Request(f"{url}gradio_api/queue/join", body,
                                  {"Content-Type": "application/json"})
    with urllib.request.urlopen(join, timeout=30) as response:
        event = json.load(response)["event_id"]
    stream = urllib.request.urlopen(f"{url}gradio_api/queue/data?session_hash={session}",
                                    timeout=60)
    with stream:
        for line in stream:
            if not line.startswith(b"data:"):
                continue
            message = json.loads(line[5:])
            if message.get("event_id") == event and message.get("msg") == "process_completed":
                return {"success": message.get("success"), "output": message.get("output")}
    raise AssertionError(f"no answer to event {fn_index}")


def file_data(path: str | None, **more) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": "x.png", **more}


def big_server_file() -> Path:
    """A file of the server's over the 10 MB upload limit: torch's largest library."""
    from importlib.util import find_spec
    libraries = (Path(find_spec("torch").origin).parent / "lib").glob("*.so*")
    big = max(libraries, key=lambda p: p.stat().st_size)
    assert big.stat().st_size > 10 * 2**20
    return big


def url_only(path: str) -> dict:
    """A FileData with no path whose data URL holds a server path (Gradio decodes it)."""
    return file_data(None, url="data:text/plain;base64," + base64.b64encode(path.encode()).decode())


def without_id(value):
    """An output with the prepared input's "id" (a per-answer nonce, ui/view.py) left out."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            return {k: v for k, v in json.loads(value).items() if k != "id"}
        except ValueError:
            return value
    return value


def scrub(answer: dict) -> str:
    """What the caller gets back: success, the outputs or the error (not the timings)."""
    output = answer["output"] or {}
    data = [without_id(v) for v in output.get("data") or []]
    return json.dumps([answer["success"], data, output.get("error")], sort_keys=True)


@pytest.fixture(scope="module")
def endpoints(app_url) -> list[tuple[str, int, list[dict]]]:
    """(name, fn_index, parameters) of every named endpoint, as Gradio describes them to
    ``gradio_client`` (/gradio_api/info)."""
    config = httpx.get(f"{app_url}config", timeout=30).json()
    info = httpx.get(f"{app_url}gradio_api/info", timeout=30).json()["named_endpoints"]
    numbers = {d.get("api_name"): d["id"] for d in config["dependencies"]}
    return [(name.lstrip("/"), numbers[name.lstrip("/")], e["parameters"]) for name, e in info.items()]


def test_no_endpoint_answers_differently_for_a_file_that_exists(app_url, endpoints):
    sent = httpx.post(f"{app_url}gradio_api/upload", timeout=30,   # the control's picture
                      files={"files": ("seven.png", seven_png())}).json()[0]
    big = str(big_server_file())
    probed, files = set(), set()
    for name, fn_index, parameters in endpoints:
        defaults = [p.get("parameter_default") for p in parameters]
        for slot, parameter in enumerate(parameters):
            key = (name, parameter["parameter_name"])
            where = f"/{name}, {key[1]}"

            def answer(value) -> str:
                data = list(defaults)
                data[slot] = value
                if key in SOURCE_OF:
                    data[[p["parameter_name"] for p in parameters].index("source")] = SOURCE_OF[key]
                return scrub(call(app_url, fn_index, data))

            for form in (str, file_data):   # a path said back as sent tells nothing
                answers = {path: answer(form(path)).replace(path, "<path>")
                           for path in (EXISTS, MISSING, SERVER_IMAGE)}
                assert answers[EXISTS] == answers[MISSING], where
                assert answers[SERVER_IMAGE] == answers[MISSING], where
                assert "root:" not in answers[EXISTS] and "no such file" not in answers[MISSING]
            probed.add(name)
            if "filepath" not in parameter["python_type"]["type"]:
                continue
            assert answer(url_only(big)) == answer(url_only(MISSING)), where
            assert " MB" not in answer(url_only(big)), where
            assert answer(file_data(sent)) != answer(file_data(MISSING)), f"{where}: not read"
            files.add(key)
    assert ENDPOINTS <= probed, ENDPOINTS - probed
    assert FILES <= files, FILES - files
