"""Flipping the answer: from an input's pixels, a small change that makes the network answer
a chosen class, and how large that change is. The page runs the same search (web/flip.js)
on its own engine; tests/test_flip.py holds the two equal, and the numbers below are written
once, here, for both (``python -m lenet.inside.flip`` writes the page's copy, web/flip.json).

The search, step by step (deterministic: the same input gives the same change everywhere):
  1. Run the network on the pixels p and read the answer's logits z (the app's answer: for a
     model that averages an image with its mirror image, the mean of both passes' logits).
  2. Stop when the answer is the target and its logit leads every other by MARGIN; an input
     the network already answers with the target needs no change at all (step 0).
  3. Otherwise the rival is the largest other class r, the gap is z_r - z_t, and g is the
     gap's gradient with respect to the pixels. To first order a step of (gap + AIM) / |g|
     against g ends the gap and gives the target a lead of AIM: take that step (DeepFool's
     step, aimed at one class), at most MAX_STEP long, then clip the pixels to [0, 1].
  4. Give up after MAX_STEPS steps, or where g is zero (nothing to follow).

Sizes (``change_sizes``): how many pixels changed (a colour pixel is one position; it changed
when its largest change is at least one 8-bit level, 1/255), the change's L2 norm over all
values, and its largest change, all on the [0, 1] scale the network's input starts from.

Belongs here: the search and the sizes. Not here: opening pictures (``Classifier.prepare``),
the command line (``lenet.__main__``), drawing the change (the page).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lenet.net.checkpoint import averages_mirror
from lenet.net.models import answer_logits, normalize

MARGIN = 0.05      # logits: the target's lead that ends the search; float32 rounding between
                   # the page and PyTorch (~1e-5) cannot undo a lead this large
AIM = 2 * MARGIN   # logits: the lead each step aims for, so that one step usually suffices
MAX_STEP = 0.5     # the longest step (L2, pixels in [0, 1]): far from the input the gradient's
                   # straight line is a poor guide, so the search looks again after this far
MAX_STEPS = 50     # LeNet-5 needs ~8 steps (median), the ConvNet ~4; 50 are almost never all taken
CHANGED = 1 / 255  # a change of at least one 8-bit level counts a pixel as changed
# The page's copy of these numbers (web/flip.js reads it; tests/test_flip.py holds it equal).
PAGE_FILE = Path(__file__).resolve().parents[2] / "web" / "flip.json"


class FlipError(ValueError):
    """A target or input the search cannot take; the message is one line saying what to do."""


@dataclass(frozen=True)
class ChangeSizes:
    changed: int     # pixels (positions) whose largest |change| is at least CHANGED
    l2: float        # the change's L2 norm over every value
    largest: float   # the largest |change| of any value


@dataclass
class Flip:
    """The outcome of a search: the changed pixels (C, H, W) float32 in [0, 1] (the last
    ones tried when ``found`` is False), the change (changed - given), its sizes, the steps
    taken, the answer (class index) before and after, and the time it took."""
    found: bool
    pixels: np.ndarray
    change: np.ndarray
    sizes: ChangeSizes
    steps: int
    answer: int
    before: int
    ms: float


def change_sizes(before: np.ndarray, after: np.ndarray) -> ChangeSizes:
    """The sizes of ``after - before``, arrays of one shape: (C, H, W), or (H, W) for one
    channel. Computed in float64 so that the page (which sums in doubles) counts the same."""
    change = np.asarray(after, np.float64) - np.asarray(before, np.float64)
    if change.ndim == 2:
        change = change[None]
    size = np.abs(change)
    return ChangeSizes(changed=int((size.max(axis=0) >= CHANGED).sum()),
                       l2=float(np.sqrt((change ** 2).sum())), largest=float(size.max()))


def check_target(classes, target) -> int:
    """``target`` as a class index, or a one-line FlipError."""
    if isinstance(target, (bool, np.bool_)) or not isinstance(target, (int, np.integer)) \
            or not 0 <= target < len(classes):
        raise FlipError(f"the target must be a class index 0-{len(classes) - 1}, not {target!r}")
    return int(target)


def flip(model: nn.Module, meta: dict, pixels: np.ndarray, target: int) -> Flip:
    """Search for a small change of ``pixels`` ((C, H, W) in [0, 1], the network's input
    before normalisation) that makes ``model`` answer ``target`` (see the module docstring)."""
    target = check_target(meta["classes"], target)
    shape = tuple(meta["input_shape"])
    given = np.asarray(pixels, np.float32)
    if given.shape != shape:
        raise FlipError(f"{meta['model']} takes pixels of shape {shape}, not {given.shape}")
    started, mirror = time.perf_counter(), averages_mirror(meta)

    def look(p: torch.Tensor):   # (C, H, W) pixels -> (a copy to differentiate by, its logits)
        x = p.clone().requires_grad_(True)
        with torch.enable_grad():
            return x, answer_logits(model, normalize(x[None], meta["mean"], meta["std"]), mirror)[0]

    now = torch.from_numpy(given.copy())
    x, z = look(now)                                                     # z: (classes,)
    before, steps = int(z.argmax()), 0
    while not reached(z.detach(), target, steps) and steps < MAX_STEPS:
        rival = rival_of(z.detach(), target)
        gap = z[rival] - z[target]
        slope, = torch.autograd.grad(gap, x)                              # (C, H, W)
        norm = float(torch.linalg.vector_norm(slope.double()))
        if not norm > 0:                                                 # nothing to follow
            break
        length = min((float(gap.detach()) + AIM) / norm, MAX_STEP)
        now = (now - (length / norm) * slope).clamp_(0, 1)
        steps += 1
        x, z = look(now)
    after = now.numpy()
    return Flip(found=reached(z.detach(), target, steps), pixels=after, change=after - given,
                sizes=change_sizes(given, after), steps=steps, answer=int(z.argmax()),
                before=before, ms=1000 * (time.perf_counter() - started))


def reached(logits: torch.Tensor, target: int, steps: int) -> bool:
    """Whether the search is done: the answer is the target, leading every other class by
    MARGIN once anything has been changed."""
    if int(logits.argmax()) != target:
        return False
    return steps == 0 or float(logits[target] - logits[rival_of(logits, target)]) >= MARGIN


def rival_of(logits: torch.Tensor, target: int) -> int:
    """The class with the largest logit but the target's (the first of equals)."""
    others = logits.clone()
    others[target] = -float("inf")
    return int(others.argmax())


# ---------------------------------------------------------------------------- the page's copy

def page_constants() -> dict:
    """The numbers web/flip.js searches and measures with."""
    return {"margin": MARGIN, "aim": AIM, "max_step": MAX_STEP, "max_steps": MAX_STEPS,
            "changed": CHANGED}


def render_page_constants() -> str:
    return json.dumps(page_constants(), indent=1) + "\n"


if __name__ == "__main__":   # python -m lenet.inside.flip: rewrite the page's copy
    PAGE_FILE.write_text(render_page_constants())
