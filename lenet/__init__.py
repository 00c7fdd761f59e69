"""lenet: LeNet-5 and the course's CIFAR-10 ConvNet, their training, and a look inside them.

Training: ``models`` (the networks and their registry), ``data`` (datasets as tensors),
``engine`` (training and evaluation loops), ``checkpoint`` (safetensors files), ``gallery``
(test-set galleries beside the checkpoints).
Serving: ``images`` (opening any user input), ``preprocess`` (an image to a model input),
``pad`` (the drawing pad's own recipe, which the page's JavaScript repeats),
``inference`` (the re-entrant ``Classifier``: prediction, every layer's output, Grad-CAM,
saliency), ``memo`` (each input computed once under concurrent requests), ``trace`` (one
value traced back to the weights), ``explain`` (layers and the softmax in words and
formulas), ``blocks`` (the course's building blocks), ``invariance`` (transformed inputs,
probability curves, occlusion).
Pictures: ``visualize`` (grids, overlays, tables, plots), ``scales`` (colour bars, kernel
grids), ``input_steps`` (the preprocessing recipe), ``synth`` (MNIST digits redrawn as
users draw them, for tests and benchmarks).
``python -m lenet`` offers ``evaluate``, ``predict``, ``trace`` and ``gallery``.
"""
__version__ = "0.5.0"
