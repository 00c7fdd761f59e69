"""Uploads prepared in the page (web/upload_recipes.js) against Python's path for the same
bytes (``Classifier.prepare``: lenet/inputs open_image, then the photo or the digit recipe),
on a few hundred uploads of each kind made here from CIFAR-10 photos and MNIST digits, with
the committed networks answering both; then the page's refusals against Python's.

Chromium decodes PNG, JPEG and GIF as PIL does (libpng, libjpeg-turbo with the same DCT and
upsampling: measured byte for byte), and both recipes lay transparency on white from the
colour premultiplied by alpha in whole levels, which is what a canvas stores. So the 32x32
photos are equal level for level (PHOTO_TOLERANCE: Python's input goes through normalisation
and back), and the 28x28 digits to float32 rounding; a sum added in another order that lands
on the other side of a threshold would show as far more (DIGIT_TOLERANCE). Other browsers'
decoders may differ by a level on JPEG; only Chromium is tested here.
"""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA
from helpers import declared_png
from PIL import Image

from lenet.inputs import synth
from lenet.inputs.images import InputError, open_image
from lenet.inside.inference import Classifier
from lenet.net.checkpoint import default_checkpoint
from lenet.training.data import find_image_folder, load_split

ORIENTATION = 0x0112           # EXIF tag: how a viewer must turn the stored pixels
PHOTOS, DIGITS = 40, 44        # sources; every source is uploaded in several ways
CHUNK = 64                     # uploads per page.evaluate
PHOTO_TOLERANCE = 1e-6         # equal levels; normalisation and back costs ~1.5e-8
DIGIT_TOLERANCE = 1e-5         # float32 rounding is ~6e-8; a flipped threshold is far more
AGREEMENT = 0.99               # within tolerance, and the same answer from the network

PAGE_JS = """async ({items}) => {
  const r = await import('/web/upload_recipes.js');
  const out = [];
  for (const {kind, data} of items) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const {image, width, height} = await r.readPicture(new File([bytes], 'upload'));
    const pixels = kind === 'photo' ? r.photoPixels(image) : r.digitPixels(image);
    out.push({width, height, pixels: pixels && Array.from(pixels)});
  }
  return out;
}"""


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def exif_jpeg(image: Image.Image, orientation: int, quality: int = 90) -> bytes:
    """``image`` stored turned so that EXIF ``orientation`` turns it back upright."""
    stored = image.transpose(UNDO[orientation]) if orientation in UNDO else image
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return encode(stored, "JPEG", quality=quality, exif=exif.tobytes())


T = Image.Transpose
# The transposition that, undone by a viewer reading ``orientation``, shows the image upright.
UNDO = {2: T.FLIP_LEFT_RIGHT, 3: T.ROTATE_180, 4: T.FLIP_TOP_BOTTOM, 5: T.TRANSPOSE,
        6: T.ROTATE_90, 7: T.TRANSVERSE, 8: T.ROTATE_270}


def enlarged(image: Image.Image, factor: float) -> Image.Image:
    return image.resize((round(image.width * factor), round(image.height * factor)), Image.BICUBIC)


def with_transparency(rgb: Image.Image, rng: np.random.Generator) -> Image.Image:
    """RGBA: a transparent frame around the subject and a soft, half-transparent edge."""
    h, w = rgb.height, rgb.width
    ys, xs = np.mgrid[0:h, 0:w]
    edge = np.minimum.reduce([ys, xs, h - 1 - ys, w - 1 - xs]) / (rng.uniform(0.1, 0.3) * min(h, w))
    alpha = np.clip(edge, 0, 1) * 255
    return Image.fromarray(np.dstack([np.asarray(rgb), alpha.astype(np.uint8)]), "RGBA")


def photo_uploads(rng: np.random.Generator) -> list[tuple[str, bytes]]:
    folder = find_image_folder(SHARED_DATA)
    if folder is None:
        pytest.skip(f"no CIFAR-10 image folder under {SHARED_DATA}")
    files = sorted((folder / "test").glob("*/*.jpg"))
    picks = [files[i] for i in rng.choice(len(files), PHOTOS, replace=False)]
    uploads = []
    for n, path in enumerate(picks):
        original = path.read_bytes()
        rgb = Image.open(io.BytesIO(original)).convert("RGB")
        big = enlarged(rgb, 4)
        wide = enlarged(rgb, 7.3).crop((0, 40, 233, 180))                # 233x140
        uploads += [
            ("original jpeg", original),
            (f"jpeg q{(30, 60, 95)[n % 3]} 4x", encode(big, "JPEG", quality=(30, 60, 95)[n % 3])),
            ("png 7.3x", encode(enlarged(rgb, 7.3), "PNG", compress_level=1)),
            (f"exif {2 + n % 7}", exif_jpeg(big, 2 + n % 7)),
            ("rgba png", encode(with_transparency(big, rng), "PNG", compress_level=1)),
            ("grey jpeg", encode(big.convert("L"), "JPEG", quality=85)),
            ("non-square jpeg", encode(wide if n % 2 else wide.transpose(T.ROTATE_90), "JPEG",
                                       quality=80)),
            ("palette gif", encode(big.convert("P"), "GIF")),
        ]
        if n % 8 == 0:   # several bands of rows in the page, and a big shrink
            uploads.append(("1200x900 jpeg", encode(rgb.resize((1200, 900), Image.BICUBIC), "JPEG",
                                                    quality=90)))
    return uploads


def digit_uploads(rng: np.random.Generator) -> list[tuple[str, bytes]]:
    if not (SHARED_DATA / "MNIST" / "raw").is_dir():
        pytest.skip(f"no MNIST under {SHARED_DATA}")
    images, _, _ = load_split("mnist", SHARED_DATA, train=False)
    picks = rng.choice(len(images), DIGITS, replace=False)
    uploads = []
    for n, i in enumerate(picks):
        digit = images[i, 0].numpy()
        for fmt in synth.FORMATS:
            drawn = synth.render(digit, rng, fmt)
            if fmt == "photo":      # a photo of paper: JPEG, as a phone stores it
                uploads.append((fmt, encode(drawn, "JPEG", quality=int(rng.integers(60, 95)))))
            else:
                uploads.append((fmt, encode(drawn, "PNG", compress_level=1)))
        sketch = synth.render(digit, rng, "sketchpad").convert("RGB")
        paper = synth.render(digit, rng, "photo")
        small = synth.render(digit, rng, "inverted").resize((140, 140), Image.BILINEAR)
        uploads += [
            (f"exif {2 + n % 7} photo", exif_jpeg(paper, 2 + n % 7, quality=85)),
            ("enlarged 2.5x", encode(enlarged(small, 2.5), "PNG", compress_level=1)),
            ("soft rgba", encode(soft_layer(sketch), "PNG", compress_level=1)),
        ]
    return uploads


def soft_layer(sketch: Image.Image) -> Image.Image:
    """Black ink on a transparent layer whose strokes have antialiased (partial) alpha."""
    ink = 255 - np.asarray(sketch.convert("L").resize((sketch.width // 2, sketch.height // 2),
                                                      Image.BOX))
    rgba = np.zeros((*ink.shape, 4), np.uint8)
    rgba[..., 3] = ink
    return Image.fromarray(rgba, "RGBA")


def in_page(js_page, kind: str, uploads: list[tuple[str, bytes]]) -> list[dict]:
    js_page.evaluate("async () => (await import('/web/shared.js')).setFiles('/')")
    out = []
    for start in range(0, len(uploads), CHUNK):
        items = [{"kind": kind, "data": base64.b64encode(data).decode()}
                 for _, data in uploads[start:start + CHUNK]]
        out += js_page.evaluate(PAGE_JS, {"items": items})
    return out


def in_python(clf: Classifier, data: bytes) -> np.ndarray | None:
    """The network's input for ``data`` as the app makes it, in [0, 1], (C, H, W)."""
    tensor, _ = clf.prepare(data)
    return None if tensor is None else clf.pixels(tensor)


def answers(clf: Classifier, inputs: list[np.ndarray | None]) -> list[int | None]:
    batch = [x for x in inputs if x is not None]
    if not batch:
        return [None] * len(inputs)
    from lenet.net.models import normalize
    with torch.inference_mode():
        x = normalize(torch.from_numpy(np.stack(batch)), clf.mean, clf.std)
        found = iter(clf.logits(x).argmax(1).tolist())
    return [None if x is None else next(found) for x in inputs]


def compare(clf: Classifier, kind: str, uploads, page, tolerance: float) -> dict:
    """Per way of uploading and in all: uploads, worst |page - Python|, how many within
    ``tolerance``, how many answered alike; printed, and returned for the asserts."""
    shape = (clf.channels, clf.height, clf.width)
    python = [in_python(clf, data) for _, data in uploads]
    js = [None if p["pixels"] is None else np.asarray(p["pixels"], np.float32).reshape(shape)
          for p in page]
    empty = sum(x is None for x in python)
    assert empty <= 0.02 * len(python), f"Python found nothing in {empty} of {len(python)} uploads"
    rows = {}
    for (way, _), py, pg, a, b in zip(uploads, python, js, answers(clf, python), answers(clf, js)):
        if (py is None) != (pg is None):
            worst = np.inf
        else:
            worst = 0.0 if py is None else float(np.abs(py - pg).max())
        row = rows.setdefault(way.split(" ")[0] if way.startswith("exif") else way, [0, 0.0, 0, 0])
        row[0] += 1
        row[1] = max(row[1], worst)
        row[2] += worst <= tolerance
        row[3] += a == b
    total = [sum(r[0] for r in rows.values()), max(r[1] for r in rows.values()),
             sum(r[2] for r in rows.values()), sum(r[3] for r in rows.values())]
    print(f"\n{kind}: page vs Python ({clf.name}), tolerance {tolerance:g}")
    for way, (n, worst, close, same) in [*rows.items(), ("all", total)]:
        print(f"  {way:<18}{n:>5} uploads  worst {worst:.3g} ({worst * 255:.2f} levels)  "
              f"within {close}/{n}  same answer {same}/{n}")
    return {"uploads": total[0], "worst": total[1], "within": total[2], "same": total[3]}


def pil_lanczos(data: bytes, size: int = 32) -> np.ndarray:
    """The photo recipe as it was: JPEG decoded at a reduced scale where it could be, PIL's
    LANCZOS on 8-bit values in two stages; (3, size, size) in [0, 1]."""
    image = open_image(data, target=4 * size)
    rgba = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA"))
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    small = rgba.convert("RGB").resize((size, size), Image.LANCZOS, reducing_gap=3.0,
                                       box=(left, top, left + side, top + side))
    return np.asarray(small, np.float32).transpose(2, 0, 1) / 255


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(22)


def test_photos_in_the_page_equal_pythons(js_page, rng):
    uploads = photo_uploads(rng)
    assert len(uploads) >= 300
    clf = Classifier.from_checkpoint(default_checkpoint("convnet"))
    page = in_page(js_page, "photo", uploads)
    result = compare(clf, "photos", uploads, page, PHOTO_TOLERANCE)
    assert result["within"] >= AGREEMENT * result["uploads"], result
    assert result["same"] >= AGREEMENT * result["uploads"], result
    # The comparison can fail: PIL's 8-bit LANCZOS (the recipe before it was written out in
    # float64) differs from the page on most of these uploads.
    old = [np.abs(pil_lanczos(data) - np.asarray(p["pixels"]).reshape(3, 32, 32)).max()
           for (_, data), p in zip(uploads, page)]
    close = sum(d <= PHOTO_TOLERANCE for d in old)
    print(f"  PIL's LANCZOS against the page: within {close}/{len(old)}, worst {max(old) * 255:.0f} levels")
    assert close < 0.5 * len(old)
    # The page's pictures come out upright and the size the header said (EXIF 5-8 swap sides).
    for (way, data), p in zip(uploads, page):
        assert (p["width"], p["height"]) == open_image(data).size, way


def test_digits_in_the_page_equal_pythons(js_page, rng):
    uploads = digit_uploads(rng)
    assert len(uploads) >= 300
    clf = Classifier.from_checkpoint(default_checkpoint("lenet5"))
    result = compare(clf, "digits", uploads, in_page(js_page, "digit", uploads), DIGIT_TOLERANCE)
    assert result["within"] >= AGREEMENT * result["uploads"], result
    assert result["same"] >= AGREEMENT * result["uploads"], result


# ---------------------------------------------------------------------------- refusals

REFUSE_JS = """async ({data, size}) => {
  const r = await import('/web/upload_recipes.js');
  const bytes = data === null ? new Uint8Array(size)
                              : Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const decode = globalThis.createImageBitmap;
  let decoded = 0;
  globalThis.createImageBitmap = (...args) => { decoded++; return decode(...args); };
  try {
    await r.readPicture(new File([bytes], 'upload'));
    return {message: null, decoded};
  } catch (error) {
    return {message: error.message, kind: error.constructor.name,
            isUploadError: error instanceof r.UploadError, decoded};
  } finally {
    globalThis.createImageBitmap = decode;
  }
}"""


def refusal(js_page, data: bytes | None, size: int = 0) -> dict:
    payload = None if data is None else base64.b64encode(data).decode()
    result = js_page.evaluate(REFUSE_JS, {"data": payload, "size": size})
    assert result["message"] is not None, "accepted"
    assert result["isUploadError"], result
    assert "\n" not in result["message"]
    return result


def python_message(data: bytes) -> str:
    with pytest.raises(InputError) as caught:
        open_image(data)
    return str(caught.value)


def declared_jpeg(width: int, height: int) -> bytes:
    """An 8x8 JPEG whose frame header declares ``width`` x ``height``."""
    data = bytearray(encode(Image.new("L", (8, 8), 255), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def test_a_file_over_the_upload_limit_is_refused_unread(js_page):
    from lenet.inputs.preprocess import UPLOAD_LIMIT_MB
    result = refusal(js_page, None, size=(UPLOAD_LIMIT_MB + 1) * 2**20)
    assert result["message"].startswith(f"the file is {UPLOAD_LIMIT_MB + 1} MB; the limit is "
                                        f"{UPLOAD_LIMIT_MB} MB")
    assert result["decoded"] == 0


@pytest.mark.parametrize("width, height, make", [(20000, 20000, declared_png),
                                                  (9000, 8000, declared_jpeg)], ids=["png", "jpeg"])
def test_a_header_declaring_too_many_pixels_is_refused_before_decoding(js_page, width, height, make):
    """The file is tiny and would not even decode: the refusal names the declared size and the
    limit in Python's words, and nothing was decoded."""
    result = refusal(js_page, make(width, height))
    assert result["decoded"] == 0
    limit = python_message(make(width, height)).split("; ")[-1]     # "the limit is 64 megapixels"
    assert result["message"].startswith(f"the image is {width}x{height} pixels; {limit}")


@pytest.mark.parametrize("data", [b"%PDF-1.4 not a picture at all" * 40, b"\x89PNG\r\n\x1a\n" + bytes(12)],
                         ids=["text", "broken png"])
def test_not_an_image_is_refused(js_page, data):
    result = refusal(js_page, data)
    assert "not an image" in result["message"]


def test_an_empty_file_is_refused(js_page):
    assert "empty" in refusal(js_page, b"")["message"]


HEADER_JS = """async ({files}) => {
  const r = await import('/web/upload_picture.js');
  return files.map((data) => r.declaredSize(Uint8Array.from(atob(data), (c) => c.charCodeAt(0))));
}"""


def test_the_declared_size_is_read_from_every_format_as_pil_reads_it(js_page):
    files = []
    for width, height in [(1, 1), (300, 17), (17, 300), (40, 3001), (16383, 2)]:
        grey = Image.linear_gradient("L").resize((width, height))
        rgba = grey.convert("RGBA")
        files += [encode(grey, "PNG"), encode(grey, "GIF"), encode(grey.convert("RGB"), "BMP"),
                  encode(grey, "JPEG"), encode(grey, "JPEG", progressive=True),
                  exif_jpeg(grey, 6), encode(grey, "WEBP", lossless=True),
                  encode(grey, "WEBP", quality=80),
                  # lossy with alpha, and with EXIF: WebP's extended header
                  encode(rgba, "WEBP", quality=80), encode(grey, "WEBP", exif=b"Exif\0\0")]
    found = js_page.evaluate(HEADER_JS, {"files": [base64.b64encode(f).decode() for f in files]})
    expected = [dict(zip(("width", "height"), Image.open(io.BytesIO(f)).size)) for f in files]
    assert found == expected
