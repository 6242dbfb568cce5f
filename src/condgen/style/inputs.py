"""The images of a style pair: ``skimage:<sample>`` or a file. Imports nothing heavy, so that
``condgen stylize`` refuses a bad file before TensorFlow is imported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from condgen.core.images import BackboneError as StyleError
from condgen.core.images import to_rgb

SAMPLE_PREFIX = "skimage:"


def load_image(spec: str, size: int | None = None) -> np.ndarray:
    """RGB float32 0..1 (H, W, 3) from ``skimage:<sample>`` or an image file's path.

    With ``size``, resized so that its longer side is ``size`` pixels (aspect ratio kept).
    A missing or unreadable file, or an unknown sample, is a StyleError naming it.
    """
    if spec.startswith(SAMPLE_PREFIX):
        import skimage.data

        name = spec[len(SAMPLE_PREFIX) :]
        loader = getattr(skimage.data, name, None)
        if not callable(loader) or name.startswith("_"):
            raise StyleError(
                f"{spec}: scikit-image has no sample {name!r} (try skimage:chelsea, "
                "skimage:astronaut, skimage:coffee, skimage:rocket, skimage:immunohistochemistry)"
            )
        image = Image.fromarray(np.asarray(loader()))
        pixels = to_rgb(image)
    else:
        path = Path(spec)
        if not path.is_file():
            raise StyleError(f"{spec}: no such file")
        try:
            with Image.open(path) as image:
                image.load()
                pixels = to_rgb(image)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
            raise StyleError(
                f"{spec} is not an image Pillow can read ({type(err).__name__}): give a PNG or JPEG"
            ) from err
    return to_style_input(pixels, size)


def to_style_input(pixels: np.ndarray, size: int | None = None) -> np.ndarray:
    """uint8 RGB -> float32 0..1, resized (with ``size``) so that its longer side is ``size``."""
    if size is not None:
        height, width = pixels.shape[:2]
        scale = size / max(height, width)
        shape = (max(1, round(width * scale)), max(1, round(height * scale)))
        pixels = np.asarray(Image.fromarray(pixels).resize(shape, Image.Resampling.LANCZOS))
    return pixels.astype(np.float32) / 255.0
