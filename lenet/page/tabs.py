"""The page as files, for both shells: the Gradio app (``app.py``, ``ui/``) and the static site
(``python -m lenet site OUT``). Each tab is ``web/<id>_tab.html`` mounted by its module
``web/<id>_tab.js``; what the module needs (its checkpoints, the gallery files) is written into
the tab's HTML as ``data-start``, JSON. Nothing here imports torch or gradio: the page is
assembled from files and the checkpoints' JSON headers.
"""
from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

from safetensors import safe_open

from lenet.net.files import (
    META_KEY,
    checkpoint_meta,
    experiments_path,
    gallery_path,
    neighbours_path,
    snapshots_path,
)

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
# Every tab by its id (the Gradio tab's id and the static site's data-tab-id), in page order.
TABS = {"draw": "Draw a digit", "photo": "Classify a photo", "gallery": "Test-set gallery",
        "blocks": "Building blocks", "invariance": "Invariance lab", "inside": "Inside the models"}
# The live views, whose parts web/view.css styles; the other tabs link their own style sheet
# (web/<tab>_tab.css), so the app's page does not carry view.css six times over.
VIEWS = ("draw", "photo")


def tab_html(tab: str, start: dict) -> str:
    """``web/<tab>_tab.html`` with the parts the live views share (``view_parts.html``) put
    where it names them (``<!-- why -->`` ...), and ``start`` (the module and what it loads)
    as the first element's ``data-start``."""
    html = (WEB / f"{tab}_tab.html").read_text()
    shared = (WEB / "view_parts.html").read_text()
    for part in re.split(r"<!-- part: ", shared)[1:]:
        key, _, body = part.partition(" -->\n")
        html = html.replace(f"<!-- {key} -->\n", body)
    data = attribute(json.dumps({"module": f"{tab}_tab.js", **start}))
    return re.sub(r"^\s*<([a-z]+)", lambda m: f'<{m.group(1)} data-start="{data}"', html, count=1)


def attribute(text: str) -> str:
    """``text`` safe inside a double-quoted HTML attribute, also of a ``gr.HTML`` template
    (whose own syntax reads ``{{ }}`` and ``${ }``)."""
    return escape(text).replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;")


# ---------------------------------------------------------------------------- what each tab loads
def tab_starts(checkpoints: dict[str, Path], named) -> dict[str, dict]:
    """What each tab's module loads (its ``data-start``), for ``checkpoints`` (model name -> its
    file; the app's two required ones, "lenet5" and "convnet", and any of the variants).
    ``named(path)``: a file's path as the page asks for it (shared.js fileUrl): relative to
    the repository in the app, to the site's folder in the static site. A gallery that is not
    there is left out; the draw and photo tabs' models name their stored experiments,
    neighbours and training snapshots files (``experiments``, ``neighbours``, ``snapshots``),
    null where there is none, and the snapshots' steps (``snapshot_steps``, [] without them);
    each tab lists its own model first, then the others on the same data."""
    models = {}
    for name, path in checkpoints.items():
        meta = checkpoint_meta(path)
        models[name] = {"name": name, "path": named(path), "title": meta["title"],
                        "digits": meta["dataset"] == "mnist"}
    galleries = [{**models[name], "path": named(gallery_path(path)),
                  "tab": "draw" if models[name]["digits"] else "photo"}
                 for name, path in checkpoints.items() if gallery_path(path).is_file()]
    stored = {name: {**models[name], **stored_files(path, named)} for name, path in checkpoints.items()}
    pair = [models["lenet5"], models["convnet"]]
    return {"draw": {"models": first_then_alike(stored, "lenet5")},
            "photo": {"models": first_then_alike(stored, "convnet")},
            "gallery": {"galleries": galleries},
            "blocks": {"models": pair},
            "invariance": {"models": pair},
            "inside": {"models": list(models.values())}}


def first_then_alike(stored: dict[str, dict], first: str) -> list[dict]:
    """Model ``first``, then every other model on the same data (digits or photos), which
    the tab runs beside it on the same input."""
    return [stored[first], *[m for m in stored.values()
                             if m["digits"] == stored[first]["digits"] and m["name"] != first]]


def stored_files(checkpoint: Path, named) -> dict:
    """The files stored beside ``checkpoint`` as the page asks for them, None when absent, and
    the training steps of its snapshots (read from the header alone), so that the page can
    lay out its "watch it learn" slider before it fetches the weights."""
    files = {key: named(path) if path.is_file() else None
             for key, path in (("experiments", experiments_path(checkpoint)),
                               ("neighbours", neighbours_path(checkpoint)),
                               ("snapshots", snapshots_path(checkpoint)))}
    steps = snapshot_steps(snapshots_path(checkpoint)) if files["snapshots"] else []
    return {**files, "snapshot_steps": steps}


def snapshot_steps(path: Path) -> list[int]:
    """The steps a snapshots file holds, in order (lenet.training.snapshots writes them)."""
    with safe_open(str(path), framework="numpy") as f:
        return [int(s["step"]) for s in json.loads((f.metadata() or {})[META_KEY])["snapshots"]]
