"""The package's folders are its design: imports inside ``lenet`` flow one way (net, inputs,
training, inside, pictures), the engine never imports the page, and pictures never run a
model. Read from the source files, so a new import that breaks the order fails here."""
import ast
from pathlib import Path

import pytest
from conftest import ROOT

# Each package and what it may import from lenet besides itself.
ALLOWED = {
    "net": set(),
    "inputs": set(),
    "training": {"net", "inputs"},
    "inside": {"net", "inputs", "training"},
    "pictures": {"net", "inputs", "training", "inside"},
    "page": {"net"},   # the page as files: read from checkpoints' headers, never run
}
# What running a model looks like from outside it: the model itself and the engine's calls.
RUNS_A_MODEL = {"model", "forward", "predict", "predict_pixels", "logits", "answer",
                "heatmaps", "attributions", "attribution_maps", "layer_outputs"}


def imported(path: Path) -> set[str]:
    """The modules ``path`` imports, as dotted names."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def modules(package: str) -> list[Path]:
    return sorted((ROOT / "lenet" / package).glob("*.py"))


def test_every_module_of_lenet_belongs_to_a_package():
    loose = {p.name for p in (ROOT / "lenet").glob("*.py")}
    assert loose == {"__init__.py", "__main__.py"}
    assert {p.name for p in (ROOT / "lenet").iterdir() if p.is_dir() and p.name != "__pycache__"} \
        == set(ALLOWED)


@pytest.mark.parametrize("package", list(ALLOWED))
def test_imports_flow_one_way(package):
    assert modules(package), package
    for path in modules(package):
        used = {name.split(".")[1] for name in imported(path)
                if name.startswith("lenet.") and name.count(".") >= 1}
        assert used <= ALLOWED[package] | {package}, f"{path.name} imports {used}"
        assert not {name.split(".")[0] for name in imported(path)} & {"gradio", "ui", "app"}


def test_pictures_never_run_a_model():
    for path in modules("pictures"):
        tree = ast.parse(path.read_text())
        called = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        called |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        assert not called & RUNS_A_MODEL, f"{path.name} uses {called & RUNS_A_MODEL}"
