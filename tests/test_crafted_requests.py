"""Nothing a visitor sends names a server file. A crafted request, sent to the queue as the
page itself sends them, puts a server path into every input of every event that could carry
one (text, the draw view's value, images, tables, the API-only endpoints' inputs), the other
inputs at the page's own values; file inputs also get a FileData with no path and the server
path as its data URL (issue 21). An existing file and a missing one must get the same answer,
so the app is no oracle for which files exist (nor for their size), and an image that is on
the server is never read."""
import base64
import json
import urllib.request
import uuid
from pathlib import Path

import pytest
from conftest import ROOT

PATH_LIKE = {"textbox", "html", "image", "dataframe", "file", "json", "api"}
FILE_LIKE = {"image", "file", "api"}
EXISTS, MISSING = "/etc/passwd", "/nonexistent/file.png"
SERVER_IMAGE = str(ROOT / "docs" / "screenshot.png")


def call(url: str, fn_index: int, data: list) -> dict:
    """One event through the queue, as the page sends it: its completion message."""
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


def crafted(component: dict, path: str):
    if component["type"] in FILE_LIKE:
        return {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": "x.png"}
    if component["type"] == "dataframe":
        return {"headers": ["1"], "data": [[path]], "metadata": None}
    return path


def big_server_file() -> Path:
    """A file of the server's over the 10 MB upload limit: torch's largest library."""
    from importlib.util import find_spec
    libraries = (Path(find_spec("torch").origin).parent / "lib").glob("*.so*")
    big = max(libraries, key=lambda p: p.stat().st_size)
    assert big.stat().st_size > 10 * 2**20
    return big


def url_only(path: str) -> dict:
    """A FileData with no path whose data URL holds a server path (Gradio decodes it)."""
    return {"path": None, "url": "data:text/plain;base64," + base64.b64encode(path.encode()).decode(),
            "meta": {"_type": "gradio.FileData"}}


def scrub(answer: dict) -> str:
    """What the visitor gets back: success, the outputs or the error (not the timings)."""
    output = answer["output"] or {}
    return json.dumps([answer["success"], output.get("data"), output.get("error")],
                      sort_keys=True)


@pytest.fixture(scope="module")
def config(app_url):
    with urllib.request.urlopen(f"{app_url}config", timeout=30) as response:
        return json.load(response)


def test_no_event_answers_differently_for_a_file_that_exists(app_url, config):
    components = {c["id"]: c for c in config["components"]}
    tried = urls = 0
    big = str(big_server_file())
    for dependency in config["dependencies"]:
        inputs = [components[i] for i in dependency["inputs"]]
        defaults = [c.get("props", {}).get("value") for c in inputs]
        for slot, component in enumerate(inputs):
            if component["type"] not in PATH_LIKE:
                continue
            answers = {}
            for path in (EXISTS, MISSING, SERVER_IMAGE):
                data = list(defaults)
                data[slot] = crafted(component, path)
                answers[path] = scrub(call(app_url, dependency["id"], data))
            where = f"event {dependency['id']} ({dependency.get('api_name')}), input {slot}"
            assert answers[EXISTS] == answers[MISSING], where
            assert answers[SERVER_IMAGE] == answers[MISSING], where
            assert "root:" not in answers[EXISTS] and "no such file" not in answers[MISSING]
            tried += 1
            if component["type"] in FILE_LIKE:
                for path in (big, MISSING):
                    data = list(defaults)
                    data[slot] = url_only(path)
                    answers[path] = scrub(call(app_url, dependency["id"], data))
                assert answers[big] == answers[MISSING], where
                assert " MB" not in answers[big], where
                urls += 1
    assert tried >= 20   # the draw view, the uploads, the gallery's and the tabs' inputs
    assert urls >= 5     # the uploads of the draw, photo and blocks tabs; the photo API's two
