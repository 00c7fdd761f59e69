"""The reference for benchmarks/classroom.py: app.py's two drawing endpoints answering at once.

``/classify_sketch(value) -> (Markdown, Label, Image, Markdown)`` and
``/sketch_pictures(value, target, view) -> 10 Images``, called exactly as app.py's are, with
app.py's queue settings and lanes, and no
model: what Gradio itself costs a classroom on this machine.

Each drawing gets its own images (fixed noise with a few pixels stamped from a hash of the
input), as each gets its own pictures in the app: Gradio stores byte-identical outputs of
concurrent requests in one cache file, which would make this reference unlike the app.
"""
import hashlib
import os

import gradio as gr
import numpy as np
from PIL import Image

# app.py's queue and its lanes (ui/events.py QUICK, SLOW): the label step and the pictures
# step each run two at a time, in lanes of their own. (app.py's endpoints are gr.api ones,
# which take only the lane; show_progress and trigger_mode matter to a page, not to
# gradio_client, so they change nothing here.)
QUEUE_SIZE = 64
QUICK = dict(show_progress="hidden", trigger_mode="always_last",
             concurrency_id="label", concurrency_limit=2)
SLOW = dict(show_progress="hidden", trigger_mode="always_last",
            concurrency_id="pictures", concurrency_limit=2)
# Sizes of app.py's pictures (pixels, width x height): the input the network sees; Grad-CAM,
# saliency, the preprocessing steps, the feature-map grids of C1, S2, C3, S4, C5 and the
# strips of F6 and the output, each with its colour bar.
SEEN_SIZE = (28, 28)
PICTURE_SIZES = [(112, 144), (112, 144), (788, 140), (354, 103), (354, 103), (504, 182),
                 (504, 182), (720, 344), (624, 266), (456, 110)]
SOFTMAX = ("**Logits z** (the output layer, before the softmax): " + " · ".join(
    f"{d}: +0.00" for d in range(10)) + "\n\n**Softmax**: `p(0) = e^{z_0} / Σ_j e^{z_j} = 0.100`")


def blocky_noise(size: tuple[int, int], seed: int) -> np.ndarray:
    """(H, W, 3) uint8 noise in 4x4 blocks of four grey levels: compresses like a feature map."""
    w, h = size
    blocks = np.random.default_rng(seed).integers(0, 4, (h // 4 + 1, w // 4 + 1, 3), np.uint8) * 85
    return np.kron(blocks, np.ones((4, 4, 1), np.uint8))[:h, :w]


SEEN = blocky_noise(SEEN_SIZE, 0)
PICTURES = [blocky_noise(size, k + 1) for k, size in enumerate(PICTURE_SIZES)]


def stamped(base: np.ndarray, digest: bytes) -> Image.Image:
    """``base`` with eight pixels set from ``digest``, so that each drawing gets its own file."""
    pixels = base.copy()
    h, w = pixels.shape[:2]
    for k in range(8):
        a, b, c = digest[3 * k: 3 * k + 3]
        pixels[a * h // 256, b * w // 256] = c
    return Image.fromarray(pixels)


def classify_sketch(value: str):
    digest = hashlib.sha256(value.encode()).digest()
    label = str(digest[-1] % 10)
    confidences = {str(d): 0.9 if str(d) == label else 0.1 / 9 for d in range(10)}
    return (f"**{label}** with 90.0 % confidence", confidences, stamped(SEEN, digest), SOFTMAX)


def sketch_pictures(value: str, target: str, view: str):
    digest = hashlib.sha256(f"{value}|{target}|{view}".encode()).digest()
    return tuple(stamped(base, digest) for base in PICTURES)


with gr.Blocks() as demo:
    pad = gr.Textbox()  # app.py's pad is a gr.HTML whose value is the same data-URL string
    target = gr.Dropdown(["top prediction", *map(str, range(10))], value="top prediction")
    view = gr.Radio(["before the activation", "after the activation"],
                    value="before the activation")
    quick = [gr.Markdown(), gr.Label(num_top_classes=10), gr.Image(format="png"), gr.Markdown()]
    shown = [gr.Image(format="png") for _ in PICTURES]
    pad.change(classify_sketch, pad, quick, api_name="classify_sketch", **QUICK)
    pad.submit(sketch_pictures, [pad, target, view], shown, api_name="sketch_pictures", **SLOW)

demo.queue(max_size=QUEUE_SIZE)

if __name__ == "__main__":
    demo.launch(server_name="127.0.0.1", server_port=int(os.environ["GRADIO_SERVER_PORT"]),
                quiet=True)
