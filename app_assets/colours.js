// Colour scales for the page's pictures, and painting values into a canvas. A scale maps a
// value to [r, g, b] bytes; pictures carry no text, their ranges are written beside them.

// Blue for negative, white for zero, red for positive, symmetric around zero so that equal
// magnitudes look equally strong (matplotlib's RdBu_r end points).
export function diverging(top) {
  const span = top > 0 ? top : 1;
  return (v) => {
    const t = Math.max(-1, Math.min(1, v / span));
    return t >= 0
      ? [255 - 152 * t, 255 - 255 * t, 255 - 224 * t]      // white -> #670020-ish red
      : [255 + 222 * t, 255 + 143 * t, 255 + 58 * t];      // white -> #21 70 c5-ish blue
  };
}

// Pixels as the network receives them: 0 black, 1 white.
export const greys = (v) => {
  const g = 255 * Math.max(0, Math.min(1, v));
  return [g, g, g];
};

// Heatmaps in [0, 1]: black, red, orange, yellow, white (an inferno-like ramp).
export const heat = (v) => {
  const t = Math.max(0, Math.min(1, v));
  return [255 * Math.min(1, 2.2 * t), 255 * Math.max(0, Math.min(1, 2 * t - 0.6)),
    255 * Math.max(0, 3 * t - 2) + 40 * (1 - t) * Math.min(1, 4 * t)];
};

// Paint ``values`` (channels x height x width, channel-major) into ``canvas`` with ``scale``;
// three channels are shown as RGB, one through the scale. ``count`` limits how many values
// are painted (a grid of units whose last row is not full).
export function paint(canvas, values, channels, height, width, scale, count = height * width) {
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(width, height);
  const out = image.data;
  const plane = height * width;
  for (let i = 0; i < plane; i += 1) {
    const o = 4 * i;
    if (i >= count) { out[o + 3] = 0; continue; }
    if (channels === 3) {
      out[o] = 255 * clamp(values[i]); out[o + 1] = 255 * clamp(values[plane + i]);
      out[o + 2] = 255 * clamp(values[2 * plane + i]);
    } else {
      const [r, g, b] = scale(values[i]);
      out[o] = r; out[o + 1] = g; out[o + 2] = b;
    }
    out[o + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

const clamp = (v) => Math.max(0, Math.min(1, v));
