"""One set of colour tables for the server's pictures and the page's: matplotlib's RdBu_r and
inferno, written to web/colour_maps.json (tools/colour_maps.py) and painted with by
web/colours.js."""
import json

import numpy as np
from conftest import ROOT
from matplotlib import colormaps

from lenet.pictures.visualize import diverging_rgb, heat_rgb

TABLES = json.loads((ROOT / "web" / "colour_maps.json").read_text())


def matplotlib_table(name: str) -> list[int]:
    """The reference: 256 colours of matplotlib's map, as bytes, read straight from it."""
    return colormaps[name](np.linspace(0, 1, 256), bytes=True)[:, :3].ravel().tolist()


def test_the_page_tables_are_matplotlibs():
    assert TABLES["diverging"] == matplotlib_table("RdBu_r")
    assert TABLES["heat"] == matplotlib_table("inferno")


def test_the_server_pictures_use_the_same_tables():
    diverging = np.asarray(TABLES["diverging"]).reshape(256, 3)
    heat = np.asarray(TABLES["heat"]).reshape(256, 3)
    assert (diverging_rgb(np.array([-1.0, 0.0, 1.0]), 1.0) == diverging[[0, 128, 255]]).all()
    assert (heat_rgb(np.array([0.0, 1.0])) == heat[[0, 255]]).all()


def test_the_page_paints_with_them(js_page):
    painted = js_page.evaluate("""async () => {
      const c = await import('/web/colours.js');
      return {diverging: Array.from(c.diverging(1).rgb), heat: Array.from(c.heat.rgb)};
    }""")
    assert painted == {"diverging": TABLES["diverging"], "heat": TABLES["heat"]}
