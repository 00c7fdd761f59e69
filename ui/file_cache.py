"""The page's files from memory: the app's own static files (Gradio's ``/assets/`` and
``/static/``, and the page's ``web/`` modules and checkpoints under ``/gradio_api/file=``) do
not change while it serves, so each is read, and compressed, once.

Gradio answers each of these requests through its file route and compresses text with brotli
on every response; a lecture hall opening the page at once asks for the same ~90 files 300
times (benchmarks/lecture_hall.py). ``FileCache`` keeps the first whole 200 answer to a plain
GET of such a path and answers the next ones itself, brotli-compressed once where the browser
takes it. Anything else (other paths, conditional or partial requests, other answers) goes to
the app as before. A file replaced on disk is served as it was until the app restarts.
"""
from __future__ import annotations

import brotli

CACHED = ("/assets/", "/static/", "/gradio_api/file=web/", "/gradio_api/file=checkpoints/")
COMPRESSED = (".html", ".js", ".css", ".json", ".svg", ".txt")   # as Gradio's brotli picks
QUALITY = 5          # brotli: about gzip -9's size, once per file
MAX_FILE = 8 * 2**20       # bytes: a larger answer is not kept (the checkpoints are ~1 MB)
MAX_TOTAL = 64 * 2**20     # bytes kept in all, plain and compressed
CONDITIONAL = (b"range", b"if-none-match", b"if-modified-since", b"if-range")
KEPT_HEADERS = (b"content-type", b"etag", b"last-modified", b"cache-control")


class FileCache:
    """ASGI middleware; pass it to the app Gradio makes, as ``ui.limits.BoundedBodies``."""

    def __init__(self, app):
        self.app = app
        self.files: dict[str, tuple[list, bytes, bytes | None]] = {}   # path -> headers, bodies
        self.kept = 0

    async def __call__(self, scope, receive, send):
        key = self._key(scope)
        if key is None:
            return await self.app(scope, receive, send)
        if key not in self.files:
            return await self._fetch(key, scope, receive, send)
        headers, plain, packed = self.files[key]
        accepts = b"br" in dict(scope["headers"]).get(b"accept-encoding", b"")
        body = packed if accepts and packed is not None else plain
        extra = [(b"content-encoding", b"br"), (b"vary", b"Accept-Encoding")] if body is packed else []
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*headers, *extra, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _key(scope) -> str | None:
        """The path of a plain GET of a cached kind, or None."""
        if scope["type"] != "http" or scope["method"] != "GET":
            return None
        path = scope["path"]
        if not path.startswith(CACHED) or ".." in path or scope.get("query_string"):
            return None
        if any(name in CONDITIONAL for name, _ in scope["headers"]):
            return None
        return path

    async def _fetch(self, key: str, scope, receive, send):
        """Pass the request on; keep a whole 200 answer small enough to keep."""
        start, chunks, whole = None, [], True

        async def keeping(message):
            nonlocal start, whole
            if message["type"] == "http.response.start":
                # A copy: the brotli middleware outside adds its encoding to the same list.
                start = {**message, "headers": list(message["headers"])}
            elif message["type"] == "http.response.body" and whole:
                chunks.append(message.get("body", b""))
                whole = sum(map(len, chunks)) <= MAX_FILE
            await send(message)

        await self.app(scope, receive, keeping)
        if start is None or start["status"] != 200 or not whole:
            return
        if any(name == b"content-encoding" for name, _ in start["headers"]):
            return      # already encoded by the route: not ours to keep
        plain = b"".join(chunks)
        packed = brotli.compress(plain, quality=QUALITY) if key.endswith(COMPRESSED) else None
        size = len(plain) + len(packed or b"")
        if self.kept + size > MAX_TOTAL:
            return
        headers = [(name, value) for name, value in start["headers"] if name in KEPT_HEADERS]
        if key not in self.files:   # two first requests at once: the first to finish is kept
            self.files[key] = (headers, plain, packed)
            self.kept += size
