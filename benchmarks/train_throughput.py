"""Training images/s: the project's LeNet-5 loop beside the course's loop, in one run.

The course's loop: torchvision MNIST + ToTensor + DataLoader (batch 64, shuffled), plain SGD.
The project's loop: tensor-resident uint8 batches, batch augmentation, the train.py defaults.
Both train LeNet-5 on the same machine with the same thread count.

    python benchmarks/train_throughput.py [--data-dir ../shared/data] [--images 30000]
"""
from __future__ import annotations

import argparse
import time

import torch
from torch.nn import functional as F

from lenet.data import default_data_dir, load_split, random_crop_flip
from lenet.engine import set_seed, train_one_epoch
from lenet.models import LeNet5


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


def project_loop(data_dir: str, images: int) -> float:
    hp = dict(batch_size=128, lr=0.05, momentum=0.9, weight_decay=5e-4, pad=2, flip=False)  # train.py's
    generator = set_seed(0)
    x, y, _ = load_split("mnist", data_dir, train=True)  # decoding once is outside the timing,
    model = LeNet5()                                      # as it is outside the course's loop
    optimizer = torch.optim.SGD(model.parameters(), lr=hp["lr"], momentum=hp["momentum"],
                                nesterov=True, weight_decay=hp["weight_decay"])
    stats = train_one_epoch(model, x, y, optimizer=optimizer, scheduler=None,
                            batch_size=hp["batch_size"], mean=(0.0,), std=(1.0,),
                            generator=generator,
                            augment=lambda b: random_crop_flip(b, hp["pad"], hp["flip"], generator),
                            max_batches=-(-images // hp["batch_size"]))
    return stats["images_per_s"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=default_data_dir())
    p.add_argument("--images", type=int, default=30000, help="images per measurement")
    args = p.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.images} images per loop")
    course_loop(args.data_dir, 2000)      # warm-up: first-call costs out of the figures
    project_loop(args.data_dir, 2000)
    course = course_loop(args.data_dir, args.images)
    project = project_loop(args.data_dir, args.images)
    print(f"{'loop':<34}{'images/s':>10}")
    print(f"{'course (DataLoader, batch 64)':<34}{course:>10,.0f}")
    print(f"{'project (tensors, batch 128)':<34}{project:>10,.0f}")
    print(f"ratio project / course: {project / course:.2f}x")


if __name__ == "__main__":
    main()
