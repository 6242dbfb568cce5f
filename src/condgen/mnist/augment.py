"""Differentiable augmentation for the discriminator (Zhao et al. 2020, "Differentiable
Augmentation for Data-Efficient GAN Training").

With few training images a discriminator memorises them and its gradients stop telling the
generator anything useful. Augmenting both the real and the generated images that D sees, with
operations that gradients pass through, keeps D from memorising without teaching G to produce
augmented images. The operations here suit grey images in [-1, 1] whose background is -1
(MNIST): ``translation`` shifts each image by up to 1/8 of its size, filling with background;
``cutout`` paints a square of half the image's size at a random place with background.
"""

from __future__ import annotations

import keras
from keras import ops

from condgen.core.adversarial import replica_rows

POLICIES = ("translation", "cutout")


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"translation,cutout"`` -> ("translation", "cutout"); empty -> (); unknown -> error."""
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    unknown = [n for n in names if n not in POLICIES]
    if unknown:
        raise ValueError(
            f"unknown augmentation {unknown[0]!r}: use a comma-separated list of "
            f"{', '.join(POLICIES)} (or nothing)"
        )
    return names


def _shift_matrices(shifts, size: int):
    """(batch, size, size) one-hot matrices M with (M @ v)[i] = v[i - shift] (0 outside)."""
    rows = ops.arange(size)[None, :, None]
    cols = ops.arange(size)[None, None, :]
    return ops.cast(ops.equal(cols, rows - shifts[:, None, None]), "float32")


def translate(images, seed_generator, ratio: float = 0.125):
    """Shift each image by a random whole number of pixels, up to ``ratio`` of its size,
    along each axis; what comes in from outside is background (-1)."""
    batch = ops.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    max_y, max_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    dy = replica_rows(
        lambda n: keras.random.randint((n,), -max_y, max_y + 1, seed=seed_generator), batch
    )
    dx = replica_rows(
        lambda n: keras.random.randint((n,), -max_x, max_x + 1, seed=seed_generator), batch
    )
    # Work on (x + 1), whose background is 0, so that zero fill means background.
    x = ops.cast(images, "float32") + 1.0
    x = ops.einsum("bij,bjwc->biwc", _shift_matrices(dy, height), x)
    x = ops.einsum("bkw,bhwc->bhkc", _shift_matrices(dx, width), x)
    return ops.cast(x - 1.0, images.dtype)


def cutout(images, seed_generator, ratio: float = 0.5):
    """Paint a square of ``ratio`` of the image's size, centred at a random pixel, with
    background (-1); the square may reach past the border."""
    batch = ops.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    half_h, half_w = int(height * ratio) // 2, int(width * ratio) // 2
    cy = replica_rows(
        lambda n: keras.random.randint((n, 1, 1), 0, height, seed=seed_generator), batch
    )
    cx = replica_rows(
        lambda n: keras.random.randint((n, 1, 1), 0, width, seed=seed_generator), batch
    )
    ys = ops.arange(height)[None, :, None]
    xs = ops.arange(width)[None, None, :]
    rows = ops.logical_and(ys >= cy - half_h, ys < cy + half_h)
    cols = ops.logical_and(xs >= cx - half_w, xs < cx + half_w)
    inside = ops.logical_and(rows, cols)
    keep = 1.0 - ops.cast(inside, "float32")[..., None]
    x = ops.cast(images, "float32") + 1.0
    return ops.cast(x * keep - 1.0, images.dtype)


def diff_augment(images, policy: tuple[str, ...], seed_generator):
    """Apply the ``policy``'s operations in order (a no-op for an empty policy)."""
    for name in policy:
        images = translate(images, seed_generator) if name == "translation" else images
        images = cutout(images, seed_generator) if name == "cutout" else images
    return images
