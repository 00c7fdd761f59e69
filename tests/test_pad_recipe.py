"""The pad's digit recipe: lenet/inputs/pad.py against expectations worked out by hand, then
web/pad_recipe.js held equal to it in Chromium on a few hundred drawings (MNIST test
digits traced with the pad's pen by PIL and by Chromium's own canvas, scribbles with the canvas
stroke API, lenet.inputs.synth sketches, and the awkward cases), with LeNet-5 answering the same."""
from __future__ import annotations

import base64
import zlib

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA
from helpers import centre_of_mass, ring, warn_stand_in
from PIL import Image, ImageDraw
from sketch_accuracy import PAD_PEN, PAD_SIDE, pad_drawing, pad_points

from lenet.inputs import synth
from lenet.inputs.images import to_rgba
from lenet.inputs.pad import pad_digit, pad_ink, pad_recipe
from lenet.inputs.preprocess import stroke_width
from lenet.inside.inference import Classifier
from lenet.net.checkpoint import default_checkpoint
from lenet.net.models import normalize
from lenet.training.data import load_split

TOLERANCE = 1e-5        # max |JS - Python| on the 28x28 input (float32 rounding is ~6e-8)
THINNEST = 1.7          # MNIST's thinnest strokes (5th percentile 2.1), with some slack


def pen_ring(canvas: int = PAD_SIDE, centre=(140, 140), height: float = 200,
             width: float = 130, pen: float = PAD_PEN) -> np.ndarray:
    """A "0" drawn black on white with an antialiased pen, uint8 (canvas, canvas)."""
    return 255 - ring(size=canvas, centre=centre, height=height, width=width, stroke=pen)


def digit(drawing) -> np.ndarray:
    result = pad_digit(pad_ink(drawing))
    assert not result.empty
    return result.pixels


def ink_rows(pixels: np.ndarray) -> int:
    rows = np.flatnonzero((pixels > 0.2).any(1))
    return int(rows[-1] - rows[0] + 1)


# ---------------------------------------------------------------------------- lenet/inputs/pad.py

def test_ink_is_one_minus_red_and_transparent_is_paper():
    rgba = np.full((5, 6, 4), 255, np.uint8)
    rgba[2, 1, :3] = 0                   # black
    rgba[2, 2, :3] = 51                  # grey: 1 - 51/255 = 0.8
    rgba[2, 3] = (0, 0, 0, 0)            # transparent black is paper
    rgba[2, 4] = (0, 0, 0, 102)          # black at 40 % opacity, laid on white
    expected = np.zeros((5, 6))
    expected[2, 1:5] = 1, 0.8, 0, 0.4
    ink = pad_ink(rgba)
    assert ink.dtype == np.float64
    np.testing.assert_allclose(ink, expected, atol=1e-12)
    opaque = Image.fromarray(rgba).convert("RGB")              # PIL images read as arrays do
    np.testing.assert_allclose(pad_ink(opaque), pad_ink(rgba[..., :3]))


@pytest.mark.parametrize("centre, height", [((140, 140), 200), ((60, 210), 90), ((200, 70), 140)])
def test_a_ring_anywhere_on_the_pad_is_centred_and_20_pixels_tall(centre, height):
    out = digit(pen_ring(centre=centre, height=height, width=0.65 * height))
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    assert 19 <= ink_rows(out) <= 21
    reference = ring().astype(np.float32) / 255     # an MNIST-style "0" made by hand
    assert np.corrcoef(out.ravel(), reference.ravel())[0, 1] > 0.8


@pytest.mark.parametrize("blank", [np.full((280, 280), 255, np.uint8),
                                   np.full((280, 280, 4), 255, np.uint8),
                                   np.zeros((280, 280, 4), np.uint8),    # all transparent
                                   np.full((1, 1), 255, np.uint8)])
def test_a_blank_pad_is_nothing_drawn(blank):
    result = pad_digit(pad_ink(blank))
    assert result.empty and not result.pixels.any()


def test_a_lone_pixel_is_nothing_drawn_and_a_pen_dot_is_a_centred_blob():
    speck = np.full((280, 280), 255, np.uint8)
    speck[100, 100] = 0
    assert pad_digit(pad_ink(speck)).empty
    blob = digit(pen_ring(centre=(50, 230), height=PAD_PEN, width=PAD_PEN, pen=PAD_PEN))
    cy, cx = centre_of_mass(blob)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    rows, cols = ink_rows(blob), ink_rows(blob.T)
    assert rows == cols and 19 <= rows <= 21


def test_a_digit_cut_by_the_edge_is_the_part_that_shows():
    cut = pen_ring(centre=(40, 140), height=200)           # its top half is off the pad
    out = digit(cut)
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    # What shows is a "U" about 20 pixels wide: the same as that "U" drawn in the middle.
    visible = cut[:150]
    moved = np.full((280, 280), 255, np.uint8)
    moved[70:220] = visible
    np.testing.assert_allclose(out, digit(moved), atol=1e-6)
    assert 19 <= ink_rows(out.T) <= 21


def test_twice_the_resolution_gives_the_same_digit():
    # The area average of a picture with every pixel doubled is the area average of the
    # picture: the resampling must not depend on how finely the same drawing was sampled.
    ink = pad_ink(pen_ring(canvas=150, centre=(75, 75), height=110, width=70, pen=10))
    doubled = np.kron(ink, np.ones((2, 2)))
    np.testing.assert_allclose(pad_digit(doubled).pixels, pad_digit(ink).pixels, atol=1e-6)


def test_fitting_averages_whole_pixels_when_the_ink_is_twice_the_box():
    # A square outline 160 pixels a side fits the 80-pixel fine box by plain 2x2 means.
    ink = np.zeros((280, 280))
    ink[60:220, 60:220] = 1
    ink[84:196, 84:196] = 0.25           # a 24-pixel frame around grey: stroke 3.0 px, kept
    steps = pad_recipe(ink)
    assert steps.box == (60, 60, 220, 220) and steps.adjusted == "kept"
    expected = ink[60:220, 60:220].reshape(80, 2, 80, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(steps.fitted, expected, atol=1e-12)
    # Symmetric, so its centre of mass is the fine box's centre, 39.5, put at 57.5; nothing
    # is cut, so the 28x28 keeps all the ink (16 fine pixels to a pixel).
    assert steps.offset == (18, 18)
    assert steps.digit.pixels.sum() * 16 == pytest.approx(expected.sum(), rel=1e-6)


@pytest.mark.parametrize("canvas, height, width, pen", [
    (280, 220, 140, 2), (600, 500, 325, 3),                      # hairlines
    (280, 200, 150, 40), (280, 220, 170, 60), (600, 450, 330, 130)])   # markers
def test_thin_and_fat_pens_come_out_alike(canvas, height, width, pen):
    # Pens from 1/100 to 1/5 of the drawing's height, against the pad's own: a hairline must
    # not vanish, a marker must not fill the digit's holes.
    out = digit(pen_ring(canvas=canvas, centre=(canvas / 2,) * 2, height=height, width=width,
                         pen=pen))
    pad = stroke_width(digit(pen_ring()))
    assert stroke_width(out) >= THINNEST
    assert 0.5 <= stroke_width(out) / pad <= 2
    assert out[13:15, 13:15].max() < 0.2                       # the "0" keeps its hole


def test_what_api_users_send_instead_of_the_pad():
    drawn = pen_ring()
    reference = digit(drawn)
    fraction = (255 - drawn.astype(np.float64)) / 255        # how much of each pixel is ink
    white_on_black = 255 - drawn
    layer = np.zeros((280, 280, 4), np.uint8)                 # black ink on a transparent layer
    layer[..., 3] = np.round(255 * fraction)
    grey_paper = np.round(200 * (1 - fraction)).astype(np.uint8)   # black ink on grey paper
    blue_ink = np.stack([drawn, drawn, np.full_like(drawn, 255)], axis=2)
    for other in (white_on_black, layer, blue_ink):
        np.testing.assert_allclose(digit(other), reference, atol=1e-6)
    out = digit(grey_paper)
    assert np.abs(out - reference).max() < 0.05
    assert not out[:3].any() and not out[-3:].any()           # no paper taken for ink


# ---------------------------------------------------------------------------- the page

# Inputs cross as base64 of zlib-compressed bytes: RGBA for padInk, float64 ink for padDigit.
# What the page returns for each: the fields that lenet.inputs.preprocess's RecipeSteps has too.
PAGE_JS = """
const unpack = async (text) => {
  const packed = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream('deflate'));
  return (await new Response(stream).arrayBuffer());
};
const pack = async (bytes) => {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('deflate'));
  const packed = new Uint8Array(await new Response(stream).arrayBuffer());
  let text = '';
  for (let i = 0; i < packed.length; i += 8192) {
    text += String.fromCharCode(...packed.subarray(i, i + 8192));
  }
  return btoa(text);
};
const summary = (d) => ({pixels: Array.from(d.pixels), empty: d.empty, box: d.box,
                         stroke: d.stroke, adjusted: d.adjusted, offset: d.offset});
"""

FROM_PYTHON_JS = """async ({items}) => {
  const r = await import('/web/pad_recipe.js');
  """ + PAGE_JS + """
  const out = [];
  for (const {kind, width, height, data} of items) {
    const bytes = await unpack(data);
    const ink = kind === 'rgba'
      ? r.padInk({width, height, data: new Uint8ClampedArray(bytes)})
      : {width, height, ink: new Float64Array(bytes)};
    out.push(summary(r.padDigit(ink)));
  }
  return out;
}"""

# Drawn by Chromium as the pad draws: white canvas, black, 18-pixel round pen; dots are
# filled discs (the pad's pointer-down), strokes go through the canvas's own stroke().
IN_PAGE_JS = """async ({drawings, side, pen}) => {
  const r = await import('/web/pad_recipe.js');
  """ + PAGE_JS + """
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = side;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const out = [];
  for (const {dots, strokes} of drawings) {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, side, side);
    ctx.fillStyle = ctx.strokeStyle = '#000';
    ctx.lineWidth = pen;
    ctx.lineCap = ctx.lineJoin = 'round';
    for (const [x, y] of dots) {
      ctx.beginPath();
      ctx.arc(x, y, pen / 2, 0, 2 * Math.PI);
      ctx.fill();
    }
    for (const points of strokes) {
      ctx.beginPath();
      ctx.moveTo(...points[0]);
      for (const p of points.slice(1)) ctx.lineTo(...p);
      ctx.stroke();
    }
    const image = ctx.getImageData(0, 0, side, side);
    out.push({rgba: await pack(image.data), result: summary(r.padDigit(r.padInk(image)))});
  }
  return out;
}"""


def packed(a: np.ndarray) -> str:
    return base64.b64encode(zlib.compress(np.ascontiguousarray(a).tobytes(), 1)).decode()


def rgba_of(image) -> np.ndarray:
    if not isinstance(image, Image.Image):
        image = Image.fromarray(image)
    return np.asarray(to_rgba(image))


def sample_digits(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``n`` 28x28 uint8 digits: MNIST test digits, or hand-made rings and bars without them
    (with a warning: those are easier)."""
    if (SHARED_DATA / "MNIST" / "raw").is_dir():
        images, _, _ = load_split("mnist", SHARED_DATA, train=False)
        return [images[int(i), 0].numpy() for i in rng.choice(len(images), n, replace=False)]
    warn_stand_in(SHARED_DATA / "MNIST" / "raw", "hand-made rings")
    found = []
    for _ in range(n):
        a = ring(height=rng.uniform(12, 20), width=rng.uniform(3, 14), stroke=rng.uniform(2, 4),
                 centre=tuple(rng.uniform(12, 16, 2)))
        found.append(np.maximum(a, np.roll(a, int(rng.integers(-4, 5)), axis=1)))
    return found


def python_inputs(rng: np.random.Generator) -> dict[str, tuple[str, np.ndarray]]:
    """name -> ("rgba", (H, W, 4) uint8) for padInk, or ("ink", (H, W) float64) for padDigit."""
    found = {}
    for k, a in enumerate(sample_digits(130, rng)):
        found[f"digit drawn on the pad {k}"] = ("rgba", rgba_of(pad_drawing(a, rng)))
    for k, a in enumerate(sample_digits(70, rng)):
        fmt = ("sketchpad", "sketchpad", "transparent", "inverted", "photo")[k % 5]
        found[f"synth {fmt} {k}"] = ("rgba", rgba_of(synth.render(a, rng, fmt)))
    white = np.full((PAD_SIDE, PAD_SIDE), 255, np.uint8)
    speck, pair = white.copy(), white.copy()
    speck[10, 270] = 0
    pair[100, 100:102] = 0
    line, diagonal = white.copy(), Image.fromarray(white)
    line[40:240, 131:149] = 0
    ImageDraw.Draw(diagonal).line([(20, 250), (260, 30)], fill=0, width=PAD_PEN)
    awkward = {"blank": white, "transparent": np.zeros((PAD_SIDE, PAD_SIDE, 4), np.uint8),
               "a lone pixel": speck, "two pixels": pair, "a straight line": line,
               "a diagonal line": diagonal, "a pen dot": pen_ring(height=18, width=18),
               "cut by the top edge": pen_ring(centre=(40, 140)),
               "cut by the left edge": pen_ring(centre=(140, 10), height=120, width=90),
               "in a corner": pen_ring(centre=(255, 255), height=40, width=30),
               "a symmetric ring": pen_ring(centre=(140.5, 140.5), height=201, width=131),
               "a hairline": pen_ring(height=220, pen=1), "a marker": pen_ring(pen=60),
               "white on black": 255 - pen_ring(),
               "grey paper": (0.8 * pen_ring()).astype(np.uint8),
               "a 1x1 black image": np.zeros((1, 1), np.uint8),
               "wide canvas": pen_ring(canvas=400)[100:300]}
    for name, image in awkward.items():
        found[name] = ("rgba", rgba_of(image))
    ink = pad_ink(pen_ring(canvas=150, centre=(75, 75), height=110, width=70, pen=10))
    inks = {"doubled ink": np.kron(ink, np.ones((2, 2))), "faint ink": 0.6 * ink,
            "noise": rng.uniform(0, 1, (50, 70)), "sparse noise": rng.uniform(0, 1, (90, 40)) ** 8,
            "one ink pixel": np.ones((1, 1)), "a column": np.ones((30, 1))}
    # Mirror-symmetric frames of odd fitted width: their centres of mass fall exactly half-way
    # between two offsets, where the last bit of either side's sums would decide.
    for width in (60, 91, 120, 145, 163, 192):
        frame = np.zeros((240, 260))
        frame[20:220, 20:20 + width] = 1
        frame[40:200, 40:width] = 0
        inks[f"a symmetric frame {width} wide"] = frame
    for name, a in inks.items():
        found[name] = ("ink", np.asarray(a, np.float64))
    return found


def in_page_drawings(rng: np.random.Generator) -> dict[str, dict]:
    """name -> what Chromium draws: digits' centre lines as pen dots, and scribbles."""
    found = {}
    for k, a in enumerate(sample_digits(80, rng)):
        points = pad_points(a, rng)[:, ::-1]                # (x, y) as the canvas takes them
        found[f"digit drawn by Chromium {k}"] = {"dots": points.tolist(), "strokes": []}
    for k in range(40):
        strokes = [rng.uniform(-10, PAD_SIDE + 10, (int(rng.integers(2, 9)), 2)).tolist()
                   for _ in range(int(rng.integers(1, 4)))]
        dots = rng.uniform(0, PAD_SIDE, (int(rng.integers(0, 2)), 2)).tolist()
        found[f"scribble {k}"] = {"dots": dots, "strokes": strokes}
    found["one pen dot"] = {"dots": [[140.3, 97.8]], "strokes": []}
    found["a stroke"] = {"dots": [], "strokes": [[[60, 200], [220, 80]]]}
    return found


def batches(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


@pytest.fixture(scope="module")
def agreement(js_page):
    """name -> (Python's RecipeSteps, the page's summary) for every input, both sides' work."""
    rng = np.random.default_rng(0)
    found = {}
    inputs = python_inputs(rng)
    names = list(inputs)
    for chunk in batches(names, 50):
        items = [{"kind": inputs[n][0], "width": inputs[n][1].shape[1],
                  "height": inputs[n][1].shape[0], "data": packed(inputs[n][1])} for n in chunk]
        for name, page in zip(chunk, js_page.evaluate(FROM_PYTHON_JS, {"items": items})):
            kind, a = inputs[name]
            found[name] = (pad_recipe(pad_ink(a) if kind == "rgba" else a), page)
    drawings = in_page_drawings(rng)
    names = list(drawings)
    for chunk in batches(names, 40):
        pages = js_page.evaluate(IN_PAGE_JS, {"drawings": [drawings[n] for n in chunk],
                                              "side": PAD_SIDE, "pen": PAD_PEN})
        for name, page in zip(chunk, pages):
            rgba = np.frombuffer(zlib.decompress(base64.b64decode(page["rgba"])), np.uint8)
            found[name] = (pad_recipe(pad_ink(rgba.reshape(PAD_SIDE, PAD_SIDE, 4))), page["result"])
    return found


def test_the_page_prepares_every_drawing_as_python_does(agreement):
    assert len(agreement) >= 300
    for name, (steps, page) in agreement.items():
        assert page["empty"] == steps.digit.empty, name
        difference = np.abs(np.asarray(page["pixels"], np.float32).reshape(28, 28)
                            - steps.digit.pixels).max()
        assert difference <= TOLERANCE, (name, difference)
        if not steps.digit.empty:
            assert (page["adjusted"], tuple(page["offset"])) == (steps.adjusted, steps.offset), name
            assert tuple(page["box"]) == steps.box, name
            assert page["stroke"] == pytest.approx(steps.stroke, abs=1e-9), name
    drawn = [name for name, (steps, _) in agreement.items() if not steps.digit.empty]
    assert len(drawn) >= 280                   # what matters is compared, not nothing with nothing
    kinds = {steps.adjusted for steps, _ in agreement.values()}
    assert kinds == {"kept", "thickened", "thinned"}


def test_lenet5_gives_the_same_answer_on_the_page_and_in_python(agreement):
    clf = Classifier.from_checkpoint(default_checkpoint("lenet5"))
    drawn = [(steps.digit.pixels, page) for steps, page in agreement.values()
             if not steps.digit.empty]
    python = torch.from_numpy(np.stack([p for p, _ in drawn]))[:, None]
    page = torch.tensor([d["pixels"] for _, d in drawn], dtype=torch.float32).reshape(-1, 1, 28, 28)
    with torch.inference_mode():
        answers = [clf.logits(normalize(x, clf.mean, clf.std)).argmax(1) for x in (python, page)]
    assert torch.equal(*answers)


# The page's engine on the page's own 28x28 inputs: every layer, as float32 bytes (base64),
# so that hundreds of inputs travel in a few calls.
ENGINE_JS = """async ({inputs}) => {
  const {loadNetwork} = await import('/web/engine.js');
  const net = window.__lenet5 ||= await loadNetwork('/checkpoints/lenet5.safetensors');
  const names = [], chunks = [];
  for (const pixels of inputs) {
    const run = net.forward(net.normalize(Float32Array.from(pixels)));
    for (const [name, out] of Object.entries(run.outputs)) {
      if (chunks.length < Object.keys(run.outputs).length) names.push([name, out.data.length]);
      chunks.push(out.data);
    }
  }
  const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) { all.set(c, at); at += c.length; }
  let text = '';
  const bytes = new Uint8Array(all.buffer);
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return {names, data: btoa(text)};
}"""


def test_the_pages_engine_on_the_pages_inputs_is_pythons_at_every_layer(agreement, js_page):
    """The whole page path (recipe, then engine) against the whole Python path (recipe, then
    Classifier.forward) on every drawing that is not blank: every layer within 1e-4, the same
    answer."""
    clf = Classifier.from_checkpoint(default_checkpoint("lenet5"))
    drawn = [(steps.digit.pixels, page["pixels"]) for steps, page in agreement.values()
             if not steps.digit.empty]
    worst, compared = {}, 0
    for chunk in batches(drawn, 40):
        result = js_page.evaluate(ENGINE_JS, {"inputs": [page for _, page in chunk]})
        values = np.frombuffer(base64.b64decode(result["data"]), np.float32)
        python = torch.from_numpy(np.stack([p for p, _ in chunk]))[:, None]
        with torch.inference_mode():
            logits, outputs = clf.forward(normalize(python, clf.mean, clf.std))
        at = 0
        for k in range(len(chunk)):
            for name, size in result["names"]:
                page = values[at:at + size]
                at += size
                difference = float(np.abs(page - outputs[name][k].numpy().ravel()).max())
                worst[name] = max(worst.get(name, 0.0), difference)
            assert int(np.argmax(page)) == int(logits[k].argmax())
            compared += 1
    print(f"\n{compared} drawings; worst difference per layer: "
          + ", ".join(f"{name} {value:.1e}" for name, value in worst.items()))
    assert compared >= 280 and max(worst.values()) <= 1e-4, worst
