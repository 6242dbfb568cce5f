"""CycleGAN networks, losses, image pool and learning-rate schedule."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from condgen.core import losses
from condgen.core.layers import receptive_field
from condgen.core.schedules import LinearDecay
from condgen.cyclegan.model import (
    ImagePool,
    build_cyclegan,
    build_cyclegan_discriminator,
    build_cyclegan_generator,
    build_resnet_generator,
    default_residual_blocks,
)


def _layer_names(model: keras.Model) -> list[str]:
    return [layer.name for layer in model.layers]


@pytest.mark.parametrize("size, blocks", [(32, 6), (64, 6), (128, 6), (256, 9)])
def test_resnet_generator_follows_the_paper(size, blocks):
    assert default_residual_blocks(size) == blocks
    generator = build_resnet_generator(size, base_filters=8)
    assert generator.output.shape == (None, size, size, 3)
    names = _layer_names(generator)
    # c7s1-64, d128, d256, R256 x n, u128, u64, c7s1-3
    assert [n for n in names if n.startswith("r") and n[1:].isdigit()] == [
        f"r{i}" for i in range(1, blocks + 1)
    ]
    for name in ("c7s1", "d1", "d2", "u1", "u2", "to_rgb"):
        assert name in names
    bottleneck = generator.get_layer(f"r{blocks}").output
    assert bottleneck.shape == (None, size // 4, size // 4, 32)  # 4 x base_filters
    # Every convolution of c7s1 and the residual blocks pads by reflection.
    c7 = generator.get_layer("c7s1")
    assert type(c7.layers[0]).__name__ == "ReflectionPadding2D"
    assert c7.layers[0].padding == 3
    assert type(generator.get_layer("r1_a").layers[0]).__name__ == "ReflectionPadding2D"
    # Instance norm: one group per channel, no affine parameters.
    norm = generator.get_layer("d1").layers[-2]
    assert isinstance(norm, keras.layers.GroupNormalization)
    assert norm.groups == 16 and not norm.center and not norm.scale  # d1 has 16 channels


def test_resnet_parameter_count_matches_the_reference_network():
    # junyanz's resnet_9blocks (ngf 64) prints 11.378 M, of which 5,248 are biases placed before
    # an instance norm, which we leave out.
    generator = build_resnet_generator(256, 9, base_filters=64)
    assert generator.count_params() == 11_378_179 - 5_248
    # Fully convolutional: the weights do not depend on the image size.
    assert build_resnet_generator(64, 9, base_filters=64).count_params() == 11_372_931


def test_generator_maps_images_to_images_in_range():
    generator = build_cyclegan_generator(32, "resnet", base_filters=8)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    y = generator(x).numpy()
    assert y.shape == x.shape and np.abs(y).max() <= 1.0


def test_unet_generator_has_instance_norm_and_no_dropout():
    generator = build_cyclegan_generator(32, "unet", base_filters=8)
    assert generator.output.shape == (None, 32, 32, 3)
    sub_layers = [sub for layer in generator.layers for sub in getattr(layer, "layers", [])]
    assert not any(isinstance(sub, keras.layers.Dropout) for sub in sub_layers)
    assert not any(isinstance(sub, keras.layers.BatchNormalization) for sub in sub_layers)
    assert any(isinstance(sub, keras.layers.GroupNormalization) for sub in sub_layers)


@pytest.mark.parametrize("size", [32, 64, 256])
def test_discriminator_is_a_70x70_patchgan_with_instance_norm(size):
    discriminator = build_cyclegan_discriminator(size, "70", base_filters=64)
    assert discriminator.output.shape == (None, size // 8, size // 8, 1)
    assert receptive_field(discriminator) == 70
    # junyanz's basic D with instance norm: 2.765 M, 896 of them biases before a norm.
    assert discriminator.count_params() == 2_764_737 - 896
    norms = [
        sub
        for layer in discriminator.layers
        for sub in getattr(layer, "layers", [])
        if isinstance(sub, keras.layers.GroupNormalization)
    ]
    assert len(norms) == 3


def test_bad_choices_are_named():
    with pytest.raises(ValueError, match="'vgg'.*resnet, unet"):
        build_cyclegan_generator(32, "vgg")
    with pytest.raises(ValueError, match="power of two"):
        build_resnet_generator(48)
    with pytest.raises(ValueError, match="'hinge'.*lsgan, vanilla"):
        build_cyclegan(32, base_filters=4, gan_loss="hinge")


def test_lsgan_losses_on_tiny_tensors():
    real = np.array([[1.0], [0.5]], np.float32)
    fake = np.array([[0.0], [0.5]], np.float32)
    # D: mean((real - 1)^2) + mean(fake^2) = (0 + 0.25) / 2 + (0 + 0.25) / 2
    assert float(losses.lsgan_discriminator_loss(real, fake)) == pytest.approx(0.25)
    # G: mean((fake - 1)^2) = (1 + 0.25) / 2
    assert float(losses.lsgan_generator_loss(fake)) == pytest.approx(0.625)


def _pool_step(pool: ImagePool, value: float) -> np.ndarray:
    return pool(np.full((1, 2, 2, 1), value, np.float32)).numpy()


def test_image_pool_fills_then_swaps_half_the_time():
    pool = ImagePool(4, (2, 2, 1), seed=0)
    # While filling, every image passes through and is stored.
    for value in range(4):
        assert _pool_step(pool, value)[0, 0, 0, 0] == value
    assert int(pool.count.numpy()) == 4
    assert sorted(pool.images.numpy()[:, 0, 0, 0]) == [0, 1, 2, 3]
    # Once full: either the new image passes (pool unchanged) or a stored one is handed out and
    # the new one takes its place.
    passed, swapped = 0, 0
    for value in range(100, 400):
        before = pool.images.numpy()[:, 0, 0, 0].copy()
        out = _pool_step(pool, value)[0, 0, 0, 0]
        after = pool.images.numpy()[:, 0, 0, 0]
        if out == value:
            passed += 1
            np.testing.assert_array_equal(before, after)
        else:
            swapped += 1
            assert out in before and value in after
            assert sorted(set(before) - set(after)) == [out]
    assert 100 < swapped < 200 and passed + swapped == 300
    assert int(pool.count.numpy()) == 4


def test_image_pool_handles_batches_and_size_zero():
    pool = ImagePool(3, (2, 2, 1), seed=1)
    batch = np.arange(5, dtype=np.float32).reshape(5, 1, 1, 1) * np.ones((5, 2, 2, 1), np.float32)
    out = pool(batch).numpy()
    # The first three fill the pool and pass; the other two come from {new, stored}.
    np.testing.assert_array_equal(out[:3], batch[:3])
    assert set(out[3:, 0, 0, 0]) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    assert int(pool.count.numpy()) == 3
    off = ImagePool(0, (2, 2, 1))
    np.testing.assert_array_equal(off(batch), batch)
    assert not off.weights


def test_image_pool_is_seeded():
    runs = []
    for _ in range(2):
        pool = ImagePool(2, (2, 2, 1), seed=5)
        runs.append([float(_pool_step(pool, v)[0, 0, 0, 0]) for v in range(20)])
    assert runs[0] == runs[1]


def test_schedule_constant_for_the_first_half_then_linear_to_zero():
    schedule = LinearDecay(2e-4, total_steps=1000, decay_start=500)
    assert float(schedule(0)) == pytest.approx(2e-4)
    assert float(schedule(499)) == pytest.approx(2e-4)
    assert float(schedule(500)) == pytest.approx(2e-4)
    assert float(schedule(750)) == pytest.approx(1e-4)
    assert float(schedule(1000)) == pytest.approx(0.0)
    assert float(schedule(1200)) == pytest.approx(0.0)


def _tiny_cyclegan(seed: int = 0, **kwargs):
    from condgen.core.fit import compile_adversarial
    from condgen.cyclegan.config import CycleGANConfig

    model = build_cyclegan(32, base_filters=4, residual_blocks=1, seed=seed, **kwargs)
    config = CycleGANConfig(epochs=1, steps_per_execution=1)
    compile_adversarial(model, config, total_steps=10)
    return model


def _batch(seed: int):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.2, 1, (1, 32, 32, 3)).astype("float32")
    b = rng.uniform(-1, -0.2, (1, 32, 32, 3)).astype("float32")
    return a, b


def test_one_training_step_moves_all_four_losses_and_every_network():
    keras.utils.set_random_seed(0)
    model = _tiny_cyclegan()
    a, b = _batch(0)
    before = {
        net.name: [w.numpy().copy() for w in net.trainable_weights]
        for net in (
            model.generator_a2b,
            model.generator_b2a,
            model.discriminator_a,
            model.discriminator_b,
        )
    }
    # A step's losses are computed before its update: the second step's show the first's.
    first = {k: float(v) for k, v in model.train_step((tf.constant(a), tf.constant(b))).items()}
    for tracker in model.metrics:
        tracker.reset_state()
    after = {k: float(v) for k, v in model.train_step((tf.constant(a), tf.constant(b))).items()}
    for name in ("g_a2b_loss", "g_b2a_loss", "d_a_loss", "d_b_loss", "cycle_a_loss"):
        assert after[name] != pytest.approx(first[name], abs=1e-6), name
    for net in (
        model.generator_a2b,
        model.generator_b2a,
        model.discriminator_a,
        model.discriminator_b,
    ):
        moved = [
            not np.allclose(w0, w.numpy())
            for w0, w in zip(before[net.name], net.trainable_weights, strict=True)
        ]
        assert all(moved), net.name
    # Both pools received each step's generated image.
    assert int(model.pool_a.count.numpy()) == 2 and int(model.pool_b.count.numpy()) == 2


def test_identity_loss_off_and_vanilla_loss():
    model = _tiny_cyclegan(identity_weight=0.0, gan_loss="vanilla", pool_size=0)
    a, b = _batch(1)
    result = model.train_step((tf.constant(a), tf.constant(b)))
    assert float(result["identity_a_loss"]) == 0.0
    assert np.isfinite(float(result["g_loss"]))


@pytest.mark.parametrize("setting", ["mixed_float16", "mirrored"])
def test_fit_under_mixed_precision_and_a_strategy(setting):
    from condgen.core.fit import compile_adversarial
    from condgen.cyclegan.config import CycleGANConfig

    config = CycleGANConfig(
        epochs=1, steps_per_execution=1, mixed_precision=setting == "mixed_float16"
    )
    policy = keras.mixed_precision.global_policy()
    strategy = tf.distribute.get_strategy()
    try:
        if setting == "mixed_float16":
            keras.mixed_precision.set_global_policy("mixed_float16")
        else:
            strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
        with strategy.scope():
            model = build_cyclegan(32, base_filters=4, residual_blocks=1, pool_size=2, seed=0)
            compile_adversarial(model, config, total_steps=3)
        a, b = _batch(2)
        data = tf.data.Dataset.from_tensor_slices((a, b)).batch(1, drop_remainder=True).repeat()
        history = model.fit(data, epochs=1, steps_per_epoch=3, shuffle=False, verbose=0).history
    finally:
        keras.mixed_precision.set_global_policy(policy)
    assert all(np.isfinite(v[-1]) for v in history.values())
    assert int(model.pool_a.count.numpy()) == 2 and int(model.pool_a.draws.numpy()) == 3
    # Images reach the losses, the pools and serving in float32 whatever the policy.
    assert model.generator_a2b.output.dtype == "float32"
    assert model.pool_b.images.dtype == "float32"


@pytest.mark.parametrize(
    "kind,mode", [("resnet", "logit"), ("unet", "logit"), ("resnet", "detail")]
)
def test_an_input_change_generator_starts_near_its_input_and_saves(kind, mode, tmp_path):
    from condgen.core.layers import ChangeOfInput, load_image_model

    image = np.random.default_rng(0).uniform(-0.9, 0.9, (2, 32, 32, 3)).astype(np.float32)
    # No change gives the input back.
    same = ChangeOfInput(mode)(image, np.zeros_like(image))
    np.testing.assert_allclose(np.asarray(same), image, atol=1e-5)
    generator = build_cyclegan_generator(32, kind, 1, 8, "g", input_change=mode)
    answer = generator.predict(image, verbose=0)
    plain = build_cyclegan_generator(32, kind, 1, 8, "g").predict(image, verbose=0)
    assert np.abs(answer - image).mean() < 0.5 * np.abs(plain - image).mean()
    generator.save(tmp_path / "g.keras")
    again = load_image_model(tmp_path / "g.keras").predict(image, verbose=0)
    np.testing.assert_array_equal(again, answer)


def test_the_two_input_changes_treat_fine_detail_as_documented():
    """A uniform darkening (r < 0) scales the input's fine detail by the slope of tanh in
    ``logit`` mode, and keeps it unscaled in ``detail`` mode; in both, a smooth image changes
    alike."""
    from condgen.core.layers import ChangeOfInput

    rng = np.random.default_rng(1)
    smooth = np.full((1, 16, 16, 3), 0.5, np.float32)
    detail = rng.choice([-0.05, 0.05], (1, 16, 16, 3)).astype(np.float32)
    change = np.full_like(smooth, -1.5)
    flat = {mode: np.asarray(ChangeOfInput(mode)(smooth, change)) for mode in ("logit", "detail")}
    for changed in flat.values():
        np.testing.assert_allclose(changed, np.tanh(np.arctanh(0.5) - 1.5), atol=1e-5)
    textured = smooth + detail
    inner = (slice(None), slice(2, -2), slice(2, -2))
    mean3 = np.asarray(
        tf.nn.avg_pool2d(textured, 3, 1, "SAME")  # what detail mode changes
    )
    kept = np.asarray(ChangeOfInput("detail")(textured, change)) - np.tanh(np.arctanh(mean3) - 1.5)
    np.testing.assert_allclose(kept[inner], (textured - mean3)[inner], atol=1e-5)
    scaled = np.asarray(ChangeOfInput("logit")(textured, change)) - flat["logit"]
    # Darkening from 0.5 to tanh(atanh(0.5) - 1.5) ~ -0.6 has slope (1 - 0.6^2)/(1 - 0.5^2).
    assert np.abs(scaled).mean() < 0.9 * np.abs(detail).mean()
    with pytest.raises(ValueError, match="input change 'gain'"):
        build_cyclegan_generator(32, "resnet", 1, 8, "g", input_change="gain")
