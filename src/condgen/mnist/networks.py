"""The MNIST networks, one pair per model row's ``networks`` (see condgen.families):

- ``mlp``: the original GAN's MLPs (Goodfellow et al. 2014);
- ``mlp-maxout``: the conditional GAN's label-taking MLP generator and Maxout discriminator
  (Mirza & Osindero 2014);
- ``conv``: DCGAN (Radford et al. 2016) as in TensorFlow's DCGAN tutorial, for 28x28 digits.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers, ops

from condgen.mnist.data import IMAGE_SHAPE, NUM_CLASSES


def relu_dense(units: int, **kwargs) -> layers.Dense:
    """Dense + ReLU with He initialisation, which keeps the signal's variance through a ReLU
    stack; with Keras' default Glorot init the MLP GAN's samples barely depend on the noise at
    the start and it collapses."""
    return layers.Dense(units, activation="relu", kernel_initializer="he_normal", **kwargs)


@keras.saving.register_keras_serializable(package="condgen")
class Maxout(layers.Layer):
    """Maxout(units, pieces) as in the cGAN paper's discriminator (Goodfellow et al. 2013).

    Dense(units * pieces, relu) -> Dropout -> reshape to (pieces, units) -> max over pieces.
    """

    def __init__(self, units: int, pieces: int, dropout: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.pieces = pieces
        self.dropout_rate = dropout
        self.dense = relu_dense(units * pieces)
        self.dropout = layers.Dropout(dropout)

    def build(self, input_shape):
        self.dense.build(input_shape)
        self.built = True

    def call(self, inputs, training=None):
        hidden = self.dropout(self.dense(inputs), training=training)
        hidden = ops.reshape(hidden, (-1, self.pieces, self.units))
        return ops.max(hidden, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "pieces": self.pieces,
            "dropout": self.dropout_rate,
        }


def build_gan_generator(noise_dim: int = 100) -> keras.Model:
    """Dense 128-256-512 (relu) -> Dense 784 (tanh) -> 28x28x1."""
    noise = keras.Input((noise_dim,), name="noise")
    x = noise
    for units in (128, 256, 512):
        x = relu_dense(units)(x)
    x = layers.Dense(28 * 28 * 1, activation="tanh")(x)
    images = layers.Reshape(IMAGE_SHAPE, name="images")(x)
    return keras.Model(noise, images, name="gan_generator")


def build_gan_discriminator() -> keras.Model:
    """Flatten -> Dense 512-256-128 (relu) -> Dense 1 (logit)."""
    images = keras.Input(IMAGE_SHAPE, name="image")
    x = layers.Flatten()(images)
    for units in (512, 256, 128):
        x = relu_dense(units)(x)
    logits = layers.Dense(1, name="logit")(x)
    return keras.Model(images, logits, name="gan_discriminator")


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


# networks name -> (generator builder taking noise_dim, discriminator builder).
NETWORKS: dict[str, tuple[Callable[[int], keras.Model], Callable[[], keras.Model]]] = {
    "mlp": (build_gan_generator, build_gan_discriminator),
    "mlp-maxout": (build_cgan_generator, build_cgan_discriminator),
    "conv": (build_dcgan_generator, build_dcgan_discriminator),
}
