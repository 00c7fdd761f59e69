// js_on_load of the live views (ui/draw.py, ui/photo.py): load the tab's own module, served by
// the app as a static file, and hand it this component. Runs as a function of
// (element, trigger, props, server, upload, watch). What to load is written in the view's own
// HTML (data-start, ui/view.py), which survives where Gradio's extra props may not.
// Gradio learns a component's custom events from their quoted names in this text: the page
// sends "replaced" (a drawing replaced an upload) and "cleared" (Clear was pressed).
const root = (window.gradio_config && window.gradio_config.root) || window.location.href;
const base = new URL("gradio_api/file=web/", root.endsWith("/") ? root : root + "/");
const start = JSON.parse(element.querySelector(".nv-wrap").dataset.start);
import(new URL(start.module, base).href)
  .then((module) => module.mount({ element, props, models: start.models, trigger, watch, base }))
  .catch((error) => {
    element.querySelector(".nv-answer").textContent =
      "The network could not start in this browser: " + error.message;
  });
