"""Pictures: tiles land where their captions say, colours carry sign, overlays blend, and the
architecture table adds up to the course's parameter counts."""
import numpy as np
from helpers import matplotlib_colours, on_steps
from PIL import Image

from lenet.pictures.visualize import (
    diverging_rgb,
    enlarge,
    feature_map_grid,
    filter_grid,
    heat_overlay,
)


def test_diverging_colours_carry_sign_and_size():
    neg, zero, pos = diverging_rgb(np.array([-2.0, 0.0, 2.0]), 2.0)
    assert neg[2] > neg[0]                      # blue for negative
    assert pos[0] > pos[2]                      # red for positive
    assert (zero > 240).all()                   # white for zero
    weak = diverging_rgb(np.array([1.0]), 2.0)[0]
    assert weak.sum() > pos.sum()               # weaker is paler


def test_every_tile_sits_in_its_cell_crisply():
    rng = np.random.default_rng(0)
    steps = rng.integers(0, 256, (16, 10, 10))
    steps[0, 0, 0], steps[15, 9, 9] = 0, 255                    # the scale: -1.7 to 1.7
    maps = on_steps(steps, -1.7, 1.7).astype(np.float32)
    grid = np.asarray(feature_map_grid(maps, "C3", tile=60, columns=8))
    colours = matplotlib_colours("RdBu_r", steps)
    cell_w = (grid.shape[1]) // 8
    cell_h = grid.shape[0] // 2
    for c in (0, 7, 8, 15):
        y, x = (c // 8) * cell_h, (c % 8) * cell_w
        tile = grid[y:y + 60, x:x + 60]
        np.testing.assert_array_equal(tile[::6, ::6], colours[c])     # each map pixel...
        np.testing.assert_array_equal(tile[5::6, 5::6], colours[c])   # ...a 6x6 block


def one_number(rgb: np.ndarray) -> np.ndarray:
    """Each RGB colour of (..., 3) bytes as one number, to find a colour in a picture at once."""
    return (rgb.astype(np.int32) * [65536, 256, 1]).sum(-1)


def test_one_by_one_maps_become_small_squares():
    """C5's 120 values: each a solid square, all of one size and smaller than a tile of maps,
    16 to a row in channel order."""
    steps = np.r_[0:50, 206:256, 60:70, 186:196]                # away from the white middle
    grid = np.asarray(feature_map_grid(on_steps(steps, -1, 1).reshape(120, 1, 1).astype(np.float32),
                                       "C5", tile=64))
    pixels = one_number(grid)
    corners, sides = [], set()
    for colour in one_number(matplotlib_colours("RdBu_r", steps)):
        ys, xs = np.nonzero(pixels == colour)
        side = ys.max() - ys.min() + 1
        assert xs.max() - xs.min() + 1 == side and len(ys) == side * side   # a solid square
        corners.append((ys.min(), xs.min()))
        sides.add(side)
    assert len(sides) == 1 and 12 <= sides.pop() < 64
    rows = [corners[k:k + 16] for k in range(0, 120, 16)]
    assert all(len({y for y, _ in row}) == 1 for row in rows)              # a row at one height
    assert all([x for _, x in row] == sorted({x for _, x in row}) for row in rows)
    assert [row[0][0] for row in rows] == sorted({row[0][0] for row in rows})


def test_captions_are_drawn_under_the_tiles():
    grid = np.asarray(feature_map_grid(np.zeros((2, 4, 4), np.float32), "S4", tile=40))
    tiles, captions = grid[:40], grid[40:52]
    assert (tiles > 240).all()                  # zero maps are white
    assert (captions < 200).any()               # dark caption text below them


def test_filter_grid_for_grey_and_colour_filters():
    grey = filter_grid(np.random.default_rng(0).standard_normal((6, 1, 5, 5)))
    colour = filter_grid(np.random.default_rng(0).standard_normal((16, 3, 5, 5)))
    assert grey.mode == colour.mode == "RGB"
    assert colour.height > grey.height          # 16 filters need two rows of 8


def test_heat_overlay_leaves_cold_areas_alone():
    base = Image.fromarray(np.full((28, 28), 100, np.uint8))
    heat = np.zeros((28, 28), np.float32)
    heat[:, 14:] = 1.0
    out = np.asarray(heat_overlay(base, heat, size=224)).astype(int)
    assert (out[:, :100] == 100).all()          # no heat: the input unchanged
    assert np.abs(out[:, 130:] - 100).max() > 50  # full heat: coloured


def test_enlarge_is_nearest_neighbour():
    image = Image.fromarray(np.array([[0, 255], [255, 0]], np.uint8))
    big = np.asarray(enlarge(image, 8))
    assert big.shape == (8, 8) and set(np.unique(big)) == {0, 255}
