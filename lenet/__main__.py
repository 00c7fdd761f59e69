"""Command line: ``python -m lenet evaluate ...`` and ``python -m lenet predict ...``."""
from __future__ import annotations

import argparse
import sys

from .checkpoint import CheckpointError, default_checkpoint, load_checkpoint
from .data import DataError, default_data_dir, load_split
from .engine import confusion_matrix, evaluate, format_report
from .models import REGISTRY


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=list(REGISTRY), required=True)
    p.add_argument("--checkpoint", help="checkpoint file (default: checkpoints/<model>.safetensors)")


def cmd_evaluate(args) -> int:
    model, meta = load_checkpoint(args.checkpoint or default_checkpoint(args.model))
    if meta["model"] != args.model:
        raise CheckpointError(f"the checkpoint holds {meta['model']}, not {args.model}")
    classes = tuple(meta["classes"])
    x, y, _ = load_split(meta["dataset"], args.data_dir, train=False, classes=classes)
    result = evaluate(model, x, y, mean=meta["mean"], std=meta["std"])
    print(f"{meta['title']}: test accuracy {100 * result['accuracy']:.2f} % "
          f"on {len(x)} images (loss {result['loss']:.4f})")
    print(format_report(classes, confusion_matrix(y, result["predictions"], len(classes))))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lenet", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("evaluate", help="test accuracy, per-class accuracy, confusion matrix",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_model_args(p)
    p.add_argument("--data-dir", default=default_data_dir(),
                   help="torchvision root, or for CIFAR-10 a folder with train/ and test/")
    p.set_defaults(run=cmd_evaluate)
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
