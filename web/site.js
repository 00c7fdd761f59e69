// The static site's loader (index.html, written by `python -m lenet site`), the twin of the
// Gradio app's tab.onload.js: the page's files lie next to index.html, each tab's module is
// mounted on its panel when the tab is first opened (as Gradio builds a tab when first shown),
// the draw tab at once; the tab bar works by mouse, touch and keyboard, and shared.js
// showTab opens a tab by clicking its button, as in the Gradio app.

import { mount as mountLargeText } from "./large_text.js";
import { setFiles } from "./shared.js";

const base = new URL("./", import.meta.url);   // web/, as tab.onload.js passes it
const mounted = new Set();

setFiles("");   // a file's path in the repository is its path next to index.html
mountLargeText(document.querySelector("#large-text"));
const tabs = [...document.querySelectorAll('[role="tab"][data-tab-id]')];
for (const tab of tabs) {
  tab.addEventListener("click", () => select(tab));
  tab.addEventListener("keydown", (event) => {
    const next = neighbour(tab, event.key);
    if (!next) return;
    event.preventDefault();
    select(next);
    next.focus();
  });
}
select(tabs.find((t) => t.getAttribute("aria-selected") === "true") || tabs[0]);

// Show ``tab``'s panel, hide the others, and mount its module the first time.
function select(tab) {
  for (const other of tabs) {
    const on = other === tab;
    other.setAttribute("aria-selected", String(on));
    other.tabIndex = on ? 0 : -1;
    document.getElementById(other.getAttribute("aria-controls")).hidden = !on;
  }
  const id = tab.dataset.tabId;
  if (mounted.has(id)) return;
  mounted.add(id);
  mountTab(document.getElementById(`${id}-view`));
}

// The tab the arrow keys, Home and End move to from ``tab`` (round the ends), or null.
function neighbour(tab, key) {
  const k = tabs.indexOf(tab), n = tabs.length;
  const to = { ArrowRight: k + 1, ArrowLeft: k - 1, Home: 0, End: n - 1 }[key];
  return to === undefined ? null : tabs[(to + n) % n];
}

// Load the module the tab's HTML names (its data-start, lenet/page.py) and mount it; a tab
// that cannot start says so in its own panel and the other tabs go on.
async function mountTab(element) {
  const holder = element.querySelector("[data-start]");
  try {
    const start = JSON.parse(holder.dataset.start);
    const module = await import(new URL(start.module, base).href);
    await module.mount({ element, start, base });
  } catch (error) {
    const said = element.querySelector("[data-says-failure]") || holder || element;
    said.textContent = "This part of the page could not start in this browser: " + error.message;
    console.error(error);
  }
}
