"""lenet: LeNet-5 and the course's CIFAR-10 ConvNet, their training, and a look inside them.

The folders are the design; imports flow down this list, never up:

- ``lenet.net``: the networks, their layer table and test-time rule, checkpoints.
- ``lenet.inputs``: any user image made into a network input (the pad's recipe included).
- ``lenet.training``: datasets, augmentation, the training and evaluation loops.
- ``lenet.inside``: the serving engine and everything that looks inside a trained network.
- ``lenet.pictures``: everything that draws; takes results, never runs a model.

``python -m lenet`` offers ``evaluate``, ``predict``, ``trace`` and ``gallery``.
"""
__version__ = "0.5.0"
