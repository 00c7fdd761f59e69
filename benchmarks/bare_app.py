"""The reference for benchmarks/load.py: a Gradio app whose handler returns at once.

Same input kind as the real photo endpoint (an uploaded image file), default queue settings:
what the framework itself costs per request on this machine.
"""
import os

import gradio as gr

with gr.Blocks() as demo:
    photo = gr.Image(type="filepath")
    out = gr.Textbox()
    photo.change(lambda path: "ok", photo, out, api_name="classify_photo")

if __name__ == "__main__":
    demo.launch(server_name="127.0.0.1", server_port=int(os.environ["GRADIO_SERVER_PORT"]),
                quiet=True)
