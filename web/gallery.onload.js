// js_on_load of the gallery's grid (ui/gallery.py): a click on a test image sends "pick"
// with its place on the grid; the server knows which image sits there.
element.addEventListener("click", (event) => {
  const tile = event.target.closest(".gl-tile");
  if (tile) trigger("pick", { k: Number(tile.dataset.k) });
});
