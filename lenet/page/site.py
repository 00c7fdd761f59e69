"""The page as a static site: ``python -m lenet site OUT`` writes a folder that any plain file
server can serve (``python -m http.server -d OUT``, a static Hugging Face Space), with no Python
behind it. It holds ``index.html`` (``web/site.html`` with the six tabs of ``lenet.page``), a
copy of ``web/`` (the same modules the Gradio app serves; ``web/site.js`` mounts them) and the
checkpoints with the files beside them (gallery, experiments, neighbours), laid out as in this
repository so that every file keeps the path the page asks for. Nothing here imports torch or gradio.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from html import escape
from pathlib import Path

from lenet.net.files import is_side_file, side_files
from lenet.page.tabs import ROOT, TABS, VIEWS, WEB, tab_html, tab_starts

CHECKPOINTS = ROOT / "checkpoints"
TEMPLATE = WEB / "site.html"
# Written last into every site: how a later build knows that a folder is a site it may replace.
MARK = "site.json"
BUILT_BY = "python -m lenet site"
# The two models every tab needs (lenet.page.tab_starts); the other checkpoints follow by name.
FIRST = ("lenet5", "convnet")


class SiteError(Exception):
    """A site that cannot be written there; the message is one line saying why."""


@dataclass(frozen=True)
class Site:
    """A site as written: its folder, its files (relative, '/'-separated) and their bytes; the
    tabs it shows and those left out because the page does not have them yet."""
    path: Path
    files: tuple[str, ...]
    size: int
    tabs: tuple[str, ...]
    left_out: tuple[str, ...]

    def __str__(self) -> str:
        line = (f"wrote {self.path} ({len(self.files)} files, {self.size / 1e6:.2f} MB): "
                f"tabs {', '.join(self.tabs)}")
        if self.left_out:
            line += f"; left out (not in web/ yet): {', '.join(self.left_out)}"
        return line


# ---------------------------------------------------------------------------- what goes in
def checkpoints(folder: Path = CHECKPOINTS) -> dict[str, Path]:
    """model name -> its checkpoint: every one in ``folder`` (not the files beside them: gallery,
    experiments, neighbours), the two that every tab needs first."""
    found = {p.name.removesuffix(".safetensors"): p for p in sorted(folder.glob("*.safetensors"))
             if not is_side_file(p)}
    missing = [name for name in FIRST if name not in found]
    if missing:
        raise SiteError(f"no checkpoint for {', '.join(missing)} in {folder}: "
                        f"train it (python train.py --model {missing[0]}) or restore the file")
    return {name: found[name] for name in (*FIRST, *sorted(set(found) - set(FIRST)))}


def named(path: Path) -> str:
    """A checkpoint's or gallery's path as the site's page asks for it (shared.js fileUrl with
    the files next to index.html)."""
    return f"checkpoints/{Path(path).name}"


def page_tabs() -> tuple[list[str], list[str]]:
    """The tabs whose HTML and module are in ``web/`` (in page order), and those that are not."""
    have = [tab for tab in TABS if (WEB / f"{tab}_tab.html").is_file() and (WEB / f"{tab}_tab.js").is_file()]
    return have, [tab for tab in TABS if tab not in have]


# ---------------------------------------------------------------------------- index.html
def scoped(css: str, selector: str) -> str:
    """A style sheet written for ``gr.HTML``'s ``css_template`` as Gradio puts it in its page:
    nested inside one rule for the component, so that it reaches nothing else."""
    return f"{selector} {{\n{css}\n}}"


def tab_bar(tabs: list[str]) -> str:
    buttons = [f'<button type="button" role="tab" id="tab-{tab}" data-tab-id="{tab}" '
               f'aria-controls="panel-{tab}" aria-selected="{str(k == 0).lower()}" '
               f'tabindex="{0 if k == 0 else -1}">{escape(TABS[tab])}</button>'
               for k, tab in enumerate(tabs)]
    return "\n    ".join(buttons)


def panels(tabs: list[str], starts: dict[str, dict]) -> str:
    """One panel per tab, the first shown; the tab's HTML inside ``#<tab>-view``, the element
    its module mounts on (the Gradio app's elem_id for the same tab)."""
    return "\n  ".join(
        f'<section role="tabpanel" id="panel-{tab}" aria-labelledby="tab-{tab}" tabindex="0"'
        f'{"" if k == 0 else " hidden"}>\n<div id="{tab}-view">\n{tab_html(tab, starts[tab])}\n'
        f'</div>\n</section>' for k, tab in enumerate(tabs))


def index_html(tabs: list[str], starts: dict[str, dict]) -> str:
    """``web/site.html`` with its places filled: the styles the Gradio app gives its components,
    the Large text toggle, the tab bar and one panel per tab."""
    views = ", ".join(f"#{tab}-view" for tab in tabs if tab in VIEWS)
    places = {
        "<!-- styles -->": "<style>\n" + "\n".join([
            scoped((WEB / "view.css").read_text(), f":is({views})"),
            scoped((WEB / "large_text.css").read_text(), "#large-text")]) + "\n</style>",
        "<!-- large text -->": (WEB / "large_text.html").read_text().strip(),
        "<!-- tab bar -->": tab_bar(tabs),
        "<!-- panels -->": panels(tabs, starts),
    }
    html = TEMPLATE.read_text()
    for place, text in places.items():
        if place not in html:
            raise ValueError(f"{TEMPLATE.name} has no {place}")   # a bug in the template
        html = html.replace(place, text)
    return html


# ---------------------------------------------------------------------------- writing it
def check_out(out: Path) -> None:
    """Refuse to replace anything but an empty folder or an earlier site, or to write the site
    into the folders it copies."""
    for source in (WEB, CHECKPOINTS):
        if out == source or source in out.parents:
            raise SiteError(f"{out} is inside {source.name}/, which the site copies: choose another OUT")
    if not out.exists():
        return
    if not out.is_dir():
        raise SiteError(f"{out} is a file, not a folder: choose another OUT")
    if any(out.iterdir()) and not is_site(out):
        raise SiteError(f"{out} is a folder that {BUILT_BY} did not write: "
                        f"choose a new or empty OUT (nothing was changed)")


def is_site(folder: Path) -> bool:
    try:
        return json.loads((folder / MARK).read_text()).get("built_by") == BUILT_BY
    except (OSError, ValueError, AttributeError):
        return False


def write_files(folder: Path, models: dict[str, Path]) -> tuple[list[str], list[str]]:
    """Every file of the site but the mark, into the empty ``folder``: its paths, and the tabs
    its page shows."""
    tabs, _ = page_tabs()
    starts = tab_starts(models, named)
    if not starts["gallery"]["galleries"] and "gallery" in tabs:   # as the app: no sheet, no tab
        tabs.remove("gallery")
    shutil.copytree(WEB, folder / "web", ignore=shutil.ignore_patterns("__pycache__", ".*"))
    (folder / "checkpoints").mkdir()
    for path in models.values():
        for source in (path, *side_files(path)):
            shutil.copy2(source, folder / named(source))
    (folder / "index.html").write_text(index_html(tabs, starts))
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()), tabs


def build_site(out: str | Path, models: dict[str, Path] | None = None) -> Site:
    """Write the site into ``out``, whole or not at all: it is built in a folder beside ``out``
    and renamed into place, so that ``out`` never holds a half-written site or a mix of two."""
    out = Path(out).resolve()
    check_out(out)
    models = checkpoints() if models is None else models
    out.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        files, tabs = write_files(building, models)
        (building / MARK).write_text(json.dumps({"built_by": BUILT_BY, "files": files}, indent=1))
        replace(out, building)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    files = (*files, MARK)
    return Site(out, files, sum((out / f).stat().st_size for f in files), tuple(tabs), tuple(page_tabs()[1]))


def replace(out: Path, new: Path) -> None:
    """``new`` renamed to ``out``; an earlier site there is moved aside first, then removed."""
    if not out.exists():
        new.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
    out.rename(old / "site")
    new.rename(out)
    shutil.rmtree(old, ignore_errors=True)
