"""One set of digit-recipe numbers for Python and the page: web/digit_recipe.json, written by
tools/recipe_constants.py and read by web/pad_recipe.js. The file and the writer are both held
to the constants the Python recipe runs on (lenet.inputs.preprocess, lenet.inputs.pad). That
the page computes with them is tests/test_pad_recipe.py's page-against-Python check."""
import dataclasses
import json

import pytest
from conftest import ROOT

from lenet.inputs import pad, preprocess
from tools import recipe_constants

PAGE_FILE = ROOT / "web" / "digit_recipe.json"
SHARED = ("DIGIT_BOX", "DIGIT_CANVAS", "FINE", "MNIST_STROKE", "TARGET", "INK", "MIN_INK", "SOLID")


def python_constants() -> dict:
    """Every number web/pad_recipe.js reads, as the Python recipe has it now."""
    return {**{name: getattr(preprocess, name) for name in SHARED}, "TIE": pad.TIE,
            "pad": {"thicken_below": pad.PAD.thicken_below, "thin_above": pad.PAD.thin_above,
                    "thin_to": pad.PAD.thin_to}}


def behind(page: dict) -> list[str]:
    """The names whose value in the page's file is not Python's (missing and extra ones too)."""
    python = python_constants()
    flat = {**{k: v for k, v in python.items() if k != "pad"},
            **{f"pad.{k}": v for k, v in python["pad"].items()}}
    read = {**{k: v for k, v in page.items() if k != "pad"},
            **{f"pad.{k}": v for k, v in page.get("pad", {}).items()}}
    return sorted(name for name in flat.keys() | read.keys()
                  if name not in flat or name not in read or read[name] != flat[name])


def page_constants() -> dict:
    return json.loads(PAGE_FILE.read_text())


def test_the_page_reads_the_python_recipes_numbers():
    assert behind(page_constants()) == [], "run python tools/recipe_constants.py"


def test_the_writer_writes_them():
    assert behind(json.loads(recipe_constants.render())) == []


@pytest.mark.parametrize("name", [*SHARED, "TIE"])
def test_a_module_constant_changed_in_python_alone_is_caught(name, monkeypatch):
    monkeypatch.setattr(preprocess if name != "TIE" else pad, name,
                        getattr(preprocess if name != "TIE" else pad, name) + 1)
    assert behind(page_constants()) == [name]


@pytest.mark.parametrize("field", ["thicken_below", "thin_above", "thin_to"])
def test_a_pad_rule_changed_in_python_alone_is_caught(field, monkeypatch):
    monkeypatch.setattr(pad, "PAD", dataclasses.replace(pad.PAD, **{field: getattr(pad.PAD, field) + 0.1}))
    assert behind(page_constants()) == [f"pad.{field}"]


def test_a_constant_the_page_lacks_or_python_dropped_is_caught():
    page = page_constants()
    del page["pad"]["thin_to"]
    page["MNIST_CENTRE"] = 14.0
    assert behind(page) == ["MNIST_CENTRE", "pad.thin_to"]
