"""Turn whatever a user gives into a model input: sketches and scans into MNIST-style digits,
photos into CIFAR-10-style 32x32 crops. The recipes live in their own modules; their names
stay importable from here, where the app and the tests have always found them:

- ``photo``: the photo recipe (transparency on white, centre square, antialiased resampling);
- ``upload_digit``: the digit recipe for uploads (ink and polarity, background, ``UPLOADS``);
- ``digit_steps``: MNIST's own steps that every digit recipe shares (``mnist_recipe``);
- ``resample``: the float64 filters both recipes resample with;
- ``images``: opening any image safely; ``pad``: the drawing pad's recipe.

Each recipe is arithmetic that the page repeats in JavaScript (web/upload_recipes.js,
web/pad_recipe.js); tools/recipe_constants.py writes the numbers it shares to web/*.json.
"""
from __future__ import annotations

from lenet.inputs.digit_steps import (
    DIGIT_BOX,
    DIGIT_CANVAS,
    FINE,
    INK,
    MIN_INK,
    MNIST_CENTRE,
    MNIST_STROKE,
    SOLID,
    TARGET,
    TIE,
    Digit,
    DigitRules,
    RecipeSteps,
    mnist_recipe,
    morph,
    nearest,
    stroke_width,
)
from lenet.inputs.images import MAX_BYTES, MAX_PIXELS, InputError, open_image, to_rgba
from lenet.inputs.photo import (
    centre_square,
    is_opaque,
    opaque_rgb,
    photo_pixels,
    photo_to_array,
)
from lenet.inputs.upload_digit import (
    INK_SIDE,
    UPLOADS,
    DigitRecipe,
    digit_from_image,
    digit_recipe,
    ink_and_polarity,
    ink_map,
)

# The largest upload the page and the app's upload boxes take (ui/view.py's UPLOAD_LIMIT_MB
# is held equal to it by tests/test_recipe_constants.py).
UPLOAD_LIMIT_MB = 10

__all__ = ["InputError", "open_image", "to_rgba", "MAX_BYTES", "MAX_PIXELS", "UPLOAD_LIMIT_MB",
           "Digit", "DigitRecipe", "photo_to_array", "photo_pixels", "opaque_rgb", "is_opaque",
           "centre_square", "ink_map", "ink_and_polarity", "stroke_width", "morph",
           "digit_from_image", "digit_recipe", "DigitRules", "RecipeSteps", "UPLOADS",
           "mnist_recipe", "nearest", "DIGIT_BOX", "DIGIT_CANVAS", "FINE", "INK", "INK_SIDE",
           "MIN_INK", "MNIST_CENTRE", "MNIST_STROKE", "SOLID", "TARGET", "TIE"]
