"""Server-side latency of ``lenet.inside.trace.trace`` for every traceable layer of both models,
given the forward outputs the request already has, beside the bare forward pass; 1 thread.

Target: trace p50 <= 20 ms. The JSON column adds ``Trace.as_dict()`` (what an API returns).

    python benchmarks/trace_latency.py [--repeats 300]
"""
from __future__ import annotations

import numpy as np
import torch
from timing import sample_input, serving_args, timed

from lenet.inside.inference import Classifier
from lenet.inside.trace import trace, traceable_layers
from lenet.net.checkpoint import default_checkpoint


def main() -> None:
    args = serving_args(__doc__, repeats=300, per="layer", warm_up=10)
    print(f"{'model':<9}{'layer':<8}{'position':<14}{'trace p50':>10}{'p95':>8}"
          f"{'+ JSON p50':>12}{'forward p50':>13}  (ms)")
    for name in ("lenet5", "convnet"):
        clf = Classifier.from_checkpoint(default_checkpoint(name))
        tensor, _ = clf.prepare(sample_input(name))
        with torch.inference_mode():
            _, outputs = clf.forward(tensor)

        def forward():
            with torch.inference_mode():
                clf.forward(tensor)
        bare = np.percentile(timed(forward, args.repeats, warm_up=10), 50)
        for layer in traceable_layers(clf):
            shape = clf.shapes[layer]
            # the middle of the map, the last channel: a typical click
            y, x = (shape[1] // 2, shape[2] // 2) if len(shape) == 3 else (0, 0)
            channel = shape[0] - 1
            t = timed(lambda: trace(clf, tensor, layer, channel, y, x, outputs=outputs), args.repeats,
                      warm_up=10)
            j = timed(lambda: trace(clf, tensor, layer, channel, y, x, outputs=outputs).as_dict(),
                      args.repeats, warm_up=10)
            print(f"{name:<9}{layer:<8}{f'({channel},{y},{x})':<14}{np.percentile(t, 50):>10.3f}"
                  f"{np.percentile(t, 95):>8.3f}{np.percentile(j, 50):>12.3f}{bare:>13.3f}")


if __name__ == "__main__":
    main()
