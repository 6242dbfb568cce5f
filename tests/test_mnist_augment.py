"""Differentiable augmentation for the discriminator."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from condgen.mnist.augment import cutout, diff_augment, parse_policy, translate


def digits(batch: int = 16) -> np.ndarray:
    """Background -1 with a bright 6x6 square in the middle (a stand-in digit)."""
    images = -np.ones((batch, 28, 28, 1), np.float32)
    images[:, 11:17, 11:17] = 1.0
    return images


def test_policy_parsing():
    assert parse_policy("") == ()
    assert parse_policy("translation, cutout") == ("translation", "cutout")
    with pytest.raises(ValueError, match="'color'.*translation, cutout"):
        parse_policy("translation,color")


def test_translation_moves_whole_pixels_within_an_eighth_and_fills_background():
    images = digits(64)
    out = translate(images, keras.random.SeedGenerator(0)).numpy()
    assert out.shape == images.shape
    # Only -1 and 1 values: whole-pixel shifts, background brought in from outside.
    assert set(np.unique(out)) <= {-1.0, 1.0}
    for image in out:
        ys, xs = np.nonzero(image[..., 0] > 0)
        assert len(ys) == 36  # the square is never cut: it is 11 px from each border
        assert abs(ys.min() - 11) <= 4 and abs(xs.min() - 11) <= 4  # 28 / 8 -> up to 4
    starts = {(np.nonzero(o[..., 0] > 0)[0].min(), np.nonzero(o[..., 0] > 0)[1].min()) for o in out}
    assert len(starts) > 10  # shifts differ per image


def test_cutout_paints_a_half_size_square_of_background():
    images = np.ones((32, 28, 28, 1), np.float32)
    out = cutout(images, keras.random.SeedGenerator(1)).numpy()
    painted = (out[..., 0] == -1.0).sum(axis=(1, 2))
    assert set(np.unique(out)) <= {-1.0, 1.0}
    assert painted.max() == 14 * 14 and painted.min() > 0  # clipped at borders sometimes


def test_gradients_pass_through_and_empty_policy_is_identity():
    images = tf.constant(digits(4))
    seed = keras.random.SeedGenerator(2)
    with tf.GradientTape() as tape:
        tape.watch(images)
        loss = tf.reduce_sum(diff_augment(images, ("translation", "cutout"), seed) ** 2)
    grad = tape.gradient(loss, images).numpy()
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0
    np.testing.assert_array_equal(diff_augment(images, (), None), images)
