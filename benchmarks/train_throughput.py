"""Training images/s: the project's LeNet-5 loop beside the course's loop, in one run.

The course's loop: torchvision MNIST + ToTensor + DataLoader (batch 64, shuffled), plain SGD.
The project's loop: ``lenet.training.engine.train_one_epoch`` on tensor-resident uint8 batches with
batch augmentation, a channels-last model and the one-cycle schedule, with the
hyperparameters recorded in the committed LeNet-5 checkpoint (train.py's defaults), and once
more at the course's batch size 64 for a like-for-like figure. Same process, so the same
threads and malloc settings (``keep_freed_memory``, as train.py sets them) for both; after a
warm-up the loops take turns, ``--runs`` rounds, and each loop's median is reported.
Target: the project's loop at train.py's defaults at least 4x the course's.

    python benchmarks/train_throughput.py [--data-dir ../shared/data] [--images 30000] [--runs 3]
"""
from __future__ import annotations

import argparse
import time

import torch
from timing import in_turn, medians
from torch.nn import functional as F

from lenet.net.checkpoint import default_checkpoint, read_checkpoint
from lenet.net.models import LeNet5
from lenet.training.augment import random_crop_flip
from lenet.training.data import default_data_dir, load_split
from lenet.training.engine import keep_freed_memory, prepare_model, set_seed, train_one_epoch

TARGET = 4.0


def course_loop(data_dir: str, images: int) -> float:
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms
    dataset = datasets.MNIST(data_dir, train=True, download=True, transform=transforms.ToTensor())
    loader = DataLoader(dataset, batch_size=64, shuffle=True)
    model = LeNet5()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    seen, start = 0, time.perf_counter()
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen += len(x)
        if seen >= images:
            break
    return seen / (time.perf_counter() - start)


def project_loop(x: torch.Tensor, y: torch.Tensor, hp: dict, images: int) -> float:
    """train.py's loop for LeNet-5 with ``hp`` (a checkpoint's recorded hyperparameters)."""
    generator = set_seed(0)
    model = prepare_model(LeNet5(), torch.device("cpu"))
    optimizer = torch.optim.SGD(model.parameters(), lr=hp["lr"], momentum=hp["momentum"],
                                nesterov=hp["momentum"] > 0, weight_decay=hp["weight_decay"])
    steps = -(-images // hp["batch_size"])
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=hp["lr"],
                                                    total_steps=steps)
    stats = train_one_epoch(model, x, y, optimizer=optimizer, scheduler=scheduler,
                            batch_size=hp["batch_size"], mean=(0.0,), std=(1.0,),
                            generator=generator,
                            augment=lambda b: random_crop_flip(b, hp["pad"], hp["flip"], generator),
                            max_batches=steps)
    return stats["images_per_s"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=default_data_dir())
    p.add_argument("--images", type=int, default=30000, help="images per measurement")
    p.add_argument("--runs", type=int, default=3, help="measurements per loop; the median counts")
    args = p.parse_args()
    allocator = "glibc malloc keeping freed memory" if keep_freed_memory() else "default malloc"
    hp = read_checkpoint(default_checkpoint("lenet5"))[1]["hyperparameters"]
    # Decoding the dataset once is outside the timing, as it is outside the course's loop.
    x, y, _ = load_split("mnist", args.data_dir, train=True)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {allocator} "
          f"(both loops), {args.images} images per measurement, median of {args.runs}")
    course_loop(args.data_dir, 2000)      # warm-up: first-call costs out of the figures
    project_loop(x, y, hp, 2000)
    loops = {
        "course (DataLoader, batch 64)": lambda: course_loop(args.data_dir, args.images),
        "project (tensors, batch 64)": lambda: project_loop(x, y, {**hp, "batch_size": 64},
                                                            args.images),
        f"project (train.py, batch {hp['batch_size']})": lambda: project_loop(x, y, hp,
                                                                            args.images),
    }
    figures = in_turn(loops, args.runs)
    median = medians(figures)
    course = median["course (DataLoader, batch 64)"]
    print(f"{'loop':<34}{'images/s':>10}{'x course':>10}   runs")
    for name, runs in figures.items():
        print(f"{name:<34}{median[name]:>10,.0f}{median[name] / course:>9.2f}x   "
              + ", ".join(f"{f:,.0f}" for f in runs))
    ratio = median[list(loops)[-1]] / course
    print(f"train.py's defaults / course: {ratio:.2f}x (target {TARGET:g}x): "
          f"{'met' if ratio >= TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
