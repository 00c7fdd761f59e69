// js_on_load of the draw tab's view (ui/draw.py): load the page's own modules, served by the
// app as static files, and hand them this component. Runs as a function of
// (element, trigger, props, server, upload, watch).
// Gradio learns a component's custom events from their quoted names in this text: the page
// sends "replaced" (a drawing replaced an upload) and "cleared" (Clear was pressed).
const root = (window.gradio_config && window.gradio_config.root) || window.location.href;
const base = new URL("gradio_api/file=app_assets/", root.endsWith("/") ? root : root + "/");
import(new URL("draw_tab.js", base).href)
  .then((module) => module.mount({ element, props, trigger, watch, base }))
  .catch((error) => {
    element.querySelector(".nv-answer").textContent =
      "The network could not start in this browser: " + error.message;
  });
