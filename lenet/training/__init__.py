"""Fitting the networks: datasets as tensors, augmentation on whole batches, the training and
evaluation loops and the device they run on.

Builds on ``lenet.net`` and ``lenet.inputs``; nothing here draws pictures or serves requests.
"""
