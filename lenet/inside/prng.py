"""The project's own seeded random numbers, written once more in ``web/prng.js`` with the
same arithmetic, so that a seed gives the same random filters, noise and gallery shuffle in
Python and in the page (NumPy's and torch's generators have no JavaScript twin).

A 32-bit generator (mulberry32: a counter stepped by an odd constant, then mixed by
multiplications and shifts); normal numbers by the Box-Muller transform, in pairs.

    draw = Draws(seed=0)
    draw.uniform(3)          # [0.26642920868471265, ...], each in [0, 1)
    draw.normal(4)           # N(0, 1), float64
"""
from __future__ import annotations

import math

import numpy as np

MASK = 0xFFFFFFFF
STEP = 0x6D2B79F5   # added to the state at each draw (odd, so every state is visited)


def _imul(a: int, b: int) -> int:
    """32-bit multiplication keeping the low 32 bits, as JavaScript's ``Math.imul`` (unsigned)."""
    return (a * b) & MASK


class Draws:
    """A stream of random numbers from a whole-number ``seed`` (taken modulo 2**32)."""

    def __init__(self, seed: int = 0):
        self.state = int(seed) & MASK

    def next_uint32(self) -> int:
        self.state = (self.state + STEP) & MASK
        t = self.state
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & MASK
        return (t ^ (t >> 14)) & MASK

    def uniform(self, n: int) -> np.ndarray:
        """``n`` numbers in [0, 1): each a 32-bit draw divided by 2**32 (exact in float64)."""
        return np.array([self.next_uint32() / 2**32 for _ in range(n)], dtype=np.float64)

    def normal(self, n: int) -> np.ndarray:
        """``n`` numbers from N(0, 1): Box-Muller on two uniforms per pair (1 - u keeps the
        logarithm finite); an odd ``n`` drops the last pair's second number."""
        out = []
        while len(out) < n:
            u1, u2 = 1 - self.next_uint32() / 2**32, self.next_uint32() / 2**32
            radius, angle = math.sqrt(-2 * math.log(u1)), 2 * math.pi * u2
            out += [radius * math.cos(angle), radius * math.sin(angle)]
        return np.array(out[:n], dtype=np.float64)

    def shuffled(self, n: int) -> np.ndarray:
        """0..n-1 in a random order (Fisher-Yates from the end, one draw per place)."""
        order = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.next_uint32() % (i + 1)
            order[i], order[j] = order[j], order[i]
        return np.array(order, dtype=np.int64)
