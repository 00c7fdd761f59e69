"""``python -m lenet site OUT``: a folder that a plain file server serves as the whole page, with
every file the page asks for, every tab, the Gradio app's title and intro, and no Python; an
OUT that is not an earlier site is refused in one line and left as it was."""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lenet.page import TABS, gallery_path
from lenet.page.site import MARK, SiteError, build_site

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
# The JavaScript types a browser accepts for a module script (the HTML standard's list, short).
JS_TYPES = ("text/javascript", "application/javascript")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("site") / "out")


class Page(HTMLParser):
    """index.html read as a browser would: each element's attributes, and the text inside
    #page-title."""

    def __init__(self, html: str):
        super().__init__()
        self.elements, self.title_depth, self.title = [], 0, []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if self.title_depth or attrs.get("id") == "page-title":
            self.title_depth += 1

    def handle_endtag(self, tag):
        if self.title_depth:
            self.title_depth -= 1

    def handle_data(self, data):
        if self.title_depth:
            self.title.append(data)

    def having(self, **wanted) -> list[dict]:
        return [a for _, a in self.elements if all(a.get(k) == v for k, v in wanted.items())]


def landed(tab: str) -> bool:
    return (WEB / f"{tab}_tab.js").is_file() and (WEB / f"{tab}_tab.html").is_file()


def paths_in(start) -> list[str]:
    """Every "path" in a tab's data-start, however deep."""
    if isinstance(start, dict):
        return [v for k, v in start.items() if k == "path"] + [p for v in start.values() for p in paths_in(v)]
    if isinstance(start, list):
        return [p for v in start for p in paths_in(v)]
    return []


# ---------------------------------------------------------------------------- what is in it
def test_the_site_holds_the_page_its_modules_and_every_checkpoint(site):
    files = set(site.files)
    assert {"index.html", MARK} <= files
    web = {f"web/{p.name}" for p in WEB.iterdir() if p.is_file()}
    assert sorted(web - files) == []
    for checkpoint in (ROOT / "checkpoints").glob("*.safetensors"):
        assert f"checkpoints/{checkpoint.name}" in files
    assert f"checkpoints/{gallery_path('lenet5.safetensors').name}" in files
    for name in files - {"index.html", MARK}:   # byte for byte the repository's
        assert (site.path / name).read_bytes() == (ROOT / name).read_bytes(), name
    assert site.size == sum((site.path / f).stat().st_size for f in files)


def test_every_file_a_tab_loads_and_every_module_imported_is_in_the_site(site):
    page = Page((site.path / "index.html").read_text())
    starts = [json.loads(a["data-start"]) for a in page.having() if "data-start" in a]
    assert len(starts) == len(site.tabs)
    wanted = {f"web/{s['module']}" for s in starts} | {p for s in starts for p in paths_in(s)}
    assert any(p.startswith("checkpoints/") for p in wanted)
    # The modules those import, followed through every static import.
    todo = [p for p in wanted if p.endswith(".js")] + ["web/site.js"]
    while todo:
        for imported in re.findall(r"^import[^;]*?from\s+\"\./([\w.]+)\"", (WEB / Path(todo.pop()).name)
                                   .read_text(), re.M):
            if f"web/{imported}" not in wanted:
                wanted.add(f"web/{imported}")
                todo.append(f"web/{imported}")
    assert sorted(p for p in wanted if not (site.path / p).is_file()) == []


@pytest.mark.parametrize("tab", list(TABS))
def test_index_html_has_a_tab_button_and_a_panel_for_every_tab(site, tab):
    if not landed(tab):
        pytest.skip(f"waits for the {tab} tab in the page (web/{tab}_tab.js)")
    page = Page((site.path / "index.html").read_text())
    [button] = page.having(role="tab", **{"data-tab-id": tab})
    [panel] = page.having(role="tabpanel", id=button["aria-controls"])
    assert panel["aria-labelledby"] == button["id"]
    html = (site.path / "index.html").read_text()
    assert f">{TABS[tab]}</button>" in html
    # The view the tab's module mounts on, as in the app (elem_id "<tab>-view"), then its HTML
    # with what it loads.
    view = html.index(f'<div id="{tab}-view">')
    start = json.loads(Page(html[view:]).having()[1]["data-start"])
    assert start["module"] == f"{tab}_tab.js"


def test_the_tabs_are_in_the_apps_order_and_only_the_first_is_shown(site):
    page = Page((site.path / "index.html").read_text())
    buttons = page.having(role="tab")
    assert [b["data-tab-id"] for b in buttons] == [t for t in TABS if t in site.tabs]
    assert [b["aria-selected"] for b in buttons] == ["true"] + ["false"] * (len(buttons) - 1)
    assert ["hidden" in p for p in page.having(role="tabpanel")] == [False] + [True] * (len(buttons) - 1)


def apps_header() -> str:
    """The Markdown of app.py's gr.Markdown whose elem_id is "page-title"."""
    for node in ast.walk(ast.parse((ROOT / "app.py").read_text())):
        named = {k.arg: k.value for k in getattr(node, "keywords", [])}
        if isinstance(node, ast.Call) and getattr(named.get("elem_id"), "value", None) == "page-title":
            return node.args[0].value
    raise AssertionError("app.py has no page title")


def test_the_title_and_intro_are_the_apps(site):
    header = apps_header()
    words = lambda text: " ".join(re.sub(r"[#*]", "", text).split())   # noqa: E731
    page = Page((site.path / "index.html").read_text())
    assert words("".join(page.title)) == words(header)
    assert "<title>How a CNN sees</title>" in (site.path / "index.html").read_text()


# ---------------------------------------------------------------------------- no Python
def test_the_site_needs_no_python(site):
    assert [f for f in site.files if f.endswith((".py", ".pyc"))] == []
    html = (site.path / "index.html").read_text()
    assert "gradio_api" not in html and "gradio_api" not in (WEB / "site.js").read_text()


def test_a_plain_file_server_serves_every_file_with_a_type_a_browser_runs(site_url, tmp_path):
    # site_url: the same build served by `python -m http.server` (tests/conftest.py).
    with urllib.request.urlopen(site_url) as response:
        assert response.status == 200 and "text/html" in response.headers["Content-Type"]
    marked = json.loads(urllib.request.urlopen(site_url + MARK).read())
    for name in marked["files"]:
        with urllib.request.urlopen(site_url + name) as response:
            assert response.status == 200, name
            kind = response.headers["Content-Type"]
            if name.endswith(".js"):
                assert kind.startswith(JS_TYPES), (name, kind)
            if name.endswith(".css"):
                assert kind.startswith("text/css"), (name, kind)


# ---------------------------------------------------------------------------- where it is written
def test_an_earlier_site_is_replaced_whole_and_nothing_is_left_beside_it(tmp_path):
    out = tmp_path / "out"
    build_site(out)
    (out / "stale.txt").write_text("from an earlier build")
    again = build_site(out)
    assert not (out / "stale.txt").exists() and (out / "index.html").is_file()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(again.files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("kind", ["a folder of other files", "a file"])
def test_an_out_that_is_not_a_site_is_refused_and_left_as_it_was(tmp_path, kind):
    out = tmp_path / "out"
    if kind == "a file":
        out.write_text("mine")
    else:
        out.mkdir()
        (out / "index.html").write_text("mine")
    with pytest.raises(SiteError) as info:
        build_site(out)
    assert "\n" not in str(info.value)
    assert (out.read_text() if kind == "a file" else (out / "index.html").read_text()) == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]   # no half-built site beside it


def test_an_out_inside_the_folders_the_site_copies_is_refused():
    for inside in (WEB / "site-out", ROOT / "checkpoints" / "site-out"):
        with pytest.raises(SiteError, match="which the site copies"):
            build_site(inside)
        assert not inside.exists()


def test_cli_writes_the_site_and_says_its_size_and_refuses_a_folder_it_did_not_write(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "lenet", "site", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert f"{size / 1e6:.2f} MB" in done.stdout and (out / "index.html").is_file()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    done = subprocess.run([sys.executable, "-m", "lenet", "site", str(mine)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: ")
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
