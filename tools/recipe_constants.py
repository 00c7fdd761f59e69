"""Write web/digit_recipe.json: the digit recipe's numbers that the page's copy of the pad
recipe (web/pad_recipe.js) reads, taken from lenet.inputs.preprocess and lenet.inputs.pad, so
that each is written once, in Python:

    python tools/recipe_constants.py

Keys are the Python names: module constants at the top level, the fields of ``pad.PAD`` under
"pad". tests/test_recipe_constants.py fails while the file differs from the Python constants.
"""
from __future__ import annotations

import json
from pathlib import Path

from lenet.inputs import pad, preprocess

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "web" / "digit_recipe.json"
SHARED = ("DIGIT_BOX", "DIGIT_CANVAS", "FINE", "MNIST_STROKE", "TARGET", "INK", "MIN_INK",
          "SOLID")
PAD_RULES = ("thicken_below", "thin_above", "thin_to")   # PAD's numbers; its arithmetic is JS code


def render() -> str:
    """The constants as JSON, one a line, so that a change reads as one line in a diff."""
    constants = {name: getattr(preprocess, name) for name in SHARED}
    constants["TIE"] = pad.TIE
    constants["pad"] = {name: getattr(pad.PAD, name) for name in PAD_RULES}
    return json.dumps(constants, indent=1) + "\n"


def main() -> None:
    OUT.write_text(render())


if __name__ == "__main__":
    main()
