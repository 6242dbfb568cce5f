"""Pix2Pix (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial
Networks"): a U-Net (or encoder-decoder) generator against a PatchGAN discriminator that sees
the input image beside the real or generated output, trained on GAN + lambda * L1.

Paper defaults follow the paper's appendix (6.1.1 generators, 6.1.2 discriminators) and the
authors' PyTorch code (junyanz/pytorch-CycleGAN-and-pix2pix) where the paper is silent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import tensorflow as tf
from keras import layers, ops

from condgen.models import losses
from condgen.models.conv_blocks import conv_block, downsample, upsample, weight_init
from condgen.models.gan import AdversarialModel, _replica_share

IMAGE_SIZES = (32, 64, 128, 256)
GENERATORS = ("unet", "encoder_decoder")
# PatchGAN receptive fields of the paper's ablation (table 3): name -> junyanz's n_layers.
PATCHES = ("pixel", "16", "70", "286")
_N_LAYERS = {"16": 1, "70": 3, "286": 5}
DECODER_DROPOUT_BLOCKS = 3  # "CD512-CD512-CD512-...": dropout 0.5 in the first three


def _check_image_size(image_size: int) -> int:
    if isinstance(image_size, bool) or image_size not in IMAGE_SIZES:
        raise ValueError(
            "image_size must be a power of two from 32 to 256 (one of "
            f"{', '.join(map(str, IMAGE_SIZES))}), got {image_size!r}"
        )
    return int(image_size)


def _check_patch(patch: str | int) -> str:
    name = str(patch)
    if name not in PATCHES:
        raise ValueError(f"unknown PatchGAN patch {patch!r}: choose one of {', '.join(PATCHES)}")
    return name


def encoder_filters(image_size: int, base_filters: int = 64) -> list[int]:
    """Filters of the encoder blocks: 64-128-256-512-512-... down to a 1x1 bottleneck.

    One stride-2 block per halving, so log2(size) blocks: 8 at 256 px (the paper's
    C64-C128-C256-C512-C512-C512-C512-C512), 5 at 32 px (C64-C128-C256-C512-C512).
    """
    size = _check_image_size(image_size)
    depth = size.bit_length() - 1
    # Capped at 8x the first block's filters (512 for 64), as junyanz's ngf * 8.
    return [min(base_filters * 2**i, 8 * base_filters) for i in range(depth)]


def build_pix2pix_generator(
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
    if kind not in GENERATORS:
        raise ValueError(f"unknown generator {kind!r}: choose one of {', '.join(GENERATORS)}")
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
    patch = _check_patch(patch)
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


def build_patchgan_discriminator(
    image_size: int = 256,
    patch: str | int = "70",
    in_channels: int = 3,
    out_channels: int = 3,
    base_filters: int = 64,
) -> keras.Model:
    """Conditional PatchGAN: [input_image, target_image] -> one real/fake logit per patch.

    The layers of :func:`patchgan_logits` with BatchNorm on the input and the image beside it.
    The 70x70 PatchGAN has 2,768,705 trainable parameters (as junyanz's ``basic`` D) at any
    image size.
    """
    size = _check_image_size(image_size)
    patch = _check_patch(patch)
    input_image = keras.Input((size, size, in_channels), name="input_image")
    target_image = keras.Input((size, size, out_channels), name="target_image")
    # Conditioning: D judges the pair, so G cannot ignore its input (paper sec. 2.1).
    x = layers.Concatenate(name="image_pair")([input_image, target_image])
    logits = patchgan_logits(x, patch, base_filters, norm="batch")
    return keras.Model([input_image, target_image], logits, name=f"patchgan_{patch}")


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


def translate(generator: keras.Model, images, training_mode: bool, seed: int | None = None):
    """``generator(images)`` with dropout and batch norm in training mode or not.

    The one place evaluation and serving run a Pix2Pix generator, so the two agree. The paper
    keeps dropout and batch norm on at test time (batch statistics, dropout noise); a plain
    ``generator(images, training=True)`` would then also move the batch-norm moving averages,
    i.e. change the model by using it. ``stateless_call`` computes the same forward pass
    without writing any variable, so the weights stay as they were.

    Dropout noise in training mode: with ``seed=None`` each call draws fresh masks (the
    dropout layers' seed states advance; they are not weights). With an int ``seed`` the masks
    are a function of the seed alone, nothing is written, and the same seed gives the same
    output in any process and after a reload. ``keras.utils.set_random_seed`` cannot do this:
    each dropout layer fixes its own seed state when it is created.

    ``images``: float, [-1, 1], (batch, size, size, channels). A layer frozen with
    ``trainable = False`` runs batch norm in inference mode whatever ``training_mode`` says
    (Keras semantics).
    """
    if not training_mode:
        return generator(images, training=False)
    weights = {id(w) for w in generator.weights}
    variables = generator.non_trainable_variables
    # The non-trainable variables that are not weights are the dropout layers' seed states.
    seed_states = [i for i, v in enumerate(variables) if id(v) not in weights]
    state = [v.value for v in variables]
    if seed is not None:
        # [seed, k] for the k-th dropout layer: a different mask per layer, fixed by the seed.
        for k, i in enumerate(seed_states):
            state[i] = ops.convert_to_tensor([int(seed) % 2**31, k], dtype=variables[i].dtype)
    outputs, new_state = generator.stateless_call(
        [v.value for v in generator.trainable_variables], state, images, training=True
    )
    if seed is None:
        for i in seed_states:
            variables[i].assign(new_state[i])
    return outputs


class Pix2Pix(AdversarialModel):
    """Conditional adversarial training of a generator G: A -> B against a PatchGAN D.

    Batches are ``(input_images, target_images)`` in [-1, 1]. Each step runs G once, D on the
    real and the generated pair, and updates both networks from that one forward pass (as
    TensorFlow's pix2pix tutorial does). G minimises ``gan + l1_weight * l1``; D minimises half
    its BCE (see ``losses.pix2pix_*``).

    ``test_training_mode``: whether ``test_step`` (validation losses) runs G with dropout and
    batch norm in training mode, through ``translate`` like evaluation and serving. The paper
    keeps them on at test time, hence the default. D is always in inference mode there.
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        l1_weight: float = 100.0,
        test_training_mode: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.l1_weight = float(l1_weight)
        self.test_training_mode = bool(test_training_mode)
        self.g_gan_loss_tracker = keras.metrics.Mean(name="g_gan_loss")
        self.g_l1_loss_tracker = keras.metrics.Mean(name="g_l1_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        # The networks are functional models, built on construction.
        self.built = True

    @property
    def metrics(self):
        return [
            self.g_gan_loss_tracker,
            self.g_l1_loss_tracker,
            self.g_loss_tracker,
            self.d_loss_tracker,
        ]

    @property
    def final_generator(self) -> keras.Model:
        """The generator to evaluate and serve (the same interface as ``GAN``)."""
        return self.generator

    def describe(self) -> dict[str, int | str | float]:
        """Network names and parameter counts (all, and trainable), without a summary table."""
        return {
            "generator": self.generator.name,
            "generator_params": self.generator.count_params(),
            "generator_trainable_params": _count(self.generator.trainable_weights),
            "discriminator": self.discriminator.name,
            "discriminator_params": self.discriminator.count_params(),
            "discriminator_trainable_params": _count(self.discriminator.trainable_weights),
            "receptive_field": receptive_field(self.discriminator),
            "l1_weight": self.l1_weight,
        }

    @staticmethod
    def _split_batch(data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        return (x, y) if y is not None else x

    def _pair_losses(self, input_images, target_images, fake_images, training: bool):
        real_logits = self.discriminator([input_images, target_images], training=training)
        fake_logits = self.discriminator([input_images, fake_images], training=training)
        g_gan_loss, g_l1_loss, g_loss = losses.pix2pix_generator_loss(
            fake_logits, fake_images, target_images, self.l1_weight
        )
        d_loss = losses.pix2pix_discriminator_loss(real_logits, fake_logits)
        return g_gan_loss, g_l1_loss, g_loss, d_loss

    def _update_trackers(self, g_gan_loss, g_l1_loss, g_loss, d_loss):
        self.g_gan_loss_tracker.update_state(g_gan_loss)
        self.g_l1_loss_tracker.update_state(g_l1_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_loss_tracker.update_state(d_loss)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        input_images, target_images = self._split_batch(data)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_images = self.generator(input_images, training=True)
            step_losses = self._pair_losses(input_images, target_images, fake_images, training=True)
            _, _, g_loss, d_loss = step_losses
            g_scaled = self.g_optimizer.scale_loss(_replica_share(g_loss))
            d_scaled = self.d_optimizer.scale_loss(_replica_share(d_loss))
        self._apply_gradients(g_tape, g_scaled, d_tape, d_scaled)
        return self._update_trackers(*step_losses)

    def test_step(self, data):
        input_images, target_images = self._split_batch(data)
        fake_images = translate(self.generator, input_images, self.test_training_mode)
        return self._update_trackers(
            *self._pair_losses(input_images, target_images, fake_images, False)
        )


def _count(weights) -> int:
    return sum(math.prod(w.shape) for w in weights)


def build_pix2pix(
    image_size: int,
    generator: str = "unet",
    patch: str | int = "70",
    l1_weight: float = 100.0,
    test_training_mode: bool = True,
    base_filters: int = 64,
) -> Pix2Pix:
    """An uncompiled Pix2Pix of the paper's networks for ``image_size`` px RGB pairs.

    The trainer compiles it with Adam(2e-4, beta_1=0.5) for both networks (paper sec. 3.3).
    ``base_filters`` (the paper's 64) scales both networks: 32 has about a quarter of the
    parameters and compute, for CPU runs.
    Trainable parameters, U-Net + 70x70 PatchGAN: 29,244,611 + 2,768,705 at 64 px,
    54,414,531 + 2,768,705 at 256 px (``Pix2Pix.describe()`` counts any configuration).
    """
    size = _check_image_size(image_size)
    return Pix2Pix(
        build_pix2pix_generator(size, generator, base_filters=base_filters),
        build_patchgan_discriminator(size, patch, base_filters=base_filters),
        l1_weight=l1_weight,
        test_training_mode=test_training_mode,
        name="pix2pix",
    )
