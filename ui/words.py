"""Plain definitions of the concepts the page shows, for someone who has never seen a CNN.
One copy, ``web/words.json``: the live views read it in the browser, the other tabs
through ``define`` here."""
from __future__ import annotations

import json
from pathlib import Path

WORDS: dict[str, list[str]] = json.loads(
    (Path(__file__).resolve().parent.parent / "web" / "words.json").read_text())


def define(*keys: str) -> str:
    """The definitions of ``keys`` as Markdown, one short paragraph each."""
    return "\n\n".join(f"**{WORDS[k][0]}.** {WORDS[k][1]}" for k in keys)
