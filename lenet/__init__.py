"""lenet: LeNet-5 and the course's CIFAR-10 ConvNet, their training, and a look inside them.

Modules: ``models`` (the networks and their registry), ``data`` (datasets as tensors),
``engine`` (training and evaluation loops), ``checkpoint`` (safetensors files),
``preprocess`` (any user input to a model input), ``inference`` (prediction, activations,
Grad-CAM, saliency), ``visualize`` (pictures and plots) and ``synth`` (MNIST digits redrawn
as users draw them). ``python -m lenet`` offers ``evaluate`` and ``predict``.
"""
__version__ = "0.1.0"
