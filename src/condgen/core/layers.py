"""Layers of the image-to-image networks: convolution blocks (batch/instance norm, reflection
padding, N(0, 0.02) init), the U-Net / encoder-decoder generator and the PatchGAN layers.

Pix2Pix builds its generator and conditional discriminator from these, CycleGAN its U-Net
option and unconditional discriminators. Defaults follow Isola et al. 2017 (appendix 6.1) and
the authors' PyTorch code (junyanz/pytorch-CycleGAN-and-pix2pix) where the paper is silent.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def check_choice(what: str, value: str, options: tuple[str, ...]) -> None:
    """Refuse ``value`` unless it is one of ``options``, naming both in the error."""
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
    check_choice("normalization", kind, NORMALIZATIONS)
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
    check_choice("activation", kind, ACTIVATIONS)
    if kind == "leaky_relu":
        return layers.LeakyReLU(negative_slope=0.2, name=name)
    if kind == "none":
        return None
    return layers.Activation(kind, name=name)


CHANGES = ("none", "logit", "detail")


@keras.saving.register_keras_serializable(package="condgen")
class ChangeOfInput(layers.Layer):
    """A generator's last pre-activation ``r`` read as a change to its input image ``x`` (in
    -1..1), so that ``r = 0`` gives the input back and training starts from the input's layout.

    ``logit``: ``tanh(atanh(x) + r)``. A pixel's contrast to its neighbours is scaled by the
    slope of the change: a brightening of a dark image amplifies its faint edges (and its noise),
    a darkening flattens them. ``detail``: the change is applied to the 3x3 mean of ``x`` and
    the fine detail ``x - mean`` is added back unscaled, so a darkening keeps the input's edges.
    """

    def __init__(self, mode: str = "logit", **kwargs):
        super().__init__(**kwargs)
        check_choice("input change", mode, CHANGES[1:])
        self.mode = mode

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}

    def call(self, image, change):
        x = ops.cast(image, "float32")
        change = ops.cast(change, "float32")
        base = ops.average_pool(x, 3, strides=1, padding="same") if self.mode == "detail" else x
        clipped = ops.clip(base, -0.995, 0.995)
        changed = ops.tanh(0.5 * ops.log((1.0 + clipped) / (1.0 - clipped)) + change)
        if self.mode == "logit":
            return changed
        return ops.clip(changed + x - base, -1.0, 1.0)


def with_input_change(model: keras.Model, mode: str = "logit") -> keras.Model:
    """``model`` (ending in the ``output_image`` tanh) turned into input + learned change."""
    change = model.get_layer("output_image").input
    image = ChangeOfInput(mode, dtype="float32", name="input_change")(model.input, change)
    return keras.Model(model.input, image, name=f"{model.name}_input_change")


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
    check_choice("padding", padding, PADDINGS)
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


def downsample(filters: int, kernel_size: int = 4, strides: int = 2, **block) -> keras.Sequential:
    """Strided convolution block (Pix2Pix's encoder Ck: 4x4, stride 2, BatchNorm, LeakyReLU
    0.2); ``block`` takes any :func:`conv_block` argument."""
    return conv_block(filters, kernel_size, strides, **block)


def upsample(
    filters: int, kernel_size: int = 4, strides: int = 2, *, activation: str = "relu", **block
) -> keras.Sequential:
    """Transposed convolution block (Pix2Pix's decoder Ck / CDk: 4x4, stride 2, BatchNorm,
    dropout for CDk, ReLU); ``block`` takes any :func:`conv_block` argument."""
    return conv_block(filters, kernel_size, strides, activation=activation, transpose=True, **block)


IMAGE_SIZES = (32, 64, 128, 256)
UNET_KINDS = ("unet", "encoder_decoder")
# PatchGAN receptive fields of the paper's ablation (table 3): name -> junyanz's n_layers.
PATCHES = ("pixel", "16", "70", "286")
_N_LAYERS = {"16": 1, "70": 3, "286": 5}
DECODER_DROPOUT_BLOCKS = 3  # "CD512-CD512-CD512-...": dropout 0.5 in the first three


def check_image_size(image_size: int) -> int:
    if isinstance(image_size, bool) or image_size not in IMAGE_SIZES:
        raise ValueError(
            "image_size must be a power of two from 32 to 256 (one of "
            f"{', '.join(map(str, IMAGE_SIZES))}), got {image_size!r}"
        )
    return int(image_size)


def check_patch(patch: str | int) -> str:
    name = str(patch)
    if name not in PATCHES:
        raise ValueError(f"unknown PatchGAN patch {patch!r}: choose one of {', '.join(PATCHES)}")
    return name


def encoder_filters(image_size: int, base_filters: int = 64) -> list[int]:
    """Filters of the encoder blocks: 64-128-256-512-512-... down to a 1x1 bottleneck.

    One stride-2 block per halving, so log2(size) blocks: 8 at 256 px (the paper's
    C64-C128-C256-C512-C512-C512-C512-C512), 5 at 32 px (C64-C128-C256-C512-C512).
    """
    size = check_image_size(image_size)
    depth = size.bit_length() - 1
    # Capped at 8x the first block's filters (512 for 64), as junyanz's ngf * 8.
    return [min(base_filters * 2**i, 8 * base_filters) for i in range(depth)]


def build_unet_generator(
    image_size: int = 256,
    kind: str = "unet",
    in_channels: int = 3,
    out_channels: int = 3,
    base_filters: int = 64,
    norm: str = "batch",
    dropout: float = 0.5,
) -> keras.Model:
    """The paper's generator, ``unet`` (with skips) or ``encoder_decoder`` (without).

    Encoder ``down_1..down_n`` (n = log2(size)): 4x4 convs, stride 2, LeakyReLU 0.2, BatchNorm
    except on the first. Decoder ``up_1..up_{n-1}`` mirrors it (CD512-CD512-CD512-C512-C256-
    C128-C64 at 256 px): 4x4 transposed convs, stride 2, BatchNorm, dropout 0.5 in the first
    three, ReLU; in the U-Net each ``skip_i`` concatenates the encoder block of the same
    resolution. A last transposed conv + tanh gives the image in [-1, 1]. ``base_filters``
    (junyanz's ``--ngf``) scales every block; the filters are capped at 8x it. ``norm`` and
    ``dropout`` change every normalised block and the first three decoder blocks (CycleGAN's
    U-Net: ``instance`` and 0).

    Deviation from the paper, as in the authors' code: the innermost (1x1) encoder block has
    no BatchNorm. At batch size 1 (the paper's) a batch norm over a single value per channel
    outputs beta whatever the input, which would cut the bottleneck off.

    The U-Net has 54,414,531 trainable parameters at 256 px (junyanz's ``unet_256`` prints
    54.414 M: it leaves out the biases of the two encoder convs without a norm after them, 576
    parameters), 29,244,611 at 64 px and 16,659,651 at 32 px.
    """
    if kind not in UNET_KINDS:
        raise ValueError(f"unknown generator {kind!r}: choose one of {', '.join(UNET_KINDS)}")
    filters = encoder_filters(image_size, base_filters)
    depth = len(filters)
    input_image = keras.Input((image_size, image_size, in_channels), name="input_image")

    x = input_image
    encoded = []
    for i, f in enumerate(filters):
        block_norm = "none" if i in (0, depth - 1) else norm
        x = downsample(f, norm=block_norm, activation="leaky_relu", name=f"down_{i + 1}")(x)
        encoded.append(x)

    # Walk back up, joining the encoder output of the same resolution (U-Net only).
    for j, (f, skip) in enumerate(zip(reversed(filters[:-1]), reversed(encoded[:-1]))):
        rate = dropout if j < DECODER_DROPOUT_BLOCKS else 0.0
        x = upsample(f, norm=norm, activation="relu", dropout=rate, name=f"up_{j + 1}")(x)
        if kind == "unet":
            x = layers.Concatenate(name=f"skip_{j + 1}")([x, skip])

    x = layers.Conv2DTranspose(
        out_channels,
        4,
        strides=2,
        padding="same",
        kernel_initializer=weight_init(),
        name="to_image",
    )(x)
    # float32 output under mixed precision: images go to the L1 loss, metrics and serving.
    output_image = layers.Activation("tanh", dtype="float32", name="output_image")(x)
    return keras.Model(input_image, output_image, name=f"{kind}_generator")


def patchgan_logits(
    x, patch: str | int = "70", base_filters: int = 64, norm: str = "batch"
) -> keras.KerasTensor:
    """The PatchGAN layers on ``x``: one real/fake logit per patch (float32).

    ``patch`` names the receptive field (Pix2Pix's table 3 ablation): ``pixel`` (PixelGAN,
    1x1 convs 64-128-1), ``16``, ``70`` (default) or ``286`` (ImageGAN at 256 px), i.e.
    junyanz's n_layers 1, 3, 5: C64 (no norm), then n_layers - 1 stride-2 convs doubling the
    filters (capped at 8x ``base_filters``), then one stride-1 conv, then a stride-1 conv to 1
    channel; all 4x4, LeakyReLU 0.2, ``norm`` (Pix2Pix: batch, CycleGAN: instance).

    Padding is ``same`` instead of the reference's 1 pixel: the receptive field is the same,
    the patch map is size / 2**n_layers (32x32 at 256 px for the 70x70 PatchGAN, where the
    reference gives 30x30), and it stays at least 1x1 at every size down to 32 px, where the
    reference padding leaves the 286 ImageGAN with nothing below 128 px.
    """
    patch = check_patch(patch)
    if patch == "pixel":
        x = conv_block(base_filters, 1, 1, norm="none", name="conv_1")(x)
        x = conv_block(base_filters * 2, 1, 1, norm=norm, name="conv_2")(x)
        kernel = 1
    else:
        n_layers = _N_LAYERS[patch]
        x = conv_block(base_filters, 4, 2, norm="none", name="conv_1")(x)
        for n in range(1, n_layers):
            filters = min(base_filters * 2**n, 8 * base_filters)
            x = conv_block(filters, 4, 2, norm=norm, name=f"conv_{n + 1}")(x)
        filters = min(base_filters * 2**n_layers, 8 * base_filters)
        x = conv_block(filters, 4, 1, norm=norm, name=f"conv_{n_layers + 1}")(x)
        kernel = 4
    x = conv_block(1, kernel, 1, norm="none", activation="none", name="to_logits")(x)
    return layers.Activation("linear", dtype="float32", name="patch_logits")(x)


def _conv_layers(model: keras.Layer) -> list[keras.Layer]:
    """Convolution and pooling layers in call order, looking inside nested blocks."""
    found = []
    for layer in getattr(model, "layers", []):
        if isinstance(layer, layers.Conv2DTranspose):
            raise ValueError(f"{layer.name}: a transposed convolution has no receptive field")
        if isinstance(layer, layers.Conv2D | layers.MaxPooling2D | layers.AveragePooling2D):
            found.append(layer)
        else:
            found.extend(_conv_layers(layer))
    return found


def _kernel_and_stride(layer: keras.Layer) -> tuple[int, int]:
    if isinstance(layer, layers.Conv2D):
        kernel, stride, dilation = layer.kernel_size, layer.strides, layer.dilation_rate
    else:
        kernel, stride, dilation = layer.pool_size, layer.strides, (1, 1)
    if len(set(kernel)) != 1 or len(set(stride)) != 1 or len(set(dilation)) != 1:
        raise ValueError(f"{layer.name}: receptive_field needs square kernels and strides")
    return (kernel[0] - 1) * dilation[0] + 1, stride[0]


def receptive_field(discriminator_or_layer_spec: keras.Model | Sequence[tuple[int, int]]) -> int:
    """Side, in input pixels, of the window one output of a chain of convolutions sees.

    Takes a model (its Conv2D and pooling layers, in order, nested blocks included) or a list
    of ``(kernel_size, stride)``. Walking back from one output pixel, each layer widens the
    window to ``(r - 1) * stride + kernel``. Padding does not change it.
    """
    if isinstance(discriminator_or_layer_spec, keras.Layer):
        spec = [_kernel_and_stride(layer) for layer in _conv_layers(discriminator_or_layer_spec)]
        if not spec:
            raise ValueError(f"{discriminator_or_layer_spec.name} has no convolution layers")
    else:
        spec = [(int(k), int(s)) for k, s in discriminator_or_layer_spec]
    field = 1
    for kernel, stride in reversed(spec):
        field = (field - 1) * stride + kernel
    return field


def load_image_model(path) -> keras.Model:
    """``keras.models.load_model`` for the image-to-image networks.

    Their custom layers (``ReflectionPadding2D``) are registered when this module is imported,
    which a fresh process (an evaluation stage, a model server) has not otherwise done.
    """
    return keras.models.load_model(path)
