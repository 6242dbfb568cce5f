"""GAN losses as pure functions of discriminator logits (Goodfellow et al. 2014)."""

from __future__ import annotations

from keras import ops


def bce_with_logits(targets, logits):
    """Mean binary cross-entropy of ``logits`` against ``targets`` (computed in float32)."""
    logits = ops.cast(logits, "float32")
    targets = ops.cast(targets, "float32")
    return ops.mean(ops.binary_crossentropy(targets, logits, from_logits=True))


def discriminator_loss(real_logits, fake_logits):
    """D wants D(x) -> 1 on real images and D(G(z)) -> 0 on generated ones."""
    return bce_with_logits(ops.ones_like(real_logits), real_logits) + bce_with_logits(
        ops.zeros_like(fake_logits), fake_logits
    )


def generator_loss(fake_logits):
    """G wants D(G(z)) -> 1 (the non-saturating form)."""
    return bce_with_logits(ops.ones_like(fake_logits), fake_logits)
