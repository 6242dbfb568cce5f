"""CycleGAN (Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
Adversarial Networks"): two generators G: A -> B and F: B -> A, each against a PatchGAN that
judges its output domain, tied together by cycle consistency F(G(a)) ~ a and G(F(b)) ~ b.

Defaults follow the paper's section 4 and appendix 7 and the authors' PyTorch code
(junyanz/pytorch-CycleGAN-and-pix2pix) where the paper is silent: ResNet generators with
instance normalisation and reflection padding, 70x70 PatchGANs with instance normalisation,
least-squares GAN losses, cycle weight 10, identity weight 0.5 * 10, a pool of 50 generated
images per discriminator, Adam(2e-4, 0.5) for both sides.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from condgen.core import losses
from condgen.core.adversarial import AdversarialModel, loss_tracker, replica_share
from condgen.core.layers import (
    CHANGES,
    build_unet_generator,
    check_choice,
    check_image_size,
    conv_block,
    patchgan_logits,
    with_input_change,
)

GENERATORS = ("resnet", "unet")
GAN_LOSSES = ("lsgan", "vanilla")


def default_residual_blocks(image_size: int) -> int:
    """The paper's choice: 9 residual blocks for 256 px (and above), 6 for smaller images."""
    return 9 if image_size >= 256 else 6


def build_resnet_generator(
    image_size: int = 256,
    residual_blocks: int | None = None,
    base_filters: int = 64,
    channels: int = 3,
) -> keras.Model:
    """The paper's ResNet generator: c7s1-64, d128, d256, R256 x n, u128, u64, c7s1-3.

    c7s1-k: 7x7 convolution, stride 1, reflection padding 3, instance norm, ReLU. dk: 3x3
    convolution, stride 2 (zero padding 1), instance norm, ReLU. Rk: two 3x3 convolutions with
    reflection padding and instance norm (ReLU after the first) added to the block's input. uk:
    3x3 transposed convolution, stride 2, instance norm, ReLU. The last c7s1-3 ends in tanh.
    ``base_filters`` (the paper's 64, junyanz's ``--ngf``) scales every layer.

    Deviation from the authors' code: no bias before an instance norm (the norm subtracts the
    mean, so such a bias never reaches the output). With 9 blocks at 256 px that is 11,372,931
    trainable parameters, where junyanz's ``resnet_9blocks`` prints 11.378 M: the 5,248 unused
    biases. Fully convolutional: the weights do not depend on the image size.
    """
    size = check_image_size(image_size)
    blocks = default_residual_blocks(size) if residual_blocks is None else int(residual_blocks)
    if blocks < 0:
        raise ValueError(f"residual_blocks must be 0 or more, got {blocks}")
    f = base_filters
    image = keras.Input((size, size, channels), name="input_image")
    x = conv_block(f, 7, 1, norm="instance", activation="relu", padding="reflect", name="c7s1")(
        image
    )
    x = conv_block(2 * f, 3, 2, norm="instance", activation="relu", padding="zero", name="d1")(x)
    x = conv_block(4 * f, 3, 2, norm="instance", activation="relu", padding="zero", name="d2")(x)
    for i in range(1, blocks + 1):
        y = conv_block(
            4 * f, 3, 1, norm="instance", activation="relu", padding="reflect", name=f"r{i}_a"
        )(x)
        y = conv_block(
            4 * f, 3, 1, norm="instance", activation="none", padding="reflect", name=f"r{i}_b"
        )(y)
        x = layers.Add(name=f"r{i}")([x, y])
    for i, filters in enumerate((2 * f, f), start=1):
        x = conv_block(
            filters, 3, 2, norm="instance", activation="relu", transpose=True, name=f"u{i}"
        )(x)
    x = conv_block(
        channels, 7, 1, norm="none", activation="none", padding="reflect", name="to_rgb"
    )(x)
    # float32 output under mixed precision: images go to the L1 losses, the pools and serving.
    output = layers.Activation("tanh", dtype="float32", name="output_image")(x)
    return keras.Model(image, output, name=f"resnet_{blocks}blocks_generator")


def build_cyclegan_generator(
    image_size: int,
    kind: str = "resnet",
    residual_blocks: int | None = None,
    base_filters: int = 64,
    name: str | None = None,
    input_change: str = "none",
) -> keras.Model:
    """A CycleGAN generator: ``resnet`` (the paper's) or ``unet`` (Pix2Pix's U-Net with instance
    norm and without dropout, as junyanz's ``--netG unet_256`` for CycleGAN).

    ``input_change``: ``none`` (the paper): the network draws a new image; ``logit`` or
    ``detail``: its output is a change to its input (:class:`~condgen.core.layers.ChangeOfInput`),
    not in the paper.
    """
    check_choice("input change", input_change, CHANGES)
    if kind not in GENERATORS:
        raise ValueError(f"unknown generator {kind!r}: choose one of {', '.join(GENERATORS)}")
    if kind == "resnet":
        model = build_resnet_generator(image_size, residual_blocks, base_filters)
    else:
        model = build_unet_generator(
            image_size, "unet", base_filters=base_filters, norm="instance", dropout=0.0
        )
    if input_change != "none":
        model = with_input_change(model, input_change)
    if name:
        model.name = name
    return model


def build_cyclegan_discriminator(
    image_size: int,
    patch: str | int = "70",
    base_filters: int = 64,
    channels: int = 3,
    name: str | None = None,
) -> keras.Model:
    """Unconditional PatchGAN with instance norm: image -> one real/fake logit per patch.

    The 70x70 PatchGAN has 2,763,841 trainable parameters at any image size; junyanz's
    ``basic`` D with instance norm prints 2.765 M, 896 of them biases before a norm.
    """
    size = check_image_size(image_size)
    image = keras.Input((size, size, channels), name="image")
    logits = patchgan_logits(image, patch, base_filters, norm="instance")
    return keras.Model(image, logits, name=name or f"patchgan_{patch}")


@keras.saving.register_keras_serializable(package="condgen")
class ImagePool(layers.Layer):
    """A history of generated images for a discriminator (Shrivastava et al. 2017).

    CycleGAN's discriminators learn from a pool of the last ``pool_size`` generated images
    rather than only the newest ones, which damps the oscillation between G and D. Per image:
    while the pool is filling, the image is stored and passed on; once full, with probability
    one half a random stored image is passed on and replaced by the new one, otherwise the new
    image is passed on (junyanz's ``ImagePool.query``).

    The pool's images, its fill count and its count of random draws are layer variables, so a
    training backup carries them and a resumed run continues with the same pool and the same
    random stream (stateless draws keyed by (seed, draw number); a ``SeedGenerator``'s state
    would not be saved). ``pool_size`` 0 passes every image through.
    """

    def __init__(self, pool_size: int, image_shape, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = int(pool_size)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.seed = int(np.random.randint(2**31 - 1) if seed is None else seed)
        if self.pool_size:
            # One replica's pool stands for all under tf.distribute (they differ only in luck).
            self.images = self.add_weight(
                shape=(self.pool_size, *self.image_shape),
                initializer="zeros",
                trainable=False,
                aggregation="only_first_replica",
                name="images",
            )
            # How many images the pool holds, and how many random draws it has made.
            self.count, self.draws = (
                self.add_weight(
                    shape=(),
                    dtype="int32",
                    initializer="zeros",
                    trainable=False,
                    aggregation="only_first_replica",
                    name=name,
                )
                for name in ("count", "draws")
            )
        self.built = True

    def call(self, images):
        if not self.pool_size:
            return images
        if tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(
                f"{self.name} holds images of shape {self.image_shape}, "
                f"got {tuple(images.shape[1:])}"
            )
        batch = images.shape[0]
        if batch is None:
            raise ValueError("ImagePool needs a static batch size (batch with drop_remainder)")
        pool, count, draws = self.images.value, self.count.value, self.draws.value
        chosen = []
        for i in range(batch):
            image = ops.cast(images[i], pool.dtype)
            key = 2 * (draws + i)
            coin = tf.random.stateless_uniform((), seed=tf.stack([self.seed, key]))
            slot = tf.random.stateless_uniform(
                (), seed=tf.stack([self.seed, key + 1]), maxval=self.pool_size, dtype="int32"
            )
            filling = count < self.pool_size
            swap = ops.logical_and(ops.logical_not(filling), coin < 0.5)
            slot = ops.where(filling, count, slot)
            stored = ops.take(pool, slot, axis=0)
            chosen.append(ops.where(swap, stored, image))
            keep = ops.where(ops.logical_or(filling, swap), image, stored)
            pool = ops.scatter_update(pool, ops.reshape(slot, (1, 1)), keep[None])
            count = ops.minimum(count + 1, self.pool_size)
        self.images.assign(pool)
        self.count.assign(count)
        self.draws.assign(draws + batch)
        return ops.cast(ops.stack(chosen), images.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "image_shape": self.image_shape,
            "seed": self.seed,
        }


class CycleGAN(AdversarialModel):
    """Cycle-consistent adversarial training of G: A -> B and F: B -> A.

    Batches are ``(images_a, images_b)`` in [-1, 1], unpaired. Each step runs G(a), F(G(a)),
    F(b), G(F(b)) and, with an identity weight, G(b) and F(a); the generators minimise

        gan(D_B(G(a))) + gan(D_A(F(b))) + cycle_weight * (|F(G(a)) - a| + |G(F(b)) - b|)
        + identity_weight * cycle_weight * (|G(b) - b| + |F(a) - a|)

    and the discriminators their (halved) loss on real images against the generated images
    that their pools hand out. One optimizer trains both generators, another both
    discriminators (as junyanz's code), both from the same forward pass.
    """

    def __init__(
        self,
        generator_a2b: keras.Model,
        generator_b2a: keras.Model,
        discriminator_a: keras.Model,
        discriminator_b: keras.Model,
        *,
        gan_loss: str = "lsgan",
        cycle_weight: float = 10.0,
        identity_weight: float = 0.5,
        pool_size: int = 50,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if gan_loss not in GAN_LOSSES:
            raise ValueError(
                f"unknown gan_loss {gan_loss!r}: choose one of {', '.join(GAN_LOSSES)}"
            )
        self.generator_a2b = generator_a2b
        self.generator_b2a = generator_b2a
        self.discriminator_a = discriminator_a
        self.discriminator_b = discriminator_b
        self.gan_loss = gan_loss
        self.cycle_weight = float(cycle_weight)
        self.identity_weight = float(identity_weight)
        shape_a = tuple(generator_b2a.output.shape[1:])
        shape_b = tuple(generator_a2b.output.shape[1:])
        pool_seed = None if seed is None else int(seed)
        self.pool_a = ImagePool(pool_size, shape_a, seed=pool_seed, name="pool_a")
        self.pool_b = ImagePool(
            pool_size, shape_b, seed=None if seed is None else pool_seed + 1, name="pool_b"
        )
        names = (
            "g_loss",
            "g_a2b_loss",
            "g_b2a_loss",
            "cycle_a_loss",
            "cycle_b_loss",
            "identity_a_loss",
            "identity_b_loss",
            "d_a_loss",
            "d_b_loss",
        )
        self.trackers = {n: loss_tracker(n) for n in names}
        self.built = True

    # AdversarialModel's interface: the "generator" serving A -> B, and each optimizer's side.
    @property
    def generator(self) -> keras.Model:
        return self.generator_a2b

    @property
    def generator_variables(self) -> list:
        return self.generator_a2b.trainable_variables + self.generator_b2a.trainable_variables

    @property
    def discriminator_variables(self) -> list:
        return self.discriminator_a.trainable_variables + self.discriminator_b.trainable_variables

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _g_adversarial(self, fake_logits):
        if self.gan_loss == "lsgan":
            return losses.lsgan_generator_loss(fake_logits)
        return losses.generator_loss(fake_logits)

    def _d_adversarial(self, real_logits, fake_logits):
        # Halved, as in the paper: "we divide the objective by 2 while optimizing D".
        if self.gan_loss == "lsgan":
            return 0.5 * losses.lsgan_discriminator_loss(real_logits, fake_logits)
        return 0.5 * losses.discriminator_loss(real_logits, fake_logits)

    def _cycle_losses(self, real_a, real_b) -> dict:
        """Every loss of one training step (networks in training mode)."""
        g, f = self.generator_a2b, self.generator_b2a
        d_a, d_b = self.discriminator_a, self.discriminator_b
        fake_b = g(real_a, training=True)
        fake_a = f(real_b, training=True)
        out = {
            "g_a2b_loss": self._g_adversarial(d_b(fake_b, training=True)),
            "g_b2a_loss": self._g_adversarial(d_a(fake_a, training=True)),
            "cycle_a_loss": losses.l1_loss(real_a, f(fake_b, training=True)),
            "cycle_b_loss": losses.l1_loss(real_b, g(fake_a, training=True)),
        }
        identity = self.identity_weight * self.cycle_weight
        if identity > 0.0:
            out["identity_a_loss"] = losses.l1_loss(real_a, f(real_a, training=True))
            out["identity_b_loss"] = losses.l1_loss(real_b, g(real_b, training=True))
        else:
            out["identity_a_loss"] = out["identity_b_loss"] = ops.zeros((), "float32")
        out["g_loss"] = (
            out["g_a2b_loss"]
            + out["g_b2a_loss"]
            + self.cycle_weight * (out["cycle_a_loss"] + out["cycle_b_loss"])
            + identity * (out["identity_a_loss"] + out["identity_b_loss"])
        )
        # Each D judges its domain's real images against what its pool hands out.
        fake_a = self.pool_a(ops.stop_gradient(fake_a))
        fake_b = self.pool_b(ops.stop_gradient(fake_b))
        out["d_a_loss"] = self._d_adversarial(
            d_a(real_a, training=True), d_a(fake_a, training=True)
        )
        out["d_b_loss"] = self._d_adversarial(
            d_b(real_b, training=True), d_b(fake_b, training=True)
        )
        return out

    def train_step(self, data):
        real_a, real_b = self._split_batch(data)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            step_losses = self._cycle_losses(real_a, real_b)
            d_loss = step_losses["d_a_loss"] + step_losses["d_b_loss"]
            g_scaled = self.g_optimizer.scale_loss(replica_share(step_losses["g_loss"]))
            d_scaled = self.d_optimizer.scale_loss(replica_share(d_loss))
        self._apply_gradients(g_tape, g_scaled, d_tape, d_scaled)
        for name, tracker in self.trackers.items():
            tracker.update_state(step_losses[name])
        return self.step_logs()


def build_cyclegan(
    image_size: int,
    generator: str = "resnet",
    residual_blocks: int | None = None,
    base_filters: int = 64,
    patch: str | int = "70",
    gan_loss: str = "lsgan",
    cycle_weight: float = 10.0,
    identity_weight: float = 0.5,
    pool_size: int = 50,
    seed: int | None = None,
    change_a2b: str = "none",
    change_b2a: str = "none",
) -> CycleGAN:
    """An uncompiled CycleGAN of the paper's networks for ``image_size`` px RGB images.

    The trainer compiles it with Adam(2e-4, beta_1=0.5) for both sides, constant for the first
    half of training, then decaying linearly to zero (paper sec. 4).
    """
    size = check_image_size(image_size)

    def make_generator(name: str, change: str) -> keras.Model:
        return build_cyclegan_generator(
            size, generator, residual_blocks, base_filters, name, change
        )

    return CycleGAN(
        make_generator("generator_a2b", change_a2b),
        make_generator("generator_b2a", change_b2a),
        build_cyclegan_discriminator(size, patch, base_filters, name="discriminator_a"),
        build_cyclegan_discriminator(size, patch, base_filters, name="discriminator_b"),
        gan_loss=gan_loss,
        cycle_weight=cycle_weight,
        identity_weight=identity_weight,
        pool_size=pool_size,
        seed=seed,
    )
