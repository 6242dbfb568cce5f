"""Translate user images of any size with a fixed-size generator (serving and the CLI)."""

from __future__ import annotations

import numpy as np
from PIL import Image


def translate_images(
    generator, images: list[np.ndarray], seeds: np.ndarray, size: int, training_mode: bool
) -> list[np.ndarray]:
    """Each uint8 RGB image resized to ``size``, translated, and resized back to its own size.

    ``seeds`` fix the randomness of test-time dropout per image (one image per call, as in
    the paper's batch size 1, so an answer never depends on what else was in the request).
    """
    from condgen.data.mnist import to_uint8
    from condgen.models.pix2pix import translate

    outputs = []
    for image, seed in zip(images, seeds, strict=True):
        height, width = image.shape[:2]
        small = np.asarray(Image.fromarray(image).resize((size, size), Image.LANCZOS))
        inputs = small[None].astype(np.float32) / 127.5 - 1.0
        result = translate(generator, inputs, training_mode, seed=int(seed))
        pixels = to_uint8(result)[0]
        outputs.append(np.asarray(Image.fromarray(pixels).resize((width, height), Image.LANCZOS)))
    return outputs
