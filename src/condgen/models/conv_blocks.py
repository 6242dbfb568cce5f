"""Convolution blocks shared by the image-to-image models (Pix2Pix, CycleGAN).

Kept apart from the MNIST blocks so that work on these re-runs only the image-to-image stages.
"""

from __future__ import annotations

import keras
from keras import layers, ops

NORMALIZATIONS = ("batch", "instance", "none")
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "none")
PADDINGS = ("same", "valid", "zero", "reflect")


def weight_init() -> keras.initializers.Initializer:
    """N(0, 0.02) for convolution kernels, as in DCGAN, Pix2Pix and CycleGAN (junyanz's
    ``init_type='normal'``). A fresh instance per layer: Keras warns about, and repeats the
    values of, an unseeded initializer that is called twice."""
    return keras.initializers.RandomNormal(0.0, 0.02)


def _check_choice(what: str, value: str, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ValueError(f"unknown {what} {value!r}: choose one of {', '.join(options)}")


def normalization_layer(kind: str, name: str | None = None) -> layers.Layer | None:
    """``batch`` | ``instance`` | ``none`` (returns None), as junyanz's ``norm_layer``.

    Batch norm uses PyTorch's defaults that the reference code trains with (momentum 0.1, i.e.
    Keras momentum 0.9, epsilon 1e-5) and gamma ~ N(1, 0.02) as its ``init_weights``; Keras'
    momentum 0.99 would leave the moving statistics near their initial values for the first
    few hundred steps of a short CPU run. Instance norm is GroupNormalization with one group
    per channel and no affine parameters (PyTorch's InstanceNorm2d default, used by CycleGAN).
    """
    _check_choice("normalization", kind, NORMALIZATIONS)
    if kind == "batch":
        return layers.BatchNormalization(
            momentum=0.9,
            epsilon=1e-5,
            gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02),
            name=name,
        )
    if kind == "instance":
        return layers.GroupNormalization(
            groups=-1, epsilon=1e-5, center=False, scale=False, name=name
        )
    return None


def activation_layer(kind: str, name: str | None = None) -> layers.Layer | None:
    """``relu`` | ``leaky_relu`` (slope 0.2, as in DCGAN/Pix2Pix/CycleGAN) | ``tanh`` | ``none``."""
    _check_choice("activation", kind, ACTIVATIONS)
    if kind == "leaky_relu":
        return layers.LeakyReLU(negative_slope=0.2, name=name)
    if kind == "none":
        return None
    return layers.Activation(kind, name=name)


@keras.saving.register_keras_serializable(package="condgen")
class ReflectionPadding2D(layers.Layer):
    """Pads height and width by ``padding`` pixels on every side with their mirror image
    (PyTorch's ``ReflectionPad2d``): border outputs then see image statistics, not zeros."""

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)

    def call(self, inputs):
        p = self.padding
        return ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        grow = 2 * self.padding
        return (
            batch,
            None if height is None else height + grow,
            None if width is None else width + grow,
            channels,
        )

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


def conv_block(
    filters: int,
    kernel_size: int = 4,
    strides: int = 2,
    *,
    norm: str = "batch",
    activation: str = "leaky_relu",
    padding: str = "same",
    dropout: float = 0.0,
    use_bias: bool | None = None,
    transpose: bool = False,
    name: str | None = None,
) -> keras.Sequential:
    """Convolution (or transposed convolution) -> norm -> dropout -> activation, one named block.

    ``padding``: ``same`` / ``valid`` as in Keras; ``zero`` / ``reflect`` pad
    ``(kernel_size - 1) // 2`` pixels on every side and then convolve ``valid``, i.e. PyTorch's
    ``padding=(k - 1) // 2`` with zeros or ``padding_mode='reflect'`` (convolutions only).
    ``use_bias`` defaults to "only without a normalisation": a norm subtracts the mean, so a
    bias before it is a wasted parameter.
    """
    _check_choice("padding", padding, PADDINGS)
    if transpose and padding not in ("same", "valid"):
        raise ValueError(f"a transposed convolution takes padding same or valid, not {padding!r}")
    if use_bias is None:
        use_bias = norm == "none"
    steps: list[layers.Layer] = []
    if padding in ("zero", "reflect"):
        pad = (kernel_size - 1) // 2
        if pad:
            steps.append(
                layers.ZeroPadding2D(pad) if padding == "zero" else ReflectionPadding2D(pad)
            )
        padding = "valid"
    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    steps.append(
        conv(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            use_bias=use_bias,
            kernel_initializer=weight_init(),
        )
    )
    norm_layer = normalization_layer(norm)
    if norm_layer is not None:
        steps.append(norm_layer)
    if dropout > 0.0:
        steps.append(layers.Dropout(dropout))
    act = activation_layer(activation)
    if act is not None:
        steps.append(act)
    return keras.Sequential(steps, name=name)


def downsample(
    filters: int,
    kernel_size: int = 4,
    strides: int = 2,
    *,
    norm: str = "batch",
    activation: str = "leaky_relu",
    padding: str = "same",
    dropout: float = 0.0,
    use_bias: bool | None = None,
    name: str | None = None,
) -> keras.Sequential:
    """Strided convolution block (Pix2Pix's encoder Ck: 4x4, stride 2, BatchNorm, LeakyReLU 0.2)."""
    return conv_block(
        filters,
        kernel_size,
        strides,
        norm=norm,
        activation=activation,
        padding=padding,
        dropout=dropout,
        use_bias=use_bias,
        name=name,
    )


def upsample(
    filters: int,
    kernel_size: int = 4,
    strides: int = 2,
    *,
    norm: str = "batch",
    activation: str = "relu",
    padding: str = "same",
    dropout: float = 0.0,
    use_bias: bool | None = None,
    name: str | None = None,
) -> keras.Sequential:
    """Transposed convolution block (Pix2Pix's decoder Ck / CDk: 4x4, stride 2, BatchNorm,
    dropout for CDk, ReLU)."""
    return conv_block(
        filters,
        kernel_size,
        strides,
        norm=norm,
        activation=activation,
        padding=padding,
        dropout=dropout,
        use_bias=use_bias,
        transpose=True,
        name=name,
    )


def load_image_model(path) -> keras.Model:
    """``keras.models.load_model`` for the image-to-image networks.

    Their custom layers (``ReflectionPadding2D``) are registered when this module is imported,
    which a fresh process (an evaluation stage, a model server) has not otherwise done.
    """
    return keras.models.load_model(path)
