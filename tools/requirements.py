"""Write requirements.txt from pyproject.toml, the one place dependencies are declared.

Hugging Face Spaces installs requirements.txt, so it lists what the app needs: the engine's
`dependencies` and the `app` extra. Edit pyproject.toml, then run

    python tools/requirements.py            # rewrite requirements.txt
    python tools/requirements.py --check    # exit 1 if requirements.txt is out of date

tests/test_packaging.py fails while requirements.txt differs from what this writes.
"""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = """\
# Written by `python tools/requirements.py` from pyproject.toml (dependencies + the `app`
# extra): edit pyproject.toml, not this file. Hugging Face Spaces installs this file, and
# gradio itself from sdk_version in README.md, kept equal to the gradio pin below.
"""


def render(pyproject: Path = ROOT / "pyproject.toml") -> str:
    project = tomllib.loads(pyproject.read_text())["project"]
    return HEADER + "".join(f"{req}\n" for req in
                            project["dependencies"] + project["optional-dependencies"]["app"])


def main() -> None:
    target, text = ROOT / "requirements.txt", render()
    if sys.argv[1:] == ["--check"]:
        if target.read_text() != text:
            sys.exit("requirements.txt is out of date: run python tools/requirements.py")
    elif sys.argv[1:]:
        sys.exit(__doc__)
    else:
        target.write_text(text)


if __name__ == "__main__":
    main()
