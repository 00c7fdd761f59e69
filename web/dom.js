// Small helpers for building the page's HTML from its modules.

import { fileUrl } from "./shared.js";

// A new element with attributes and, optionally, its text.
export function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// A canvas cleared to transparent.
export function clearCanvas(canvas) {
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
}

// ------------------------------------------------------------------------------ style sheets
// The <link> elements this module added, each with the promise that settles when it loads.
const sheetsLoading = new WeakMap();

/** Apply the style sheet at ``path`` (a repository path, as fileUrl takes it: "web/x.css") to
 * this document, once: a second call, from this tab or another, finds the first <link> in the
 * head and waits for the same load. Resolves when the sheet has loaded or failed to: a tab
 * works unstyled too, so it never rejects. */
export function linkStyleSheet(path) {
  const href = fileUrl(path);
  const linked = [...document.head.querySelectorAll("link[rel=stylesheet]")].find((l) => l.href === href);
  if (linked) return sheetsLoading.get(linked) || settled(linked);
  const link = el("link", {rel: "stylesheet", href});
  const loading = settled(link);
  sheetsLoading.set(link, loading);
  document.head.append(link);
  return loading;
}

// Resolves when ``link`` has loaded or failed; at once if its sheet is already there.
function settled(link) {
  if (link.sheet) return Promise.resolve();
  return new Promise((resolve) => {
    link.addEventListener("load", () => resolve(), {once: true});
    link.addEventListener("error", () => resolve(), {once: true});
  });
}
