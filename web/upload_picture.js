// Opening an upload in the page, as lenet/inputs/images.py open_image does on the server:
// refused with a one-line UploadError before decoding when the file is too large or its
// header declares too many pixels (a small file can declare a huge, flat image), then decoded
// with its EXIF orientation applied and no colour conversion, as PIL decodes it.
import { UPLOAD } from "./upload_resample.js";

const { UPLOAD_LIMIT_MB, MAX_PIXELS, BAND } = UPLOAD;

// A problem with the file the visitor chose: the message is one line saying what to do.
export class UploadError extends Error {
  constructor(message) {
    super(message);
    this.name = "UploadError";
  }
}

// File or Blob -> {image: ImageBitmap, width, height}, or an UploadError.
export async function readPicture(file) {
  if (!file || !file.size) throw new UploadError("the file is empty (0 bytes): choose a picture");
  const megabytes = file.size / 2 ** 20;
  if (megabytes > UPLOAD_LIMIT_MB) {
    throw new UploadError(`the file is ${megabytes.toFixed(0)} MB; the limit is ${UPLOAD_LIMIT_MB} MB: `
                          + "choose a smaller one");
  }
  const declared = declaredSize(new Uint8Array(await file.arrayBuffer()));
  if (declared) checkPixels(declared);
  let image;
  try {
    image = await createImageBitmap(file, { imageOrientation: "from-image",
                                            colorSpaceConversion: "none", premultiplyAlpha: "none" });
  } catch {
    throw new UploadError("this is not an image the page can read: choose a PNG, JPEG, GIF, BMP "
                          + "or WebP file");
  }
  if (!declared) {           // a format whose header is not read here: checked once decoded
    try { checkPixels(image); } catch (error) { image.close(); throw error; }
  }
  return { image, width: image.width, height: image.height };
}

function checkPixels({ width, height }) {
  if (width * height > MAX_PIXELS) {
    throw new UploadError(`the image is ${width}x${height} pixels; the limit is `
                          + `${megapixels(MAX_PIXELS)}: choose a smaller one`);
  }
}

// "64 megapixels", "1 megapixel", as images.py's _megapixels (3 significant figures).
function megapixels(pixels) {
  const millions = String(Number((pixels / 1e6).toPrecision(3)));
  return `${millions} megapixel${millions === "1" ? "" : "s"}`;
}

// {width, height} as the file's header declares them (PNG, JPEG, GIF, BMP, WebP), or null.
export function declaredSize(b) {
  const at = (i) => (i < b.length ? b[i] : 0);
  const be16 = (i) => (at(i) << 8) | at(i + 1), le16 = (i) => at(i) | (at(i + 1) << 8);
  const be32 = (i) => be16(i) * 65536 + be16(i + 2), le32 = (i) => le16(i) + le16(i + 2) * 65536;
  const text = (i, n) => String.fromCharCode(...b.subarray(i, i + n));
  if (b.length >= 24 && at(0) === 0x89 && text(1, 3) === "PNG") {
    return { width: be32(16), height: be32(20) };
  }
  if (b.length >= 10 && text(0, 3) === "GIF") return { width: le16(6), height: le16(8) };
  if (b.length >= 26 && text(0, 2) === "BM") {
    if (le32(14) === 12) return { width: le16(18), height: le16(20) };   // OS/2 header
    const height = le32(22);
    return { width: le32(18), height: height >= 2 ** 31 ? 2 ** 32 - height : height };
  }
  if (b.length >= 30 && text(0, 4) === "RIFF" && text(8, 4) === "WEBP") return webpSize(b, at, le16, text);
  if (at(0) === 0xff && at(1) === 0xd8) return jpegSize(b, at, be16);
  return null;
}

// The frame size of a JPEG's first SOF marker (any SOFn but DHT, JPG and DAC).
function jpegSize(b, at, be16) {
  let i = 2;
  while (i + 9 < b.length) {
    if (at(i) !== 0xff) return null;
    const marker = at(i + 1);
    if (marker === 0xff) { i++; continue; }                          // fill byte
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) { i += 2; continue; }   // no length
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { width: be16(i + 7), height: be16(i + 5) };
    }
    i += 2 + be16(i + 2);
  }
  return null;
}

// WebP's canvas: VP8X (extended), VP8L (lossless) or VP8 (lossy) as the first chunk.
function webpSize(b, at, le16, text) {
  const chunk = text(12, 4);
  if (chunk === "VP8X") {
    const le24 = (i) => at(i) | (at(i + 1) << 8) | (at(i + 2) << 16);
    return { width: 1 + le24(24), height: 1 + le24(27) };
  }
  if (chunk === "VP8L" && at(20) === 0x2f) {
    const bits = at(21) | (at(22) << 8) | (at(23) << 16) | (at(24) << 24);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) };
  }
  if (chunk === "VP8 " && at(23) === 0x9d && at(24) === 0x01 && at(25) === 0x2a) {
    return { width: le16(26) & 0x3fff, height: le16(28) & 0x3fff };
  }
  return null;
}

// Calls visit(rgba, top, rows) for the rows [top, bottom) of the columns [left, right) of
// `image`, a band of at most `band` rows at a time (RGBA bytes, not premultiplied), so that a
// big photo is never held as one ImageData.
export function readBands(image, [left, top, right, bottom], visit, band = BAND) {
  const width = right - left;
  const canvas = new OffscreenCanvas(width, Math.min(band, bottom - top));
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.imageSmoothingEnabled = false;
  for (let y = top; y < bottom; y += band) {
    const rows = Math.min(band, bottom - y);
    context.clearRect(0, 0, width, canvas.height);
    context.drawImage(image, -left, -y);
    visit(context.getImageData(0, 0, width, rows).data, y, rows);
  }
}
