"""The networks: the course's models as plain ``nn.Module``s, the layer table each checkpoint
carries, the test-time rule, and the safetensors checkpoints themselves.

Belongs here: what is needed to rebuild a trained network and run it. Imports nothing else
from ``lenet``; every other package builds on this one.
"""
