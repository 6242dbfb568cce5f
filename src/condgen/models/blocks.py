"""Layers shared by the model families."""

from __future__ import annotations

import keras
from keras import layers, ops


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
