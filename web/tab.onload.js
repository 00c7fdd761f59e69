// js_on_load of every tab of the Gradio app (ui/view.py page_tab): say where the page's files
// are (web/shared.js), then load the tab's own module, served by the app as a static file, and
// mount it on this component. Runs as a function of (element, trigger, props, server, upload,
// watch). What to load is written in the tab's own HTML (data-start, lenet/page.py), which
// survives where Gradio's extra props may not. The static site does the same in web/site.js.
const root = (window.gradio_config && window.gradio_config.root) || window.location.href;
const files = new URL("gradio_api/file=", root.endsWith("/") ? root : root + "/").href;
const base = new URL(files + "web/");
const holder = element.querySelector("[data-start]");
const start = JSON.parse(holder.dataset.start);
import(new URL("shared.js", base).href)
  .then((shared) => shared.setFiles(files))
  .then(() => import(new URL(start.module, base).href))
  .then((module) => module.mount({ element, start, base, models: start.models, props, trigger, watch }))
  .catch((error) => {
    const said = element.querySelector("[data-says-failure]") || holder;
    said.textContent = "This part of the page could not start in this browser: " + error.message;
  });
