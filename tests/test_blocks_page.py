"""The building-blocks tab as the page computes it (web/blocks_*.js) against the Python engine
(lenet/inside/blocks.py, ui/blocks.py), in Chromium: the input tensor a picture becomes, the
kernels, the convolution, ReLU and pooling for many settings, the formulas and words, the
one-line messages, and the tab itself mounted in a page, which sends nothing after loading.
Arrays come back from the page as base64 float32 bytes."""
from __future__ import annotations

import base64
import functools
import html
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT
from PIL import Image, ImageDraw

from lenet.inside.blocks import (
    BlockError,
    image_to_tensor,
    learned_kernel,
    make_kernel,
    run_block,
    user_kernel,
)
from lenet.inside.inference import Classifier
from lenet.net.checkpoint import default_checkpoint
from lenet.page import tab_html, tab_starts
from tools.blocks_files import CONSTANTS, SAMPLE, render_constants
from ui.blocks import DEFAULTS, BlocksTab, checked, sample_picture

TOLERANCE = 1e-5   # |page - Python| for any value of a map (float32 sums in another order)
FIRST_CONV = {"lenet5": "C1", "convnet": "conv1"}

# In the page: a PNG (base64) -> ImageBitmap; a Float32Array -> base64; a kernel from a spec.
HELPERS = """
const bitmap = async (png) => createImageBitmap(await (await fetch('data:image/png;base64,' + png)).blob());
const b64 = (a) => { const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength); let s = '';
  for (let i = 0; i < u.length; i += 32768) s += String.fromCharCode(...u.subarray(i, i + 32768));
  return btoa(s); };
const math = await import('/web/blocks_math.js'), image = await import('/web/blocks_image.js');
const safetensors = await import('/web/safetensors.js');
const constants = await (await fetch('/web/blocks_tab.json')).json();
const named = {fixed: constants.fixed_kernels, pair: constants.derivative_pair};
const kernelOf = async (spec, channels) => {
  if (spec.kind === 'named') return math.makeKernel(spec.name, 1, named);
  if (spec.kind === 'random') return math.makeKernel('random', channels, named, spec);
  if (spec.kind === 'custom') return math.userKernel(spec.rows);
  const buffer = await (await fetch(`/checkpoints/${spec.model}.safetensors`)).arrayBuffer();
  const {meta, tensors} = safetensors.parseSafetensors(buffer);
  const row = meta.layers.find((r) => r.kind === 'conv');
  return math.learnedFilter(tensors[row.weight], spec.k);
};
const tensorOut = (t) => ({shape: t.shape, data: b64(t.data)});
"""

RUN_JS = """async (cases) => {""" + HELPERS + """
  const out = [];
  for (const c of cases) {
    const x = image.pictureTensor(await bitmap(c.png), {grey: c.grey, maxSide: 512});
    const kernel = await kernelOf(c.kernel, x.shape[0]);
    try {
      const r = math.runBlock(x, kernel, c.settings);
      out.push({input: tensorOut(x), conv: tensorOut(r.conv), activated: tensorOut(r.activated),
                pooled: tensorOut(r.pooled), shapes: r.shapes, formulas: r.formulas});
    } catch (e) {
      out.push({error: e.message, block: e instanceof math.BlockError});
    }
  }
  return out;
}"""


def from_page(t: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(t["data"]), np.float32).reshape(t["shape"])


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# ---------------------------------------------------------------------------- pictures

def photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """Smooth colour blobs plus noise: edges, flat areas and every value 0-255."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    rgb = np.stack([np.sin(7 * x + c) * np.cos(5 * y - c) for c in range(3)], -1) * 100 + 128
    rgb = np.clip(rgb + rng.normal(0, 20, rgb.shape), 0, 255).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


@functools.lru_cache(maxsize=1)
def pictures() -> dict[str, Image.Image]:
    seven = Image.new("RGBA", (112, 112), (0, 0, 0, 0))     # the pad: ink on transparent paper
    ImageDraw.Draw(seven).line([(30, 20), (80, 20), (50, 95)], fill=(0, 0, 0, 255), width=9)
    return {"sample": sample_picture(), "photo": photo(96, 72, 1),
            "grey": photo(64, 80, 2).convert("L"),                  # a grey file
            "grey rgb": photo(50, 40, 3).convert("L").convert("RGB"),   # grey by content
            "large": photo(1000, 700, 4),                           # reduced to 512x358
            "large grey": photo(530, 900, 5).convert("L"),          # reduced to 302x512
            "seven": seven}


@pytest.fixture(scope="module")
def models():
    return {name: Classifier.from_checkpoint(default_checkpoint(name)) for name in FIRST_CONV}


def python_kernel(spec: dict, channels: int, models) -> torch.Tensor:
    if spec["kind"] == "named":
        return make_kernel(spec["name"])
    if spec["kind"] == "random":
        return make_kernel("random", channels, count=spec["count"], size=spec["size"],
                           seed=spec["seed"])
    if spec["kind"] == "custom":
        return user_kernel(spec["rows"])
    layer = getattr(models[spec["model"]].model.features, FIRST_CONV[spec["model"]])
    return learned_kernel(layer.weight[spec["k"]:spec["k"] + 1])


def case(picture: str, kernel: dict, grey: bool = False, **settings) -> dict:
    return {"picture": picture, "kernel": kernel, "grey": grey, "settings": settings}


NAMED = ["laplacian", "sobel_x", "sobel_y", "box_blur", "sharpen", "identity", "derivative_pair"]
CASES = [
    *[case("sample", {"kind": "named", "name": n}) for n in NAMED],
    *[case("grey", {"kind": "named", "name": n}, padding=1, relu=True) for n in NAMED[:3]],
    case("sample", {"kind": "random", "count": 10, "size": 5, "seed": 0}, relu=True, pool="max"),
    case("photo", {"kind": "random", "count": 3, "size": 3, "seed": 7}, stride=2, padding=3,
         bias=0.5),
    case("grey", {"kind": "random", "count": 32, "size": 7, "seed": 2**31 - 1}, stride=3,
         pool="avg", poolSize=3, poolStride=1),
    case("grey rgb", {"kind": "random", "count": 4, "size": 5, "seed": 123456789}, relu=True,
         pool="avg", poolSize=4, poolStride=4, bias=-2.25),
    case("sample", {"kind": "custom", "rows": [["0", "-1", "0"], ["-1", " 5 ", "-1"],
                                               ["0", "-1", "0.125"]]}, stride=4, padding=2),
    case("photo", {"kind": "custom", "rows": [[1.5, -2, 1e-3], [0, 0, 0], [-1, 2, -1.5]]},
         relu=True, pool="max", poolSize=3, poolStride=2),
    case("sample", {"kind": "learned", "model": "lenet5", "k": 3}, padding=2, relu=True,
         pool="max"),
    case("grey", {"kind": "learned", "model": "lenet5", "k": 5}, stride=2),
    case("photo", {"kind": "learned", "model": "convnet", "k": 11}, relu=True, pool="avg"),
    case("grey", {"kind": "learned", "model": "convnet", "k": 0}, padding=1, bias=3),
    case("large", {"kind": "random", "count": 10, "size": 5, "seed": 0}, relu=True, pool="max"),
    case("large", {"kind": "named", "name": "laplacian"}, stride=2, padding=1),
    case("large grey", {"kind": "learned", "model": "convnet", "k": 2}, pool="max",
         poolSize=2, poolStride=3),
    case("seven", {"kind": "named", "name": "derivative_pair"}, grey=True, relu=True),
    case("seven", {"kind": "random", "count": 6, "size": 3, "seed": 42}, grey=True,
         pool="avg"),
    case("photo", {"kind": "named", "name": "sobel_y"}, grey=True, stride=2),
]


def page_cases(cases) -> list[dict]:
    shown = pictures()
    return [{**c, "png": base64.b64encode(png(shown[c["picture"]])).decode()} for c in cases]


def python_run(c: dict, models):
    x = image_to_tensor(pictures()[c["picture"]], grey=c["grey"])
    s = c["settings"]
    kernel = python_kernel(c["kernel"], x.shape[1], models)
    return x, run_block(x, kernel, s.get("bias", 0), s.get("stride", 1), s.get("padding", 0),
                        s.get("relu", False), s.get("pool", "none"), s.get("poolSize", 2),
                        s.get("poolStride", 2))


# ---------------------------------------------------------------------------- the files

def test_the_committed_files_are_pythons():
    assert CONSTANTS.read_text(encoding="utf-8") == render_constants(), \
        "run python -m tools.blocks_files"
    committed = np.asarray(Image.open(SAMPLE).convert("RGB"))
    assert np.array_equal(committed, np.asarray(sample_picture())), "run python -m tools.blocks_files"


# ---------------------------------------------------------------------------- the numbers

def test_every_setting_gives_pythons_numbers(js_page, models):
    answers = js_page.evaluate(RUN_JS, page_cases(CASES))
    for c, page in zip(CASES, answers):
        what = f"{c['picture']}, {c['kernel']}, {c['settings']}"
        assert "error" not in page, f"{what}: {page}"
        x, result = python_run(c, models)
        # the input: the same tensor, decoded by the browser and by PIL, resized here and there
        np.testing.assert_allclose(from_page(page["input"]), x[0].numpy(), atol=1e-6, rtol=0,
                                   err_msg=what)
        for name in ("conv", "activated", "pooled"):
            expected = getattr(result, name).numpy()
            got = from_page(page[name])
            assert got.shape == expected.shape, what
            np.testing.assert_allclose(got, expected, atol=TOLERANCE, rtol=1e-6,
                                       err_msg=f"{what}: {name}")
        assert page["formulas"] == result.size_formula, what
        assert {k: tuple(v) for k, v in page["shapes"].items()} == result.shapes, what


def test_a_broken_convolution_is_caught(js_page, models):
    """The comparison can fail: a kernel flipped (convolution as mathematicians write it)
    differs from Python's by far more than the tolerance."""
    c = case("photo", {"kind": "custom", "rows": [[1, 2, 3], [0, 0, 0], [-1, -2, -4]]})
    flipped = {**c, "kernel": {"kind": "custom", "rows": [[-4, -2, -1], [0, 0, 0], [3, 2, 1]]}}
    page = js_page.evaluate(RUN_JS, page_cases([flipped]))[0]
    _, result = python_run(c, models)
    assert np.abs(from_page(page["conv"]) - result.conv.numpy()).max() > 100 * TOLERANCE


def test_the_random_bank_is_the_same_draw_in_both():
    bank = make_kernel("random", 3, count=4, size=3, seed=9)
    from lenet.inside.prng import Draws
    torch.testing.assert_close(bank.reshape(-1), torch.from_numpy(Draws(9).normal(108)).float(),
                               rtol=0, atol=0)


# ---------------------------------------------------------------------------- words

WORDS_JS = """async (cases) => {""" + HELPERS + """
  const words = await import('/web/blocks_words.js');
  return cases.map((c) => {
    try { return {settings: words.checked(c, constants)}; } catch (e) { return {error: e.message}; }
  });
}"""

BAD = [dict(seed=-1), dict(seed=2**31), dict(count=0), dict(count=33), dict(size=8),
       dict(stride=0), dict(stride=5), dict(padding=-1), dict(padding=4), dict(pool_size=1),
       dict(pool_size=5), dict(pool_stride=0), dict(bias=1000.5), dict(bias=-1e300),
       dict(pool="median"), dict(source="webcam"), dict(maps_as="colour")]
GOOD = [dict(seed=2.5), dict(seed=3.5), dict(count=None), dict(bias=None), dict(stride=1.4),
        dict(bias=-1000)]


def python_message(tab, **changes) -> str:
    with warnings.catch_warnings(record=True):
        return html.unescape(tab.run(**{**DEFAULTS, **changes}).status)


@pytest.fixture(scope="module")
def tab(models):
    return BlocksTab(models["lenet5"], models["convnet"])


def test_bad_settings_get_pythons_one_line(js_page, tab):
    page = js_page.evaluate(WORDS_JS, [{**DEFAULTS, **c, "upload": None} for c in BAD + GOOD])
    for changes, answer in zip(BAD, page[:len(BAD)]):
        said = python_message(tab, **changes)
        assert said.startswith("⚠️ ") and "\n" not in said, changes
        assert "⚠️ " + answer.get("error", "no error") == said, changes
    for changes, answer in zip(GOOD, page[len(BAD):]):
        python = {k: v for k, v in checked({**DEFAULTS, **changes}).items() if k in changes}
        assert {k: answer["settings"][k] for k in changes} == python, changes


CELLS = [[["1", "x", "3"]] * 3, [["1", "", "3"]] * 3, [["1", "2", "inf"]] * 3,
         [["1", "2", "3"], ["4", "nan", "6"], ["7", "8", "9"]], [["0x10", "1", "1"]] * 3,
         [["1e3", "-.5", "+2"], ["1", "1", "1"], ["1", "1", "1"]]]


def test_custom_kernels_are_read_as_python_reads_them(js_page):
    answers = js_page.evaluate("""async (cells) => {""" + HELPERS + """
      return cells.map((rows) => { try { return {data: Array.from(math.userKernel(rows).data)}; }
                                   catch (e) { return {error: e.message}; } });
    }""", CELLS)
    for rows, page in zip(CELLS, answers):
        try:
            expected = {"data": user_kernel(rows).reshape(-1).tolist()}
        except BlockError as exc:
            expected = {"error": str(exc)}
        assert page == expected, rows


def test_a_window_larger_than_its_input_gets_pythons_line(js_page, models):
    tiny = Image.fromarray(np.arange(48, dtype=np.uint8).reshape(4, 4, 3) * 5, "RGB")
    c = case("tiny", {"kind": "random", "count": 2, "size": 7, "seed": 1}, padding=1)
    pool = case("tiny", {"kind": "named", "name": "identity"}, padding=1, pool="max", poolSize=5)
    encoded = base64.b64encode(png(tiny)).decode()
    answers = js_page.evaluate(RUN_JS, [{**c, "png": encoded}, {**pool, "png": encoded}])
    x = image_to_tensor(tiny)
    for spec, answer in zip((c, pool), answers):
        s = spec["settings"]
        with pytest.raises(BlockError) as info:
            run_block(x, python_kernel(spec["kernel"], 3, models), padding=s["padding"],
                      pool=s.get("pool", "none"), pool_size=s.get("poolSize", 2))
        assert answer == {"error": str(info.value), "block": True}


KERNEL_WORDS_JS = """async (cases) => {""" + HELPERS + """
  const words = await import('/web/blocks_words.js');
  const out = [];
  for (const c of cases) {
    const kernel = await kernelOf(c.kernel, c.channels);
    out.push(words.kernelWords(kernel, c.about, c.channels, constants));
  }
  return out;
}"""


def test_kernel_numbers_and_words_are_pythons(js_page, tab, models):
    specs = [({"kind": "named", "name": "laplacian"}, 3, ""),
             ({"kind": "named", "name": "box_blur"}, 1, ""),
             ({"kind": "named", "name": "derivative_pair"}, 1, ""),
             ({"kind": "random", "count": 3, "size": 3, "seed": 5}, 1, "drawn"),
             ({"kind": "random", "count": 10, "size": 5, "seed": 0}, 3, "drawn"),
             ({"kind": "custom", "rows": [["0.125", "-0.125", "0.375"], ["1", "2", "3"],
                                          ["-0.004", "0.005", "2.675"]]}, 1, "typed"),
             ({"kind": "learned", "model": "convnet", "k": 4}, 1, "learned"),
             ({"kind": "learned", "model": "lenet5", "k": 0}, 3, "learned")]
    page = js_page.evaluate(KERNEL_WORDS_JS, [{"kernel": k, "channels": c, "about": a}
                                              for k, c, a in specs])
    for (spec, channels, about), answer in zip(specs, page):
        python = tab._kernel_words(python_kernel(spec, channels, models), about, channels)
        text = "\n\n".join([answer["words"], *[
            (f["title"] + "\n\n" if f["title"] else "") + "```\n" + f["text"] + "\n```"
            for f in answer["filters"]]])
        assert text == python.replace("**Kernel in use**", "Kernel in use"), spec


# ---------------------------------------------------------------------------- the tab

MOUNT_JS = """async ({html}) => {
  (await import('/web/shared.js')).setFiles('/');
  document.body.insertAdjacentHTML('beforeend', `<div id="blocks-test"></div>`);
  const element = document.querySelector('#blocks-test');
  element.innerHTML = html;
  const start = JSON.parse(element.querySelector('[data-start]').dataset.start);
  const module = await import('/web/' + start.module);
  await module.mount({element, start, base: new URL('/web/', location.href)});
  return element.dataset.ready;
}"""

LAST_JS = """async () => {
  await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));   // the redraw
  const last = window.cnnPage.blocks.last;
  const b64 = (a) => { const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength); let s = '';
    for (let i = 0; i < u.length; i += 32768) s += String.fromCharCode(...u.subarray(i, i + 32768));
    return btoa(s); };
  const t = (x) => ({shape: x.shape, data: b64(x.data)});
  return {status: document.querySelector('#blocks-status').innerText,
          formulas: document.querySelector('#blocks-formulas').innerText,
          kernel: document.querySelector('#blocks-test .bb-kernel').innerText,
          grids: [...document.querySelectorAll('#blocks-test [data-picture]')].filter((f) => !f.hidden)
                   .map((f) => f.dataset.picture + ':' + f.querySelectorAll('canvas').length),
          last: last && {input: t(last.image), conv: t(last.result.conv),
                         pooled: t(last.result.pooled), activated: t(last.result.activated)}}; }"""


@pytest.fixture(scope="module")
def mounted(js_page):
    named = lambda path: Path(path).resolve().relative_to(ROOT).as_posix()  # noqa: E731
    start = tab_starts({name: default_checkpoint(name) for name in FIRST_CONV}, named)["blocks"]
    assert js_page.evaluate(MOUNT_JS, {"html": tab_html("blocks", start)}) == "true"
    return js_page


def slide(slider, value):
    """Move a range input as a drag does: its value, then the input event."""
    slider.evaluate("(e, v) => { e.value = v; e.dispatchEvent(new Event('input', {bubbles: true})); }",
                    str(value))


def shown(page) -> dict:
    return page.evaluate(LAST_JS)


def assert_python_block(page, tab, **changes):
    """What the page shows equals the Python handler's run with the same settings: the
    status line and formulas as text, every map's numbers (and the same pictures shown)."""
    got = shown(page)
    python = tab.run(**{**DEFAULTS, **changes})
    assert got["status"] == python.status.replace("**", "")
    formulas = re.sub(r"[`*]|^- ", "", python.formulas, flags=re.M)
    lines = lambda text: [line.strip() for line in text.split("\n") if line.strip()]  # noqa: E731
    assert lines(got["formulas"]) == lines(formulas)
    return got, python


def test_the_tab_recomputes_in_the_page_and_sends_nothing(mounted, tab, models):
    page, requests = mounted, []
    page.on("request", lambda r: requests.append(r.url))
    got, python = assert_python_block(page, tab)                     # the defaults: Laplacian
    assert got["status"].startswith("Laplacian on sample: input 3×256×256 → conv 1×254×254")
    assert got["grids"] == ["seen:1", "conv:1"]
    box = page.locator("#blocks-test")
    # the kernel menu, the learned filters' names read from the checkpoints in the page
    assert box.locator("select[name=kernel] option").all_inner_texts() == tab.kernels
    # controls as a visitor uses them: keyboard on the menu, clicks, typing
    box.locator("select[name=kernel]").select_option("N random filters")
    box.locator("input[name=seed]").fill("7")
    box.get_by_label("ReLU after the convolution").check()
    box.get_by_role("radio", name="max", exact=True).click()
    box.locator("summary", has_text="Stride, padding").click()
    slide(box.locator("input[name=padding]"), 2)
    box.locator("input[name=bias]").fill("-0.5")
    box.locator("input[name=stride]").focus()
    page.keyboard.press("ArrowRight")                                # stride 2
    settings = dict(kernel="N random filters", seed=7, relu=True, pool="max", padding=2,
                    bias=-0.5, stride=2)
    got, python = assert_python_block(page, tab, **settings)
    assert got["grids"] == ["seen:1", "conv:10", "relu:10", "pooled:10"]
    x = image_to_tensor(sample_picture())
    expected = run_block(x, make_kernel("random", 3, count=10, size=5, seed=7), -0.5, 2, 2,
                         True, "max")
    np.testing.assert_allclose(from_page(got["last"]["pooled"]), expected.pooled.numpy(),
                               atol=TOLERANCE, rtol=1e-6)
    # a setting no one can use: Python's one line, and nothing drawn
    box.locator("input[name=bias]").fill("5000")
    got = shown(page)
    assert got["status"] == html.unescape(python_message(tab, **{**settings, "bias": 5000}))
    assert got["last"] is None and got["grids"] == ["seen:0", "conv:0"]
    box.locator("input[name=bias]").fill("0")
    box.locator("select[name=kernel]").select_option("custom 3x3")
    box.get_by_label("custom kernel row 2, column 2").fill("4x")
    said = python_message(tab, **{**settings, "bias": 0, "kernel": "custom 3x3",
                                  "custom": [[0, 1, 0], [1, "4x", 1], [0, 1, 0]]})
    assert shown(page)["status"] == said and "row 2, column 2" in said
    box.get_by_label("custom kernel row 2, column 2").fill("-4")
    assert_python_block(page, tab, **{**settings, "bias": 0, "kernel": "custom 3x3"})
    box.locator("select[name=kernel]").select_option("ConvNet conv1 filter 11")
    got, _ = assert_python_block(page, tab, **{**settings, "bias": 0,
                                               "kernel": "ConvNet conv1 filter 11"})
    assert not [url for url in requests if not url.startswith(("data:", "blob:"))]


def test_the_drawing_the_photo_and_an_upload(mounted, tab, tmp_path):
    page, requests = mounted, []
    box = page.locator("#blocks-test")
    page.evaluate("() => window.cnnPage.blocks.set({kernel: 'Laplacian', stride: 1, padding: 0, "
                  "bias: 0, relu: false, pool: 'none'})")   # the tab's starting settings
    box.get_by_role("radio", name="my drawing").click()
    assert shown(page)["status"] == "Draw a digit in the first tab first."
    page.on("request", lambda r: requests.append(r.url))
    # the draw tab publishes its drawing: a canvas with the pad's ink on transparent paper
    seven = pictures()["seven"]
    page.evaluate("""async (png) => {
      const b = await createImageBitmap(await (await fetch('data:image/png;base64,' + png)).blob());
      const canvas = document.createElement('canvas'); canvas.width = b.width; canvas.height = b.height;
      canvas.getContext('2d').drawImage(b, 0, 0);
      (await import('/web/shared.js')).publish('digit', {pixels: new Float32Array(784), picture: canvas,
                                                         caption: 'your drawing'});
    }""", base64.b64encode(png(seven)).decode())
    got = shown(page)
    assert got["status"].startswith("Laplacian on my drawing: input 1×112×112")
    grey = image_to_tensor(seven, grey=True)
    np.testing.assert_allclose(from_page(got["last"]["input"]), grey[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(from_page(got["last"]["conv"]),
                               run_block(grey, make_kernel("laplacian")).conv.numpy(), atol=TOLERANCE)
    # the photo tab's photo, in colour
    box.get_by_role("radio", name="my photo").click()
    assert shown(page)["status"] == "Upload a photo in the photo tab first."
    colour = photo(120, 90, 8)
    page.evaluate("""async (png) => {
      const b = await createImageBitmap(await (await fetch('data:image/png;base64,' + png)).blob());
      (await import('/web/shared.js')).publish('photo', {pixels: null, picture: b, caption: 'your photo'});
    }""", base64.b64encode(png(colour)).decode())
    assert shown(page)["status"].startswith("Laplacian on my photo: input 3×90×120")
    # an upload here, larger than 512 pixels
    box.get_by_role("radio", name="upload").click()
    assert shown(page)["status"] == "Upload a picture in the box above first."
    path = tmp_path / "large.png"
    photo(900, 640, 9).save(path)
    box.locator("input[type=file]").set_input_files(str(path))
    page.wait_for_function("() => document.querySelector('#blocks-status').innerText.includes('→')")
    got, _ = assert_python_block(page, tab, source="upload", upload=str(path))
    np.testing.assert_allclose(from_page(got["last"]["input"]), image_to_tensor(path)[0].numpy(),
                               atol=1e-6)
    not_a_picture = tmp_path / "notes.png"
    not_a_picture.write_bytes(b"these are words, not a picture")
    box.locator("input[type=file]").set_input_files(str(not_a_picture))
    page.wait_for_function("() => document.querySelector('#blocks-status').innerText.startsWith('⚠️')")
    status = shown(page)["status"]
    assert "\n" not in status and "not an image" in status
    assert not [url for url in requests if not url.startswith(("data:", "blob:"))]
