// Reading the PNG strips that lenet/inside/gallery.py png_strip writes into the side files
// beside a checkpoint (the gallery, the nearest neighbours): n images of h x w x c stacked
// vertically in one lossless PNG. The gallery tab and web/neighbours.js both read them here.

import { el } from "./dom.js";

// The strip is copied to a canvas this many rows at a time: a canvas has a largest side
// (32,767 px in Chromium), and 5,000 digits are 140,000 rows tall.
const BAND = 4096;

/** The PNG strip's bytes -> (n, h, w, c) uint8, channels last as Python holds them. No colour
 * conversion: the file's values are the network's inputs. ``fail(why)`` throws the caller's
 * own one-line message. */
export async function decodeStrip(png, n, [h, w, c], fail) {
  const bitmap = await createImageBitmap(new Blob([png], { type: "image/png" }),
    { colorSpaceConversion: "none", premultiplyAlpha: "none" }).catch(() => fail("its images are not a PNG"));
  if (bitmap.width !== w || bitmap.height !== n * h) fail("its picture does not hold its images");
  const images = new Uint8Array(n * h * w * c), canvas = el("canvas", { width: w, height: 1 });
  for (let top = 0; top < n * h; top += BAND) {
    const rows = Math.min(BAND, n * h - top);
    canvas.height = rows;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(bitmap, 0, top, w, rows, 0, 0, w, rows);
    const rgba = context.getImageData(0, 0, w, rows).data;
    for (let p = 0, at = top * w * c; p < w * rows; p += 1) {
      for (let k = 0; k < c; k += 1) images[at++] = rgba[4 * p + k];
    }
  }
  bitmap.close();
  return images;
}
