"""Old path of :mod:`condgen.serving.requests` (registered model versions import it)."""

from condgen.serving.requests import (
    RequestError,
    decode_image,
    noise_for_seeds,
    parse_image_rows,
    parse_rows,
    png_base64,
)

__all__ = [
    "RequestError",
    "decode_image",
    "noise_for_seeds",
    "parse_image_rows",
    "parse_rows",
    "png_base64",
]
