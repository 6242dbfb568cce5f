"""The adversarial keras.Model base: a generator side and a discriminator side, each with its
own optimizer; the families' models hold their algorithm in ``train_step``."""

from __future__ import annotations

import keras
import tensorflow as tf

from condgen.core import runtime


def replica_share(loss):
    """Divide by the replica count: tf.distribute sums gradients over replicas."""
    ctx = tf.distribute.get_replica_context()
    replicas = ctx.num_replicas_in_sync if ctx is not None else 1
    return loss / replicas


def replica_rows(draw, batch):
    """This replica's ``batch`` rows of a random draw made for the whole global batch.

    ``draw(n)`` returns n rows (noise vectors, augmentation offsets, ...). Under N replicas
    the global batch of N x ``batch`` items is split among them in replica order (tf.distribute
    does so for the data), so each replica draws the rows of all N and keeps its own: every
    item then gets the random numbers it gets in one process at the same global batch, and a
    run on N replicas or workers starts from the same losses. With one replica this is
    ``draw(batch)`` itself.
    """
    ctx = tf.distribute.get_replica_context()
    replicas = ctx.num_replicas_in_sync if ctx is not None else 1
    if replicas == 1:
        return draw(batch)
    start = ctx.replica_id_in_sync_group * batch
    return draw(batch * replicas)[start : start + batch]


def loss_tracker(name: str) -> keras.metrics.Mean:
    """An epoch mean of a loss, summed in float64.

    With several steps per execution the steps' tracker updates may be applied in either
    order; float32 sums then differ in the last bit between identical runs (seen in the
    history of Pix2Pix, whose total loss is near 50). A float64 sum of float32 values is exact
    at these magnitudes, so the history is the same whatever the order.
    """
    return keras.metrics.Mean(name=name, dtype="float64")


class AdversarialModel(keras.Model):
    """A generator trained against a discriminator, each with its own optimizer.

    Subclasses hold the algorithm in ``train_step``; the caller builds each optimizer on its
    own network's variables (under a strategy Keras would otherwise build the generator's on
    the discriminator's variables too); not here, as LossScaleOptimizer.build must run once.
    """

    def compile(self, g_optimizer, d_optimizer, **kwargs):
        # Keras' own optimizer slot gets the generator's, so no unused default is created.
        super().compile(optimizer=g_optimizer, **kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    @property
    def generator_variables(self) -> list:
        """What the generator optimizer trains (CycleGAN: both generators)."""
        return self.generator.trainable_variables

    @property
    def discriminator_variables(self) -> list:
        """What the discriminator optimizer trains (CycleGAN: both discriminators)."""
        return self.discriminator.trainable_variables

    def step_logs(self) -> dict:
        """What ``train_step`` returns: each tracker's running mean.

        Across the workers of a ``multi_worker`` cluster Keras averages the logs with a mean
        over axis 0 (Keras 3.15), which a scalar does not have; there each value goes out as a
        vector of one, and the averaged logs are scalars again.
        """
        logs = {m.name: m.result() for m in self.metrics}
        if runtime.worker_role(tf.distribute.get_strategy())[2] > 1:
            logs = {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs

    @staticmethod
    def _split_batch(data):
        """A batch from tf.data as given: ``(x, y)`` for a pair of tensors, else ``x``."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        return (x, y) if y is not None else x

    def _apply_gradients(self, g_tape, g_scaled_loss, d_tape, d_scaled_loss) -> None:
        """One optimizer step for each side, from its own tape and (scaled) loss."""
        g_vars = self.generator_variables
        d_vars = self.discriminator_variables
        self.g_optimizer.apply(g_tape.gradient(g_scaled_loss, g_vars), g_vars)
        self.d_optimizer.apply(d_tape.gradient(d_scaled_loss, d_vars), d_vars)
