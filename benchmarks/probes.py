"""The probes of issue 21 ("The server refuses what it cannot afford") against ``python app.py``,
as the server stands after issue 22: each crafted request as an API user (or anyone with
curl) can send it, its answer (the first line), its wall time, whether it left a traceback in
the server's log, and the server's RSS after it.

    python benchmarks/probes.py [--root PATH]   # PATH: another checkout, e.g. a worktree of HEAD

What the server still takes: the API-only endpoints (``gr.api``: /classify_sketch,
/sketch_pictures, /prepare_digit, /classify_photo, /photo_pictures, /prepare_photo,
/building_block), Gradio's upload route, and any request body up to its bound (``ui.limits``).
The probes go to the queue as ``gradio_client`` sends them (``/gradio_api/queue/join``), to
the queue's side doors (``/gradio_api/run/...``), to the upload route and through
``gradio_client``; the inputs are made once under the temp folder (about 120 MB).

Gone since issue 21, because those tabs moved into the page and send the server nothing: the
gallery's click, shuffle and seed events, the invariance lab's /invariance and
/invariance_curves, and the draw view's value as an input of the building blocks (the
endpoint takes the drawing's PNG data URL). Their Python handlers' answers to bad settings
are tested in tests/test_ui_gallery.py and tests/test_server_limits.py; the page's own
answers in tests/test_gallery_page.py and tests/test_lab_page.py.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import httpx
import numpy as np
from browser import ROOT, free_port
from load import rss_mb
from PIL import Image, ImageDraw

INPUTS = Path(tempfile.gettempdir()) / "how-a-cnn-sees-probes"
TIMEOUT = 120          # seconds for one answer
SIDE_DOOR = 80         # requests sent at once to /gradio_api/run/<name>
UPLOAD_MB = 60         # an upload over Gradio's max_file_size (app.py: 50 MB)


# ---------------------------------------------------------------------------- the inputs

def drawing(width: int, height: int, mode: str = "L") -> Image.Image:
    """A 7 drawn in black across a white canvas of any size."""
    image = Image.new(mode, (width, height), "white")
    w, h = width / 112, height / 112
    ImageDraw.Draw(image).line([(30 * w, 20 * h), (80 * w, 20 * h), (50 * w, 95 * h)],
                               fill="black", width=max(1, round(9 * min(w, h))))
    return image


def made(name: str, make) -> Path:
    """``INPUTS/name``, written by ``make(path)`` the first time."""
    path = INPUTS / name
    if not path.exists():
        INPUTS.mkdir(parents=True, exist_ok=True)
        make(path)
    return path


def noise(side: int):
    """An RGB picture of noise (PNG cannot compress it): about 3 bytes a pixel."""
    return lambda path: Image.fromarray(np.random.default_rng(0).integers(
        0, 256, (side, side, 3), np.uint8)).save(path)


def padded(megabytes: int):
    """A 280x280 drawing followed by ``megabytes`` of zeros, which image readers ignore."""
    def write(path: Path) -> None:
        drawing(280, 280).save(path)
        with path.open("ab") as f:
            f.write(bytes(megabytes * 2**20))
    return write


def data_url(path: Path, kind: str = "image/png") -> str:
    return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode()


@dataclass
class Inputs:
    big_png: Path      # 8000x8000 drawing, about 80 KB
    big_jpeg: Path     # 89 megapixels, about 1 MB
    jpeg_64mp: Path    # 8000x8000, about 0.8 MB: under the data URL's bound
    noise_20mb: Path   # a 20 MB drawing
    photo_12mb: Path   # a real picture over the 10 MB limit
    upload_60mb: Path  # a real picture padded with zeros past Gradio's upload limit
    seven: Path        # a 280x280 drawing, as the pad draws

    @classmethod
    def make(cls) -> "Inputs":
        return cls(made("big.png", lambda p: drawing(8000, 8000).save(p, optimize=True)),
                   made("big.jpg", lambda p: drawing(10000, 8900).save(p, quality=30)),
                   made("big64.jpg", lambda p: drawing(8000, 8000).save(p, quality=30)),
                   made("noise20.png", noise(2600)), made("photo12.png", noise(2000)),
                   made("upload60.png", padded(UPLOAD_MB)),
                   made("seven.png", lambda p: drawing(280, 280, "RGB").save(p)))


# ---------------------------------------------------------------------------- the app

class App:
    """``python app.py`` in ``root`` on a free port, its log in a file, spoken to over HTTP."""

    def __init__(self, root: Path):
        import subprocess
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(self.port),
               "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=root, env=env,
                                     stdout=self.log, stderr=self.log)
        self.http = httpx.Client(base_url=self.url, timeout=TIMEOUT)
        for _ in range(1200):
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if self.http.get("/").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.config = self.http.get("/config").json()
        # Each endpoint's parameters (names, defaults), as gradio_client reads them.
        self.info = self.http.get("/gradio_api/info").json()["named_endpoints"]
        self.settle()

    def settle(self, quiet: float = 3, most: float = 90) -> None:
        """Wait until the RSS holds still for ``quiet`` seconds: app.py warms up after it
        serves its page (its first requests import and allocate), which is no probe's cost."""
        start, last, since = time.perf_counter(), self.rss(), time.perf_counter()
        while time.perf_counter() - start < most and time.perf_counter() - since < quiet:
            time.sleep(0.25)
            if abs(self.rss() - last) > 1:
                last, since = self.rss(), time.perf_counter()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)

    def rss(self) -> float:
        return rss_mb(self.proc.pid)

    def tracebacks(self) -> int:
        return Path(self.log.name).read_text(errors="replace").count("Traceback")

    # -- which endpoint
    def fn_index(self, api_name: str) -> int:
        return next(d["id"] for d in self.config["dependencies"] if d.get("api_name") == api_name)

    def arguments(self, api_name: str, **given) -> list:
        """The endpoint's inputs in order: ``given`` by parameter name, the rest at their
        defaults (as ``gradio_client`` fills them)."""
        parameters = self.info[f"/{api_name}"]["parameters"]
        unknown = set(given) - {p["parameter_name"] for p in parameters}
        if unknown:
            raise KeyError(f"/{api_name} has no parameter {sorted(unknown)}")
        return [given.get(p["parameter_name"], p.get("parameter_default")) for p in parameters]

    def call(self, api_name: str, **given) -> str:
        """One endpoint through the queue: the first line of its answer."""
        return self.queue(self.fn_index(api_name), self.arguments(api_name, **given))

    # -- requests
    def queue(self, fn_index: int, data: list) -> str:
        """One call through the queue, as ``gradio_client`` sends it: the first line of its
        answer."""
        session = uuid.uuid4().hex
        body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session,
                           "event_data": None, "trigger_id": None})   # NaN stays NaN
        join = self.http.post("/gradio_api/queue/join", content=body,
                              headers={"Content-Type": "application/json"})
        if join.status_code != 200:
            return f"HTTP {join.status_code}: {first_line(join.text)}"
        event, toasts = join.json()["event_id"], []
        with self.http.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") != event:
                    continue
                if message.get("msg") == "log":   # gr.Warning / gr.Info: a toast on the page
                    toasts.append(f"{message.get('level')}: {first_line(message.get('log', ''))}")
                if message.get("msg") == "process_completed":
                    return summary(message, toasts)
        return "no answer"

    def post_file(self, path: Path) -> httpx.Response:
        with path.open("rb") as f:
            return self.http.post("/gradio_api/upload", files={"files": (path.name, f)})

    def upload(self, path: Path) -> dict:
        """``path`` sent to Gradio's upload route: the FileData an endpoint takes."""
        answer = self.post_file(path)
        answer.raise_for_status()
        return file_data(answer.json()[0], path.name)


def file_data(path: str | None, name: str = "x.png", **more) -> dict:
    return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}, **more}


def first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:110]


def summary(message: dict, toasts: list[str]) -> str:
    """A completed call in one line: its error, its first text output, its toast, or what it
    returned."""
    output = message.get("output") or {}
    if not message.get("success"):
        return f"error: {first_line(str(output.get('error')))}"
    data = output.get("data") or []
    for value in data:
        if isinstance(value, str) and value.startswith("{"):   # /prepare_*: the input as JSON
            return prepared(value)
        if isinstance(value, str) and value:
            return first_line(value)
    pictures = sum(isinstance(v, dict) and bool(v.get("path")) for v in data)
    if pictures:
        return f"{pictures} pictures, {len(data)} outputs"
    return toasts[0] if toasts else first_line(json.dumps(data))


def prepared(value: str) -> str:
    """A /prepare_* answer in one line: its message, or how many input values it holds."""
    try:
        data = json.loads(value)
    except ValueError:
        return first_line(value)
    if data.get("kind") == "message":
        return first_line(data.get("text", ""))
    return f"{data.get('kind')}: {len(data.get('pixels', []))} values, {data.get('caption')!r}"


# ---------------------------------------------------------------------------- the probes

def probes(app: App, inputs: Inputs) -> dict:
    """Probe title -> a function answering in one line."""
    seven, big_png = data_url(inputs.seven), data_url(inputs.big_png)

    def uploaded(path: Path):
        return lambda: app.upload(path)

    big_photo, photo12 = uploaded(inputs.big_jpeg), uploaded(inputs.photo_12mb)
    server_file = Path(find_spec("torch").origin).parent / "lib" / "libtorch_cpu.so"
    size = server_file.stat().st_size / 2**20

    def url_only(path) -> dict:
        """A FileData with no path whose data URL names a server file (Gradio decodes it)."""
        named = "data:text/plain;base64," + base64.b64encode(str(path).encode()).decode()
        return file_data(None, url=named)

    block = lambda **changes: app.call("building_block", **changes)   # noqa: E731
    return {
        "reference: the pad's 280x280 drawing -> /classify_sketch":
            lambda: app.call("classify_sketch", value=seven),
        "8000x8000 PNG drawing (80 KB) -> /classify_sketch":
            lambda: app.call("classify_sketch", value=big_png),
        "same -> /sketch_pictures": lambda: app.call("sketch_pictures", value=big_png),
        "89 MP JPEG drawing (1 MB) -> /classify_sketch":
            lambda: app.call("classify_sketch", value=data_url(inputs.big_jpeg, "image/jpeg")),
        "64 MP JPEG drawing (0.8 MB) -> /classify_sketch":
            lambda: app.call("classify_sketch", value=data_url(inputs.jpeg_64mp, "image/jpeg")),
        "8000x8000 PNG drawing -> /building_block (my drawing)":
            lambda: block(source="my drawing", drawing=big_png),
        "8000x8000 PNG photo (80 KB, at the 64 MP limit) -> /classify_photo":
            lambda: app.call("classify_photo", path=app.upload(inputs.big_png)),
        "89 MP JPEG photo -> /classify_photo": lambda: app.call("classify_photo", path=big_photo()),
        "89 MP JPEG photo -> /prepare_photo": lambda: app.call("prepare_photo", path=big_photo()),
        "89 MP JPEG picture of a digit -> /prepare_digit":
            lambda: app.call("prepare_digit", path=big_photo()),
        "8000x8000 PNG picture of a digit -> /prepare_digit":
            lambda: app.call("prepare_digit", path=app.upload(inputs.big_png)),
        "20 MB drawing (data URL) -> /classify_sketch":
            lambda: app.call("classify_sketch", value=data_url(inputs.noise_20mb)),
        "84 MB request body -> /classify_sketch":
            lambda: app.call("classify_sketch", value="data:image/png;base64," + "A" * (84 * 2**20)),
        f"{UPLOAD_MB} MB file -> /gradio_api/upload": lambda: posted(app.post_file(inputs.upload_60mb)),
        f"{SIDE_DOOR} at once -> /gradio_api/run/classify_sketch":
            lambda: side_door(app, "classify_sketch", [seven]),
        "every endpoint by its fn_index -> /gradio_api/run/predict":
            lambda: skip_queue(app),
        f"oracle: url-only FileData naming a {size:.0f} MB server file -> /classify_photo":
            lambda: app.call("classify_photo", path=url_only(server_file)),
        "oracle: url-only FileData naming a missing file -> /classify_photo":
            lambda: app.call("classify_photo", path=url_only("/nonexistent/file.png")),
        "FileData whose path is a server file -> /prepare_photo":
            lambda: app.call("prepare_photo", path=file_data(str(server_file))),
        "FileData whose path is a missing file -> /prepare_photo":
            lambda: app.call("prepare_photo", path=file_data("/nonexistent/file.png")),
        "12 MB photo -> /photo_pictures": lambda: app.call("photo_pictures", shown=photo12()),
        "12 MB photo -> /prepare_photo": lambda: app.call("prepare_photo", path=photo12()),
        "12 MB picture -> /prepare_digit": lambda: app.call("prepare_digit", path=photo12()),
        "12 MB upload -> /building_block (upload)": lambda: block(source="upload", upload=photo12()),
        "stride NaN -> /building_block": lambda: block(stride=float("nan")),
        "padding NaN -> /building_block": lambda: block(padding=float("nan")),
        "pool size NaN -> /building_block": lambda: block(pool="max", pool_size=float("nan")),
        "bias 1e308 -> /building_block": lambda: block(bias=1e308),
        "pooling None -> /building_block": lambda: block(pool=None),
        "custom kernel cell '<img src=x onerror=alert(1)>' -> /building_block": lambda: block(
            kernel="custom 3x3", custom=[["<img src=x onerror=alert(1)>", 0, 0], [0, 1, 0], [0, 0, 0]]),
        "client.predict(drawing, api_name='/sketch_pictures')":
            lambda: client_alone(app, seven, "/sketch_pictures"),
        "client.predict(photo, api_name='/photo_pictures')":
            lambda: client_alone(app, inputs.seven, "/photo_pictures"),
    }


def posted(answer: httpx.Response) -> str:
    """An upload route's answer in one line: its status and what it said."""
    return f"HTTP {answer.status_code}: {first_line(answer.text)}"


def side_door(app: App, name: str, data: list) -> str:
    """``SIDE_DOOR`` posts at once to the route that runs an event without the queue."""
    codes, lock = [], threading.Lock()

    def post():
        try:
            code = httpx.post(f"{app.url}gradio_api/run/{name}", json={"data": data},
                              timeout=TIMEOUT).status_code
        except httpx.HTTPError as exc:
            code = type(exc).__name__
        with lock:
            codes.append(code)
    threads = [threading.Thread(target=post) for _ in range(SIDE_DOOR)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counted = {c: codes.count(c) for c in sorted(set(codes), key=str)}
    return ", ".join(f"{n} x HTTP {c}" for c, n in counted.items())


def skip_queue(app: App) -> str:
    """Every endpoint, called by its number outside the queue: how many ran."""
    events = [dep for dep in app.config["dependencies"] if dep.get("api_name")]
    ran = sum(httpx.post(f"{app.url}gradio_api/run/predict", timeout=TIMEOUT, json={
        "data": app.arguments(dep["api_name"]), "fn_index": dep["id"]}).status_code == 200
              for dep in events)
    outside = sum(not dep.get("queue", True) for dep in events)
    unnamed = len(app.config["dependencies"]) - len(events)
    return (f"{ran} of {len(events)} endpoints ran (HTTP 200); {outside} are marked queue=False; "
            f"{unnamed} other events")


def client_alone(app: App, value, api_name: str) -> str:
    """An API step called with its input alone, as issue 20 shows it."""
    from gradio_client import Client, handle_file
    client = Client(app.url, download_files=False, verbose=False)
    value = handle_file(str(value)) if isinstance(value, Path) else value
    try:
        result = client.predict(value, api_name=api_name)
    except Exception as exc:  # the answer we measure
        return f"{type(exc).__name__}: {first_line(str(exc))}"
    return f"{sum(isinstance(v, dict) and bool(v.get('path')) for v in result)} pictures"


def run(app: App, inputs: Inputs) -> None:
    print(f"{'probe':<72} {'s':>6} {'tb':>3} {'RSS MB':>7}  answer")
    print(f"{'(started and warmed up)':<72} {'':>6} {'':>3} {app.rss():7.0f}")
    for title, probe in probes(app, inputs).items():
        before = app.tracebacks()
        start = time.perf_counter()
        try:
            answer = probe()
        except Exception as exc:  # a probe that breaks the connection is an answer too
            answer = f"{type(exc).__name__}: {first_line(str(exc))}"
        seconds = time.perf_counter() - start
        traced = app.tracebacks() - before
        print(f"{title[:72]:<72} {seconds:6.2f} {traced:3d} {app.rss():7.0f}  {answer}", flush=True)
    time.sleep(2)
    print(f"{'(end, 2 s later)':<72} {'':>6} {'':>3} {app.rss():7.0f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app.py runs "
                   "(default: this one)")
    args = p.parse_args()
    inputs = Inputs.make()
    app = App(args.root.resolve())
    print(f"app.py in {args.root} (pid {app.proc.pid}); log {app.log.name}; "
          "tb: tracebacks the probe left in the log")
    try:
        run(app, inputs)
    finally:
        app.close()


if __name__ == "__main__":
    main()
