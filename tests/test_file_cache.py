"""The page's files from memory (ui/file_cache.py): the second plain GET of a static file is
answered without the app, with the same bytes (brotli-compressed where the browser takes it);
everything else still reaches the app."""
from __future__ import annotations

import asyncio
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import brotli
import pytest
from conftest import ROOT

from ui.file_cache import MAX_FILE, FileCache

SCRIPT = b"export const x = 1;\n" * 200


class Files:
    """A stand-in app: answers every request with ``body`` (``status``), counting requests."""

    def __init__(self, body=SCRIPT, status=200, headers=()):
        self.body, self.status, self.headers, self.calls = body, status, list(headers), 0

    async def __call__(self, scope, receive, send):
        self.calls += 1
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(b"content-type", b"text/javascript"), (b"etag", b'"e"'), *self.headers]})
        half = len(self.body) // 2   # in two parts, as a file response sends a large file
        await send({"type": "http.response.body", "body": self.body[:half], "more_body": True})
        await send({"type": "http.response.body", "body": self.body[half:], "more_body": False})


def get(cache, path="/gradio_api/file=web/x.js", method="GET", headers=(), query=b""):
    """One request through ``cache``: (status, headers as a dict, the body as sent)."""
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": method, "path": path, "query_string": query,
             "headers": [(b"accept-encoding", b"gzip, br"), *headers]}
    # In a thread of its own: a browser test before this one may have left its loop running here.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, cache(scope, receive, send)).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


def test_the_second_request_is_answered_from_memory_with_the_same_bytes():
    app = Files()
    cache = FileCache(app)
    assert get(cache)[2] == SCRIPT                      # the first goes to the app
    status, headers, body = get(cache)
    assert app.calls == 1 and status == 200
    assert headers[b"content-encoding"] == b"br" and brotli.decompress(body) == SCRIPT
    assert headers[b"etag"] == b'"e"' and int(headers[b"content-length"]) == len(body)
    status, headers, body = get(cache, headers=[(b"accept-encoding", b"identity")])
    assert body == SCRIPT and b"content-encoding" not in headers and app.calls == 1


def test_a_checkpoint_is_kept_as_it_is():
    weights = bytes(range(256)) * 400
    app = Files(weights)
    cache = FileCache(app)
    get(cache, "/gradio_api/file=checkpoints/lenet5.safetensors")
    _, headers, body = get(cache, "/gradio_api/file=checkpoints/lenet5.safetensors")
    assert app.calls == 1 and body == weights and b"content-encoding" not in headers


@pytest.mark.parametrize("request_", [
    dict(path="/gradio_api/file=/tmp/upload.png"),         # not the page's own files
    dict(path="/gradio_api/queue/join", method="POST"),
    dict(headers=[(b"range", b"bytes=0-9")]),
    dict(headers=[(b"if-none-match", b'"e"')]),
    dict(query=b"v=2"),
    dict(path="/gradio_api/file=web/../app.py"),
], ids=["other path", "post", "range", "conditional", "query", "dot-dot"])
def test_everything_else_reaches_the_app_every_time(request_):
    app = Files()
    cache = FileCache(app)
    get(cache, **request_)
    get(cache, **request_)
    assert app.calls == 2 and not cache.files


@pytest.mark.parametrize("app", [Files(status=404), Files(body=b"x" * (MAX_FILE + 1)),
                                 Files(headers=[(b"content-encoding", b"gzip")])],
                         ids=["not found", "too large", "already encoded"])
def test_what_is_not_a_whole_plain_200_is_not_kept(app):
    cache = FileCache(app)
    get(cache)
    get(cache)
    assert app.calls == 2 and not cache.files


def test_the_app_serves_its_modules_from_memory_byte_for_byte(app_url):
    for _ in range(2):   # the first read fills the cache; the second comes from it
        request = urllib.request.Request(f"{app_url}gradio_api/file=web/engine.js",
                                         headers={"Accept-Encoding": "br"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body, encoding = response.read(), response.headers.get("Content-Encoding")
        assert encoding == "br"
        assert brotli.decompress(body) == (ROOT / "web" / "engine.js").read_bytes()


def test_an_idle_connection_is_still_open_for_the_next_file(app_url):
    """A browser busy with its other requests leaves a connection idle for seconds; uvicorn's
    own 5 s would close it under the browser (benchmarks/lecture_hall.py saw this)."""
    import http.client
    import time
    from urllib.parse import urlsplit
    address = urlsplit(app_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    for wait in (0, 6):
        time.sleep(wait)
        connection.request("GET", "/gradio_api/file=web/engine.js")
        response = connection.getresponse()
        assert response.status == 200 and response.read()
    connection.close()
