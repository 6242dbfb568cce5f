"""Serving: request parsing, image translation and the pyfunc wrappers MLflow serves."""

from pathlib import Path


def image_pyfunc_file() -> Path:
    """The "model from code" file of the image-to-image models (Pix2Pix, CycleGAN)."""
    return Path(__file__).with_name("image_pyfunc.py")
