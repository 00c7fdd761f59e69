"""Preprocessing against hand-made cases: placement, polarity, alpha, strokes, EXIF, modes,
and every kind of bad input."""
import io

import numpy as np
import pytest
from helpers import centre_of_mass, declared_png, ring
from PIL import Image

from lenet.inputs import resample
from lenet.inputs.preprocess import (
    InputError,
    digit_from_image,
    ink_map,
    opaque_rgb,
    open_image,
    photo_to_array,
    stroke_width,
)
from lenet.inputs.upload_digit import luma


def digit(a) -> np.ndarray:
    result = digit_from_image(Image.fromarray(a) if isinstance(a, np.ndarray) else a)
    assert not result.empty
    return result.pixels


def test_a_centred_mnist_style_digit_stays_put():
    original = ring().astype(np.float32) / 255
    out = digit(ring())
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    rows = np.flatnonzero((out > 0.2).any(1))
    assert 19 <= rows[-1] - rows[0] + 1 <= 21
    assert np.abs(out - original).mean() < 0.05


@pytest.mark.parametrize("canvas, centre, height", [(28, (11, 9), 20), (400, (300, 90), 110),
                                                    (800, (120, 650), 230)])
def test_an_off_centre_digit_comes_back_centred(canvas, centre, height):
    scale = height / 20
    a = ring(size=canvas, centre=centre, height=height, width=13 * scale, stroke=2.6 * scale)
    out, reference = digit(a), digit(ring())
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    assert np.corrcoef(out.ravel(), reference.ravel())[0, 1] > 0.9


def test_polarity_black_on_white_equals_white_on_black():
    white_ink = ring(size=300, centre=(150, 150), height=200, width=130, stroke=25)
    np.testing.assert_allclose(digit(white_ink), digit(255 - white_ink), atol=0.02)


def test_alpha_black_or_white_ink_on_transparent_equals_the_opaque_sketch():
    ink = ring(size=300, centre=(150, 150), height=200, width=130, stroke=25) > 127
    sketch = np.full((300, 300, 4), 255, np.uint8)
    sketch[ink, :3] = 0
    black_layer = np.zeros((300, 300, 4), np.uint8)
    black_layer[ink, 3] = 255
    white_layer = black_layer.copy()
    white_layer[ink, :3] = 255
    reference = digit(sketch)
    np.testing.assert_allclose(digit(black_layer), reference, atol=0.02)
    np.testing.assert_allclose(digit(white_layer), reference, atol=0.02)


@pytest.mark.parametrize("pen", [3, 12, 60])
def test_hairlines_and_markers_come_out_with_mnist_stroke_width(pen):
    a = ring(size=800, centre=(400, 400), height=600, width=380, stroke=pen)
    width = stroke_width(digit(a))
    assert 1.7 <= width <= 4.2, width  # MNIST: 2.1 to 4.1 (5th to 95th percentile)


def test_photo_of_paper_with_uneven_light_and_noise():
    rng = np.random.default_rng(0)
    light = np.linspace(150, 235, 400)[None, :].repeat(400, 0)
    ink = ring(size=400, centre=(200, 200), height=280, width=180, stroke=20) / 255
    photo = np.clip(light - ink * 120 + rng.normal(0, 5, light.shape), 0, 255).astype(np.uint8)
    out = digit(photo)
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    assert (out[:, :4] == 0).all() and (out[:, -4:] == 0).all()  # no paper taken for ink
    assert np.corrcoef(out.ravel(), digit(ring()).ravel())[0, 1] > 0.8


@pytest.mark.parametrize("blank", [np.full((300, 300), 255, np.uint8), np.zeros((50, 50), np.uint8),
                                   np.full((280, 280, 4), [255, 255, 255, 255], np.uint8),
                                   np.full((1, 1), 0, np.uint8)])
def test_blank_inputs_are_empty_not_a_guess(blank):
    result = digit_from_image(Image.fromarray(blank))
    assert result.empty and not result.pixels.any()


def test_ink_map_ignores_paper_texture():
    rng = np.random.default_rng(1)
    paper = np.clip(rng.normal(200, 8, (100, 100)), 0, 255).astype(np.uint8)
    assert ink_map(Image.fromarray(paper)).max() == 0


# ---------------------------------------------------------------------------- resampling

@pytest.mark.parametrize("height, width", [(8, 11), (30, 90), (37, 53), (100, 7), (1, 1)])
@pytest.mark.parametrize("kernel, pil_filter", [("lanczos", Image.LANCZOS),
                                                ("tent", Image.BILINEAR)])
def test_resampling_equals_pils_float_filters(height, width, kernel, pil_filter):
    """PIL's 32-bit float mode resamples in one pass with double weights, the same filters
    (antialiased on a shrink): our float64 weights must give its numbers to float32 rounding.
    (Its 8-bit mode, which the photo recipe used before, rounds and shrinks in two stages.)"""
    a = np.random.default_rng(0).random((37, 53)).astype(np.float32)
    pil = np.asarray(Image.fromarray(a, "F").resize((width, height), pil_filter))
    np.testing.assert_allclose(resample.resize(a, height, width, kernel), pil, atol=2e-7)


@pytest.mark.parametrize("factor", [1, 2, 3, 5])
def test_box_reduction_equals_pils_reduce(factor):
    """PIL's reduce averages whole cells, and the cells cut by the edges over what they hold."""
    a = np.random.default_rng(1).random((37, 53)).astype(np.float32)
    pil = np.asarray(Image.fromarray(a, "F").reduce(factor))
    np.testing.assert_allclose(resample.box_reduce(a, factor), pil, atol=2e-7)


def test_grey_levels_are_pils():
    rgb = np.random.default_rng(2).integers(0, 256, (64, 64, 3)).astype(np.uint8)
    assert (luma(rgb) == np.asarray(Image.fromarray(rgb).convert("L"))).all()


def test_transparency_on_white_is_pils_alpha_composite_to_a_level():
    rgba = np.random.default_rng(3).integers(0, 256, (64, 64, 4)).astype(np.uint8)
    pil = Image.alpha_composite(Image.new("RGBA", (64, 64), "white"), Image.fromarray(rgba))
    ours = np.asarray(opaque_rgb(Image.fromarray(rgba)), int)
    assert np.abs(ours - np.asarray(pil.convert("RGB"), int)).max() <= 1


def test_the_float64_photo_recipe_stays_close_to_pils_lanczos():
    """The recipe left PIL's 8-bit LANCZOS for arithmetic the page repeats; the pictures barely
    moved (benchmarks/photo_consistency.py measures the answers)."""
    rng = np.random.default_rng(4)
    smooth = Image.fromarray(rng.integers(0, 256, (12, 16, 3)).astype(np.uint8)).resize((400, 300),
                                                                                       Image.BICUBIC)
    pil = smooth.resize((32, 32), Image.LANCZOS, box=(50, 0, 350, 300), reducing_gap=3.0)
    diff = np.abs(photo_to_array(smooth, 32).astype(int) - np.asarray(pil, int))
    assert diff.max() <= 3 and diff.mean() < 0.5


# ---------------------------------------------------------------------------- photos

def test_photo_centre_crop_and_size():
    a = np.zeros((40, 80, 3), np.uint8)
    a[:, :20] = (255, 0, 0)
    a[:, 60:] = (255, 0, 0)
    a[:, 20:60] = (0, 0, 255)
    out = photo_to_array(Image.fromarray(a), 32)
    assert out.shape == (32, 32, 3)
    assert (out[..., 2] > 240).all() and (out[..., 0] < 15).all()


def test_exif_orientation_is_honoured(tmp_path):
    a = np.zeros((30, 60, 3), np.uint8)
    a[:, :30] = 255                       # left half white
    im = Image.fromarray(a)
    exif = Image.Exif()
    exif[0x0112] = 6                      # "rotate 90 clockwise to display"
    path = tmp_path / "rotated.png"
    im.save(path, exif=exif)
    opened = open_image(str(path))
    assert opened.size == (30, 60)        # displayed upright: portrait
    upright = np.asarray(opened.convert("L"))
    assert upright[:30].mean() > 250 and upright[30:].mean() < 5  # white half now on top


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F", "1"])
def test_every_mode_becomes_a_32x32_rgb_crop(mode):
    base = Image.fromarray(np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (48, 1)))
    im = base.convert(mode) if mode != "I;16" else Image.fromarray(
        np.asarray(base, np.uint16) * 257)  # uint16 arrays open as I;16
    out = photo_to_array(open_image(im), 32)
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    if mode not in ("1", "P"):
        assert out[:, 0].mean() < out[:, -1].mean()  # the gradient survives, not clipped


def test_sixteen_bit_grey_is_rescaled_not_clipped():
    im = Image.fromarray(np.full((8, 8), 30000, np.uint16))
    assert im.mode == "I;16"
    out = photo_to_array(im, 32)
    assert abs(int(out[0, 0, 0]) - round(30000 / 65535 * 255)) <= 1


# ---------------------------------------------------------------------------- bad input

def _truncated_png() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), np.uint8)).save(
        buffer, "PNG")
    return buffer.getvalue()[:3000]


BAD = {
    "empty": (b"", "empty"),
    "not an image": (b"%PDF-1.4 this is a document", "not an image"),
    "truncated": (_truncated_png(), "truncated"),
    "bomb": (declared_png(40000, 40000), "limit"),
    "wide": (declared_png(100000, 1000), "limit"),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_files_give_one_line_errors(kind, tmp_path):
    data, words = BAD[kind]
    path = tmp_path / "upload.png"
    path.write_bytes(data)
    for source in (str(path), data):
        with pytest.raises(InputError, match=words) as info:
            open_image(source)
        assert "\n" not in str(info.value)


def test_a_missing_file_is_named():
    with pytest.raises(InputError, match="no such file"):
        open_image("/nonexistent/picture.png")


def test_animated_gif_uses_its_first_frame(tmp_path):
    frames = [Image.new("L", (20, 20), v) for v in (0, 255, 128)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    im = open_image(str(path))
    assert np.asarray(im.convert("L")).max() < 10


def test_one_pixel_photo_gives_a_uniform_crop():
    out = photo_to_array(open_image(Image.new("RGB", (1, 1), (10, 200, 30))), 32)
    assert (np.abs(out.astype(int) - [10, 200, 30]) <= 1).all()


def test_bad_arrays_are_refused():
    with pytest.raises(InputError, match="array"):
        open_image(np.zeros((3, 3, 7)))
    with pytest.raises(InputError, match="array"):
        open_image(np.zeros((0, 5)))
