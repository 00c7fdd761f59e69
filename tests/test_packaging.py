"""pyproject.toml is the one list of dependencies: requirements.txt is written from it, the
Space's card runs the pinned Gradio, and every third-party module the code imports is
declared where the code that imports it is installed."""
from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from tools import requirements

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]
SELF = "how-a-cnn-sees"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def name_of(requirement: str) -> str:
    return canonical(re.match(r"[A-Za-z0-9._-]+", requirement)[0])


def declared(*extras: str) -> set[str]:
    """The distributions `pip install .[extras]` asks for, this project's own extras followed."""
    names, todo = set(), [PROJECT["dependencies"], *(EXTRAS[e] for e in extras)]
    while todo:
        for req in todo.pop():
            if name_of(req) == SELF:
                todo += [EXTRAS[e.strip()] for e in re.search(r"\[(.*)\]", req)[1].split(",")]
            else:
                names.add(name_of(req))
    return names


def files(*patterns: str) -> list[Path]:
    return [p for pattern in patterns for p in sorted(ROOT.glob(pattern))]


EVERY_FILE = files("*.py", "ui/*.py", "lenet/**/*.py", "benchmarks/*.py", "tests/*.py", "tools/*.py")
# Top-level scripts and the helpers that pytest's pythonpath (., tests, benchmarks) makes importable.
LOCAL = {p.stem for p in EVERY_FILE} | {"lenet", "ui", "tools"} | set(sys.stdlib_module_names)


def third_party_imports(paths: list[Path]) -> set[str]:
    modules = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level:
                modules.add(node.module.split(".")[0])
    return modules - LOCAL


@functools.cache
def installed() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()   # top-level module -> distributions


def distributions(module: str) -> set[str]:
    """The installed distributions that provide a top-level module (PIL -> pillow); a module not
    installed here is taken to be its own distribution's name."""
    found = installed().get(module, [module])
    return {canonical(d) for d in found}


def undeclared(paths: list[Path], allowed: set[str]) -> dict[str, set[str]]:
    return {m: distributions(m) for m in sorted(third_party_imports(paths))
            if not distributions(m) & allowed}


def test_requirements_txt_is_written_from_pyproject():
    assert (ROOT / "requirements.txt").read_text() == requirements.render(), \
        "requirements.txt is out of date: run python tools/requirements.py"


def test_the_space_card_runs_the_pinned_gradio():
    card = (ROOT / "README.md").read_text().split("---\n")[1]  # the front matter
    sdk = re.search(r"^sdk_version:\s*(\S+)\s*$", card, re.M)[1]
    pins = [r for r in EXTRAS["app"] if name_of(r) == "gradio"]
    assert pins == [f"gradio=={sdk}"]


def test_the_engine_and_train_py_need_only_the_dependencies():
    assert undeclared(files("lenet/**/*.py", "train.py"), declared()) == {}


def test_the_app_needs_only_the_app_extra():
    """What requirements.txt installs on the Space is enough to import app.py and ui/."""
    assert undeclared(files("app.py", "ui/*.py"), declared("app")) == {}


def test_deploy_py_needs_only_the_deploy_extra():
    assert undeclared(files("deploy.py"), declared("deploy")) == {}


def test_the_dev_extra_covers_every_import_and_every_ci_tool():
    dev = declared("dev")
    assert undeclared(EVERY_FILE, dev) == {}
    assert declared("app") | declared("deploy") <= dev
    # The modules .ci/run runs with `python -m` (pytest, ruff), pip aside.
    run_modules = set(re.findall(r"python -m (\w+)", (ROOT / ".ci" / "run").read_text())) - {"pip"}
    assert run_modules and {canonical(m) for m in run_modules} <= dev


def test_the_check_can_fail():
    """An import that nothing declares is reported, with its distribution's name."""
    assert third_party_imports(files("deploy.py")) == {"huggingface_hub"}
    assert undeclared(files("deploy.py"), declared()) == {"huggingface_hub": {"huggingface-hub"}}
    assert undeclared(files("lenet/net/models.py"), set()) == {"torch": {"torch"}}
