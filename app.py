"""Minimal Gradio page: classify an uploaded image with either committed checkpoint."""
import os
import sys

import gradio as gr
import numpy as np
import torch
from PIL import Image

from lenet.checkpoint import CheckpointError, default_checkpoint, load_checkpoint, missing_checkpoint_hint

MODELS = {}
for _name in ("lenet5", "convnet"):
    try:
        MODELS[_name] = load_checkpoint(default_checkpoint(_name))
    except CheckpointError as exc:
        sys.exit(missing_checkpoint_hint(_name, default_checkpoint(_name), exc))


def classify(image, name):
    if image is None:
        return {}
    model, meta = MODELS[name]
    c, h, w = meta["input_shape"]
    im = image.convert("L" if c == 1 else "RGB").resize((w, h), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(im, dtype=np.float32) / 255).reshape(h, w, c).permute(2, 0, 1)
    x = (x - torch.tensor(meta["mean"]).view(-1, 1, 1)) / torch.tensor(meta["std"]).view(-1, 1, 1)
    with torch.inference_mode():
        probs = model(x[None]).softmax(1)[0]
    return {cls: float(p) for cls, p in zip(meta["classes"], probs)}


with gr.Blocks(title="How a CNN sees") as demo:
    gr.Markdown("# How a CNN sees\nUpload an image and pick a model.")
    with gr.Row():
        image = gr.Image(type="pil", label="image")
        with gr.Column():
            name = gr.Radio(list(MODELS), value="lenet5", label="model")
            label = gr.Label(num_top_classes=3)
    gr.Button("Classify").click(classify, [image, name], label, api_name="classify")

if __name__ == "__main__":
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
