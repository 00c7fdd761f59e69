"""What a user gives, made into what a network receives: opening any image safely, the general
digit and photo recipes, the drawing pad's own recipe (which the page repeats in JavaScript),
and synthetic drawings for tests and benchmarks.

Belongs here: pixels in, pixels out, with NumPy and PIL. No model runs here; imports nothing
from ``lenet`` but itself.
"""
