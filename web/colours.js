// Colour scales for the page's pictures, and painting values into a canvas. A scale is a
// table of 256 colours over a range of values; pictures carry no text, their ranges are
// written beside them in HTML.

const STEPS = 256;

function table(colour) {
  const rgb = new Uint8ClampedArray(3 * STEPS);
  for (let i = 0; i < STEPS; i += 1) rgb.set(colour(i / (STEPS - 1)), 3 * i);
  return rgb;
}

// matplotlib's RdBu_r (blue negative, white zero, red positive, symmetric around zero so
// that equal magnitudes look equally strong) and inferno (heatmaps), the very tables the
// server's pictures use: web/colour_maps.json, written by tools/colour_maps.py.
const MAPS = await (await fetch(new URL("colour_maps.json", import.meta.url))).json();
const DIVERGING = Uint8ClampedArray.from(MAPS.diverging);
const HEAT = Uint8ClampedArray.from(MAPS.heat);
// Pixels as the network receives them: 0 black, 1 white.
const GREYS = table((u) => [255 * u, 255 * u, 255 * u]);

export const diverging = (top) => ({ rgb: DIVERGING, low: -(top > 0 ? top : 1), high: top > 0 ? top : 1 });
export const greys = { rgb: GREYS, low: 0, high: 1 };
export const heat = { rgb: HEAT, low: 0, high: 1 };

// Paint ``values`` (channels x height x width, channel-major) into ``canvas`` through
// ``scale``; three channels are shown as RGB in [0, 1]. ``count`` limits how many values are
// painted (a grid of units whose last row is not full).
export function paint(canvas, values, channels, height, width, scale, count = height * width) {
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext("2d");
  // One ImageData per canvas, reused: the view repaints every canvas on every pointer move.
  if (!canvas.pixels || canvas.pixels.width !== width || canvas.pixels.height !== height) {
    canvas.pixels = ctx.createImageData(width, height);
  }
  const out = canvas.pixels.data;
  const plane = height * width;
  const { rgb, low, high } = scale;
  const step = (STEPS - 1) / (high - low);
  for (let i = 0; i < plane; i += 1) {
    const o = 4 * i;
    if (i >= count) { out[o + 3] = 0; continue; }
    if (channels === 3) {
      out[o] = 255 * values[i]; out[o + 1] = 255 * values[plane + i]; out[o + 2] = 255 * values[2 * plane + i];
    } else {
      const k = 3 * Math.max(0, Math.min(STEPS - 1, Math.round((values[i] - low) * step)));
      out[o] = rgb[k]; out[o + 1] = rgb[k + 1]; out[o + 2] = rgb[k + 2];
    }
    out[o + 3] = 255;
  }
  ctx.putImageData(canvas.pixels, 0, 0);
}
