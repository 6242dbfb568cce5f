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


def mismatch_loss(mismatched_logits):
    """D wants D(x, wrong label) -> 0: a real image under another label is not a real pair.

    The matching-aware discriminator of Reed et al. (2016, "GAN-CLS"): without this term D can
    only learn the image-label relation from G's mistakes; with it, it sees every real digit
    also as a negative example under a label it does not show."""
    return bce_with_logits(ops.zeros_like(mismatched_logits), mismatched_logits)


def generator_loss(fake_logits):
    """G wants D(G(z)) -> 1 (the non-saturating form)."""
    return bce_with_logits(ops.ones_like(fake_logits), fake_logits)


def l1_loss(target_images, output_images):
    """Mean absolute error per pixel (computed in float32)."""
    target_images = ops.cast(target_images, "float32")
    output_images = ops.cast(output_images, "float32")
    return ops.mean(ops.abs(target_images - output_images))


def pix2pix_generator_loss(fake_logits, fake_images, target_images, l1_weight: float = 100.0):
    """(gan, l1, total): G fools D on every patch and stays near the target in L1.

    total = gan + l1_weight * l1 (Isola et al. 2017, eq. 4, lambda = 100): L1 carries the
    low frequencies, the PatchGAN the high ones.
    """
    gan = generator_loss(fake_logits)
    l1 = l1_loss(target_images, fake_images)
    return gan, l1, gan + l1_weight * l1


def pix2pix_discriminator_loss(real_logits, fake_logits):
    """D's BCE on real and fake pairs, halved: the paper divides D's objective by 2 "to slow
    down the rate at which D learns relative to G" (Isola et al. 2017, sec. 3.3)."""
    return 0.5 * discriminator_loss(real_logits, fake_logits)


def lsgan_discriminator_loss(real_logits, fake_logits):
    """Least-squares GAN (Mao et al. 2017) for D: (D(x) - 1)^2 + D(G(z))^2, as CycleGAN uses.

    The squared error keeps pulling generated samples that D already rejects by a wide margin,
    where the log loss saturates; the paper found it more stable."""
    real = ops.cast(real_logits, "float32")
    fake = ops.cast(fake_logits, "float32")
    return ops.mean(ops.square(real - 1.0)) + ops.mean(ops.square(fake))


def lsgan_generator_loss(fake_logits):
    """Least-squares GAN for G: (D(G(z)) - 1)^2."""
    return ops.mean(ops.square(ops.cast(fake_logits, "float32") - 1.0))
