"""How the Python handlers run: the queue lanes of the API's endpoints, the guard that turns
errors into one-line messages, and results by name.

Every tab computes in the page, so no component of it starts an event any more: the handlers
serve the API (``gr.api``, ui/api.py) and are the reference the page's tests compare with. A
handler returns a small dataclass (a ``Result``), one field per thing it answers; tests read
results by name, and adding a field never shifts another.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, fields
from typing import Any, Callable

import gradio as gr

from lenet.inputs.images import InputError

log = logging.getLogger("app")

SOMETHING_WRONG = "Something went wrong with this input; please try another one."


def lane(name: str) -> dict:
    """A queue lane's settings, as ``gr.api`` takes them: at most two of its calls at once
    (the Space has 2 vCPUs)."""
    return dict(concurrency_id=name, concurrency_limit=2)


# The quick label has its own lane so that it never waits behind the slower pictures.
QUICK, SLOW = lane("label"), lane("pictures")


@dataclass
class Result:
    """A handler's result: one field per output, every field with a default, so that
    ``failed`` can say what the outputs show when the input cannot be used."""

    @classmethod
    def failed(cls, message: str | None):
        """The result for an input that failed: ``message`` in the ``status`` field when the
        result has one (None: the event's other step has said it already), the rest empty."""
        if message is not None and "status" in {f.name for f in fields(cls)}:
            return cls(status=message)
        return cls()


def guarded(failed: Callable[[str | None], Any], warn: bool):
    """Turn a user's bad input into a one-line message (and a toast when ``warn``), and a bug
    into a log entry and a polite toast; no caller sees a traceback. ``failed(message)``
    is the result then (``Result.failed`` of the handler's result type); ``message`` is None
    without ``warn``."""
    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(*args, **kwargs):
            try:
                return handler(*args, **kwargs)
            except InputError as exc:
                if not warn:  # the label step of the same event has said it already
                    return failed(None)
                gr.Warning(str(exc))
                return failed(f"⚠️ {exc}")
            except Exception:
                log.exception("handler %s failed", handler.__name__)
                gr.Warning(SOMETHING_WRONG)
                return failed(f"⚠️ {SOMETHING_WRONG}" if warn else None)
        return wrapper
    return decorate
