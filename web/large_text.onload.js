// js_on_load of the "Large text" toggle in the Gradio app (ui/projector.py): load the page's
// module for it (large_text.js, served by the app as a static file, as the tabs' modules are)
// and mount it on this component. The static site mounts the same module from site.js.
const root = (window.gradio_config && window.gradio_config.root) || window.location.href;
const web = new URL("gradio_api/file=web/", root.endsWith("/") ? root : root + "/");
import(new URL("large_text.js", web).href).then((module) => module.mount(element));
