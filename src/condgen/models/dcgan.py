"""DCGAN networks (Radford et al. 2016) as in TensorFlow's DCGAN tutorial, for 28x28 MNIST."""

from __future__ import annotations

import keras
from keras import layers

from condgen.models.gan import IMAGE_SHAPE


def build_dcgan_generator(noise_dim: int = 100) -> keras.Model:
    """Dense 7*7*256 -> BN -> LeakyReLU -> ConvT 128 (s1) -> 64 (s2) -> 1 (s2, tanh), all 5x5."""
    noise = keras.Input((noise_dim,), name="noise")
    x = layers.Dense(7 * 7 * 256, use_bias=False)(noise)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Reshape((7, 7, 256))(x)
    for filters, stride in ((128, 1), (64, 2)):
        x = layers.Conv2DTranspose(filters, 5, strides=stride, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(negative_slope=0.3)(x)
    images = layers.Conv2DTranspose(
        1, 5, strides=2, padding="same", use_bias=False, activation="tanh", name="images"
    )(x)
    return keras.Model(noise, images, name="dcgan_generator")


def build_dcgan_discriminator() -> keras.Model:
    """Conv 64 -> Conv 128 (5x5, stride 2, LeakyReLU, Dropout 0.3) -> Dense 1 (logit)."""
    images = keras.Input(IMAGE_SHAPE, name="image")
    x = images
    for filters in (64, 128):
        x = layers.Conv2D(filters, 5, strides=2, padding="same")(x)
        x = layers.LeakyReLU(negative_slope=0.3)(x)
        x = layers.Dropout(0.3)(x)
    x = layers.Flatten()(x)
    logits = layers.Dense(1, name="logit")(x)
    return keras.Model(images, logits, name="dcgan_discriminator")
