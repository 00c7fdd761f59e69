// js_on_load of the "Large text" toggle (ui/projector.py): every text 18 px or more and the
// maps larger, for a projected page read from the back of a room. It sets one class on the
// page (page.css reads it) and remembers the choice in this browser; nothing goes to the server.
const box = element.querySelector(".lt-box");
const KEY = "how-a-cnn-sees:large-text";
const apply = (on) => {
  document.documentElement.classList.toggle("large-text", on);
  box.checked = on;
};
let saved = false;
try {
  saved = window.localStorage.getItem(KEY) === "1";
} catch {
  // storage switched off: the toggle still works for this visit
}
apply(saved);
box.addEventListener("change", () => {
  apply(box.checked);
  try {
    window.localStorage.setItem(KEY, box.checked ? "1" : "0");
  } catch {
    // not remembered; nothing else to do
  }
});
