"""What one request may bring: its body is bounded before the app reads it.

Gradio bounds the files sent to ``/gradio_api/upload`` (``max_file_size``) but not the JSON of
an event: a drawing's data URL, or anything in its place, arrives whole in the body of
``/gradio_api/queue/join`` (or ``/gradio_api/call/...``), is parsed and then kept as the
event's input. ``BoundedBodies`` answers 413 to a body over its route's limit, from its
Content-Length before a byte is read, or as soon as a body sent in chunks passes the limit.
"""
from __future__ import annotations

import json

UPLOAD_ROUTE = "/upload"   # Gradio's file uploads (multipart), bounded by ``upload_limit``


class BoundedBodies:
    """ASGI middleware: request bodies at most ``limit`` bytes, ``upload_limit`` for uploads.

    Pass it to the app Gradio makes: ``demo.launch(app_kwargs={"middleware":
    [starlette.middleware.Middleware(BoundedBodies, limit=..., upload_limit=...)]})``.
    """

    def __init__(self, app, limit: int, upload_limit: int):
        self.app, self.limit, self.upload_limit = app, limit, upload_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.upload_limit if scope["path"].endswith(UPLOAD_ROUTE) else self.limit
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await refuse(send, limit)
        seen, started, refused = 0, False, False

        async def bounded_receive():
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit and not refused:
                    refused = True
                    if not started:
                        await refuse(send, limit)
                    return {"type": "http.disconnect"}   # the app reads no further
            return message

        async def watched_send(message):
            nonlocal started
            if refused:
                return              # the 413 was the answer; the app's own is dropped
            started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, watched_send)
        except Exception:
            if not refused:
                raise               # the app's error; a refused body's disconnect is not one


async def refuse(send, limit: int) -> None:
    """413 with a one-line reason, as FastAPI words its errors. The connection is closed
    after it: kept open, the server would read the rest of the body only to drop it."""
    body = json.dumps({"detail": f"the request is larger than {limit / 2**20:g} MB, "
                                 f"the most this server takes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
