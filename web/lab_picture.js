// The invariance lab's two pictures, drawn from numbers computed elsewhere (lab_measure.js):
// the input as the network sees it, and the occlusion map over it, as the server drew them
// (lenet/pictures/visualize.py pixels_to_image, occlusion_picture): the input enlarged with
// crisp pixels, the heat (each pixel's share of the class's probability lost when it is hidden)
// enlarged smoothly and blended over it, more colour where more is lost.

import { greys, heat, paint } from "./colours.js";

const STRENGTH = 0.6;   // the most colour a pixel gets, as visualize.heat_overlay's strength
export const ENLARGE = 8;   // the occlusion picture's pixels per input pixel (224 or 256 px wide)

/** ``pixels`` (C*H*W in [0, 1]) into ``canvas``, one canvas pixel per input pixel (CSS
 * enlarges it crisply). */
export function paintSeen(canvas, pixels, [C, H, W]) {
  paint(canvas, pixels, C, H, W, greys);
}

/** The occlusion map ``hidden`` (lab_measure.js occlusion) over ``pixels`` as shown, into
 * ``canvas`` at ENLARGE times the input's size. */
export function paintOcclusion(canvas, pixels, [C, H, W], hidden) {
  const scale = hidden.probability > 1e-12 ? hidden.probability : 1e-12;
  const share = Uint8Array.from(hidden.heat, (v) => Math.round(Math.min(1, Math.max(0, v / scale)) * 255));
  const big = enlargeSmoothly(share, H, W, ENLARGE);
  const w = W * ENLARGE, h = H * ENLARGE;
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(w, h), out = image.data;
  const plane = H * W;
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const source = Math.floor(i / ENLARGE) * W + Math.floor(j / ENLARGE), o = 4 * (i * w + j);
      const v = big[i * w + j], mask = Math.round(v * STRENGTH);
      for (let c = 0; c < 3; c++) {
        const base = Math.round(255 * Math.min(1, Math.max(0, pixels[(C === 3 ? c : 0) * plane + source])));
        out[o + c] = Math.round((heat.rgb[3 * v + c] * mask + base * (255 - mask)) / 255);
      }
      out[o + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
}

/** uint8 ``values`` (H x W) ``k`` times larger by bilinear interpolation between pixel
 * centres, the edges held (as PIL's BILINEAR upscaling), rows then columns, each rounded. */
function enlargeSmoothly(values, H, W, k) {
  const across = resampleRows(values, H, W, k);                 // H x kW
  const transposed = transpose(across, H, W * k);               // kW x H
  return transpose(resampleRows(transposed, W * k, H, k), W * k, H * k);   // kH x kW
}

function resampleRows(values, rows, cols, k) {
  const out = new Uint8Array(rows * cols * k);
  for (let j = 0; j < cols * k; j++) {
    const centre = (j + 0.5) / k - 0.5;
    const a = Math.max(0, Math.min(cols - 1, Math.floor(centre))), b = Math.min(cols - 1, a + 1);
    const t = Math.max(0, Math.min(1, centre - a));
    for (let r = 0; r < rows; r++) {
      out[r * cols * k + j] = Math.round(values[r * cols + a] * (1 - t) + values[r * cols + b] * t);
    }
  }
  return out;
}

function transpose(values, rows, cols) {
  const out = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}
