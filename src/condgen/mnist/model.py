"""The GAN training algorithm of the MNIST family as a keras.Model (GAN, cGAN, DCGAN)."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from condgen.core import losses
from condgen.core.adversarial import (
    AdversarialModel,
    loss_tracker,
    replica_rows,
    replica_share,
)
from condgen.mnist.augment import diff_augment, parse_policy
from condgen.mnist.data import NUM_CLASSES


class GAN(AdversarialModel):
    """Adversarial training of a generator against a discriminator.

    With ``conditional=True`` both networks also take the one-hot label (cGAN, Mirza &
    Osindero 2014). Both networks are updated from the same forward pass each step, as in the
    reference notes and TensorFlow's DCGAN tutorial. Side effects (checkpoints, grids, MLflow)
    belong in callbacks, not here.
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        noise_dim: int,
        conditional: bool = False,
        seed: int | None = None,
        ema_decay: float = 0.0,
        diff_augment: str = "",
        mismatch_weight: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if mismatch_weight > 0.0 and not conditional:
            raise ValueError("mismatch_weight needs a conditional GAN (labels to mismatch)")
        self.mismatch_weight = mismatch_weight
        self.mismatch_seed = None
        if mismatch_weight > 0.0:
            self.mismatch_seed = keras.random.SeedGenerator(None if seed is None else seed + 2)
        self.generator = generator
        # Differentiable augmentation of what D sees, real and generated alike (see augment.py).
        self.augment_policy = parse_policy(diff_augment)
        self.augment_seed = None
        if self.augment_policy:
            self.augment_seed = keras.random.SeedGenerator(None if seed is None else seed + 1)
        self.ema_decay = ema_decay
        # An exponential moving average of the generator's weights (Yazici et al. 2019): it
        # smooths out the oscillation of adversarial training and is what gets evaluated and
        # served. Its weights live in the model, so checkpoints carry them.
        self.ema_generator = None
        if ema_decay > 0.0:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.name = f"{generator.name}_ema"
            self.ema_generator.set_weights(generator.get_weights())
            self.ema_generator.trainable = False
        self.discriminator = discriminator
        self.noise_dim = noise_dim
        self.conditional = conditional
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.g_loss_tracker = loss_tracker("g_loss")
        self.d_loss_tracker = loss_tracker("d_loss")
        self.d_real_tracker = loss_tracker("d_real")
        self.d_fake_tracker = loss_tracker("d_fake")

    @property
    def metrics(self):
        return [self.g_loss_tracker, self.d_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    @property
    def final_generator(self) -> keras.Model:
        """The generator to evaluate and serve: the weight average when there is one."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def _update_ema(self):
        decay = self.ema_decay
        for average, current in zip(self.ema_generator.weights, self.generator.weights):
            average.assign(decay * average + (1.0 - decay) * ops.cast(current, average.dtype))

    def _inputs(self, first, labels):
        return [first, labels] if self.conditional else first

    def _wrong_labels(self, labels):
        """Each one-hot label moved to another class, uniformly among the other nine."""
        shift = replica_rows(
            lambda n: keras.random.randint(
                (n,), 1, NUM_CLASSES, seed=self.mismatch_seed, dtype="int32"
            ),
            ops.shape(labels)[0],
        )
        wrong = (ops.cast(ops.argmax(labels, axis=-1), "int32") + shift) % NUM_CLASSES
        return ops.one_hot(wrong, NUM_CLASSES, dtype=labels.dtype)

    def train_step(self, data):
        batch = self._split_batch(data)
        real_images, labels = batch if self.conditional else (batch, None)
        batch_size = ops.shape(real_images)[0]
        noise = replica_rows(
            lambda n: keras.random.normal((n, self.noise_dim), seed=self.noise_seed), batch_size
        )
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_images = self.generator(self._inputs(noise, labels), training=True)
            seen_real = diff_augment(real_images, self.augment_policy, self.augment_seed)
            seen_fake = diff_augment(fake_images, self.augment_policy, self.augment_seed)
            real_logits = self.discriminator(self._inputs(seen_real, labels), training=True)
            fake_logits = self.discriminator(self._inputs(seen_fake, labels), training=True)
            g_loss = losses.generator_loss(fake_logits)
            d_loss = losses.discriminator_loss(real_logits, fake_logits)
            if self.mismatch_weight > 0.0:
                wrong = self._wrong_labels(labels)
                wrong_logits = self.discriminator([seen_real, wrong], training=True)
                d_loss = d_loss + self.mismatch_weight * losses.mismatch_loss(wrong_logits)
            g_scaled = self.g_optimizer.scale_loss(replica_share(g_loss))
            d_scaled = self.d_optimizer.scale_loss(replica_share(d_loss))
        self._apply_gradients(g_tape, g_scaled, d_tape, d_scaled)
        if self.ema_generator is not None:
            self._update_ema()

        self.g_loss_tracker.update_state(g_loss)
        self.d_loss_tracker.update_state(d_loss)
        self.d_real_tracker.update_state(ops.mean(ops.sigmoid(ops.cast(real_logits, "float32"))))
        self.d_fake_tracker.update_state(ops.mean(ops.sigmoid(ops.cast(fake_logits, "float32"))))
        return self.step_logs()
