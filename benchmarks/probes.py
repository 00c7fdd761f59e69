"""The probes of issue 21 ("The server refuses what it cannot afford") against ``python app.py``:
each crafted request as a visitor or an API user can send it, its answer (the first line),
its wall time, whether it left a traceback in the server's log, and the server's RSS after it.

    python benchmarks/probes.py [--root PATH]   # PATH: another checkout, e.g. a worktree of HEAD

The requests go to the queue as the page sends them (``/gradio_api/queue/join``), to the
queue's side door (``/gradio_api/run/...``) and through ``gradio_client``; the inputs are made
once under the temp folder (about 60 MB).
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
DIGIT = "my drawing (LeNet-5)"


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


def data_url(path: Path, kind: str = "image/png") -> str:
    return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode()


@dataclass
class Inputs:
    big_png: Path      # 8000x8000 drawing, about 80 KB
    big_jpeg: Path     # 89 megapixels, about 1 MB
    jpeg_64mp: Path    # 8000x8000, about 0.8 MB: under the data URL's bound
    noise_20mb: Path   # a 20 MB drawing
    photo_12mb: Path   # a real picture over the 10 MB limit
    seven: Path        # a 280x280 drawing, as the pad draws

    @classmethod
    def make(cls) -> "Inputs":
        return cls(made("big.png", lambda p: drawing(8000, 8000).save(p, optimize=True)),
                   made("big.jpg", lambda p: drawing(10000, 8900).save(p, quality=30)),
                   made("big64.jpg", lambda p: drawing(8000, 8000).save(p, quality=30)),
                   made("noise20.png", noise(2600)), made("photo12.png", noise(2000)),
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
        self.components = {c["id"]: c for c in self.config["components"]}
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

    # -- which event
    def event(self, api_name: str | None = None, target: tuple[str, str] | None = None) -> dict:
        """The dependency named ``api_name``, or the first one that ``target`` (component
        type, event) triggers."""
        for dep in self.config["dependencies"]:
            if api_name is not None and dep.get("api_name") == api_name:
                return dep
            if target is not None and any(t[1] == target[1] and self.components.get(
                    t[0], {}).get("type") == target[0] for t in dep["targets"]):
                return dep
        raise KeyError(api_name or target)

    def defaults(self, dep: dict) -> list:
        return [self.components[i].get("props", {}).get("value") for i in dep["inputs"]]

    def labels(self, dep: dict) -> list:
        return [self.components[i].get("props", {}).get("label") for i in dep["inputs"]]

    # -- requests
    def queue(self, dep: dict, data: list, event_data=None) -> str:
        """One event through the queue, as the page sends it: the first line of its answer."""
        session = uuid.uuid4().hex
        body = json.dumps({"data": data, "fn_index": dep["id"], "session_hash": session,
                           "event_data": event_data, "trigger_id": None})   # NaN stays NaN
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

    def upload(self, path: Path) -> dict:
        with path.open("rb") as f:
            answer = self.http.post("/gradio_api/upload", files={"files": (path.name, f)})
        answer.raise_for_status()
        return {"path": answer.json()[0], "orig_name": path.name,
                "meta": {"_type": "gradio.FileData"}}


def first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:110]


def summary(message: dict, toasts: list[str]) -> str:
    """A completed event in one line: its error, its first text output, its toast, or what it
    returned."""
    output = message.get("output") or {}
    if not message.get("success"):
        return f"error: {first_line(str(output.get('error')))}"
    data = output.get("data") or []
    for value in data:
        if isinstance(value, str) and value and not value.startswith("{"):
            return first_line(value)
        if isinstance(value, dict) and isinstance(value.get("value"), str) and value["value"]:
            return first_line(value["value"])   # an update, e.g. the status Markdown's
    pictures = sum(isinstance(v, dict) and bool(v.get("path")) for v in data)
    if pictures:
        return f"{pictures} pictures, {len(data)} outputs"
    return toasts[0] if toasts else first_line(json.dumps(data))


# ---------------------------------------------------------------------------- the probes

def probes(app: App, inputs: Inputs) -> dict:
    """Probe title -> a function answering in one line."""
    seven_view = json.dumps({"kind": "drawing", "drawing": data_url(inputs.seven)})
    big_view = json.dumps({"kind": "drawing", "drawing": data_url(inputs.big_png)})
    sketch, pictures = app.event("classify_sketch"), app.event("sketch_pictures")
    photo, photo_pictures = app.event("classify_photo"), app.event("photo_pictures")
    block, lab = app.event("building_block"), app.event("invariance_curves")
    pick, shuffle = app.event(target=("html", "pick")), app.event(target=("button", "click"))
    gallery_seed = app.event(target=("number", "change"))

    def with_api(dep: dict, *given) -> list:
        """An API step's inputs: those given, then None for the rest."""
        return [*given, *[None] * (len(dep["inputs"]) - len(given))]

    def block_with(**changes) -> str:
        names = ["source", "upload", "drawing", "photo", "kernel", "custom", "count", "size",
                 "seed", "stride", "padding", "bias", "relu", "pool", "pool_size",
                 "pool_stride", "maps_as"]
        assert app.labels(block)[9] == "Stride", app.labels(block)
        data = dict(zip(names, app.defaults(block)))
        return app.queue(block, list({**data, **changes}.values()))

    def lab_with(view: str, **changes) -> str:
        data = app.defaults(lab)
        data[0], data[1] = DIGIT, view
        for k, label in enumerate(app.labels(lab)):
            for key, value in changes.items():
                if (label or "").startswith(key):
                    data[k] = value
        return app.queue(lab, data)

    def uploaded(path: Path):
        return lambda: app.upload(path)

    big_photo, photo12 = uploaded(inputs.big_jpeg), uploaded(inputs.photo_12mb)
    server_file = Path(find_spec("torch").origin).parent / "lib" / "libtorch_cpu.so"
    oracle = lambda path: app.queue(photo, with_api(photo, {  # noqa: E731
        "path": None, "url": "data:text/plain;base64," + base64.b64encode(str(path).encode()).decode(),
        "meta": {"_type": "gradio.FileData"}}))
    size = server_file.stat().st_size / 2**20
    return {
        "reference: the pad's 280x280 drawing -> /classify_sketch":
            lambda: app.queue(sketch, [data_url(inputs.seven)]),
        "8000x8000 PNG drawing (80 KB) -> /classify_sketch":
            lambda: app.queue(sketch, [data_url(inputs.big_png)]),
        "same -> /sketch_pictures":
            lambda: app.queue(pictures, with_api(pictures, data_url(inputs.big_png), "top prediction")),
        "89 MP JPEG drawing (1 MB) -> /classify_sketch":
            lambda: app.queue(sketch, [data_url(inputs.big_jpeg, "image/jpeg")]),
        "64 MP JPEG drawing (0.8 MB) -> /classify_sketch":
            lambda: app.queue(sketch, [data_url(inputs.jpeg_64mp, "image/jpeg")]),
        "8000x8000 drawing as the draw view -> /building_block (my drawing)":
            lambda: block_with(source="my drawing", drawing=big_view),
        "8000x8000 drawing as the draw view -> /invariance_curves":
            lambda: lab_with(big_view),
        "8000x8000 PNG photo (80 KB, at the 64 MP limit) -> /classify_photo":
            lambda: app.queue(photo, with_api(photo, app.upload(inputs.big_png))),
        "89 MP JPEG photo -> /classify_photo":
            lambda: app.queue(photo, with_api(photo, big_photo())),
        "20 MB drawing (data URL) -> /classify_sketch":
            lambda: app.queue(sketch, [data_url(inputs.noise_20mb)]),
        "84 MB request body -> /classify_sketch":
            lambda: app.queue(sketch, ["data:image/png;base64," + "A" * (84 * 2**20)]),
        f"{SIDE_DOOR} at once -> /gradio_api/run/classify_sketch":
            lambda: side_door(app, "classify_sketch", [data_url(inputs.seven)]),
        "every event by its fn_index -> /gradio_api/run/predict":
            lambda: skip_queue(app),
        f"oracle: url-only FileData naming a {size:.0f} MB server file -> /classify_photo":
            lambda: oracle(server_file),
        "oracle: url-only FileData naming a missing file -> /classify_photo":
            lambda: oracle("/nonexistent/file.png"),
        "12 MB photo -> /photo_pictures":
            lambda: app.queue(photo_pictures, with_api(photo_pictures, photo12(), "top prediction")),
        "12 MB upload -> /building_block (upload)":
            lambda: block_with(source="upload", upload=photo12()),
        "stride NaN -> /building_block": lambda: block_with(stride=float("nan")),
        "padding NaN -> /building_block": lambda: block_with(padding=float("nan")),
        "pool size NaN -> /building_block":
            lambda: block_with(pool="max", pool_size=float("nan")),
        "erase size NaN -> /invariance_curves": lambda: lab_with(seven_view, **{
            "Erase a square": float("nan")}),
        "bias 1e308 -> /building_block": lambda: block_with(bias=1e308),
        "pooling radio None -> /building_block": lambda: block_with(pool=None),
        "gallery click with no event data": lambda: app.queue(pick, app.defaults(pick)),
        "shuffle with seed 1e308": lambda: app.queue(shuffle, [1e308]),
        "gallery with seed 1e308": lambda: app.queue(
            gallery_seed, [*app.defaults(gallery_seed)[:-1], 1e308]),
        "custom kernel cell '<img src=x onerror=alert(1)>' -> /building_block": lambda: block_with(
            kernel="custom 3x3", custom={"headers": ["1", "2", "3"], "data": [
                ["<img src=x onerror=alert(1)>", 0, 0], [0, 1, 0], [0, 0, 0]]}),
        "client.predict(drawing, api_name='/sketch_pictures')":
            lambda: client_alone(app, data_url(inputs.seven), "/sketch_pictures"),
        "client.predict(photo, api_name='/photo_pictures')":
            lambda: client_alone(app, inputs.seven, "/photo_pictures"),
    }


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
    """Every event of the page, called by its number outside the queue: how many ran."""
    events = app.config["dependencies"]
    ran = sum(httpx.post(f"{app.url}gradio_api/run/predict", timeout=TIMEOUT, json={
        "data": app.defaults(dep), "fn_index": dep["id"]}).status_code == 200 for dep in events)
    outside = sum(not dep.get("queue", True) for dep in events)
    return f"{ran} of {len(events)} events ran (HTTP 200); {outside} are marked queue=False"


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
