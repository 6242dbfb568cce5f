"""Pix2Pix networks against the paper's design; one training step; translate() leaves no trace."""

import math

import keras
import numpy as np
import pytest
from keras import layers

from condgen.core import losses
from condgen.core.layers import (
    PATCHES,
    ReflectionPadding2D,
    build_unet_generator,
    conv_block,
    downsample,
    receptive_field,
    upsample,
)
from condgen.pix2pix.model import Pix2Pix, build_patchgan_discriminator, build_pix2pix
from condgen.serving.translate import translate


def conv(k, c_in, c_out, bias):
    return k * k * c_in * c_out + (c_out if bias else 0)


def generator_trainable(size, skips, base=64):
    """Trainable parameters of the paper's generator, counted from its layer list."""
    filters = [min(base * 2**i, 8 * base) for i in range(int(math.log2(size)))]
    depth = len(filters)
    total, c_in = 0, 3
    for i, f in enumerate(filters):
        no_norm = i in (0, depth - 1)
        total += conv(4, c_in, f, bias=no_norm) + (0 if no_norm else 2 * f)
        c_in = f
    for f, skip in zip(reversed(filters[:-1]), reversed(filters[:-1])):
        total += conv(4, c_in, f, bias=False) + 2 * f
        c_in = f + skip if skips else f
    return total + conv(4, c_in, 3, bias=True)


def trainable(model):
    return sum(math.prod(w.shape) for w in model.trainable_weights)


def snapshot(model):
    return [w.numpy().copy() for w in model.weights]


def unchanged(before, model):
    return all(np.array_equal(a, b.numpy()) for a, b in zip(before, model.weights, strict=True))


def pair_batch(batch, size, seed=0):
    rng = np.random.default_rng(seed)
    shape = (batch, size, size, 3)
    return (
        rng.uniform(-1, 1, shape).astype(np.float32),
        rng.uniform(-1, 1, shape).astype(np.float32),
    )


def blocks(model, prefix):
    return [layer for layer in model.layers if layer.name.startswith(prefix)]


@pytest.mark.parametrize("kind", ["unet", "encoder_decoder"])
@pytest.mark.parametrize("size", [32, 64, 128, 256])
def test_generator_shape_depth_and_parameter_count(size, kind):
    generator = build_unet_generator(size, kind)
    assert generator.name == f"{kind}_generator"
    # Down to a 1x1 bottleneck: one stride-2 block per halving.
    down = blocks(generator, "down_")
    assert len(down) == int(math.log2(size))
    assert tuple(down[-1].output.shape) == (None, 1, 1, 512)
    assert len(blocks(generator, "up_")) == len(down) - 1
    assert trainable(generator) == generator_trainable(size, skips=kind == "unet")
    images = np.asarray(generator(pair_batch(1, size)[0], training=False))
    assert images.shape == (1, size, size, 3)
    assert images.dtype == np.float32 and np.all(np.abs(images) <= 1.0)


def test_unet_count_matches_the_reference():
    # junyanz's unet_256 prints 54.414 M; ours adds biases to the two encoder convs without a
    # norm after them (64 + 512).
    assert generator_trainable(256, skips=True) == 54_414_531
    assert round((54_414_531 - 64 - 512) / 1e6, 3) == 54.414


def test_skips_join_encoder_to_decoder_only_in_unet():
    unet = build_unet_generator(32, "unet")
    plain = build_unet_generator(32, "encoder_decoder")
    skips = [layer for layer in unet.layers if isinstance(layer, layers.Concatenate)]
    assert len(skips) == 4
    # skip_j joins up_j with the encoder block of the same resolution: down_{depth - j}.
    for j, skip in enumerate(skips, start=1):
        assert skip.input[0] is unet.get_layer(f"up_{j}").output
        assert skip.input[1] is unet.get_layer(f"down_{5 - j}").output
    assert not any(isinstance(layer, layers.Concatenate) for layer in plain.layers)
    assert unet.get_layer("to_image").kernel.shape[-1] == 2 * 64  # (k, k, out, in)
    assert plain.get_layer("to_image").kernel.shape[-1] == 64


def test_dropout_in_the_first_three_decoder_blocks_and_norms_as_in_the_paper():
    generator = build_unet_generator(64, "unet")

    def has(block, kind):
        return [x for x in block.layers if isinstance(x, kind)]

    up = blocks(generator, "up_")
    assert [bool(has(b, layers.Dropout)) for b in up] == [True, True, True, False, False]
    assert all(d.rate == 0.5 for b in up[:3] for d in has(b, layers.Dropout))
    assert all(has(b, layers.BatchNormalization) for b in up)
    down = blocks(generator, "down_")
    # No norm on the first encoder block (paper) nor on the 1x1 bottleneck (reference code).
    assert [bool(has(b, layers.BatchNormalization)) for b in down] == [
        False,
        True,
        True,
        True,
        True,
        False,
    ]
    assert all(isinstance(b.layers[-1], layers.LeakyReLU) for b in down)
    assert all(b.layers[-1].negative_slope == pytest.approx(0.2) for b in down)


def test_weights_start_from_normal_0_002():
    generator = build_unet_generator(64, "unet")
    discriminator = build_patchgan_discriminator(64, "70")
    for network in (generator, discriminator):
        kernels = [w.numpy() for w in network.trainable_weights if w.path.endswith("kernel")]
        big = np.concatenate([k.ravel() for k in kernels if k.size > 10_000])
        assert abs(big.mean()) < 1e-3
        assert big.std() == pytest.approx(0.02, rel=0.05)
        gammas = np.concatenate(
            [w.numpy().ravel() for w in network.trainable_weights if w.path.endswith("gamma")]
        )
        assert gammas.mean() == pytest.approx(1.0, abs=0.005)
        assert gammas.std() == pytest.approx(0.02, rel=0.2)


@pytest.mark.parametrize("patch", PATCHES)
def test_patchgan_receptive_field_is_its_name(patch):
    discriminator = build_patchgan_discriminator(32, patch)
    assert receptive_field(discriminator) == (1 if patch == "pixel" else int(patch))


def test_receptive_field_of_a_layer_spec():
    assert receptive_field([(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)]) == 70
    assert receptive_field([(3, 1), (3, 1)]) == 5
    with pytest.raises(ValueError, match="transposed"):
        receptive_field(build_unet_generator(32))


@pytest.mark.parametrize("patch", PATCHES)
@pytest.mark.parametrize("size", [32, 256])
def test_patchgan_output_shapes(size, patch):
    discriminator = build_patchgan_discriminator(size, patch)
    # "same" padding: size / 2**n_layers patches a side, at least 1x1 even at 32 px.
    side = size if patch == "pixel" else size // 2 ** {"16": 1, "70": 3, "286": 5}[patch]
    logits = discriminator(list(pair_batch(1, size)), training=False)
    assert tuple(logits.shape) == (1, side, side, 1)
    if patch == "70":  # junyanz's "basic" 70x70 D: 2.769 M
        assert trainable(discriminator) == 2_768_705


def test_losses():
    fake_logits = np.array([[0.0], [0.0]], np.float32)
    targets = np.zeros((2, 2), np.float32)
    outputs = np.full((2, 2), 0.5, np.float32)
    gan, l1, total = losses.pix2pix_generator_loss(fake_logits, outputs, targets, 100.0)
    assert float(gan) == pytest.approx(math.log(2.0))
    assert float(l1) == pytest.approx(0.5)
    assert float(total) == pytest.approx(math.log(2.0) + 50.0)
    real_logits = np.array([[2.0], [-1.0]], np.float32)
    half = losses.pix2pix_discriminator_loss(real_logits, fake_logits)
    assert float(half) == pytest.approx(
        0.5 * float(losses.discriminator_loss(real_logits, fake_logits))
    )


def compile_as_trainer(model, optimizer):
    """Adam(2e-4, 0.5) per network, each built on its own variables (as the trainer does)."""
    model.compile(g_optimizer=optimizer(), d_optimizer=optimizer())
    model.g_optimizer.build(model.generator.trainable_variables)
    model.d_optimizer.build(model.discriminator.trainable_variables)
    return model


def compiled(size=32, **kwargs):
    return compile_as_trainer(
        build_pix2pix(size, **kwargs), lambda: keras.optimizers.Adam(2e-4, beta_1=0.5)
    )


def test_one_training_step_moves_losses_and_both_networks():
    model = compiled(32)
    batch = pair_batch(2, 32)
    g_before = [w.numpy().copy() for w in model.generator.trainable_weights]
    d_before = [w.numpy().copy() for w in model.discriminator.trainable_weights]
    first = model.train_on_batch(*batch, return_dict=True)
    last = model.train_on_batch(*batch, return_dict=True)
    last = model.train_on_batch(*batch, return_dict=True)
    assert set(first) == {"g_gan_loss", "g_l1_loss", "g_loss", "d_loss"}
    for name in first:
        assert np.isfinite(float(first[name])) and np.isfinite(float(last[name]))
        assert float(last[name]) != float(first[name]), name
    assert float(first["g_loss"]) == pytest.approx(
        float(first["g_gan_loss"]) + 100.0 * float(first["g_l1_loss"]), rel=1e-5
    )
    for before, network in ((g_before, model.generator), (d_before, model.discriminator)):
        moved = [not np.allclose(a, b.numpy()) for a, b in zip(before, network.trainable_weights)]
        assert sum(moved) > len(moved) // 2, network.name


@pytest.mark.parametrize("setting", ["mixed_float16", "mirrored"])
def test_fit_under_mixed_precision_and_a_strategy(setting):
    import tensorflow as tf

    def optimizer():
        adam = keras.optimizers.Adam(2e-4, beta_1=0.5)
        # float16 gradients underflow without dynamic loss scaling.
        return keras.optimizers.LossScaleOptimizer(adam) if setting == "mixed_float16" else adam

    policy = keras.mixed_precision.global_policy()
    strategy = tf.distribute.get_strategy()
    try:
        if setting == "mixed_float16":
            keras.mixed_precision.set_global_policy("mixed_float16")
        else:
            strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
        with strategy.scope():
            model = compile_as_trainer(build_pix2pix(32), optimizer)
        data = tf.data.Dataset.from_tensor_slices(pair_batch(2, 32)).batch(2).repeat()
        history = model.fit(
            data,
            epochs=1,
            steps_per_epoch=2,
            shuffle=False,
            verbose=0,
        ).history
    finally:
        keras.mixed_precision.set_global_policy(policy)
    assert {"g_gan_loss", "g_l1_loss", "g_loss", "d_loss"} <= set(history)
    assert all(np.isfinite(v[-1]) for v in history.values())
    # Images and logits reach the losses (and serving) in float32 whatever the policy.
    assert model.generator.output.dtype == "float32"
    assert model.discriminator.output.dtype == "float32"


def test_translate_modes_leave_the_generator_as_it_was():
    generator = build_unet_generator(32, "unet")
    images = pair_batch(2, 32)[0]
    before = snapshot(generator)
    plain = [np.asarray(translate(generator, images, train_mode_at_test=False)) for _ in range(2)]
    noisy = [np.asarray(translate(generator, images, train_mode_at_test=True)) for _ in range(2)]
    for out in plain + noisy:
        assert out.shape == (2, 32, 32, 3) and np.all(np.abs(out) <= 1.0)
    np.testing.assert_array_equal(plain[0], plain[1])
    assert unchanged(before, generator)
    # Training mode: batch statistics (not the moving ones) and fresh dropout masks per call.
    assert not np.allclose(noisy[0], plain[0])
    assert not np.allclose(noisy[0], noisy[1])
    # A seed fixes the dropout masks, whatever the layers' own seed states (a rebuilt copy).
    state = [v.numpy().copy() for v in generator.non_trainable_variables]
    seeded = np.asarray(translate(generator, images, train_mode_at_test=True, seed=7))
    np.testing.assert_array_equal(seeded, translate(generator, images, True, seed=7))
    assert not np.allclose(seeded, translate(generator, images, True, seed=8))
    copy = build_unet_generator(32, "unet")
    copy.set_weights(generator.get_weights())
    np.testing.assert_allclose(seeded, translate(copy, images, True, seed=7), atol=1e-6)
    for a, b in zip(state, generator.non_trainable_variables, strict=True):
        np.testing.assert_array_equal(a, b.numpy())  # a seeded call writes nothing at all
    assert unchanged(before, generator)
    # What translate() guards against: a plain training-mode call moves the statistics.
    generator(images, training=True)
    assert not unchanged(before, generator)


def test_generator_survives_save_and_load(tmp_path):
    generator = build_unet_generator(32, "unet")
    generator.save(tmp_path / "generator.keras")
    loaded = keras.models.load_model(tmp_path / "generator.keras")
    images = pair_batch(1, 32)[0]
    np.testing.assert_allclose(
        translate(loaded, images, False), translate(generator, images, False), atol=1e-6
    )
    np.testing.assert_allclose(
        translate(loaded, images, True, seed=1),
        translate(generator, images, True, seed=1),
        atol=1e-6,
    )


def test_pix2pix_model_api():
    model = build_pix2pix(32, "encoder_decoder", patch=16, l1_weight=10.0)
    assert isinstance(model, Pix2Pix)
    assert model.generator.name == "encoder_decoder_generator"
    assert trainable(model.generator) == generator_trainable(32, skips=False)
    assert model.discriminator.name == "patchgan_16"
    assert receptive_field(model.discriminator) == 16
    assert model.l1_weight == 10.0
    narrow = build_pix2pix(64, base_filters=32)  # junyanz's --ngf 32 --ndf 32
    assert trainable(narrow.generator) == generator_trainable(64, True, base=32)
    assert trainable(narrow.discriminator) == (
        conv(4, 6, 32, True)
        + conv(4, 32, 64, False)
        + 2 * 64
        + conv(4, 64, 128, False)
        + 2 * 128
        + conv(4, 128, 256, False)
        + 2 * 256
        + conv(4, 256, 1, True)
    )


def test_generic_blocks_for_the_image_models():
    x = np.random.default_rng(0).normal(3.0, 2.0, (2, 8, 8, 4)).astype(np.float32)
    # CycleGAN-style c7s1-k: reflection padding keeps the size; instance norm has no weights
    # and normalises each image and channel on its own.
    block = conv_block(5, 7, 1, norm="instance", activation="none", padding="reflect")
    out = np.asarray(block(x))
    assert out.shape == (2, 8, 8, 5)
    assert isinstance(block.layers[0], ReflectionPadding2D)
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(1, 2)), 1.0, atol=1e-2)
    assert trainable(block) == 7 * 7 * 4 * 5  # no bias before a norm, no affine norm
    assert downsample(6, 3, norm="none", padding="zero")(x).shape == (2, 4, 4, 6)
    assert upsample(6, 3, norm="none")(x).shape == (2, 16, 16, 6)
    layer = ReflectionPadding2D(2)
    assert ReflectionPadding2D.from_config(layer.get_config()).padding == 2
    np.testing.assert_array_equal(np.asarray(layer(x))[:, 2:-2, 2:-2], x)
    for bad, match in [
        (lambda: downsample(4, norm="layer"), "normalization 'layer'.*batch, instance, none"),
        (lambda: downsample(4, activation="gelu"), "activation 'gelu'.*relu, leaky_relu"),
        (lambda: upsample(4, padding="reflect"), "transposed convolution"),
    ]:
        with pytest.raises(ValueError, match=match):
            bad()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: build_unet_generator(48), "power of two from 32 to 256.*32, 64, 128, 256"),
        (lambda: build_unet_generator(512), "power of two"),
        (lambda: build_unet_generator(16), "power of two"),
        (lambda: build_unet_generator(32, "resnet"), "'resnet'.*unet, encoder_decoder"),
        (lambda: build_patchgan_discriminator(32, "34"), "'34'.*pixel, 16, 70, 286"),
        (lambda: build_pix2pix(100), "power of two"),
        (lambda: build_pix2pix(32, patch=142), "142.*pixel, 16, 70, 286"),
    ],
)
def test_invalid_settings_name_the_options(call, match):
    with pytest.raises(ValueError, match=match):
        call()
