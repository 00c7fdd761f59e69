"""Write web/colour_maps.json: matplotlib's RdBu_r and inferno as 256 RGB colours each, the
tables the page paints with (web/colours.js), so that the page and the server's pictures
(lenet.pictures.visualize.colour_table) colour the same value alike:

    python tools/colour_maps.py

tests/test_colour_maps.py fails while the file differs from matplotlib's own maps.
"""
from __future__ import annotations

import json
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
    TARGET.write_text(render())


if __name__ == "__main__":
    main()
