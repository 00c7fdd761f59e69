"""The page as files, for both shells: ``tabs`` (each tab's HTML and what its module loads)
and ``site`` (the static site, ``python -m lenet site OUT``). No torch, no gradio."""
from lenet.net.files import GALLERY_SUFFIX, checkpoint_meta, gallery_path
from lenet.page.tabs import ROOT, TABS, VIEWS, WEB, attribute, tab_html, tab_starts

__all__ = ["GALLERY_SUFFIX", "ROOT", "TABS", "VIEWS", "WEB", "attribute", "checkpoint_meta", "gallery_path",
           "tab_html", "tab_starts"]
