"""Everything that draws: feature-map grids, colour scales and bars, heatmap overlays, the
pictures of one prediction, the preprocessing recipe step by step, training plots.

Pictures take results (arrays, tensors, ``Prediction``s) and never run a model: imports flow
from here to ``lenet.inside`` and ``lenet.inputs``, never back.
"""
