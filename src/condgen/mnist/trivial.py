"""Trivial answers an MNIST generator's scores stand beside.

Each is what a model that learned nothing about how digits vary could give: the mean digit of
a class (for a conditional model the requested one; for an unconditional one classes drawn at
the training frequencies), the same moved by a few whole pixels (variety any image has, none
learned from digits), or the mean of all digits. All are scored by the same code as the model's
samples, at the same sample size.

Blurred training digits are not among them: their variety is the training digits' own, so they
are a copying generator, which the memorisation check is for.
"""

from __future__ import annotations

import numpy as np

from condgen.mnist import data as mnist

# Whole pixels a shifted class mean moves at most, each way (MNIST centres digits by their
# centre of mass; a couple of pixels is how far they still wander).
MAX_SHIFT = 2


def class_mean_digits(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The mean 0..255 digit of each class (NUM_CLASSES, 28, 28), as floats."""
    images = np.asarray(images, np.float64)
    present = np.unique(labels)
    if len(present) != mnist.NUM_CLASSES:
        raise ValueError(f"the training digits cover classes {present.tolist()}, not all ten")
    return np.stack([images[labels == c].mean(axis=0) for c in range(mnist.NUM_CLASSES)])


def class_frequencies(labels: np.ndarray) -> np.ndarray:
    return np.bincount(labels, minlength=mnist.NUM_CLASSES) / len(labels)


def shifted(images: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Each (H, W) image moved by its whole-pixel (dy, dx), the uncovered border left at 0."""
    images = np.asarray(images)
    out = np.zeros_like(images)
    h, w = images.shape[1:3]
    for i, (dy, dx) in enumerate(np.asarray(shifts, int)):
        src = images[i, max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)]
        out[i, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = src
    return out


def trivial_answers(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    num_samples: int,
    requested: np.ndarray | None,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """name -> -1..1 images (N, 28, 28, 1).

    ``requested`` (a conditional model's labels) fixes the classes of ``class_means``;
    without it they are drawn at the training class frequencies.
    """
    means = class_mean_digits(train_images, train_labels)
    if requested is None:
        labels = rng.choice(mnist.NUM_CLASSES, num_samples, p=class_frequencies(train_labels))
    else:
        labels = np.asarray(requested)
    overall = np.asarray(train_images, np.float64).mean(axis=0)
    moves = rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, (num_samples, 2))
    return {
        "class_means": mnist.to_model_range(means[labels]),
        "class_means_shifted": mnist.to_model_range(shifted(means[labels], moves)),
        "global_mean": mnist.to_model_range(np.repeat(overall[None], num_samples, axis=0)),
    }
