"""Network shapes and parameter counts against the published designs; one step of each GAN."""

import numpy as np
import pytest

from condgen.core.fit import compile_adversarial
from condgen.families import MODELS
from condgen.mnist.config import GanConfig
from condgen.mnist.networks import NETWORKS, Maxout
from condgen.mnist.train import build


def build_gan(model: str, config: GanConfig, seed: int = 0):
    """The compiled GAN of ``model``, as the training driver makes it (one step per epoch)."""
    return compile_adversarial(build(MODELS[model], config, seed), config, config.epochs)


def dense(n_in, n_out, bias=True):
    return n_in * n_out + (n_out if bias else 0)


def maxout(n_in, units, pieces):
    return dense(n_in, units * pieces)


EXPECTED = {
    # GAN: G 100 -> 128 -> 256 -> 512 -> 784; D 784 -> 512 -> 256 -> 128 -> 1
    "gan": (
        dense(100, 128) + dense(128, 256) + dense(256, 512) + dense(512, 784),
        dense(784, 512) + dense(512, 256) + dense(256, 128) + dense(128, 1),
    ),
    # cGAN: G noise -> 256, label -> 256, 512 -> 512 -> 784; D Maxout(240,5), (50,5), (240,4)
    "cgan": (
        dense(100, 256) + dense(10, 256) + dense(512, 512) + dense(512, 784),
        maxout(784, 240, 5) + maxout(10, 50, 5) + maxout(290, 240, 4) + dense(240, 1),
    ),
    # DCGAN (TensorFlow tutorial): 2,330,944 and 212,865 parameters
    "dcgan": (
        dense(100, 7 * 7 * 256, bias=False)
        + 4 * 7 * 7 * 256  # batch norm: gamma, beta, moving mean, moving variance
        + 5 * 5 * 256 * 128
        + 4 * 128
        + 5 * 5 * 128 * 64
        + 4 * 64
        + 5 * 5 * 64 * 1,
        dense(5 * 5 * 1, 64) + dense(5 * 5 * 64, 128) + dense(7 * 7 * 128, 1),
    ),
}


@pytest.mark.parametrize("model", ["gan", "cgan", "dcgan"])
def test_shapes_and_parameter_counts(model):
    spec = MODELS[model]
    build_generator, build_discriminator = NETWORKS[spec.networks]
    generator = build_generator(100)
    discriminator = build_discriminator()
    assert generator.count_params() == EXPECTED[model][0]
    assert discriminator.count_params() == EXPECTED[model][1]
    noise = np.zeros((3, 100), np.float32)
    labels = np.eye(10, dtype=np.float32)[[0, 5, 9]]
    g_in = [noise, labels] if spec.conditional else noise
    images = generator(g_in)
    assert tuple(images.shape) == (3, 28, 28, 1)
    d_in = [images, labels] if spec.conditional else images
    if spec.conditional:
        d_in = [np.asarray(images), labels]
    assert tuple(discriminator(d_in).shape) == (3, 1)


def test_dcgan_counts_match_tutorial():
    assert EXPECTED["dcgan"] == (2_330_944, 212_865)


def test_maxout_takes_max_over_pieces():
    layer = Maxout(3, 2, dropout=0.0)
    layer.build((None, 4))
    kernel = np.zeros((4, 6), np.float32)
    kernel[0] = [1, 2, 3, 4, 5, 6]  # piece 0 -> units (1,2,3), piece 1 -> (4,5,6)
    layer.dense.set_weights([kernel, np.zeros(6, np.float32)])
    out = np.asarray(layer(np.array([[1.0, 0, 0, 0], [-1.0, 0, 0, 0]], np.float32)))
    np.testing.assert_allclose(out, [[4, 5, 6], [0, 0, 0]])  # relu before the max


@pytest.mark.parametrize(
    "model, augment, mismatch",
    [
        ("gan", "", 0.0),
        ("cgan", "", 0.0),
        ("dcgan", "", 0.0),
        ("cgan", "translation,cutout", 0.0),
        ("cgan", "", 1.0),
    ],
)
def test_one_training_step_moves_losses(model, augment, mismatch, tiny_mnist):
    from condgen.mnist import data as mnist

    images, labels = mnist.load_split(tiny_mnist / "train.npz")
    config = GanConfig(epochs=1, batch_size=16, diff_augment=augment, mismatch_weight=mismatch)
    gan = build_gan(model, config, seed=0)
    ds = mnist.make_dataset(images, labels, 16, 0, conditional=MODELS[model].conditional)
    batch = next(iter(ds))
    g_before = [w.numpy().copy() for w in gan.generator.trainable_weights]
    d_before = [w.numpy().copy() for w in gan.discriminator.trainable_weights]
    first = {k: float(v) for k, v in gan.train_on_batch(batch, return_dict=True).items()}
    for _ in range(4):
        last = {k: float(v) for k, v in gan.train_on_batch(batch, return_dict=True).items()}
    assert all(np.isfinite(v) for v in {**first, **last}.values())
    assert last["g_loss"] != first["g_loss"] and last["d_loss"] != first["d_loss"]
    assert any(
        not np.allclose(a, b.numpy())
        for a, b in zip(g_before, gan.generator.trainable_weights, strict=True)
    )
    assert any(
        not np.allclose(a, b.numpy())
        for a, b in zip(d_before, gan.discriminator.trainable_weights, strict=True)
    )


def test_weight_average_follows_the_generator(tiny_mnist):
    from condgen.mnist import data as mnist

    images, labels = mnist.load_split(tiny_mnist / "train.npz")
    gan = build_gan("dcgan", GanConfig(epochs=1, batch_size=16, ema_decay=0.75), seed=0)
    assert gan.final_generator is gan.ema_generator
    before = [w.numpy().copy() for w in gan.generator.weights]
    for average, current in zip(before, gan.ema_generator.weights, strict=True):
        np.testing.assert_array_equal(average, current.numpy())  # starts as a copy
    batch = next(iter(mnist.make_dataset(images, labels, 16, 0, conditional=False)))
    gan.train_on_batch(batch)
    after = [w.numpy() for w in gan.generator.weights]
    # One step: average = 0.75 * old + 0.25 * new, for weights and batch-norm statistics alike.
    for old, new, average in zip(before, after, gan.ema_generator.weights, strict=True):
        np.testing.assert_allclose(average.numpy(), 0.75 * old + 0.25 * new, rtol=1e-5, atol=1e-6)
    assert any(not np.allclose(o, n) for o, n in zip(before, after, strict=True))
    plain = build_gan("gan", GanConfig(epochs=1, batch_size=16), seed=0)
    assert plain.ema_generator is None and plain.final_generator is plain.generator


def test_mismatched_labels_are_always_another_class():
    gan = build_gan("cgan", GanConfig(epochs=1, batch_size=16, mismatch_weight=1.0), seed=0)
    true = np.repeat(np.arange(10), 300)
    wrong = np.argmax(np.asarray(gan._wrong_labels(np.eye(10, dtype=np.float32)[true])), axis=1)
    assert not np.any(wrong == true)
    # Every other class is drawn, about equally often (300 draws per class, 1/9 each).
    for label in range(10):
        counts = np.bincount(wrong[true == label], minlength=10)
        assert counts[label] == 0 and counts.sum() == 300
        assert counts[np.arange(10) != label].min() > 15


def test_mismatch_loss_rewards_rejecting_wrong_pairs():
    from condgen.core import losses

    low = float(losses.mismatch_loss(np.full((4, 1), -5.0, np.float32)))
    high = float(losses.mismatch_loss(np.full((4, 1), 5.0, np.float32)))
    assert low == pytest.approx(np.log1p(np.exp(-5.0)), rel=1e-5)
    assert high == pytest.approx(np.log1p(np.exp(5.0)), rel=1e-5)


def test_mismatch_needs_labels():
    with pytest.raises(ValueError, match="mismatch_weight needs a conditional GAN"):
        build_gan("dcgan", GanConfig(epochs=1, batch_size=16, mismatch_weight=1.0), seed=0)


def test_mismatch_term_adds_to_d_loss_only(tiny_mnist):
    from condgen.core import runtime
    from condgen.mnist import data as mnist

    images, labels = mnist.load_split(tiny_mnist / "train.npz")
    batch = next(iter(mnist.make_dataset(images, labels, 16, 0, conditional=True)))
    results = {}
    for weight in (0.0, 1.0):
        runtime.set_seed(3)
        gan = build_gan("cgan", GanConfig(epochs=1, batch_size=16, mismatch_weight=weight), 3)
        results[weight] = {
            k: float(v) for k, v in gan.train_on_batch(batch, return_dict=True).items()
        }
    # Same networks, noise and dropout: G's loss and D's verdicts on real and fake pairs agree;
    # D's loss gains the (positive) cross-entropy of the mismatched pairs.
    for key in ("g_loss", "d_real", "d_fake"):
        assert results[1.0][key] == pytest.approx(results[0.0][key], rel=1e-5)
    assert results[1.0]["d_loss"] > results[0.0]["d_loss"] + 0.1
