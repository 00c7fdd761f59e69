"""Train LeNet-5 on MNIST and the course's ConvNet on CIFAR-10; write checkpoints and curves.

    python train.py                      # all five models, the defaults behind checkpoints/
    python train.py --model convnet --epochs 5 --out runs/
    python train.py --model lenet5 --lr-sweep    # the course's 1 / 0.1 / 0.01 sweep

Also the course's baselines: lenet5-classic (the exercise's tanh + average pooling LeNet-5,
trained with Adam), dense (one linear layer on MNIST, the tutorials' baseline) and dense-cifar
(one linear layer on CIFAR-10's pixels, the assignment's).
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import torch
from tqdm import tqdm

from lenet import __version__
from lenet.inputs.images import png_bytes
from lenet.inside.experiments import write_side_files
from lenet.inside.gallery import MISTAKES, build_gallery, gallery_path, save_gallery
from lenet.net.checkpoint import atomic_write_bytes, mirror_average_for, save_checkpoint, self_description
from lenet.net.files import snapshots_path
from lenet.net.models import REGISTRY, count_parameters
from lenet.pictures.visualize import plot_lr_sweep, plot_training_curves
from lenet.training.augment import random_crop_flip, random_resample
from lenet.training.data import DataError, default_data_dir, load_split, validation_split
from lenet.training.engine import (
    DEVICES,
    DeviceError,
    confusion_matrix,
    describe_device,
    evaluate,
    format_report,
    keep_freed_memory,
    per_class_accuracy,
    prepare_model,
    resolve_device,
    serving_copy,
    set_seed,
    train_one_epoch,
)
from lenet.training.snapshots import SnapshotRecorder, measure_snapshots, save_snapshots, snapshot_steps

# ---------------------------------------------------------------------------- hyperparameters
# The recipes that made the committed checkpoints live on each model's spec (lenet/net/
# models.py, with the reasons for each choice); the checkpoint records the one used.
DEFAULTS = {name: spec.training for name, spec in REGISTRY.items()}
# The fraction of the one-cycle schedule spent rising to the peak lr (OneCycleLR's default);
# a recipe may set its own ("warmup"), as may --recipe.
WARMUP = 0.3
SWEEP_LRS = (1.0, 0.1, 0.01)   # the course's sweep: one epoch each, plain SGD, batch 64
SWEEP_BATCH = 64
DRY_RUN = dict(train=256, test=128, batches=2)


def _per_model(key: str) -> str:
    return ", ".join(f"{name} {hp[key]:g}" for name, hp in DEFAULTS.items())


def optimizer_name(hp: dict) -> str:
    if hp["optimizer"] == "adam":
        return "Adam"
    return "SGD nesterov" if hp["momentum"] > 0 else "SGD"


class StatedDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's "(default: ...)" after each option, except one whose help states its own
    (the per-model recipes)."""

    def _get_help_string(self, action):
        text = action.help or ""
        return text if "(default:" in text else super()._get_help_string(action)


def parse_args(argv=None) -> argparse.Namespace:
    optimizers = ", ".join(f"{name} {optimizer_name(hp)}" for name, hp in DEFAULTS.items())
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                epilog=f"optimizers: {optimizers}; one-cycle schedule for all",
                                formatter_class=StatedDefaults)
    p.add_argument("--model", choices=[*REGISTRY, "all"], default="all",
                   help=f"what to train; all: {', '.join(REGISTRY)}, one after the other "
                        f"(about 45 min on 2 CPU cores, the ConvNet's 60 epochs most of it)")
    p.add_argument("--epochs", type=int, help=f"epochs (default: {_per_model('epochs')})")
    p.add_argument("--lr", type=float, help="peak learning rate of the one-cycle schedule "
                   f"(default: {_per_model('lr')})")
    p.add_argument("--batch-size", type=int,
                   help=f"batch size (default: {_per_model('batch_size')})")
    p.add_argument("--data-dir", default=default_data_dir(),
                   help="torchvision root (MNIST/raw/ inside), or for CIFAR-10 a folder with "
                        "train/<class>/ and test/<class>/ images (also found under cifar10/)")
    p.add_argument("--seed", type=int, default=0, help="seed for init, shuffling, augmentation")
    p.add_argument("--out", default="checkpoints", help="folder for checkpoints and plots")
    p.add_argument("--device", choices=DEVICES, default="auto",
                   help="where data, model and augmentation live; auto: cuda, else mps, else "
                        "cpu. Checkpoints are the same (CPU tensors) whichever is used")
    p.add_argument("--threads", type=int, default=torch.get_num_threads(),
                   help="CPU threads for torch")
    p.add_argument("--dry-run", action="store_true",
                   help=f"{DRY_RUN['batches']} batches of a {DRY_RUN['train']}-image subset, "
                        f"1 epoch: checks the pipeline end to end in seconds")
    p.add_argument("--fast", action="store_true",
                   help="a quicker run: the model's recipe with its fast preset: "
                        + "; ".join(f"{name} {_fast_words(spec)}" for name, spec in REGISTRY.items()
                                    if spec.fast))
    p.add_argument("--recipe", action="append", default=[], metavar="KEY=VALUE",
                   help="change one ingredient of the recipe for this run, e.g. resample=0.3 "
                        "or label_smoothing=0.1 (repeatable; keys: those the checkpoint's "
                        "hyperparameters list)")
    p.add_argument("--lr-sweep", action="store_true",
                   help=f"instead of training, run the course's sweep over lr {SWEEP_LRS} "
                        f"(1 epoch each, plain SGD, batch {SWEEP_BATCH}) and save its plot")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.lr is not None and not args.lr > 0:
        p.error("--lr must be positive")
    try:
        args.recipe = parse_recipe(args.recipe)
    except ValueError as exc:
        p.error(str(exc))
    if args.fast and args.model not in [name for name, spec in REGISTRY.items() if spec.fast]:
        p.error(f"--fast: {args.model} has no fast preset; "
                f"{', '.join(n for n, s in REGISTRY.items() if s.fast)} has")
    return args


OPTIMIZERS = ("sgd", "adam")   # make_optimizer's
RECIPE_TYPES = {"optimizer": str, "epochs": int, "batch_size": int, "flip": bool, "pad": int}


def parse_recipe(items: list[str]) -> dict:
    """``["resample=0.3", "flip=false"]`` -> {"resample": 0.3, "flip": False}."""
    known = {key for spec in REGISTRY.values() for key in spec.training} | {"label_smoothing",
                                                                          "warmup"}
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in known:
            raise ValueError(f"--recipe {item!r}: expected KEY=VALUE with KEY one of "
                             f"{', '.join(sorted(known))}")
        kind = RECIPE_TYPES.get(key, float)
        try:
            out[key] = (value.lower() in ("1", "true", "yes")) if kind is bool else kind(value)
        except ValueError:
            raise ValueError(f"--recipe {item!r}: {value!r} is not a valid {kind.__name__}") from None
        if key == "optimizer" and out[key] not in OPTIMIZERS:
            raise ValueError(f"--recipe {item!r}: use one of {', '.join(OPTIMIZERS)}")
    return out


def _fast_words(spec) -> str:
    return ", ".join(f"{key} {value:g}" for key, value in spec.fast.items())


def recipe_for(name: str, args) -> dict:
    """The hyperparameters of this run: the model's recipe, its fast preset with --fast, then
    --recipe, then --epochs/--lr/--batch-size."""
    spec = REGISTRY[name]
    hp = {"label_smoothing": 0.0, "warmup": WARMUP, **DEFAULTS[name]}
    if args.fast:
        hp.update(spec.fast)
    hp.update(args.recipe)
    hp.update({k: getattr(args, k) for k in ("epochs", "lr", "batch_size")
               if getattr(args, k) is not None})
    if args.dry_run:
        hp["epochs"] = 1
    return hp


# Ctrl-C raises KeyboardInterrupt where the program happens to be. When that is inside a
# finaliser, Python only prints the exception and training would go on; so the request is
# also remembered, and every step and epoch checks it.
INTERRUPTED = threading.Event()


def _interrupt(_signum, _frame):
    INTERRUPTED.set()
    raise KeyboardInterrupt


def stop_if_interrupted() -> None:
    if INTERRUPTED.is_set():
        raise KeyboardInterrupt


def _subset(x, y, n: int):
    """A fixed random ``n`` of the images: a spread of classes, not the first (often
    single-class) ones."""
    keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:n]
    return x[keep], y[keep]


def load_data(spec, args):
    x, y, classes = load_split(spec.dataset, args.data_dir, train=True)
    x_test, y_test, _ = load_split(spec.dataset, args.data_dir, train=False, classes=classes)
    if args.dry_run:
        (x, y), (x_test, y_test) = _subset(x, y, DRY_RUN["train"]), _subset(x_test, y_test,
                                                                           DRY_RUN["test"])
    train_idx, val_idx = validation_split(len(x))
    return (x[train_idx], y[train_idx]), (x[val_idx], y[val_idx]), (x_test, y_test), classes


# ---------------------------------------------------------------------------- training

@dataclass
class Fit:
    """What one training run produced: the model (in its training layout and device), the
    per-epoch history, the snapshots taken, and the seconds spent in training steps alone
    (no data loading, validation or testing), wall and CPU."""
    model: torch.nn.Module
    history: list[dict]
    snapshots: SnapshotRecorder
    train_seconds: float
    cpu_seconds: float


def fit(spec, hp: dict, train, val, num_classes: int, device: torch.device,
        generator: torch.Generator, max_steps: int | None = None,
        on_epoch: Callable[[int, torch.nn.Module, float, float], None] | None = None) -> Fit:
    """Train a fresh ``spec`` network with recipe ``hp`` on ``train`` = (x, y), validating on
    ``val`` after each epoch; ``max_steps`` caps the steps per epoch (a dry run). ``on_epoch``
    (epoch, model, training seconds so far, their CPU seconds) runs after each epoch, outside
    the timed part."""
    (x, y), (x_val, y_val) = train, val
    model = prepare_model(spec.build(num_classes=num_classes), device)
    optimizer = make_optimizer(model, hp)
    steps = -(-len(x) // hp["batch_size"])
    if max_steps is not None:
        steps = min(steps, max_steps)
    # One-cycle also cycles SGD's momentum (Adam's beta1); plain SGD must stay plain.
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=hp["lr"], total_steps=hp["epochs"] * steps, pct_start=hp["warmup"],
        cycle_momentum=hp["optimizer"] == "adam" or hp["momentum"] > 0)
    recorder = SnapshotRecorder(snapshot_steps(hp["epochs"] * steps))
    recorder.offer(0, model)

    def augment(xb: torch.Tensor) -> torch.Tensor:
        if hp["resample"]:  # before the crop: the photo is softened, then framed
            xb = random_resample(xb, hp["resample"], generator)
        return random_crop_flip(xb, hp["pad"], hp["flip"], generator)

    history, seconds, cpu, name = [], 0.0, 0.0, spec.name
    for epoch in range(1, hp["epochs"] + 1):
        stop_if_interrupted()
        done = (epoch - 1) * steps
        with tqdm(total=steps, desc=f"{name} epoch {epoch}/{hp['epochs']}", leave=False,
                  disable=None) as bar:
            def on_step(step, loss):
                stop_if_interrupted()
                recorder.offer(done + step + 1, model)
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}")
            stats = train_one_epoch(model, x, y, optimizer=optimizer, scheduler=scheduler,
                                    batch_size=hp["batch_size"], mean=spec.mean, std=spec.std,
                                    generator=generator, augment=augment, max_batches=steps,
                                    on_step=on_step, label_smoothing=hp["label_smoothing"])
        seconds += stats["seconds"]
        cpu += stats["cpu_seconds"]
        val = evaluate(model, x_val, y_val, mean=spec.mean, std=spec.std)
        history.append({"epoch": epoch, "train_loss": stats["loss"], "val_loss": val["loss"],
                        "val_accuracy": val["accuracy"], "images_per_s": stats["images_per_s"]})
        print(f"{name} epoch {epoch:>2}/{hp['epochs']}: train loss {stats['loss']:.4f}  "
              f"val loss {val['loss']:.4f}  val acc {100 * val['accuracy']:.2f} %  "
              f"{stats['images_per_s']:,.0f} img/s  ({seconds:.1f} s of training)", flush=True)
        if on_epoch is not None:
            on_epoch(epoch, model, seconds, cpu)
    return Fit(model, history, recorder, seconds, cpu)


def train_model(name: str, args, device: torch.device) -> dict:
    spec = REGISTRY[name]
    hp = recipe_for(name, args)
    generator = set_seed(args.seed)
    started = time.perf_counter()
    (x, y), (x_val, y_val), (x_test, y_test), classes = load_data(spec, args)
    print(f"{spec.title}: {len(x)} train / {len(x_val)} validation / {len(x_test)} test images "
          f"(loaded in {time.perf_counter() - started:.1f} s)")
    x, y, x_val, y_val = (t.to(device) for t in (x, y, x_val, y_val))  # uint8: 150 MB at most
    run = fit(spec, hp, (x, y), (x_val, y_val), len(classes), device, generator,
              max_steps=DRY_RUN["batches"] if args.dry_run else None)
    model, history = run.model, run.history

    model = serving_copy(model)  # tested as served, so the recorded figures are reproducible
    test = evaluate(model, x_test, y_test, mean=spec.mean, std=spec.std)
    matrix = confusion_matrix(y_test, test["predictions"], len(classes))
    wall = time.perf_counter() - started
    print(f"{name} test accuracy: {100 * test['accuracy']:.2f} % "
          f"({len(x_test)} images, {run.train_seconds:.1f} s of training ({run.cpu_seconds:.1f} s "
          f"CPU time), {wall:.0f} s in all)")
    print(format_report(classes, matrix))
    recorded = {"test_accuracy": test["accuracy"], "test_loss": test["loss"],
                "mirror_average": mirror_average_for(hp)}
    if recorded["mirror_average"]:  # it answers for an image and its mirror (models.answer_logits)
        mirror = evaluate(model, x_test, y_test, mean=spec.mean, std=spec.std, mirror=True)
        recorded["mirror_test_accuracy"] = mirror["accuracy"]
        print(f"{name} test accuracy averaged with the mirror images, as the app answers: "
              f"{100 * mirror['accuracy']:.2f} %")

    out = Path(args.out)
    meta = {
        "model": name, "title": spec.title, "dataset": spec.dataset,
        "classes": list(classes), "input_shape": list(spec.input_shape),
        "mean": list(spec.mean), "std": list(spec.std), "parameters": count_parameters(model),
        **recorded,
        "per_class_accuracy": per_class_accuracy(matrix), "confusion_matrix": matrix,
        "history": history, "hyperparameters": {**hp, "seed": args.seed, "optimizer":
                                                optimizer_name(hp), "schedule": "one-cycle"},
        "data": {"train": len(x), "validation": len(x_val), "test": len(x_test),
                 "dry_run": args.dry_run},
        "versions": {"lenet": __version__, "torch": torch.__version__,
                     "python": sys.version.split()[0]},
        "device": describe_device(device),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "train_seconds": wall,
        "training_seconds": run.train_seconds,  # in training steps alone
        "training_cpu_seconds": run.cpu_seconds,
    }
    path = out / f"{name}.safetensors"
    save_checkpoint(path, model, meta)
    atomic_write_bytes(out / f"{name}_curves.png", png_bytes(plot_training_curves(history, spec.title)))
    print(f"wrote {path} and {out / f'{name}_curves.png'}")
    # The app's gallery of test images and mistakes, for a Space without the dataset.
    gallery = build_gallery(model, meta, x_test, y_test, n_mistakes=MISTAKES[spec.dataset],
                            seed=args.seed)
    size = save_gallery(gallery_path(path), gallery)
    print(f"wrote {gallery_path(path)} ({size:,} bytes): {gallery!r}")
    # The stored experiments (lesion accuracies, top crops) and nearest neighbours; the dense
    # baseline has neither conv nor hidden layer, so it gets neither (a line says so).
    write_side_files(model, self_description(model, meta), path, x_test, y_test)
    # Moments of the run, measured now that training is over (its time stays its own).
    snapshots = measure_snapshots(run.snapshots, self_description(model, meta), x_test, y_test,
                                  x, y)
    size = save_snapshots(snapshots_path(path), snapshots, self_description(model, meta))
    print(f"wrote {snapshots_path(path)} ({size:,} bytes): " + ", ".join(
        f"step {s.step} {100 * s.test_accuracy:.1f} %" for s in snapshots))
    return meta


def make_optimizer(model: torch.nn.Module, hp: dict) -> torch.optim.Optimizer:
    if hp["optimizer"] == "adam":
        return torch.optim.Adam(model.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])
    return torch.optim.SGD(model.parameters(), lr=hp["lr"], momentum=hp["momentum"],
                           nesterov=hp["momentum"] > 0, weight_decay=hp["weight_decay"])


def lr_sweep(name: str, args, device: torch.device) -> None:
    """The course's experiment: lr 1 does not learn, 0.1 converges fastest."""
    spec = REGISTRY[name]
    (x, y), (x_val, y_val), _, classes = load_data(spec, args)
    x, y, x_val, y_val = (t.to(device) for t in (x, y, x_val, y_val))
    steps = -(-len(x) // SWEEP_BATCH)
    if args.dry_run:
        steps = min(steps, DRY_RUN["batches"])
    every = max(1, steps // 20)  # validation loss at ~20 points along the epoch
    runs = {}
    for lr in SWEEP_LRS:
        generator = set_seed(args.seed)
        model = prepare_model(spec.build(num_classes=len(classes)), device)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        val_points = []

        def on_step(step, _loss):
            stop_if_interrupted()
            if (step + 1) % every == 0 or step + 1 == steps:
                val_points.append((step + 1, evaluate(model, x_val, y_val, mean=spec.mean,
                                                      std=spec.std)["loss"]))
                model.train()
        try:
            stats = train_one_epoch(model, x, y, optimizer=optimizer, scheduler=None,
                                    batch_size=SWEEP_BATCH, mean=spec.mean, std=spec.std,
                                    generator=generator, max_batches=steps, on_step=on_step)
            train_losses = stats["step_losses"]
        except FloatingPointError:
            train_losses = [float("nan")]
        runs[lr] = {"train": train_losses, "val": val_points}
        final = val_points[-1][1] if val_points else float("nan")
        print(f"{name} lr {lr:g}: final validation loss {final:.4f}")
    path = Path(args.out) / f"{name}_lr_sweep.png"
    atomic_write_bytes(path, png_bytes(plot_lr_sweep(runs, spec.title)))
    print(f"wrote {path}")


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    keep_freed_memory()
    if threading.current_thread() is threading.main_thread():
        INTERRUPTED.clear()
        signal.signal(signal.SIGINT, _interrupt)
    names = list(REGISTRY) if args.model == "all" else [args.model]
    current = names[0]
    try:
        device = resolve_device(args.device)
        print(f"device: {describe_device(device)}")
        for current in names:
            lr_sweep(current, args, device) if args.lr_sweep else train_model(current, args, device)
    except (DataError, DeviceError, FloatingPointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted while training {current}; its checkpoint was not written "
              f"(files already in {args.out} are intact)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
