"""Conditional GAN networks (Mirza & Osindero 2014) for MNIST."""

from __future__ import annotations

import keras
from keras import layers

from condgen.models.blocks import Maxout, relu_dense
from condgen.models.gan import IMAGE_SHAPE, NUM_CLASSES


def build_cgan_generator(noise_dim: int = 100) -> keras.Model:
    """noise -> Dense 256 relu; one-hot label -> Dense 256 relu; concat -> Dense 512 -> 784 tanh."""
    noise = keras.Input((noise_dim,), name="noise")
    label = keras.Input((NUM_CLASSES,), name="label")
    z = relu_dense(256, name="noise_dense")(noise)
    y = relu_dense(256, name="label_dense")(label)
    x = layers.Concatenate()([z, y])
    x = relu_dense(512)(x)
    x = layers.Dense(28 * 28 * 1, activation="tanh")(x)
    images = layers.Reshape(IMAGE_SHAPE, name="images")(x)
    return keras.Model([noise, label], images, name="cgan_generator")


def build_cgan_discriminator() -> keras.Model:
    """Maxout(240, 5) on the image and Maxout(50, 5) on the label, joined by Maxout(240, 4)."""
    images = keras.Input(IMAGE_SHAPE, name="image")
    label = keras.Input((NUM_CLASSES,), name="label")
    x = Maxout(240, 5, name="image_maxout")(layers.Flatten()(images))
    y = Maxout(50, 5, name="label_maxout")(label)
    h = Maxout(240, 4, name="joint_maxout")(layers.Concatenate()([x, y]))
    logits = layers.Dense(1, name="logit")(h)
    return keras.Model([images, label], logits, name="cgan_discriminator")
