"""How the tabs' events run: the queue lanes, the guard that turns errors into one-line
messages, and results by name.

A handler returns a small dataclass (a ``Result``), one field per thing it updates; the tab
keeps the components that show those things in a ``Shows``, keyed by the same names, and
Gradio receives {component: value}. Tests read results by name, and adding a field never
shifts another. Inputs go by name too, through Gradio's ``inputs_kwargs``.
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
    """Event settings for a queue lane: at most two of its handlers at once (the Space has 2
    vCPUs), only the latest of a burst of triggers, no progress overlay."""
    return dict(show_progress="hidden", trigger_mode="always_last", concurrency_id=name,
                concurrency_limit=2)


# The quick label has its own lane so that it never waits behind the slower pictures.
QUICK, SLOW = lane("label"), lane("pictures")
# Instant page updates (showing a control, emptying a box) go through the queue too, on a
# lane of their own: an event outside the queue can be called outside it, as often as anyone
# likes (/gradio_api/run/predict with its fn_index).
INSTANT = lane("instant")


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
    into a log entry and a polite toast; the page never shows a traceback. ``failed(message)``
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


class Shows(dict):
    """The components that show a ``Result``, by its field names. A field holding a dict (one
    value per layer) fills the components named "field.key"; None empties them all.

        shows = Shows(status=markdown, seen=image)
        button.click(shows.updates_of(handler), inputs_kwargs=..., outputs=shows.components)
    """

    @property
    def components(self) -> list:
        return list(self.values())

    def updates(self, result: Result) -> dict:
        """``result`` as Gradio's {component: value}."""
        out = {}
        for f in fields(result):
            value = getattr(result, f.name)
            if f.name in self:
                out[self[f.name]] = value
                continue
            prefix = f"{f.name}."
            parts = {name[len(prefix):]: c for name, c in self.items() if name.startswith(prefix)}
            if not parts:
                raise KeyError(f"no component shows {type(result).__name__}.{f.name}")
            for key, component in parts.items():
                out[component] = None if value is None else value[key]
        return out

    def updates_of(self, handler: Callable[..., Result]) -> Callable[..., dict]:
        """``handler`` returning {component: value}, with its own signature (the API's
        parameter names)."""
        @functools.wraps(handler)
        def run(*args, **kwargs):
            return self.updates(handler(*args, **kwargs))
        return run
