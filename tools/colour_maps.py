"""Write web/colour_maps.json: matplotlib's RdBu_r and inferno as 256 RGB colours each, the
tables the page paints with (web/colours.js), so that the page and the server's pictures
(lenet.pictures.visualize.colour_table) colour the same value alike. Run

    python tools/colour_maps.py            # rewrite web/colour_maps.json
    python tools/colour_maps.py --check    # exit 1 if it differs from matplotlib's tables

tests/test_colour_maps.py fails while the file differs from what this writes.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from lenet.pictures.visualize import DIVERGING, HEAT, colour_table

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "web" / "colour_maps.json"


def render() -> str:
    """The page's tables: "diverging" and "heat", each a flat list of 256 x (R, G, B)."""
    tables = {"diverging": colour_table(DIVERGING), "heat": colour_table(HEAT)}
    return json.dumps({name: table.ravel().tolist() for name, table in tables.items()},
                      separators=(",", ":")) + "\n"


def main() -> None:
    text = render()
    if sys.argv[1:] == ["--check"]:
        if TARGET.read_text() != text:
            sys.exit("web/colour_maps.json is out of date: run python tools/colour_maps.py")
    elif sys.argv[1:]:
        sys.exit(__doc__)
    else:
        TARGET.write_text(text)


if __name__ == "__main__":
    main()
