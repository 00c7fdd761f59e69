"""Write the numbers the page's recipes share with Python, taken from lenet.inputs, so that
each is written once, in Python:

    python -m tools.recipe_constants

- web/digit_recipe.json (read by web/digit_steps.js, pad_recipe.js, upload_digit.js): MNIST's
  steps' constants (``digit_steps``) at the top level, the stroke rules of ``pad.PAD`` under
  "pad" and of ``upload_digit.UPLOADS`` under "uploads";
- web/upload_recipe.json (read by web/upload_*.js): the upload limits, the resampling filters'
  supports, the photo's levels and the upload ink map's constants (``upload_digit``).

Keys are the Python names. tests/test_recipe_constants.py fails while a file differs from the
Python constants.
"""
from __future__ import annotations

import json
from pathlib import Path

from lenet.inputs import digit_steps, images, pad, photo, preprocess, resample, upload_digit

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
SHARED = ("DIGIT_BOX", "DIGIT_CANVAS", "FINE", "MNIST_STROKE", "TARGET", "INK", "MIN_INK",
          "SOLID", "TIE")
RULES = ("thicken_below", "thin_above", "thin_to")   # numbers of a DigitRules; its arithmetic is code
INK_MAP = ("INK_SIDE", "CONTRAST", "PEAK", "NOISE_SIGMAS", "MAD_TO_SIGMA", "FLOOR_RANGE", "CELLS",
           "CELL_MIN", "PAPER", "FLAT", "LUMA")


def digit_constants() -> dict:
    constants = {name: getattr(digit_steps, name) for name in SHARED}
    constants["pad"] = {name: getattr(pad.PAD, name) for name in RULES}
    constants["uploads"] = {name: getattr(upload_digit.UPLOADS, name) for name in RULES}
    return constants


def upload_constants() -> dict:
    return {"UPLOAD_LIMIT_MB": preprocess.UPLOAD_LIMIT_MB, "MAX_PIXELS": images.MAX_PIXELS,
            "LEVELS": photo.LEVELS, "LANCZOS_SUPPORT": resample.LANCZOS_SUPPORT,
            "TENT_SUPPORT": resample.TENT_SUPPORT, "BAND": resample.BAND,
            **{name: getattr(upload_digit, name) for name in INK_MAP}}


FILES = {"digit_recipe.json": digit_constants, "upload_recipe.json": upload_constants}


def render(name: str = "digit_recipe.json") -> str:
    """One file's constants as JSON, one a line, so that a change reads as one line in a diff."""
    return json.dumps(FILES[name](), indent=1) + "\n"


def main() -> None:
    for name in FILES:
        (WEB / name).write_text(render(name))


if __name__ == "__main__":
    main()
