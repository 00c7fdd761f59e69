"""Looking inside a trained network: the re-entrant ``Classifier`` (every layer's output,
Grad-CAM, saliency), one number traced to the weights, layers explained in words, the
building blocks, the invariance lab and the test-set galleries.

Belongs here: computations that run a model and return results as arrays and dataclasses.
Builds on ``lenet.net``, ``lenet.inputs`` and ``lenet.training``; never draws a picture
(that is ``lenet.pictures``) and never imports Gradio.
"""
