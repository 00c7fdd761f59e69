"""The "Inside the models" tab: for the model chosen, its test accuracy, architecture, learned
filters and kernels, training curves, per-class test error and confusion matrix, read from the
checkpoints and drawn in the page (``web/inside_tab.js``). The server only hands the page the
tab and what it loads (``lenet.page``): choosing a model sends nothing back."""
from __future__ import annotations

import gradio as gr

from .view import page_tab


def build(start: dict) -> gr.HTML:
    """The tab for ``start`` (``lenet.page.tab_starts(...)["inside"]``: every model's
    checkpoint by the path the page fetches it from)."""
    return page_tab("inside", start)
