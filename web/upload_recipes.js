// Uploads prepared in the page, with the same arithmetic as Python (lenet/inputs: images.py
// for opening, photo.py and upload_digit.py for the recipes); tests/test_upload_recipes.py
// holds the page's inputs equal to Python's on a few thousand uploads.
//   const { image } = await readPicture(file);      // or an UploadError with a one-line message
//   photoPixels(image)  -> Float32Array(3 * 32 * 32), channels first, in [0, 1]
//   digitPixels(image)  -> Float32Array(28 * 28) in [0, 1], ink = 1, or null: no digit found
export { UploadError, readPicture } from "./upload_picture.js";
export { photoPixels } from "./upload_photo.js";
export { digitPixels, digitRecipe } from "./upload_digit.js";
