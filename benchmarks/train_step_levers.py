"""What each lever does to LeNet-5's training step on this machine, beside the course's loop.

train_throughput.py measures whole loops. This isolates the part the levers act on: one
step (forward, cross-entropy, backward, Nesterov SGD) on batches already in memory, so the
figures are the ceiling a loop with free data could reach. Levers: the batch size,
channels-last against NCHW, bfloat16 autocast, torch.compile, one thread against all. The
course's loop (DataLoader, batch 64) runs in the same process as the reference, and each
configuration's median of ``--runs`` rounds is printed with its ratio to it.

    python benchmarks/train_step_levers.py [--images 20000] [--runs 3] [--no-compile]
"""
from __future__ import annotations

import argparse
import shutil
import time

import torch
from timing import in_turn, medians
from torch.nn import functional as F
from train_throughput import TARGET, course_loop

from lenet.net.models import LeNet5
from lenet.training.data import default_data_dir
from lenet.training.engine import keep_freed_memory


def step_rate(batch: int, images: int, channels_last: bool = True, bf16: bool = False,
              compiled: bool = False, threads: int | None = None) -> float:
    """Training images/s of LeNet-5's step alone, after a warm-up (compilation included)."""
    all_threads = torch.get_num_threads()
    torch.set_num_threads(threads or all_threads)
    try:
        layout = torch.channels_last if channels_last else torch.contiguous_format
        model = LeNet5().to(memory_format=layout)
        run = torch.compile(model) if compiled else model
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True,
                                    weight_decay=5e-4)
        generator = torch.Generator().manual_seed(0)
        x = torch.rand(batch, 1, 28, 28, generator=generator).contiguous(memory_format=layout)
        y = torch.randint(0, 10, (batch,), generator=generator)

        def step():
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = F.cross_entropy(run(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss.item()

        for _ in range(3):
            step()
        steps = max(1, images // batch)
        start = time.perf_counter()
        for _ in range(steps):
            step()
        return steps * batch / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(all_threads)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=default_data_dir())
    p.add_argument("--images", type=int, default=20000, help="images per measurement")
    p.add_argument("--runs", type=int, default=3, help="rounds; each figure is the median")
    p.add_argument("--no-compile", action="store_true", help="leave torch.compile out")
    args = p.parse_args()
    keep_freed_memory()
    threads = torch.get_num_threads()
    n = args.images
    levers = {
        "course loop (DataLoader, batch 64)": lambda: course_loop(args.data_dir, n),
        "step, batch 64": lambda: step_rate(64, n),
        "step, batch 256": lambda: step_rate(256, n),
        "step, batch 512": lambda: step_rate(512, n),
        "step, batch 1024": lambda: step_rate(1024, n),
        "step, batch 256, NCHW": lambda: step_rate(256, n, channels_last=False),
        "step, batch 256, bf16 autocast": lambda: step_rate(256, n, bf16=True),
        "step, batch 1024, bf16 autocast": lambda: step_rate(1024, n, bf16=True),
        "step, batch 256, 1 thread": lambda: step_rate(256, n, threads=1),
    }
    if args.no_compile or shutil.which("cc") is None:
        print("torch.compile left out (--no-compile, or no C compiler for its CPU kernels)")
    else:
        levers["step, batch 256, torch.compile"] = lambda: step_rate(256, n, compiled=True)
    print(f"torch {torch.__version__}, {threads} threads, channels-last unless said, "
          f"{n} images per measurement, median of {args.runs} rounds")
    course_loop(args.data_dir, 2000)  # warm-up: first-call costs out of the figures
    median = medians(in_turn(levers, args.runs))
    course = median["course loop (DataLoader, batch 64)"]
    print(f"{'configuration':<36}{'images/s':>10}{'x course':>10}")
    for name, value in median.items():
        print(f"{name:<36}{value:>10,.0f}{value / course:>9.2f}x")
    best = max((v, k) for k, v in median.items() if k.startswith("step"))
    print(f"fastest step: {best[1]}, {best[0] / course:.2f}x the course loop "
          f"(train_throughput.py's target for a whole loop: {TARGET:g}x)")


if __name__ == "__main__":
    main()
