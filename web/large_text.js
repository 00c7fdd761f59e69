// The "Large text" toggle, for a projector: every text 18 px or more and the maps larger, for
// a projected page read from the back of a room. It sets one class on the page (page.css
// reads it) and remembers the choice in this browser; nothing goes to a server. Both shells
// mount it on their copy of large_text.html: the Gradio app from large_text.onload.js, the
// static site from site.js.

const KEY = "how-a-cnn-sees:large-text";

// Wire the checkbox inside ``element`` and apply the choice this browser remembers.
export function mount(element) {
  const box = element.querySelector(".lt-box");
  const apply = (on) => {
    document.documentElement.classList.toggle("large-text", on);
    box.checked = on;
  };
  apply(remembered());
  box.addEventListener("change", () => {
    apply(box.checked);
    remember(box.checked);
  });
}

function remembered() {
  try {
    return window.localStorage.getItem(KEY) === "1";
  } catch {
    return false;   // storage switched off: the toggle still works for this visit
  }
}

function remember(on) {
  try {
    window.localStorage.setItem(KEY, on ? "1" : "0");
  } catch {
    // not remembered; nothing else to do
  }
}
