"""Every visitor sees their own drawing: requests sent at the same time must each get exactly
what they get alone, at the engine (threads sharing one Classifier) and at the server
(several gradio_client clients at once). Compared by content, not by status."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from helpers import data_url, pad_pixels, ring, seven_png
from PIL import Image

from lenet.inside.inference import Classifier
from lenet.net.checkpoint import default_checkpoint
from lenet.pictures.prediction import render_pictures

THREADS, ROUNDS = 6, 12


def drawings() -> list[bytes]:
    """Two different digits: a seven and a zero."""
    import io
    zero = Image.fromarray(255 - ring(112, centre=(56, 56), height=80, width=52, stroke=10))
    buffer = io.BytesIO()
    zero.convert("RGB").save(buffer, "PNG")
    return [seven_png(), buffer.getvalue()]


def photos() -> list[Image.Image]:
    rng = np.random.default_rng(7)
    sky = np.zeros((64, 64, 3), np.uint8)
    sky[:32] = (90, 150, 230)
    sky[32:] = (40, 110, 60)
    return [Image.fromarray(rng.integers(0, 255, (48, 48, 3), np.uint8)), Image.fromarray(sky)]


def everything(clf: Classifier, source, class_index: int | None) -> dict[str, np.ndarray]:
    """All that the page shows of one request, as arrays."""
    result = clf.predict(source)
    index = result.index if class_index is None else class_index
    cam, sal = clf.attributions(result.tensor, index)
    pictures = render_pictures(clf, result, clf.heatmaps(result, index))
    out = {"probabilities": result.probabilities, "cam": cam, "saliency": sal,
           "cam picture": np.asarray(pictures.grad_cam),
           "saliency picture": np.asarray(pictures.saliency)}
    out.update({f"map {k}": v for k, v in result.feature_maps.items()})
    out.update({f"grid {k}": np.asarray(v) for k, v in pictures.feature_maps.items()})
    out.update({f"strip {k}": np.asarray(v) for k, v in pictures.linear.items()})
    return out


def mismatches(got: dict, alone: dict) -> list[str]:
    if got.keys() != alone.keys():
        return ["different outputs: " + ", ".join(sorted(got.keys() ^ alone.keys()))]
    return [k for k in alone if got[k] is None or got[k].shape != alone[k].shape
            or not np.allclose(got[k], alone[k], atol=1e-5)]


@pytest.mark.parametrize("name, sources", [("lenet5", drawings()), ("convnet", photos())])
def test_threads_sharing_one_classifier_each_get_their_own_answer(name, sources):
    clf = Classifier.from_checkpoint(default_checkpoint(name))
    # Each request explains either its top class or class 3, so both paths of the
    # attributions run at once.
    cases = [(s, c) for s in range(len(sources)) for c in (None, 3)]
    alone = {case: everything(clf, sources[case[0]], case[1]) for case in cases}
    errors, wrong, lock = [], [], threading.Lock()
    start = threading.Barrier(THREADS)

    def visitor(k: int) -> None:
        start.wait()
        for r in range(ROUNDS):
            case = cases[(k + r) % len(cases)]
            try:
                bad = mismatches(everything(clf, sources[case[0]], case[1]), alone[case])
            except Exception as exc:  # the old engine failed here: hooks and grads shared
                with lock:
                    errors.append(repr(exc)[:200])
                continue
            if bad:
                with lock:
                    wrong.append((k, r, case, bad))
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(visitor, range(THREADS)))
    assert not errors, f"{len(errors)} failed requests, e.g. {errors[:2]}"
    assert not wrong, f"{len(wrong)} of {THREADS * ROUNDS} requests got another's result: {wrong[:3]}"
    assert all(p.grad is None for p in clf.model.parameters())


def test_clients_drawing_at_once_each_get_their_own_pictures(server):
    """Several gradio_client visitors, two different drawings, label then pictures, at the
    same time; every picture must equal what that drawing gets alone."""
    from gradio_client import Client

    from ui.api import EXPLAIN_TOP
    clf = Classifier.from_checkpoint(default_checkpoint("lenet5"))  # independent of the app's
    sources = drawings()
    alone = []
    for png in sources:
        result = clf.predict_pixels(pad_pixels(png).numpy())   # the pad's recipe, as the API
        shown = render_pictures(clf, result, clf.heatmaps(result))
        alone.append((result.label, [np.asarray(p.convert("RGB")) for p in
                                     (shown.grad_cam, shown.saliency,
                                      *[shown.feature_maps[n] for n in clf.map_layer_names],
                                      *[shown.linear[n] for n in clf.linear_names])]))
    clients = [Client(server, download_files=False, verbose=False) for _ in range(4)]
    wrong, start = [], threading.Barrier(len(clients))

    def visitor(k: int) -> None:
        start.wait()
        for r in range(4):
            which = (k + r) % 2
            value = data_url(sources[which])
            _, label, _, _ = clients[k].predict(value, api_name="/classify_sketch")
            cam, sal, _steps, *maps = clients[k].predict(value, EXPLAIN_TOP, None,
                                                         api_name="/sketch_pictures")
            pictures = [np.asarray(Image.open(g["path"]).convert("RGB"))
                        for g in (cam, sal, *maps)]
            expected_label, expected = alone[which]
            if label["label"] != expected_label or len(pictures) != len(expected) or any(
                    p.shape != e.shape or not np.array_equal(p, e)
                    for p, e in zip(pictures, expected)):
                wrong.append((k, r, which, label["label"]))
    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(visitor, range(len(clients))))
    assert alone[0][0] != alone[1][0]  # the two drawings really are different digits
    assert not wrong, f"{len(wrong)} of 16 pen-ups got another drawing's answer: {wrong[:4]}"
