"""lenet: LeNet-5 and the course's CIFAR-10 ConvNet, their training, and a look inside them.

Modules: ``models`` (the networks and their registry), ``data`` (datasets as tensors),
``engine`` (training and evaluation loops), ``checkpoint`` (safetensors files),
``images`` (opening any user input), ``preprocess`` (an image to a model input), ``inference`` (the re-entrant
``Classifier``: prediction, every layer's output, Grad-CAM, saliency), ``memo`` (compute each
input once under concurrent requests), ``trace`` (one value traced back to the weights),
``explain`` (layers and softmax in words and formulas), ``trace_view`` (a traced value
as pictures), ``gallery`` (test-set galleries), ``sheet`` and ``compare`` (sheets of test
images; models side by side), ``blocks`` (the course's building blocks), ``invariance``
(transformed inputs, curves, occlusion), ``input_steps`` (the preprocessing
recipe as pictures), ``scales`` (colour bars, kernel grids), ``visualize`` (pictures and
plots) and ``synth`` (MNIST digits redrawn as users draw them). ``python -m lenet`` offers
``evaluate``, ``predict`` and ``trace``.
"""
__version__ = "0.4.0"
