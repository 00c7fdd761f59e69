"""The Gradio page, one module per tab (its layout and its handlers together), plus
``common`` for what the tabs share. ``app.py`` loads the models and assembles the tabs.
The engine (``lenet``) never imports from here."""
