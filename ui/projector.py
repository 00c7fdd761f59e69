"""The page's "Large text" toggle, for a projector: text of 18 px and more and larger maps on
every tab (web/page.css), switched in the visitor's browser by web/large_text.js, which the
static site mounts too (web/site.js)."""
from __future__ import annotations

import gradio as gr

from .view import ASSETS


def large_text_toggle() -> gr.HTML:
    return gr.HTML("", html_template=(ASSETS / "large_text.html").read_text(),
                   css_template=(ASSETS / "large_text.css").read_text(),
                   js_on_load=(ASSETS / "large_text.onload.js").read_text(),
                   elem_id="large-text", padding=False, container=False)
