"""A static page for testing the page's own JavaScript modules (``web/``) in Chromium:
the repository root served on a free port by the standard library, no Gradio in between.

    def test_something(js_page):
        name = js_page.evaluate("async () => (await (await import('/web/engine.js'))"
                                ".loadNetwork('/checkpoints/lenet5.safetensors')).name")
"""
from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class _Quiet(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".safetensors": "application/octet-stream"}

    def log_message(self, *args):  # keep pytest's output clean
        pass


def serve_root() -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve the repository root on 127.0.0.1 in a daemon thread; (server, base URL)."""
    handler = functools.partial(_Quiet, directory=str(ROOT))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
