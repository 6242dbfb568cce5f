"""Validation of serving requests and PNG/base64 encoding of answers.

Bad values raise ``RequestError``; the pyfunc wrapper turns it into MLflow's
``invalid_parameter_value`` so that the client gets a 400 that says what was wrong.
"""

from __future__ import annotations

import base64
import io
import math
import secrets
import warnings

import numpy as np
import pandas as pd
from PIL import Image

MAX_ROWS = 256
MAX_SEED = 2**32 - 1


class RequestError(ValueError):
    """A request row names a bad label or seed; the message says which and what is allowed."""


def _whole_number(value, column: str, row: int, lo: int, hi: int, allowed: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise RequestError(f"row {row}: {column} {value!r} is not a number; {allowed}")
    number = float(value)
    if not math.isfinite(number) or number != int(number):
        raise RequestError(f"row {row}: {column} {value!r} is not a whole number; {allowed}")
    if not lo <= number <= hi:
        raise RequestError(f"row {row}: {column} {int(number)} is out of range; {allowed}")
    return int(number)


def _checked_frame(frame, allowed: set[str]) -> pd.DataFrame:
    """The request as a DataFrame with 1..MAX_ROWS rows and only ``allowed`` columns."""
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    if len(frame) == 0:
        raise RequestError("the request has no rows; send at least one")
    if len(frame) > MAX_ROWS:
        raise RequestError(f"the request has {len(frame)} rows; send at most {MAX_ROWS}")
    unknown = sorted(set(map(str, frame.columns)) - allowed)
    if unknown:
        raise RequestError(
            f"unknown field {unknown[0]!r}; this model takes {', '.join(sorted(allowed))}"
        )
    return frame


def parse_rows(frame: pd.DataFrame, conditional: bool) -> tuple[np.ndarray | None, np.ndarray]:
    """(labels or None, seeds) of a request; rows without a seed get a fresh random one."""
    frame = _checked_frame(frame, {"label", "seed"} if conditional else {"seed"})
    labels = None
    if conditional:
        if "label" not in frame.columns:
            raise RequestError("missing field 'label': give a digit 0-9 per row")
        labels = np.array(
            [
                _whole_number(v, "label", i, 0, 9, "labels are the digits 0-9")
                for i, v in enumerate(frame["label"].tolist())
            ],
            dtype=np.int64,
        )
    elif "seed" not in frame.columns:
        raise RequestError("missing field 'seed': give a whole number per row")

    def missing(row: int) -> int:
        if not conditional:
            raise RequestError(f"row {row}: missing seed; give a whole number per row")
        return secrets.randbits(31)

    return labels, _seeds(frame, missing)


def _seeds(frame: pd.DataFrame, missing) -> np.ndarray:
    """The ``seed`` column as whole numbers; ``missing(row)`` answers for an absent seed."""
    values = frame["seed"].tolist() if "seed" in frame.columns else [None] * len(frame)
    seeds = []
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            seeds.append(missing(i))
        else:
            seeds.append(_whole_number(value, "seed", i, 0, MAX_SEED, f"seeds are 0 to {MAX_SEED}"))
    return np.array(seeds, dtype=np.int64)


def noise_for_seeds(seeds: np.ndarray, noise_dim: int) -> np.ndarray:
    """One standard-normal noise vector per seed, the same whatever else is in the batch."""
    return np.stack(
        [np.random.default_rng(int(s)).standard_normal(noise_dim) for s in seeds]
    ).astype(np.float32)


def png_base64(image: np.ndarray) -> str:
    """uint8 (H, W) or (H, W, 3) image -> base64 text of its PNG."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_png_base64(text: str) -> np.ndarray:
    """base64 PNG text -> uint8 array (the inverse of :func:`png_base64`)."""
    return np.array(Image.open(io.BytesIO(base64.b64decode(text))))


MAX_IMAGE_BYTES = 20 * 1024 * 1024


def decode_image(text, row: int) -> np.ndarray:
    """One request row's base64 image -> uint8 RGB array, or a RequestError saying why not.

    Any format Pillow reads is accepted (PNG, JPEG, ...); grayscale, palette, 16-bit and
    transparent images are converted to RGB as the training data was. Sides must be
    ``MIN_SIDE`` to ``MAX_SIDE`` px (:func:`condgen.core.images.side_problem`).
    """
    if not isinstance(text, str) or not text:
        raise RequestError(f"row {row}: image must be base64 text of a PNG or JPEG file")
    if len(text) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise RequestError(f"row {row}: image is larger than {MAX_IMAGE_BYTES // 2**20} MB")
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as err:
        raise RequestError(f"row {row}: image is not valid base64 ({err})") from err
    return image_from_bytes(raw, f"row {row}: image", "send a base64-encoded PNG or JPEG")


def image_from_bytes(raw: bytes, what: str, fix: str) -> np.ndarray:
    """An image file's bytes -> uint8 RGB array, or a RequestError ``<what> is ...; <fix>``
    (a request row's image, or a file given on the command line)."""
    from condgen.core.images import side_problem, to_rgb

    try:
        with warnings.catch_warnings():
            # Pillow's bomb warning: the side check below refuses such images with a reason.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise _unreadable(what, fix, err) from err
    with image:
        # From the header alone: a huge image that compresses small is refused before decoding.
        problem = side_problem(*image.size)
        if problem:
            raise RequestError(f"{what} {problem}")
        try:
            image.load()
            return to_rgb(image)
        except (OSError, ValueError, Image.DecompressionBombError) as err:
            raise _unreadable(what, fix, err) from err


def _unreadable(what: str, fix: str, err: Exception) -> RequestError:
    return RequestError(
        f"{what} is not an image file Pillow can read ({type(err).__name__}); {fix}"
    )


def parse_image_rows(
    frame: pd.DataFrame,
    extra: dict[str, tuple[str, ...]] | None = None,
    seeded: bool = True,
) -> tuple[list[np.ndarray], np.ndarray, dict[str, list[str]]]:
    """(RGB images, seeds, extra text columns) of an image-translation request.

    ``extra`` maps a required text column to its allowed values (CycleGAN's ``direction``).
    A missing seed becomes 0, so that the same image gives the same answer; a model without
    randomness (``seeded=False``) takes no seed column at all.
    """
    extra = extra or {}
    frame = _checked_frame(frame, {"image", *extra} | ({"seed"} if seeded else set()))
    for column in ("image", *extra):
        if column not in frame.columns:
            raise RequestError(f"missing field {column!r}")
    images = [decode_image(v, i) for i, v in enumerate(frame["image"].tolist())]
    seeds = _seeds(frame, lambda row: 0)
    texts: dict[str, list[str]] = {}
    for column, choices in extra.items():
        values = frame[column].tolist()
        for i, value in enumerate(values):
            if value not in choices:
                raise RequestError(
                    f"row {i}: {column} {value!r} is not one of {', '.join(choices)}"
                )
        texts[column] = values
    return images, seeds, texts
