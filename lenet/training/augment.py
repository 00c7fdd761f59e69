"""Training augmentation on whole uint8 batches, on whatever device the batch lives on.

Two recipes: random crops and mirror images (``random_crop_flip``), and the softening an
uploaded photo goes through before the ConvNet sees it (``random_resample``): a photo is
enlarged by a browser, phone or editor with one resampling filter and reduced to 32x32 by the
app with another, which blurs it slightly. A network trained only on the original pixels
changes its answer under that blur; one trained on it as well does not.

Random numbers are drawn from a CPU ``torch.Generator`` and moved to the batch's device, so
one seed gives the same augmentation on CPU, CUDA or MPS. Nothing here loads or trains.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

# Enlargement factors and filters of the round trip. The app reduces large photos from at
# most 4x its input (JPEGs are decoded at 1/2, 1/4 or 1/8 scale, other images are
# box-reduced first), so enlarging by 1.5x to 4x covers what reaches its final resize.
SCALES = (1.5, 4.0)
UP_MODES = ("bilinear", "bicubic")     # PIL's BILINEAR and its sharper cubic and Lanczos
DOWN_MODES = ("bilinear", "bicubic")   # antialiased, as PIL reduces
MAX_SIGMA = 0.8                        # Gaussian blur, pixels; the app's 256 px round trip
                                       # is about 0.3 (Lanczos) to 0.5 (bilinear)


def random_crop_flip(x: torch.Tensor, pad: int, flip: bool, generator: torch.Generator):
    """Per-sample random crop after zero padding, and optional horizontal flip, on a batch."""
    n, c, h, w = x.shape
    device = x.device
    if pad:
        padded = F.pad(x, (pad, pad, pad, pad)).view(n, c, -1)     # (B, C, (H+2p)(W+2p))
        dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(device)
        dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(device)
        rows = (dy[:, None] + torch.arange(h, device=device))[:, :, None]   # (B, H, 1)
        cols = (dx[:, None] + torch.arange(w, device=device))[:, None, :]   # (B, 1, W)
        # Flat positions in the padded image; one gather moves every pixel of the batch.
        where = (rows * (w + 2 * pad) + cols).view(n, 1, h * w).expand(n, c, h * w)
        x = padded.gather(2, where).view(n, c, h, w)
    if flip:
        mirror = (torch.rand(n, generator=generator) < 0.5).to(device)
        x = torch.where(mirror[:, None, None, None], x.flip(3), x)
    return x.contiguous()


def resample_round_trip(x: torch.Tensor, scale: float, up: str, down: str) -> torch.Tensor:
    """Float ``x`` (B, C, H, W) enlarged ``scale`` times with ``up`` and reduced back with an
    antialiased ``down`` filter (torch's, which follow PIL's)."""
    h, w = x.shape[-2:]
    big = F.interpolate(x, size=(round(h * scale), round(w * scale)), mode=up,
                        align_corners=False)
    return F.interpolate(big, size=(h, w), mode=down, align_corners=False, antialias=True)


def round_trip_matrix(size: int, scale: float, up: str, down: str) -> torch.Tensor:
    """(size, size) matrix M with ``resample_round_trip`` of an image X equal to M X M^T.

    Both filters are separable, so the round trip is one small matrix per axis; applying it
    as two matrix products is far cheaper than resampling the batch at the enlarged size.
    """
    # One impulse per channel, two pixels wide: on images one pixel wide, torch's (2.14)
    # antialiased reduction returns the same column for every impulse.
    deltas = torch.eye(size)[None, :, :, None].expand(1, size, size, 2)
    responses = resample_round_trip(deltas, scale, up, down)[0, :, :, 0]  # (impulse, row)
    return responses.T


def blur_matrices(size: int, sigma: torch.Tensor) -> torch.Tensor:
    """(B, size, size) Gaussian blurs, one per ``sigma`` (pixels), edges repeating their last
    pixel; a sigma of 0 is the identity."""
    radius = max(1, round(2.5 * MAX_SIGMA))
    taps = torch.arange(-radius, radius + 1)
    kernel = torch.exp(-taps.float() ** 2 / (2 * sigma.float().clamp(min=1e-3)[:, None] ** 2))
    kernel = kernel / kernel.sum(1, keepdim=True)                            # (B, taps)
    source = (torch.arange(size)[:, None] + taps).clamp(0, size - 1)
    picks = F.one_hot(source, size).float()                                  # (size, taps, size)
    return torch.einsum("bt,itj->bij", kernel, picks)


def random_resample(x: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """Each uint8 image with probability ``p``: a resampling round trip (one random factor
    and pair of filters per batch) and then its own slight Gaussian blur, rounded back to
    uint8 as an image file would be. The rest of the batch is returned unchanged."""
    n, _, h, w = x.shape
    chosen = torch.rand(n, generator=generator) < p
    scale = float(SCALES[0] + (SCALES[1] - SCALES[0]) * torch.rand(1, generator=generator))
    up = UP_MODES[int(torch.randint(len(UP_MODES), (1,), generator=generator))]
    down = DOWN_MODES[int(torch.randint(len(DOWN_MODES), (1,), generator=generator))]
    sigma = MAX_SIGMA * torch.rand(int(chosen.sum()), generator=generator)
    if not chosen.any():
        return x
    # The (B, H, H) and (B, W, W) filters are tiny: made on the CPU, identical everywhere.
    rows = (blur_matrices(h, sigma) @ round_trip_matrix(h, scale, up, down)).to(x.device)
    cols = rows if w == h else (blur_matrices(w, sigma)
                                @ round_trip_matrix(w, scale, up, down)).to(x.device)
    index = chosen.nonzero()[:, 0].to(x.device)
    soft = rows[:, None] @ x[index].float() @ cols[:, None].transpose(-1, -2)
    return x.index_copy(0, index, soft.round_().clamp_(0, 255).to(x.dtype))
