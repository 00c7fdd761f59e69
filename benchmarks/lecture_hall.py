"""A lecture hall opening the page at once: what Chromium fetches to load the page until the
draw view is ready, replayed for many visitors against the app and, in the same run, against
a plain static file server holding the same bytes.

1. Record: ``python app.py`` is started and Chromium opens its page; every request it sends
   until the draw view is ready is kept (method, URL, the browser's Accept-Encoding, a POST's
   body) with its response's status and bytes, and counted: queue events started by loading
   the page are the POSTs to ``/gradio_api/queue/join``.
2. The bytes are saved under the paths they came from and served by a threaded
   ``http.server`` (HTTP/1.1, keep-alive) in a process of its own, as the app has.
3. Replay: 300 visitors, 50 at a time, each one a fresh client with six connections, as a
   browser opens to one host: the page first, then the rest in the browser's order. A request
   fails when it raises, times out or answers with another status or other bytes than the
   browser got. Streams are the app's own (Gradio's heartbeat, a queue event's results): the
   replay opens the heartbeat and reads a queue event's stream to its end; the static server
   has none, nor any POST, so its visitors fetch the files only.

Prints page loads per second, p50/p95 seconds per page load, failed requests and the CPU the
server used per load for both, and the ratio app/static, beside the targets: 0 failed
requests, the app at >= 0.5x the static server's loads per second, no queue event started by
loading the page. The clients run here too, in one process: on two cores they take about as
much CPU as the app, so the static server's figure is bounded by them (its own CPU per load
says by how much).

    python benchmarks/lecture_hall.py [--visitors 300] [--at-once 50] [--app-dir OTHER_CHECKOUT]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from browser import ROOT, free_port, launch, start_app, stop_app
from timing import cpu_seconds

READY = "#draw-view [data-ready=true], #draw-view[data-ready=true]"
CONNECTIONS = 6       # a browser's connections to one host over HTTP/1.1
TIMEOUT_S = 120       # a request slower than this counts as failed
QUEUE_JOIN = "/gradio_api/queue/join"
HEARTBEAT = "/gradio_api/heartbeat/"
# Gradio's session hash: in the heartbeat's URL, in a queue event's body and stream's URL.
SESSION = re.compile(r"/gradio_api/heartbeat/([A-Za-z0-9]+)")
LOAD_TARGET, RATIO_TARGET = 0, 0.5


@dataclass
class Fetch:
    """One request the browser sent while the page loaded, and what came back."""
    method: str
    target: str                 # path and query, as sent
    encoding: str               # the browser's Accept-Encoding
    body: bytes | None          # a POST's body
    status: int
    stream: bool                # an event stream (no bytes kept: it is the app's own)
    content: bytes = b""


@dataclass
class Replay:
    """One server's page loads: seconds per load, failed requests, the wall clock, and the
    CPU seconds the server and the replaying clients used (they share the machine)."""
    name: str
    loads: list[float] = field(default_factory=list)
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    wall: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.loads) / self.wall


# ---------------------------------------------------------------------------- recording

def record(url: str) -> list[Fetch]:
    """Everything Chromium fetches from ``url``'s host until the draw view is ready."""
    from playwright.sync_api import sync_playwright
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        sent = []
        page.on("request", lambda r: sent.append(r) if r.url.startswith(origin) else None)
        page.goto(url)
        page.locator(READY).first.wait_for(state="attached", timeout=60000)
        fetches = [fetched(request) for request in sent]
        browser.close()
    return [f for f in fetches if f is not None]


def fetched(request) -> Fetch | None:
    """The request and its response (None for a request that got none: cancelled)."""
    response = request.response()   # waits for its headers
    if response is None:
        return None
    headers = response.all_headers()
    stream = headers.get("content-type", "").startswith("text/event-stream")
    split = urlsplit(request.url)
    return Fetch(request.method, split.path + (f"?{split.query}" if split.query else ""),
                 request.all_headers().get("accept-encoding", "identity"),
                 request.post_data_buffer, response.status, stream,
                 b"" if stream else response.body())


def write_recording(fetches: list[Fetch], path: Path) -> None:
    """One JSON line per request: method, path, status, bytes received, a POST's body."""
    with path.open("w") as out:
        for f in fetches:
            out.write(json.dumps({"method": f.method, "target": f.target, "status": f.status,
                                  "stream": f.stream, "bytes": len(f.content),
                                  "body": None if f.body is None else f.body.decode()}) + "\n")


def session_of(fetches: list[Fetch]) -> str | None:
    for f in fetches:
        found = SESSION.match(f.target)
        if found:
            return found.group(1)
    return None


def save(fetches: list[Fetch], folder: Path) -> None:
    """Each file's bytes under its path ("/" as index.html; the query dropped, as a static
    server drops it): what ``python -m http.server`` serves back at the same URLs."""
    seen = {}
    for f in fetches:
        if f.method != "GET" or f.stream:
            continue
        path = urlsplit(f.target).path
        relative = "index.html" if path == "/" else path.lstrip("/")
        if seen.setdefault(relative, f.content) != f.content:
            raise SystemExit(f"two responses for {relative} differ only by their query")
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(f.content)


# ---------------------------------------------------------------------------- static server

class KeepAlive(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep connections open, as the app's server does

    def log_message(self, *args):
        pass


def serve_static(folder: str, port: int) -> None:
    handler = partial(KeepAlive, directory=folder)
    ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()


def start_static(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(folder), "--port", str(port)])
    url = f"http://127.0.0.1:{port}/"
    import urllib.request
    for _ in range(200):
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                response.read()
            return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the static server did not start")


# ---------------------------------------------------------------------------- replay

async def request(client, f: Fetch, session: str | None, mine: str) -> str | None:
    """Send ``f`` as a visitor whose session hash is ``mine``; None, or why it failed."""
    swap = (lambda text: text.replace(session, mine)) if session else (lambda text: text)
    body = swap(f.body.decode()).encode() if f.body is not None else None
    headers = {"accept-encoding": f.encoding}
    if body is not None:
        headers["content-type"] = "application/json"
    try:
        async with client.stream(f.method, swap(f.target), content=body, headers=headers) as r:
            if r.status_code != f.status:
                return f"{f.method} {f.target}: status {r.status_code}, not {f.status}"
            if f.method != "GET":
                await r.aread()  # a POST's answer names its own event: only its status is checked
                return None
            if not f.stream:
                content = await r.aread()
                return None if content == f.content else f"{f.method} {f.target}: other bytes"
            if HEARTBEAT in f.target:
                return None      # open: the heartbeat stays open as long as the page
            return await completed(r, f)
    except Exception as exc:  # a timeout or a refused connection: a failed request
        return f"{f.method} {f.target}: {type(exc).__name__}"


async def completed(response, f: Fetch) -> str | None:
    """Read a queue event's stream to its end: None when its event completed, else why not."""
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue
        message = json.loads(line[len("data:"):])
        if message.get("msg") == "process_completed" and not message.get("success"):
            return f"{f.method} {f.target}: the event failed"
        if message.get("msg") in ("close_stream", "unexpected_error"):
            return None if message["msg"] == "close_stream" else f"{f.target}: {message}"
    return f"{f.method} {f.target}: the stream ended before its event completed"


async def visit(base: str, fetches: list[Fetch], session: str | None, out: Replay) -> None:
    """One visitor's page load: the page, then the rest, ``CONNECTIONS`` at a time."""
    import httpx
    mine = secrets.token_hex(16)[:len(session)] if session else ""
    limits = httpx.Limits(max_connections=CONNECTIONS)
    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=TIMEOUT_S) as client:
        first, *rest = fetches
        results = [await request(client, first, session, mine)]
        pending, posts = iter(rest), []

        async def connection():
            # As the page does: what follows a POST waits for its answer (a queue event's
            # stream for its join).
            for f in pending:
                before = list(posts)
                if f.method != "GET":
                    posts.append(asyncio.Event())
                for answered in before:
                    await answered.wait()
                results.append(await request(client, f, session, mine))
                if f.method != "GET":
                    posts[len(before)].set()
        await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    out.loads.append(time.perf_counter() - start)
    out.requests += len(results)
    out.failures += [r for r in results if r is not None]


async def hall(name: str, server: int, base: str, fetches: list[Fetch], session: str | None,
               visitors: int, at_once: int) -> Replay:
    """``visitors`` page loads, ``at_once`` at a time, from the server ``base`` whose process
    is ``server``."""
    out, gate = Replay(name), asyncio.Semaphore(at_once)

    async def one():
        async with gate:
            await visit(base, fetches, session, out)
    start, cpu, server_cpu = time.perf_counter(), time.process_time(), cpu_seconds(server)
    await asyncio.gather(*(one() for _ in range(visitors)))
    out.wall, out.client_cpu = time.perf_counter() - start, time.process_time() - cpu
    out.server_cpu = cpu_seconds(server) - server_cpu
    return out


def settle(pid: int, idle_cpu: float = 0.05, window: float = 0.5, limit: float = 60) -> None:
    """Wait until process ``pid`` is idle (the app's warm-up done): under ``idle_cpu`` CPU
    seconds in ``window`` seconds, or ``limit`` seconds have passed."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        before = cpu_seconds(pid)
        time.sleep(window)
        if cpu_seconds(pid) - before < idle_cpu:
            return


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def report(r: Replay, per_load: int) -> None:
    print(f"{r.name:<14} {r.per_second:6.2f} loads/s   p50 {statistics.median(r.loads):6.2f} s   "
          f"p95 {percentile(r.loads, 0.95):6.2f} s   failed {len(r.failures)} of {r.requests} "
          f"requests ({per_load} per load)")
    print(f"{'':<14} the server used {1000 * r.server_cpu / len(r.loads):.0f} ms CPU per load; "
          f"the clients {r.client_cpu:.1f} CPU s in {r.wall:.1f} s")
    for reason in sorted(set(r.failures))[:5]:
        print(f"    {r.failures.count(reason)} x {reason}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--visitors", type=int, default=300, help="page loads in all (default 300)")
    p.add_argument("--at-once", type=int, default=50, help="visitors at a time (default 50)")
    p.add_argument("--app-dir", type=Path, default=ROOT,
                   help="the checkout whose app.py is started (default: this one)")
    p.add_argument("--recording", type=Path,
                   help="also write what the browser fetched to this file (JSON lines)")
    p.add_argument("--serve", help=argparse.SUPPRESS)   # run as the static server
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        return serve_static(args.serve, args.port)

    app_dir = args.app_dir.resolve()
    port = free_port()
    app, _ = start_app(port, script=str(app_dir / "app.py"), cwd=app_dir)
    app_url, static = f"http://127.0.0.1:{port}/", None
    try:
        fetches = record(app_url)
        if args.recording:
            write_recording(fetches, args.recording)
        session = session_of(fetches)
        joins = sum(f.method == "POST" and f.target.startswith(QUEUE_JOIN) for f in fetches)
        files = [f for f in fetches if f.method == "GET" and not f.stream]
        with tempfile.TemporaryDirectory(prefix="lecture-hall-") as folder:
            save(fetches, Path(folder))
            static, static_url = start_static(Path(folder))
            settle(app.pid)
            print(f"one page load of {app_dir}/app.py: {len(fetches)} requests "
                  f"({sum(f.method == 'POST' for f in fetches)} POST, "
                  f"{sum(f.stream for f in fetches)} streams), "
                  f"{sum(len(f.content) for f in files) / 1e6:.2f} MB of files; "
                  f"queue events started by loading the page: {joins}")
            print(f"{args.visitors} visitors, {args.at_once} at a time, {CONNECTIONS} connections "
                  f"each")
            on_app = asyncio.run(hall("app", app.pid, app_url, fetches, session,
                                      args.visitors, args.at_once))
            on_static = asyncio.run(hall("static server", static.pid, static_url, files, None,
                                         args.visitors, args.at_once))
    finally:
        stop_app(app)
        if static is not None:
            stop_app(static)
    report(on_app, len(fetches))
    report(on_static, len(files))
    ratio = on_app.per_second / on_static.per_second
    print(f"app/static: {ratio:.2f}x the loads per second")
    met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    print(f"targets: 0 failed requests {met(not on_app.failures and not on_static.failures)}; "
          f"app >= {RATIO_TARGET}x static {met(ratio >= RATIO_TARGET)}; "
          f"no queue event at page load {met(joins == LOAD_TARGET)}")


if __name__ == "__main__":
    main()
