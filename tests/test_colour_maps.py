"""One set of colour tables for the server's pictures and the page's: matplotlib's RdBu_r and
inferno, written to web/colour_maps.json (tools/colour_maps.py) and painted with by
web/colours.js. Each side is held to matplotlib itself, never to the file the other reads."""
import json

import numpy as np
import pytest
from conftest import ROOT
from helpers import matplotlib_colours, on_steps

from lenet.pictures.visualize import diverging_rgb, heat_rgb

STEPS = np.arange(256)
MAPS = {"diverging": "RdBu_r", "heat": "inferno"}   # the page's names -> matplotlib's


def test_the_page_tables_are_matplotlibs():
    tables = json.loads((ROOT / "web" / "colour_maps.json").read_text())
    for ours, theirs in MAPS.items():
        assert tables[ours] == matplotlib_colours(theirs, STEPS).ravel().tolist(), ours


@pytest.mark.parametrize("top", [3.0, 0.37, 250.0])
def test_the_server_pictures_paint_with_matplotlibs_maps(top):
    diverging = diverging_rgb(on_steps(STEPS, -top, top), top)
    np.testing.assert_array_equal(diverging, matplotlib_colours("RdBu_r", STEPS))
    beyond = diverging_rgb(np.array([-2 * top, 2 * top]), top)     # clipped to the ends
    np.testing.assert_array_equal(beyond, matplotlib_colours("RdBu_r", [0, 255]))
    np.testing.assert_array_equal(heat_rgb(on_steps(STEPS, 0, 1)), matplotlib_colours("inferno", STEPS))


def test_the_page_paints_with_them(js_page):
    """web/colours.js's ``paint``: a row of the 256 values on each scale's steps, read back
    from the canvas."""
    top = 0.37
    painted = js_page.evaluate("""async ({diverging, heat, top}) => {
      const c = await import('/web/colours.js');
      const read = (values, scale) => {
        const canvas = document.createElement('canvas');
        c.paint(canvas, Float32Array.from(values), 1, 1, values.length, scale);
        const rgba = canvas.getContext('2d').getImageData(0, 0, values.length, 1).data;
        return Array.from(rgba).filter((_, i) => i % 4 !== 3);
      };
      return {diverging: read(diverging, c.diverging(top)), heat: read(heat, c.heat)};
    }""", {"diverging": on_steps(STEPS, -top, top).tolist(), "heat": on_steps(STEPS, 0, 1).tolist(),
           "top": top})
    assert painted == {ours: matplotlib_colours(theirs, STEPS).ravel().tolist()
                       for ours, theirs in MAPS.items()}
