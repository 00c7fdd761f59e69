// What the tabs of one page share, in the page, in both shells (the Gradio app and the static
// site): where the page's files are, the input each live view shows (the building blocks and
// the invariance lab use it), hand-overs from one tab to another, and switching tabs.
// Nothing here talks to a server. ES modules load once per URL, so every tab that imports
// this file shares these maps.
//
// Topics:
//   "digit"  what the draw tab shows: {pixels: Float32Array(28*28) | null, picture: a canvas
//            or ImageBitmap of the input as drawn or uploaded (null: none), caption}
//   "photo"  what the photo tab shows: {pixels: Float32Array(3*32*32) | null, picture: the
//            photo as oriented (an ImageBitmap or canvas), caption}
//   "to-draw", "to-photo"  a hand-over waiting for that tab: {pixels, caption}

const latest = new Map();
const listeners = new Map();
let filesAt = null;

// ------------------------------------------------------------------------------ the files
// ``prefix``: the URL a file path is appended to (the Gradio app: <root>/gradio_api/file=;
// the static site: the folder of index.html). Set once by the shell's loader.
export function setFiles(prefix) {
  filesAt = String(prefix);
}

// A repository-relative path (``checkpoints/lenet5.safetensors``, ``web/words.json``) as the
// URL this page fetches it from.
export function fileUrl(path) {
  if (filesAt === null) throw new Error("the page's loader did not say where its files are");
  return new URL(filesAt + path, window.location.href).href;
}

/** One of the page's files (`path` as fileUrl names it) as an ArrayBuffer; an Error says in
 * one line why not. */
export async function fetchFile(path) {
  let response;
  try {
    response = await fetch(fileUrl(path));
  } catch {
    throw new Error(`could not fetch ${path}: the page lost its connection; reload it`);
  }
  if (!response.ok) throw new Error(`could not fetch ${path} (HTTP ${response.status})`);
  return response.arrayBuffer();
}

// ------------------------------------------------------------------------------ topics
// Tell every listener of ``topic`` about ``value``; a listener added later gets it too.
export function publish(topic, value) {
  latest.set(topic, value);
  for (const listener of listeners.get(topic) || []) listener(value);
}

export function latestOf(topic) {
  return latest.has(topic) ? latest.get(topic) : null;
}

// Call ``listener(value)`` on each later ``publish``; returns the function that stops it.
export function subscribe(topic, listener) {
  if (!listeners.has(topic)) listeners.set(topic, new Set());
  listeners.get(topic).add(listener);
  return () => listeners.get(topic).delete(listener);
}

// ------------------------------------------------------------------------------ hand-overs
// Show ``value`` ({pixels, caption}) on tab ``tab`` ("draw" or "photo") and open that tab.
// The tab may not be built yet (Gradio builds a tab when it is first opened): the hand-over
// waits for it, and is taken once.
export function handOver(tab, value) {
  latest.set(`to-${tab}`, value);
  for (const listener of listeners.get(`to-${tab}`) || []) take(tab, listener);
  showTab(tab);
}

// Call ``receiver(value)`` for a hand-over already waiting and for each later one; returns the
// function that stops it (a tab rebuilt on another model stops its old receiver).
export function receiveHandOvers(tab, receiver) {
  take(tab, receiver);
  // handOver has taken the value already, and passes it on.
  return subscribe(`to-${tab}`, receiver);
}

function take(tab, receiver) {
  const value = latestOf(`to-${tab}`);
  if (value === null) return;
  latest.delete(`to-${tab}`);
  receiver(value);
}

// ------------------------------------------------------------------------------ tabs
// Open tab ``id``: both shells mark each tab's button with data-tab-id (Gradio does it itself).
export function showTab(id) {
  const button = document.querySelector(`[role="tab"][data-tab-id="${id}"]`);
  if (button && button.getAttribute("aria-selected") !== "true") button.click();
}
