"""Pix2Pix (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial
Networks"): a U-Net (or encoder-decoder) generator against a PatchGAN discriminator that sees
the input image beside the real or generated output, trained on GAN + lambda * L1.

Paper defaults follow the paper's appendix (6.1.1 generators, 6.1.2 discriminators) and the
authors' PyTorch code (junyanz/pytorch-CycleGAN-and-pix2pix) where the paper is silent.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from condgen.core import losses
from condgen.core.adversarial import AdversarialModel, loss_tracker, replica_share
from condgen.core.layers import (
    build_unet_generator,
    check_image_size,
    check_patch,
    patchgan_logits,
)


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
    size = check_image_size(image_size)
    patch = check_patch(patch)
    input_image = keras.Input((size, size, in_channels), name="input_image")
    target_image = keras.Input((size, size, out_channels), name="target_image")
    # Conditioning: D judges the pair, so G cannot ignore its input (paper sec. 2.1).
    x = layers.Concatenate(name="image_pair")([input_image, target_image])
    logits = patchgan_logits(x, patch, base_filters, norm="batch")
    return keras.Model([input_image, target_image], logits, name=f"patchgan_{patch}")


class Pix2Pix(AdversarialModel):
    """Conditional adversarial training of a generator G: A -> B against a PatchGAN D.

    Batches are ``(input_images, target_images)`` in [-1, 1]. Each step runs G once, D on the
    real and the generated pair, and updates both networks from that one forward pass (as
    TensorFlow's pix2pix tutorial does). G minimises ``gan + l1_weight * l1``; D minimises half
    its BCE (see ``losses.pix2pix_*``).

    Whether dropout and batch norm stay in training mode at test time (the paper's choice) is
    the ``train_mode_at_test`` switch of evaluation and serving (condgen.serving.translate).
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        l1_weight: float = 100.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.l1_weight = float(l1_weight)
        self.g_gan_loss_tracker = loss_tracker("g_gan_loss")
        self.g_l1_loss_tracker = loss_tracker("g_l1_loss")
        self.g_loss_tracker = loss_tracker("g_loss")
        self.d_loss_tracker = loss_tracker("d_loss")
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

    def train_step(self, data):
        input_images, target_images = self._split_batch(data)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            # G translates; D judges the real and the generated pair, each beside the input.
            fake_images = self.generator(input_images, training=True)
            real_logits = self.discriminator([input_images, target_images], training=True)
            fake_logits = self.discriminator([input_images, fake_images], training=True)
            g_gan_loss, g_l1_loss, g_loss = losses.pix2pix_generator_loss(
                fake_logits, fake_images, target_images, self.l1_weight
            )
            d_loss = losses.pix2pix_discriminator_loss(real_logits, fake_logits)
            g_scaled = self.g_optimizer.scale_loss(replica_share(g_loss))
            d_scaled = self.d_optimizer.scale_loss(replica_share(d_loss))
        # Both networks step from that one forward pass.
        self._apply_gradients(g_tape, g_scaled, d_tape, d_scaled)
        for tracker, value in zip(self.metrics, (g_gan_loss, g_l1_loss, g_loss, d_loss)):
            tracker.update_state(value)
        return self.step_logs()


def build_pix2pix(
    image_size: int,
    generator: str = "unet",
    patch: str | int = "70",
    l1_weight: float = 100.0,
    base_filters: int = 64,
) -> Pix2Pix:
    """An uncompiled Pix2Pix of the paper's networks for ``image_size`` px RGB pairs.

    The trainer compiles it with Adam(2e-4, beta_1=0.5) for both networks (paper sec. 3.3).
    ``base_filters`` (the paper's 64) scales both networks: 32 has about a quarter of the
    parameters and compute, for CPU runs.
    Trainable parameters, U-Net + 70x70 PatchGAN: 29,244,611 + 2,768,705 at 64 px,
    54,414,531 + 2,768,705 at 256 px.
    """
    size = check_image_size(image_size)
    return Pix2Pix(
        build_unet_generator(size, generator, base_filters=base_filters),
        build_patchgan_discriminator(size, patch, base_filters=base_filters),
        l1_weight=l1_weight,
    )
