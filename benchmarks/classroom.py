"""Classroom: 30 gradio_client visitors draw at once, on app.py and on a reference app.

Each visitor lifts the pen 8 times, 0.5 s after the previous pen-up was answered, with a
different MNIST test digit redrawn on the page's 112x112 pad every time (no drawing is sent
twice in a run). A pen-up is ``/classify_sketch`` and then ``/sketch_pictures`` with the same
drawing, as the page does. ``classroom_reference.py`` has the same endpoints answering at once:
Gradio's own cost. An app pen-up is right when its label and all its pictures, pixel for pixel,
are what the engine gives that drawing alone, computed here before any server starts.

    python benchmarks/classroom.py [--visitors 30] [--penups 8] [--gap 0.5] [--only app|reference]
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import io
import os
import signal
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass

import numpy as np
import torch
from browser import ROOT, free_port, start_app, stop_app
from PIL import Image
from timing import all_at_once

from lenet.inputs import synth
from lenet.inputs.images import open_image
from lenet.inputs.pad import pad_digit, pad_ink
from lenet.inside.inference import Classifier
from lenet.net.checkpoint import default_checkpoint
from lenet.pictures.input_steps import pad_strip
from lenet.pictures.prediction import render_pictures
from lenet.training.data import load_split

DATA = ROOT.parent / "shared" / "data"
PAD_SIZE = 112   # pixels of the PNG the page's pad sends
TARGET, VIEW = "top prediction", "before the activation"
TIMEOUT = 60     # seconds one call may take before it counts as a failure
WARM_UPS = 2     # pen-ups before timing, so that first-request costs stay out of the figures
PICTURES = 10    # images per pen-up: Grad-CAM, saliency, input steps, C1 S2 C3 S4 C5, F6, output
SERVERS = {"reference": "benchmarks/classroom_reference.py", "app": "app.py"}


@dataclass
class Drawing:
    value: str                   # the data URL the pad sends
    truth: str                   # MNIST's label
    label: str = ""              # what the engine says about this drawing alone
    pictures: tuple = ()         # digests of its pictures' pixels, alone


def pixels_digest(image: Image.Image) -> bytes:
    pixels = np.asarray(image.convert("RGB"))
    return hashlib.sha256(repr(pixels.shape).encode() + pixels.tobytes()).digest()


def make_drawings(count: int, clf: Classifier, seed: int = 0) -> list[Drawing]:
    """``count`` different non-empty MNIST test digits, redrawn in black on a white pad."""
    if not (DATA / "MNIST" / "raw").is_dir():
        sys.exit(f"MNIST is expected in {DATA / 'MNIST' / 'raw'} (the four IDX files)")
    x, y, _ = load_split("mnist", DATA, train=False)
    rng, seen, drawings = np.random.default_rng(seed), set(), []
    for i in rng.permutation(len(x)):
        ink = synth.render(x[i, 0].numpy(), rng, "sketchpad").convert("RGB")
        buffer = io.BytesIO()
        ink.resize((PAD_SIZE, PAD_SIZE), Image.LANCZOS).save(buffer, "PNG")
        png = buffer.getvalue()
        if png in seen or clf.predict(png).empty:
            continue
        seen.add(png)
        drawings.append(Drawing("data:image/png;base64," + base64.b64encode(png).decode(),
                                str(int(y[i]))))
        if len(drawings) == count:
            return drawings
    sys.exit(f"MNIST's test set has fewer than {count} usable digits")


def solo(clf: Classifier, drawing: Drawing) -> None:
    """What the engine gives ``drawing`` with nothing else running: the label and pictures."""
    png = base64.b64decode(drawing.value.partition(",")[2])
    result = clf.predict_pixels(pad_digit(pad_ink(open_image(png))).pixels[None])  # as the API
    shown = render_pictures(clf, result, clf.heatmaps(result))  # the app draws them with the same defaults
    drawing.label = result.label
    drawing.pictures = tuple(pixels_digest(im) for im in (
        shown.grad_cam, shown.saliency, pad_strip(png),
        *[shown.feature_maps[n] for n in clf.map_layer_names],
        *[shown.linear[n] for n in clf.linear_names]))


def pen_up(client, drawing: Drawing) -> dict:
    start = time.perf_counter()
    quick = client.submit(drawing.value, api_name="/classify_sketch").result(timeout=TIMEOUT)
    middle = time.perf_counter()
    shown = client.submit(drawing.value, TARGET, VIEW,
                          api_name="/sketch_pictures").result(timeout=TIMEOUT)
    return {"drawing": drawing, "label": (quick[1] or {}).get("label"), "files": shown,
            "label_s": middle - start, "pictures_s": time.perf_counter() - middle}


def read_picture(file) -> bytes | None:
    """The pixels' digest of one returned image (a file in the server's cache, or its URL)."""
    try:
        if os.path.exists(file["path"] or ""):
            return pixels_digest(Image.open(file["path"]))
        with urllib.request.urlopen(file["url"], timeout=TIMEOUT) as response:
            return pixels_digest(Image.open(io.BytesIO(response.read())))
    except (OSError, TypeError, KeyError, ValueError):  # missing, unreadable or cut short
        return None


def classroom(url: str, drawings: list[Drawing], visitors: int, penups: int, gap: float) -> dict:
    """Every visitor lifts the pen ``penups`` times at once with the others; returns the
    answers, the failures and the wall time."""
    from gradio_client import Client
    clients = [Client(url, download_files=False, verbose=False) for _ in range(visitors)]
    answers, failures, lock = [], [], threading.Lock()

    def visit(k, client):
        for j in range(penups):
            if j:
                time.sleep(gap)
            try:
                answer = pen_up(client, drawings[k * penups + j])
                with lock:
                    answers.append(answer)
            except Exception as exc:  # a failed pen-up is the measurement, not a crash
                with lock:
                    failures.append(f"{type(exc).__name__}: {exc}"[:120])
    wall = all_at_once(visit, clients)
    return {"answers": answers, "failures": failures, "wall": wall}


def check(answers: list[dict]) -> tuple[int, int, int]:
    """(wrong labels, pen-ups with a wrong or missing picture, labels equal to MNIST's)."""
    wrong_labels = wrong_pictures = truths = 0
    for a in answers:
        drawing = a["drawing"]
        wrong_labels += a["label"] != drawing.label
        truths += a["label"] == drawing.truth
        wrong_pictures += [read_picture(f) for f in a["files"] or ()] != list(drawing.pictures)
    return wrong_labels, wrong_pictures, truths


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return 1000 * values[int(q * (len(values) - 1))] if values else float("nan")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--visitors", type=int, default=30, help="students drawing at once (default 30)")
    p.add_argument("--penups", type=int, default=8, help="pen-ups per student (default 8)")
    p.add_argument("--gap", type=float, default=0.5,
                   help="seconds between a pen-up's answer and the next pen-up (default 0.5)")
    p.add_argument("--only", choices=["app", "reference"], help="run one side (default both)")
    args = p.parse_args()
    torch.set_num_threads(1)  # as app.py: the same arithmetic, so the same pixels
    clf = Classifier.from_checkpoint(default_checkpoint("lenet5"))
    names = [args.only] if args.only else list(SERVERS)
    per_server = WARM_UPS + args.visitors * args.penups
    pool = make_drawings(per_server * len(names), clf)
    drawings = {name: pool[k * per_server:(k + 1) * per_server] for k, name in enumerate(names)}
    for drawing in drawings.get("app", []):
        solo(clf, drawing)
    rows = {}
    for name in names:
        port = free_port()
        proc, _ = start_app(port, script=SERVERS[name])
        try:
            url = f"http://127.0.0.1:{port}/"
            classroom(url, drawings[name][:WARM_UPS], 1, WARM_UPS, 0)
            run = classroom(url, drawings[name][WARM_UPS:], args.visitors, args.penups, args.gap)
            run["crash"] = proc.poll()  # None while the server lives
            if name == "app":  # the reference has no model: only its pictures' presence counts
                run["wrong"], run["bad_pictures"], run["truths"] = check(run["answers"])
            else:
                present = [len([f for f in a["files"] or () if f]) for a in run["answers"]]
                run["wrong"], run["bad_pictures"] = "-", sum(n != PICTURES for n in present)
            rows[name] = run
        finally:
            stop_app(proc)
    print(f"{'server':<10}{'visitors x pen-ups':>19}{'failures':>9}{'crashes':>8}"
          f"{'wrong labels':>13}{'wrong/missing pictures':>23}{'label p50/p95 ms':>18}"
          f"{'pictures p50/p95 ms':>21}{'pen-ups/s':>10}")
    for name, r in rows.items():
        labels = [a["label_s"] for a in r["answers"]]
        pictures = [a["pictures_s"] for a in r["answers"]]
        r["rate"] = len(r["answers"]) / r["wall"]
        print(f"{name:<10}{f'{args.visitors} x {args.penups}':>19}{len(r['failures']):>9}"
              f"{r['crash'] is not None:>8d}{r['wrong']:>13}{r['bad_pictures']:>23}"
              f"{f'{percentile(labels, 0.5):.0f} / {percentile(labels, 0.95):.0f}':>18}"
              f"{f'{percentile(pictures, 0.5):.0f} / {percentile(pictures, 0.95):.0f}':>21}"
              f"{r['rate']:>10.2f}")
        if r["crash"] is not None:
            how = f" ({signal.Signals(-r['crash']).name})" if r["crash"] < 0 else ""
            print(f"    {SERVERS[name]} exited during the run with return code {r['crash']}{how}")
        for failure in sorted(set(r["failures"]))[:3]:
            print(f"    {failure}")
    if "app" in rows and rows["app"]["answers"]:
        answered, alone = len(rows["app"]["answers"]), drawings["app"][WARM_UPS:]
        solo_right = sum(d.label == d.truth for d in alone)
        print(f"for information, labels equal to MNIST's: app {100 * rows['app']['truths'] / answered:.1f} %"
              f" of {answered} pen-ups; engine alone {100 * solo_right / len(alone):.1f} %")
    if len(rows) == 2:
        print(f"ratio app / reference pen-ups/s: {rows['app']['rate'] / rows['reference']['rate']:.2f}x")
    print("targets: 0 failures, 0 crashes, every label right, every picture present, >= 0.80x")


if __name__ == "__main__":
    main()
