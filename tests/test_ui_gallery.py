"""The test-set gallery's Python handler (``GalleryTab.show``, the reference the page's sheet is
held equal to in test_gallery_page.py): what a sheet shows against the gallery file itself,
and how a seed chooses it."""
import numpy as np
import pytest

from lenet.inside.gallery import gallery_path, load_gallery
from lenet.net.checkpoint import default_checkpoint
from ui.gallery import ANY, MISTAKES, RANDOM, SHOWN, GalleryTab


@pytest.fixture(scope="module")
def tab():
    return GalleryTab({name: (title, load_gallery(gallery_path(default_checkpoint(name))), view)
                       for name, title, view in (("lenet5", "LeNet-5", "draw"),
                                                 ("convnet", "ConvNet", "photo"))})


def test_the_sheet_shows_what_the_filters_ask_for(tab):
    _, gallery, _ = tab.galleries["convnet"]
    positions = tab.show("convnet", RANDOM, "cat", ANY, 3).positions
    assert positions and all(gallery.in_sample[i] for i in positions)
    assert {gallery.classes[gallery.labels[i]] for i in positions} == {"cat"}
    _, gallery, _ = tab.galleries["lenet5"]
    shown = tab.show("lenet5", MISTAKES, ANY, "7", 0)
    words, positions = shown.words, shown.positions
    assert positions and all(gallery.is_mistake[i] and gallery.labels[i] != 7 for i in positions)
    assert {gallery.predictions[i] for i in positions} == {7}
    assert words.startswith(f"{len(positions)} of ")
    empty = tab.show("lenet5", MISTAKES, "1", "1", 0)     # never wrong as itself
    assert empty.tiles == [] and empty.words == "None of the mistakes of LeNet-5 match these filters."


def test_each_tile_says_its_own_labels_and_wrong_ones_are_marked(tab):
    _, gallery, _ = tab.galleries["lenet5"]
    shown = tab.show("lenet5", MISTAKES, ANY, ANY, 1)
    assert [t["position"] for t in shown.tiles] == shown.positions
    for tile, i in zip(shown.tiles, shown.positions):
        assert tile["truth"] == str(gallery.labels[i]) and tile["guess"] == str(gallery.predictions[i])
        assert tile["wrong"] == (gallery.labels[i] != gallery.predictions[i])
        assert tile["confidence"] == f"{100 * gallery.confidences[i]:.0f}\u00a0%"  # kept with its number
        assert tile["index"] == gallery.indices[i]
        assert tile["caption"] == gallery.caption(i)
    assert f"{sum(t['wrong'] for t in shown.tiles)} wrong (red)" in shown.words


def test_a_seed_chooses_a_sheet_and_every_image_can_be_on_one(tab):
    """Nine of the pool in gallery order, the same for the same seed; over seeds, every image
    of the pool turns up, about equally often (a fair draw, not the first nine)."""
    _, gallery, _ = tab.galleries["convnet"]
    pool = gallery.sample_positions()
    sheets = [tab.show("convnet", RANDOM, ANY, ANY, seed).positions for seed in range(400)]
    assert tab.show("convnet", RANDOM, ANY, ANY, 7).positions == sheets[7]
    assert all(len(s) == SHOWN and s == sorted(set(s)) and set(s) <= set(pool) for s in sheets)
    assert len({tuple(s) for s in sheets}) == len(sheets)
    counts = np.bincount(np.concatenate(sheets), minlength=len(gallery))[pool]
    expected = 400 * SHOWN / len(pool)          # 12 per image
    assert counts.min() >= 1 and abs(counts.mean() - expected) < 1e-9 and counts.max() < 4 * expected


@pytest.mark.parametrize("seed", [float("nan"), 1e308, -1, 2.5, 2**32, "7", True])
def test_a_seed_that_is_not_one_is_answered_in_words(tab, seed):
    assert tab.show("lenet5", RANDOM, ANY, ANY, seed).words == \
        "⚠️ the seed must be a whole number from 0 to 4294967295"


def test_a_model_filter_or_kind_that_is_not_one_is_answered_in_words(tab):
    assert tab.show("resnet", RANDOM, ANY, ANY, 0).words.startswith("⚠️ choose a model")
    assert tab.show("lenet5", "all", ANY, ANY, 0).words.startswith("⚠️ show 'random'")
    assert tab.show("lenet5", RANDOM, "cat", ANY, 0).words.startswith("⚠️ filter by 'any'")
