"""Does the ConvNet give the same answer for the same photo however it is uploaded?

A seeded choice of CIFAR-10 test images (the 32x32 JPEGs) is enlarged and re-encoded the ways
people upload photos; every file goes through the app's own path (``Classifier.predict`` on
the file's bytes, i.e. ``open_image`` + ``photo_to_array``). Printed per way: how often the
answer agrees with the answer for the 32x32 original, and the accuracy; for the app's answers
(the ConvNet averages each photo's logits with its mirror image's) and, beside them, for one
pass of the same network. Targets, for the app's answers: at least 95 % agreement for every
way, at least 70 % accuracy on the originals.

    python benchmarks/photo_consistency.py [--images 300] [--seed 0] [--checkpoint PATH]
"""
from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from lenet.inside.inference import Classifier
from lenet.net.checkpoint import answer_accuracy, default_checkpoint
from lenet.training.data import default_data_dir, find_image_folder, image_suffixes

BIG = 256                 # the enlarged photos' side
ORIENTATION = 0x0112      # EXIF tag; 6 means "rotate 90 degrees clockwise to display"
TARGET_AGREEMENT = 0.95
TARGET_ACCURACY = 0.70


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def exif_rotated_jpeg(image: Image.Image) -> bytes:
    """The pixels stored turned 90 degrees anticlockwise, with an Orientation tag (6) that
    tells a viewer to turn them back: what a phone held sideways writes."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    return encode(image.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=90,
                  exif=exif.tobytes())


def letterboxed(image: Image.Image) -> Image.Image:
    """384x384 enlargement in the middle of a 512x384 dark frame (the app crops the centre)."""
    frame = Image.new("RGB", (512, 384), (20, 20, 20))
    frame.paste(image.resize((384, 384), Image.LANCZOS), (64, 0))
    return frame


# Each way: the 32x32 RGB original -> the bytes a user would upload.
WAYS = {
    "png 256 lanczos": lambda im: encode(im.resize((BIG, BIG), Image.LANCZOS), "PNG", compress_level=1),
    "jpeg q90 256": lambda im: encode(im.resize((BIG, BIG), Image.LANCZOS), "JPEG", quality=90),
    "jpeg exif-rotated": lambda im: exif_rotated_jpeg(im.resize((BIG, BIG), Image.LANCZOS)),
    "rgba png 256": lambda im: encode(im.resize((BIG, BIG), Image.LANCZOS).convert("RGBA"), "PNG",
                                      compress_level=1),
    "jpeg 512x384 frame": lambda im: encode(letterboxed(im), "JPEG", quality=90),
    "png 256 bilinear": lambda im: encode(im.resize((BIG, BIG), Image.BILINEAR), "PNG", compress_level=1),
}


def pick_files(data_dir: Path, images: int, seed: int) -> list[tuple[Path, str]]:
    folder = find_image_folder(data_dir)
    if folder is None:
        raise SystemExit(f"error: no CIFAR-10 image folder (test/<class>/*.jpg) under {data_dir}")
    files = sorted((p, p.parent.name) for p in (folder / "test").glob("*/*")
                   if p.suffix.lower() in image_suffixes())
    keep = np.random.RandomState(seed).choice(len(files), min(images, len(files)), replace=False)
    return [files[i] for i in sorted(keep)]


def check_orientation() -> None:
    """The EXIF way must show the picture upright, or it measures rotation instead."""
    image = Image.fromarray(np.tile(np.arange(BIG, dtype=np.uint8), (BIG, 1))).convert("RGB")
    shown = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(exif_rotated_jpeg(image)))),
                       np.float32)
    assert np.abs(shown - np.asarray(image, np.float32)).mean() < 3, "EXIF orientation is wrong"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=300, help="test images to use")
    p.add_argument("--seed", type=int, default=0, help="seed for the choice of images")
    p.add_argument("--data-dir", default=default_data_dir(),
                   help="folder holding test/<class>/*.jpg, directly or under cifar10/")
    p.add_argument("--checkpoint", default=str(default_checkpoint("convnet")))
    args = p.parse_args()
    check_orientation()
    clf = Classifier.from_checkpoint(args.checkpoint)
    one_pass = Classifier.from_checkpoint(args.checkpoint)
    one_pass.mirror_average = False
    picks = pick_files(Path(args.data_dir), args.images, args.seed)
    ways = ["original", *WAYS]
    # (classifier, way) -> [agreements with the original's answer, right answers]
    counts = {(c, way): [0, 0] for c in ("app", "one") for way in ways}
    start = time.perf_counter()
    for path, label in picks:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as im:
            rgb = im.convert("RGB")
        files = {"original": data, **{way: make(rgb) for way, make in WAYS.items()}}
        for c, model in (("app", clf), ("one", one_pass)):
            original = model.predict(data).label
            for way, file in files.items():
                answer = model.predict(file).label
                counts[c, way][0] += answer == original
                counts[c, way][1] += answer == label
    n = len(picks)
    print(f"{clf!r} from {args.checkpoint}: recorded test accuracy "
          f"{100 * clf.meta['test_accuracy']:.2f} % in one pass, "
          f"{100 * answer_accuracy(clf.meta):.2f} % as the app answers "
          f"({'averaged with the mirror image' if clf.mirror_average else 'one pass'})")
    print(f"{n} CIFAR-10 test images (seed {args.seed}), {time.perf_counter() - start:.0f} s")
    print(f"{'':<22}{'as the app answers':>21}{'one pass':>21}")
    print(f"{'way':<22}" + f"{'agreement':>11}{'accuracy':>10}" * 2)
    for way in ways:
        cells = "".join(("" if way == "original" else f"{100 * counts[c, way][0] / n:>9.1f} %")
                        .rjust(11) + f"{100 * counts[c, way][1] / n:>8.1f} %"
                        for c in ("app", "one"))
        print(f"{'original 32x32 jpeg' if way == 'original' else way:<22}{cells}")
    worst = min(counts["app", way][0] for way in WAYS) / n
    accuracy = counts["app", "original"][1] / n
    met = worst >= TARGET_AGREEMENT and accuracy >= TARGET_ACCURACY
    print(f"lowest agreement {100 * worst:.1f} % (target {100 * TARGET_AGREEMENT:.0f} %), "
          f"accuracy on originals {100 * accuracy:.1f} % "
          f"(target {100 * TARGET_ACCURACY:.0f} %): {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
