"""One set of recipe numbers for Python and the page: web/digit_recipe.json and
web/upload_recipe.json, written by tools/recipe_constants.py and read by web/digit_steps.js,
pad_recipe.js and upload_*.js. The files and the writer are both held to the constants the
Python recipes run on (lenet.inputs), named here independently of the writer. That the page
computes with them is tests/test_pad_recipe.py's and test_upload_recipes.py's check."""
import dataclasses
import json

import pytest
from conftest import ROOT

from lenet.inputs import digit_steps, images, pad, photo, preprocess, resample, upload_digit
from tools import recipe_constants

SHARED = ("DIGIT_BOX", "DIGIT_CANVAS", "FINE", "MNIST_STROKE", "TARGET", "INK", "MIN_INK", "SOLID",
          "TIE")
RULES = {"pad": (pad, "PAD"), "uploads": (upload_digit, "UPLOADS")}
# upload_recipe.json: name -> the module whose constant it is.
UPLOAD = {"UPLOAD_LIMIT_MB": preprocess, "MAX_PIXELS": images, "LEVELS": photo,
          "LANCZOS_SUPPORT": resample, "TENT_SUPPORT": resample, "BAND": resample,
          **{name: upload_digit for name in ("INK_SIDE", "CONTRAST", "PEAK", "NOISE_SIGMAS",
                                             "MAD_TO_SIGMA", "FLOOR_RANGE", "CELLS", "CELL_MIN",
                                             "PAPER", "FLAT", "LUMA")}}


def python_constants(name: str) -> dict:
    """Every number the page reads from ``name``, flat ("pad.thin_to"), as Python has it now."""
    if name == "upload_recipe.json":
        return {key: jsonable(getattr(module, key)) for key, module in UPLOAD.items()}
    flat = {key: getattr(digit_steps, key) for key in SHARED}
    for group, (module, rules) in RULES.items():
        for field in ("thicken_below", "thin_above", "thin_to"):
            flat[f"{group}.{field}"] = getattr(getattr(module, rules), field)
    return flat


def jsonable(value):
    return list(value) if isinstance(value, tuple) else value


def flatten(page: dict) -> dict:
    return {**{k: v for k, v in page.items() if not isinstance(v, dict)},
            **{f"{group}.{k}": v for group, values in page.items() if isinstance(values, dict)
               for k, v in values.items()}}


def behind(name: str, page: dict) -> list[str]:
    """The names whose value in the page's file is not Python's (missing and extra ones too)."""
    python, read = python_constants(name), flatten(page)
    return sorted(key for key in python.keys() | read.keys()
                  if key not in python or key not in read or read[key] != python[key])


def page_constants(name: str) -> dict:
    return json.loads((ROOT / "web" / name).read_text())


@pytest.mark.parametrize("name", recipe_constants.FILES)
def test_the_page_reads_the_python_recipes_numbers(name):
    assert behind(name, page_constants(name)) == [], "run python -m tools.recipe_constants"


@pytest.mark.parametrize("name", recipe_constants.FILES)
def test_the_writer_writes_them(name):
    assert behind(name, json.loads(recipe_constants.render(name))) == []


@pytest.mark.parametrize("name", SHARED)
def test_a_module_constant_changed_in_python_alone_is_caught(name, monkeypatch):
    monkeypatch.setattr(digit_steps, name, getattr(digit_steps, name) + 1)
    assert behind("digit_recipe.json", page_constants("digit_recipe.json")) == [name]


@pytest.mark.parametrize("name", ["MAX_PIXELS", "LANCZOS_SUPPORT", "PEAK", "CELLS"])
def test_an_upload_constant_changed_in_python_alone_is_caught(name, monkeypatch):
    module = UPLOAD[name]
    monkeypatch.setattr(module, name, getattr(module, name) + 1)
    assert behind("upload_recipe.json", page_constants("upload_recipe.json")) == [name]


@pytest.mark.parametrize("group", RULES)
@pytest.mark.parametrize("field", ["thicken_below", "thin_above", "thin_to"])
def test_a_rule_changed_in_python_alone_is_caught(group, field, monkeypatch):
    module, rules = RULES[group]
    old = getattr(module, rules)
    monkeypatch.setattr(module, rules, dataclasses.replace(old, **{field: getattr(old, field) + 0.1}))
    assert behind("digit_recipe.json", page_constants("digit_recipe.json")) == [f"{group}.{field}"]


def test_a_constant_the_page_lacks_or_python_dropped_is_caught():
    page = page_constants("digit_recipe.json")
    del page["pad"]["thin_to"]
    page["MNIST_CENTRE"] = 14.0
    assert behind("digit_recipe.json", page) == ["MNIST_CENTRE", "pad.thin_to"]
