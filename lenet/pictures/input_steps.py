"""How the input was made: the preprocessing recipes shown step by step, as captioned images.

``digit_steps`` and ``photo_steps`` narrate what ``preprocess`` does to a drawing or a
photo, using the recipe's own intermediates (``preprocess.digit_recipe``), so the last
picture is exactly what the network gets. ``steps_strip`` lays such steps side by side.
The recipes themselves live in ``preprocess``; nothing here changes what they compute.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from lenet.inputs.pad import pad_ink, pad_recipe
from lenet.inputs.preprocess import (
    DIGIT_BOX,
    DIGIT_CANVAS,
    FINE,
    centre_square,
    digit_recipe,
    opaque_rgb,
    open_image,
    photo_to_array,
    stroke_width,
    to_rgba,
)
from lenet.pictures.visualize import _font

DISPLAY_SIDE = 512   # pictures of the received image are reduced to at most this, for display
Step = tuple[str, Image.Image]


def digit_steps(image: Image.Image) -> list[Step]:
    """The digit recipe as (caption, picture) pairs, ending with what LeNet-5 gets.

    Received -> ink map (which polarity) -> cropped to the ink -> fitted into 20x20 (stroke
    thickened, thinned or kept) -> placed by centre of mass in 28x28 -> the network's input.
    Ink is shown white on black, as in MNIST. The last picture is
    ``round(255 * digit_from_image(image).pixels)`` as an "L" image, exactly.
    """
    recipe = digit_recipe(image)
    steps = [(f"received: {image.width}x{image.height} {image.mode}", _displayed(image))]
    polarity = "dark ink on light paper" if recipe.dark_ink else "light ink on dark"
    h, w = recipe.ink.shape
    steps.append((f"ink map {w}x{h}: {polarity}" if recipe.cropped is not None
                  else f"ink map {w}x{h}: no ink found", _grey(recipe.ink)))
    if recipe.cropped is not None:
        h, w = recipe.cropped.shape
        steps.append((f"cropped to the ink: {w}x{h}", _grey(recipe.cropped)))
        after = stroke_width(recipe.fitted) / FINE
        change = (f"stroke {recipe.stroke:.1f} px {recipe.adjusted} by "
                  f"{abs(after - recipe.stroke):.1f} px" if recipe.adjusted != "kept"
                  else f"stroke {recipe.stroke:.1f} px kept")
        fh, fw = (-(-n // FINE) for n in recipe.fitted.shape)
        steps.append((f"fitted into {DIGIT_BOX}x{DIGIT_BOX} ({fw}x{fh}, drawn at {FINE}x); "
                      f"{change}", _grey(recipe.fitted)))
    return steps + _placed_steps(recipe.digit, recipe.placed)


def pad_steps(image: Image.Image) -> list[Step]:
    """The pad's recipe (``lenet.inputs.pad``) as (caption, picture) pairs: received -> ink ->
    cropped and fitted into 20x20 (stroke thickened, thinned or kept) -> placed by centre of
    mass -> the network's input, exactly ``pad_digit(pad_ink(image)).pixels``."""
    ink = pad_ink(image)
    recipe = pad_recipe(ink)
    steps = [(f"received: {image.width}x{image.height} {image.mode}", _displayed(image))]
    if recipe.box is not None:
        top, left, bottom, right = recipe.box
        steps.append((f"cropped to the ink: {right - left}x{bottom - top}",
                      _grey(ink[top:bottom, left:right])))
        steps.append((f"fitted into {DIGIT_BOX}x{DIGIT_BOX} at {FINE}x; stroke "
                      f"{recipe.stroke:.1f} px {recipe.adjusted}", _grey(recipe.fitted)))
    return steps + _placed_steps(recipe.digit, recipe.placed)


def _placed_steps(digit, placed: np.ndarray | None) -> list[Step]:
    """Both digit recipes' last steps: placed by centre of mass (when there was ink), then
    exactly what the network gets."""
    steps = []
    if placed is not None:
        cy, cx = _centre_of_mass(digit.pixels)
        steps.append((f"placed in {DIGIT_CANVAS}x{DIGIT_CANVAS}: centre of mass at row "
                      f"{cy:.1f}, column {cx:.1f}", _mark(placed, cy, cx)))
    what = "nothing drawn" if digit.empty else "ink = 1"
    steps.append((f"what the network gets: {DIGIT_CANVAS}x{DIGIT_CANVAS}, {what}",
                  Image.fromarray((digit.pixels * 255).round().astype(np.uint8), "L")))
    return steps


def photo_steps(image: Image.Image, size: int = 32) -> list[Step]:
    """The photo recipe as (caption, picture) pairs: received -> centre square (the box
    drawn on the photo) -> ``size`` x ``size`` by Lanczos, exactly ``photo_to_array``."""
    rgb = opaque_rgb(image)
    left, top, right, bottom = box = centre_square(*rgb.size)
    view = _displayed(rgb)  # the box is drawn on the reduced copy, scaled with it
    scale = view.width / rgb.width
    x0, y0, x1, y1 = (round(v * scale) for v in box)
    shown = Image.eval(view, lambda v: v * 2 // 5)  # outside the square dimmed
    shown.paste(view.crop((x0, y0, x1, y1)), (x0, y0))
    ImageDraw.Draw(shown).rectangle((x0, y0, x1 - 1, y1 - 1), outline=(255, 200, 0),
                                    width=max(1, round(max(view.size) / 150)))
    return [(f"received: {image.width}x{image.height}", _displayed(image)),
            (f"centre square {right - left}x{bottom - top} at ({left}, {top})", shown),
            (f"{size}x{size} (Lanczos): what the network gets",
             Image.fromarray(photo_to_array(rgb, size), "RGB"))]


def pad_strip(source, height: int = 96) -> Image.Image:
    """``pad_steps`` of a drawing (path, bytes, PIL image) as one captioned picture."""
    return steps_strip(pad_steps(open_image(source)), height)


def recipe_strip(source, digit: bool, size: int, height: int = 96) -> Image.Image:
    """How ``source`` (anything ``preprocess.open_image`` takes) becomes a model input: the
    digit recipe (``digit``) or the photo recipe to ``size`` pixels, as one strip."""
    image = open_image(source)   # decoded in full, as the page and Classifier.prepare do
    return steps_strip(digit_steps(image) if digit else photo_steps(image, size), height)


def steps_strip(steps: list[Step], height: int = 112, gap: int = 24) -> Image.Image:
    """The steps side by side, each scaled to ``height`` (nearest-neighbour when enlarged,
    so pixels stay crisp), its caption wrapped under it, an arrow between neighbours."""
    font, ink = _font(10), (60, 60, 60)
    tiles = [_scaled(_rgb(im), height) for _, im in steps]
    widths = [max(t.width, 110) for t in tiles]
    captions = [_wrap(c, w, font) for (c, _), w in zip(steps, widths)]
    lines = max(len(c) for c in captions)
    sheet = Image.new("RGB", (sum(widths) + gap * (len(tiles) - 1) + 8, height + 8 + 12 * lines),
                      "white")
    draw, x = ImageDraw.Draw(sheet), 4
    for i, (tile, width, caption) in enumerate(zip(tiles, widths, captions)):
        left = x + (width - tile.width) // 2
        sheet.paste(tile, (left, 4))
        # A frame, so ink that touches the edge of a white-on-black tile stays visible.
        draw.rectangle([left - 1, 3, left + tile.width, 4 + tile.height], outline=(170, 170, 170))
        for j, line in enumerate(caption):
            draw.text((x + width / 2, height + 7 + 12 * j), line, fill=ink, font=font,
                      anchor="ma")
        x += width
        if i < len(tiles) - 1:  # an arrow across the gap, at mid-height
            y = 4 + height // 2
            draw.line([(x + 5, y), (x + gap - 6, y)], fill=ink, width=2)
            draw.polygon([(x + gap - 4, y), (x + gap - 10, y - 4), (x + gap - 10, y + 4)], fill=ink)
            x += gap
    return sheet


# ---------------------------------------------------------------------------- helpers

def _displayed(image: Image.Image) -> Image.Image:
    """A copy for display, reduced to at most DISPLAY_SIDE pixels a side."""
    view = image.copy()
    view.thumbnail((DISPLAY_SIDE, DISPLAY_SIDE), Image.LANCZOS)
    return view


def _grey(a: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(a, 0, 1) * 255).round().astype(np.uint8), "L")


def _centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(a.shape)
    return float((ys * a).sum() / a.sum()), float((xs * a).sum() / a.sum())


def _mark(fine: np.ndarray, cy: float, cx: float) -> Image.Image:
    """The FINE x canvas with a red cross on the centre of mass (28x28 coordinates)."""
    image = _grey(fine).convert("RGB")
    y, x = ((c + 0.5) * FINE - 0.5 for c in (cy, cx))
    draw = ImageDraw.Draw(image)
    draw.line([(x - 6, y), (x + 6, y)], fill=(230, 30, 30), width=2)
    draw.line([(x, y - 6), (x, y + 6)], fill=(230, 30, 30), width=2)
    return image


def _rgb(image: Image.Image) -> Image.Image:
    """Any mode to RGB; transparent areas grey, so white and black strokes both show."""
    rgba = to_rgba(image)
    return Image.alpha_composite(Image.new("RGBA", rgba.size, (128, 128, 128)), rgba).convert("RGB")


def _scaled(image: Image.Image, height: int) -> Image.Image:
    width = max(1, round(image.width * height / image.height))
    resample = Image.NEAREST if image.height < height else Image.LANCZOS
    return image.resize((width, height), resample)


def _wrap(text: str, width: int, font) -> list[str]:
    lines = [""]
    for word in text.split():
        candidate = f"{lines[-1]} {word}".strip()
        if font.getlength(candidate) <= width or not lines[-1]:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines
