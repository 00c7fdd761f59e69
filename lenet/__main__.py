"""Command line: ``python -m lenet evaluate ...``, ``python -m lenet predict ...``,
``python -m lenet trace ...``, ``python -m lenet gallery ...``, ``python -m lenet experiments ...``,
``python -m lenet flip ...`` and ``python -m lenet site OUT``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lenet.net.checkpoint import (
    CheckpointError,
    atomic_write_bytes,
    averages_mirror,
    default_checkpoint,
    load_checkpoint,
)
from lenet.net.models import REGISTRY
from lenet.training.data import DataError, default_data_dir, load_split
from lenet.training.engine import confusion_matrix, evaluate, format_report


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=list(REGISTRY), required=True)
    p.add_argument("--checkpoint", help="checkpoint file (default: checkpoints/<model>.safetensors)")


def _load(args):
    """The checkpoint that ``--model`` and ``--checkpoint`` name: (model, meta, its path), and
    a one-line error when it holds another model than ``--model``."""
    path = args.checkpoint or default_checkpoint(args.model)
    model, meta = load_checkpoint(path)
    if meta["model"] != args.model:
        raise CheckpointError(f"the checkpoint holds {meta['model']}, not {args.model}")
    return model, meta, path


def cmd_evaluate(args) -> int:
    model, meta, _ = _load(args)
    classes = tuple(meta["classes"])
    x, y, _ = load_split(meta["dataset"], args.data_dir, train=False, classes=classes)
    result = evaluate(model, x, y, mean=meta["mean"], std=meta["std"])
    line = (f"{meta['title']}: test accuracy {100 * result['accuracy']:.2f} % "
            f"on {len(x)} images (loss {result['loss']:.4f})")
    if averages_mirror(meta):
        # The app answers with the mean of each image's and its mirror image's logits.
        result = evaluate(model, x, y, mean=meta["mean"], std=meta["std"], mirror=True)
        line += (f" in one pass; {100 * result['accuracy']:.2f} % (loss {result['loss']:.4f}) "
                 f"averaged with the mirror images, as the app answers")
    print(line)
    print(format_report(classes, confusion_matrix(y, result["predictions"], len(classes))))
    return 0


def cmd_gallery(args) -> int:
    from lenet.inside.gallery import MISTAKES, build_gallery, gallery_path, save_gallery
    model, meta, checkpoint = _load(args)
    x, y, _ = load_split(meta["dataset"], args.data_dir, train=False,
                         classes=tuple(meta["classes"]))
    gallery = build_gallery(model, meta, x, y, n_mistakes=MISTAKES.get(meta["dataset"]))
    path = gallery_path(checkpoint)
    size = save_gallery(path, gallery)
    print(f"wrote {path} ({size:,} bytes): {gallery!r}; "
          f"test accuracy {100 * gallery.meta['test_accuracy']:.2f} %")
    return 0


def cmd_experiments(args) -> int:
    from lenet.inside.experiments import write_side_files
    model, meta, checkpoint = _load(args)
    x, y, _ = load_split(meta["dataset"], args.data_dir, train=False,
                         classes=tuple(meta["classes"]))
    write_side_files(model, meta, checkpoint, x, y, say=lambda line: print(line, flush=True))
    return 0


def cmd_predict(args) -> int:
    from lenet.inputs.images import png_bytes
    from lenet.inside.inference import Classifier, InputError
    from lenet.pictures.prediction import render_pictures
    from lenet.pictures.visualize import enlarge
    clf = Classifier(*_load(args)[:2])
    failed = 0
    for path in args.files:
        try:
            result = clf.predict(path)
        except InputError as exc:
            failed += 1
            print(json.dumps({"path": path, "error": str(exc)}) if args.json
                  else f"{path}: error: {exc}", flush=True)
            continue
        top = result.top(args.top)
        if args.json:
            print(json.dumps({"path": path, "label": result.label,
                              "confidences": {c: round(p, 6) for c, p in top}}), flush=True)
        else:
            guesses = ", ".join(f"{c} {100 * p:.1f} %" for c, p in top)
            print(f"{path}: {result.label}" + (f" ({guesses})" if guesses else ""), flush=True)
        if args.save_maps and not result.empty:
            out, stem = Path(args.save_maps), Path(path).stem
            pictures = render_pictures(clf, result, clf.heatmaps(result))
            named = {"input": enlarge(result.input_image, 224), "gradcam": pictures.grad_cam,
                     "saliency": pictures.saliency, **pictures.feature_maps}
            for name, image in named.items():
                atomic_write_bytes(out / f"{stem}_{name}.png", png_bytes(image))
    return 1 if failed else 0


def cmd_trace(args) -> int:
    import torch

    from lenet.inside.inference import NOTHING_DRAWN, Classifier, InputError
    from lenet.inside.trace import TraceError, describe, trace
    clf = Classifier(*_load(args)[:2])
    try:
        tensor, _ = clf.prepare(args.file)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if tensor is None:
        print(f"error: {NOTHING_DRAWN} in {args.file}", file=sys.stderr)
        return 1
    with torch.inference_mode():
        logits, outputs, _ = clf.answer(tensor)
    try:
        t = trace(clf, tensor, args.layer, args.channel, args.y, args.x, outputs=outputs)
    except TraceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    label = clf.classes[int(logits[0].argmax())]
    if args.json:
        print(json.dumps({"path": args.file, "label": label, **t.as_dict()}))
    else:
        print(f"{args.file}: {clf.meta.get('title', clf.name)}, predicted {label}\n{describe(t)}")
    return 0


def cmd_flip(args) -> int:
    import io

    import numpy as np

    from lenet.inside.flip import FlipError, flip
    from lenet.inside.inference import Classifier, InputError
    model, meta, _ = _load(args)
    clf = Classifier(model, meta)     # frozen weights: the search's gradients are the input's only
    try:
        target = _class_index(meta, args.target)
        tensor, _ = clf.prepare(args.file)   # the app's upload recipe, as the page's upload box
        if tensor is None:
            raise InputError(f"no digit found in {args.file}: draw it darker or larger")
        result = flip(model, meta, clf.pixels(tensor), target)
    except (InputError, FlipError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result.found:
        data = io.BytesIO()
        np.save(data, result.pixels.astype(np.float32))
        try:
            atomic_write_bytes(args.out, data.getvalue())
        except OSError as exc:
            print(f"error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    classes, sizes = clf.classes, result.sizes
    if args.json:
        print(json.dumps({"path": args.file, "model": meta["model"], "target": classes[target],
                          "before": classes[result.before], "after": classes[result.answer],
                          "found": result.found, "steps": result.steps, "changed": sizes.changed,
                          "l2": round(sizes.l2, 6), "largest": round(sizes.largest, 6),
                          "out": args.out if result.found else None}))
    elif result.found:
        print(f"{args.file}: {meta['title']} answered {classes[result.before]}; changed in "
              f"{result.steps} steps it answers {classes[result.answer]}: {sizes.changed} pixels "
              f"changed, L2 {sizes.l2:.3f}, largest change {sizes.largest:.3f}; wrote {args.out}")
    else:
        print(f"{args.file}: {meta['title']} answered {classes[result.before]}; no change found "
              f"in {result.steps} steps that makes it answer {classes[target]}; nothing written")
    return 0 if result.found else 1


def _class_index(meta: dict, text: str) -> int:
    """``--target`` as a class index: a class's name (``cat``, ``3``) or its index (``3``)."""
    from lenet.inside.flip import FlipError
    classes = list(meta["classes"])
    if text in classes:
        return classes.index(text)
    if text.isdigit() and int(text) < len(classes):
        return int(text)
    names = "" if classes == [str(i) for i in range(len(classes))] else f" or one of {', '.join(classes)}"
    raise FlipError(f"--target must be a class of {meta['model']}: 0-{len(classes) - 1}{names}; "
                    f"not {text!r}")


def cmd_site(args) -> int:
    from lenet.page.site import SiteError, build_site
    try:
        print(build_site(args.out))
    except (SiteError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lenet", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("evaluate", help="test accuracy, per-class accuracy, confusion matrix",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_model_args(p)
    p.add_argument("--data-dir", default=default_data_dir(),
                   help="torchvision root, or for CIFAR-10 a folder with train/ and test/")
    p.set_defaults(run=cmd_evaluate)
    p = sub.add_parser("gallery", help="write <checkpoint>.gallery.safetensors: random test "
                       "images and the mistakes, for the app's gallery without the dataset",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_model_args(p)
    p.add_argument("--data-dir", default=default_data_dir(),
                   help="torchvision root, or for CIFAR-10 a folder with train/ and test/")
    p.set_defaults(run=cmd_gallery)
    p = sub.add_parser("experiments", help="write <checkpoint>.experiments.safetensors (test accuracy "
                       "with each channel of the first two conv layers off, each channel's nine best "
                       "test images) and <checkpoint>.neighbours.safetensors (test images with their "
                       "last hidden layer's values), for the page's experiments without the dataset",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_model_args(p)
    p.add_argument("--data-dir", default=default_data_dir(),
                   help="torchvision root, or for CIFAR-10 a folder with train/ and test/")
    p.set_defaults(run=cmd_experiments)
    p = sub.add_parser("predict", help="classify image files, one line (or JSON object) each",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_model_args(p)
    p.add_argument("--top", type=_positive, default=3, help="how many classes to report")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--save-maps", metavar="DIR",
                   help="write the model input, feature-map grids, Grad-CAM and saliency as PNGs")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(run=cmd_predict)
    p = sub.add_parser("trace", help="how one value of one layer was computed from its inputs "
                       "and weights", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_model_args(p)
    p.add_argument("--layer", required=True,
                   help="C1 S2 C3 S4 C5 F6 output (lenet5); conv1 pool1 conv2 pool2 fc1 fc2 (convnet)")
    p.add_argument("--channel", type=int, default=0, help="channel, or unit of a linear layer")
    p.add_argument("--y", type=int, default=0, help="row in the layer's map (0 for linear layers)")
    p.add_argument("--x", type=int, default=0, help="column in the layer's map (0 for linear layers)")
    p.add_argument("--json", action="store_true", help="one JSON object instead of the account")
    p.add_argument("file", metavar="IMAGE")
    p.set_defaults(run=cmd_trace)
    p = sub.add_parser("flip", help="search for a small change of a picture that makes the model "
                       "answer --target; write the changed input (C x H x W float32 in [0, 1], "
                       "before normalisation) as .npy and print its sizes",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_model_args(p)
    p.add_argument("--target", required=True, help="the class to answer: its index or its name")
    p.add_argument("--out", required=True, metavar="NPY", help="where to write the changed input")
    p.add_argument("--json", action="store_true", help="one JSON object instead of the line")
    p.add_argument("file", metavar="IMAGE", help="a picture, taken as the app takes an upload")
    p.set_defaults(run=cmd_flip)
    p = sub.add_parser("site", help="write the page as a static site into OUT: index.html, web/, the "
                       "checkpoints; serve it with python -m http.server -d OUT")
    p.add_argument("out", metavar="OUT", help="a new or empty folder, or a site written before")
    p.set_defaults(run=cmd_site)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (CheckpointError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
