"""Benchmark: each model's training step as the pipeline runs it against a plain-loop reference.

The project's side is the stage's own path: the family's recipe loads the prepared data and
builds its stream and model, ``compile_adversarial`` compiles it with the params' settings
(steps per execution, determinism, XLA switch), and ``model.fit`` trains. The reference is
what the public tutorials write: the same networks (built by the same recipe, fresh weights),
losses and updates (mismatched labels, weight average, image pools included), in one
``tf.function`` step with two ``GradientTape``s, called from a Python loop over the same
stream. Both run in one process, in alternating rounds, after a warm-up round each: the
project's rounds are the epochs of one ``model.fit`` (a stage fits once for its whole training,
so Keras' per-fit set-up is not charged to every round), the plain rounds run between them from
a callback. The input stream alone is timed too (an upper bound on what a step could wait
for, as prefetch overlaps it with the step).

Each model is measured in ``--processes`` fresh processes and the medians are printed with
every process's ratio: on this machine one process's speed differs from the next one's by up
to 30 %, which no interleaving inside a process removes.

Usage: python benchmarks/step_vs_plain.py [--models gan,cgan,dcgan,pix2pix,cyclegan]
    [--steps 200] [--rounds 3] [--processes 3] [--params params.yaml]
Needs the prepared data (`dvc repro prepare_mnist prepare_paired prepare_unpaired`). Prints one
line per model; numbers are for choosing defaults and are never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from condgen.core import runtime


def _mnist_step(model, config):
    """The MNIST GAN step as TensorFlow's DCGAN tutorial writes it, with the cGAN's label
    inputs, mismatched-label term and weight average."""
    import keras
    import tensorflow as tf

    from condgen.core.fit import make_adam

    generator, discriminator = model.generator, model.discriminator
    ema = model.ema_generator
    g_opt = make_adam(config.g_learning_rate, config, 10**6)
    d_opt = make_adam(config.d_learning_rate, config, 10**6)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    conditional, noise_dim = model.conditional, model.noise_dim
    weight, decay = getattr(config, "mismatch_weight", 0.0), config.ema_decay

    @tf.function
    def step(batch):
        images, labels = batch if conditional else (batch, None)
        n = tf.shape(images)[0]
        noise = tf.random.normal([n, noise_dim])

        def inputs(first):
            return [first, labels] if conditional else first

        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(inputs(noise), training=True)
            real_out = discriminator(inputs(images), training=True)
            fake_out = discriminator(inputs(fake), training=True)
            g_loss = bce(tf.ones_like(fake_out), fake_out)
            d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
            if weight > 0.0:
                shift = tf.random.uniform([n], 1, 10, dtype=tf.int32)
                wrong = tf.one_hot((tf.argmax(labels, -1, output_type=tf.int32) + shift) % 10, 10)
                wrong_out = discriminator([images, wrong], training=True)
                d_loss += weight * bce(tf.zeros_like(wrong_out), wrong_out)
        g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
        g_opt.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))
        if ema is not None:
            for average, current in zip(ema.weights, generator.weights):
                average.assign(decay * average + (1.0 - decay) * current)
        return g_loss, d_loss

    return step


def _pix2pix_step(model, config):
    """The Pix2Pix step as TensorFlow's pix2pix tutorial writes it (the paper's halved D)."""
    import keras
    import tensorflow as tf

    from condgen.core.fit import make_adam

    generator, discriminator = model.generator, model.discriminator
    g_opt = make_adam(config.g_learning_rate, config, 10**6)
    d_opt = make_adam(config.d_learning_rate, config, 10**6)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    l1_weight = model.l1_weight

    @tf.function
    def step(batch):
        inputs, targets = batch
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(inputs, training=True)
            real_out = discriminator([inputs, targets], training=True)
            fake_out = discriminator([inputs, fake], training=True)
            l1 = tf.reduce_mean(tf.abs(targets - fake))
            g_loss = bce(tf.ones_like(fake_out), fake_out) + l1_weight * l1
            d_loss = 0.5 * (
                bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
            )
        g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
        g_opt.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))
        return g_loss, d_loss

    return step


def _cyclegan_step(model, config):
    """The CycleGAN step as TensorFlow's CycleGAN tutorial writes it, with the paper's (and
    the project's) least-squares losses, halved D objective and image pools."""
    import tensorflow as tf

    from condgen.core.fit import make_adam

    g, f = model.generator_a2b, model.generator_b2a
    d_a, d_b = model.discriminator_a, model.discriminator_b
    pool_a, pool_b = model.pool_a, model.pool_b
    g_opt = make_adam(config.g_learning_rate, config, 10**6)
    d_opt = make_adam(config.d_learning_rate, config, 10**6)
    lsgan = model.gan_loss == "lsgan"
    cycle, identity = model.cycle_weight, model.identity_weight * model.cycle_weight

    # Python branches on settings: nothing for autograph to convert.
    @tf.autograph.experimental.do_not_convert
    def g_adv(out):
        if lsgan:
            return tf.reduce_mean(tf.square(out - 1.0))
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(out), out))

    @tf.autograph.experimental.do_not_convert
    def d_adv(real, fake):
        if lsgan:
            return 0.5 * (tf.reduce_mean(tf.square(real - 1.0)) + tf.reduce_mean(tf.square(fake)))
        bce = tf.nn.sigmoid_cross_entropy_with_logits
        return 0.5 * (
            tf.reduce_mean(bce(tf.ones_like(real), real))
            + tf.reduce_mean(bce(tf.zeros_like(fake), fake))
        )

    @tf.function
    def step(batch):
        real_a, real_b = batch
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_b = g(real_a, training=True)
            fake_a = f(real_b, training=True)
            g_loss = g_adv(d_b(fake_b, training=True)) + g_adv(d_a(fake_a, training=True))
            g_loss += cycle * (
                tf.reduce_mean(tf.abs(real_a - f(fake_b, training=True)))
                + tf.reduce_mean(tf.abs(real_b - g(fake_a, training=True)))
            )
            if identity > 0.0:
                g_loss += identity * (
                    tf.reduce_mean(tf.abs(real_a - f(real_a, training=True)))
                    + tf.reduce_mean(tf.abs(real_b - g(real_b, training=True)))
                )
            pooled_a = pool_a(tf.stop_gradient(fake_a))
            pooled_b = pool_b(tf.stop_gradient(fake_b))
            d_loss = d_adv(d_a(real_a, training=True), d_a(pooled_a, training=True)) + d_adv(
                d_b(real_b, training=True), d_b(pooled_b, training=True)
            )
        g_vars = g.trainable_variables + f.trainable_variables
        d_vars = d_a.trainable_variables + d_b.trainable_variables
        g_opt.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))
        return g_loss, d_loss

    return step


PLAIN_STEPS = {"mnist": _mnist_step, "pix2pix": _pix2pix_step, "cyclegan": _cyclegan_step}


def _recipe(name: str, params: Path):
    from condgen import families
    from condgen.core.params import load_seed, load_train

    model = families.MODELS[name]
    family = families.family_of(model)
    config = load_train(name, params)
    recipe_class = {
        "mnist": "MnistRecipe",
        "pix2pix": "Pix2PixRecipe",
        "cyclegan": "CycleGANRecipe",
    }[family.name]
    recipe = getattr(families.module(family, "train"), recipe_class)(
        model, config, load_seed(params)
    )
    return recipe, family, config


def bench(name: str, steps: int, rounds: int, params: Path) -> dict:
    """Images/s of the project's step, the plain loop's and the stream's alone (medians)."""
    import keras

    from condgen.core.fit import compile_adversarial, epoch_steps

    recipe, family, config = _recipe(name, params)
    runtime.set_seed(recipe.seed, deterministic=config.deterministic)
    data = recipe.load(Path(family.data_dir))
    batch = config.batch_size
    per_epoch, per_execution = epoch_steps(data.epoch_items, batch, config.steps_per_execution)
    steps = max(per_execution, steps - steps % per_execution)
    project = compile_adversarial(recipe.build(data), config, 10**6, per_execution)
    plain_step = PLAIN_STEPS[family.name](recipe.build(data), config)
    dataset = recipe.dataset(data, batch)

    def run_plain() -> float:
        batches = iter(dataset)
        start = time.perf_counter()
        for _ in range(steps):
            out = plain_step(next(batches))
        float(out[0])  # wait for the last step
        return time.perf_counter() - start

    def run_stream() -> float:
        batches = iter(dataset)
        start = time.perf_counter()
        for _ in range(steps):
            next(batches)
        return time.perf_counter() - start

    times: dict[str, list[float]] = {"project": [], "plain": [], "stream": []}

    class Rounds(keras.callbacks.Callback):
        """Each epoch of the one fit is a project round; a plain round runs before it on odd
        epochs and after it on even ones. Epoch 0 traces and warms up both, and is not kept."""

        def keep(self, epoch: int, which: str, seconds: float) -> None:
            if epoch:
                times[which].append(seconds)

        def on_epoch_begin(self, epoch, logs=None):
            if epoch % 2:
                self.keep(epoch, "plain", run_plain())
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            float(next(iter(logs.values())))  # wait for the epoch's last execution
            self.keep(epoch, "project", time.perf_counter() - self.start)
            if epoch % 2 == 0:
                self.keep(epoch, "plain", run_plain())
            self.keep(epoch, "stream", run_stream())

    # One fit for all rounds, as a stage trains: Keras' per-fit set-up (iterators, callbacks)
    # is paid once per training, not once per timed round.
    project.fit(
        dataset,
        epochs=rounds + 1,
        steps_per_epoch=steps,
        callbacks=[Rounds()],
        verbose=0,
        shuffle=False,
    )
    rate = {k: steps * batch / statistics.median(v) for k, v in times.items()}
    return {
        "model": name,
        "batch": batch,
        "steps_per_execution": per_execution,
        "steps": steps,
        "project": rate["project"],
        "plain": rate["plain"],
        "ratio": rate["project"] / rate["plain"],
        "stream_share": rate["project"] / rate["stream"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="gan,cgan,dcgan,pix2pix,cyclegan")
    parser.add_argument("--steps", type=int, default=200, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of each (median)")
    parser.add_argument(
        "--processes",
        type=int,
        default=3,
        help="fresh processes per model: here a process's speed varies by up to 30%% from the "
        "next one's (thread placement), in the project's and the plain loop's step alike",
    )
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # one model in this process, as JSON
    args = parser.parse_args()
    runtime.quiet_tensorflow()
    if args.one:
        print("RESULT " + json.dumps(bench(args.one, args.steps, args.rounds, args.params)))
        return
    print(
        f"{'model':9} {'batch':>5} {'spe':>4} {'project img/s':>14} {'plain img/s':>12} "
        f"{'ratio':>6} {'ratios of the processes':>24} {'stream alone':>13}"
    )
    for name in args.models.split(","):
        runs = []
        for _ in range(args.processes):
            out = subprocess.run(
                [sys.executable, __file__, "--one", name, "--steps", str(args.steps),
                 "--rounds", str(args.rounds), "--params", str(args.params)],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            runs.append(json.loads(out.split("RESULT ", 1)[1]))
        med = {k: statistics.median(r[k] for r in runs) for k in ("project", "plain", "ratio")}
        share = statistics.median(r["stream_share"] for r in runs)
        spread = " ".join(f"{r['ratio']:.2f}" for r in runs)
        r = runs[0]
        print(
            f"{name:9} {r['batch']:>5} {r['steps_per_execution']:>4} {med['project']:>14.1f} "
            f"{med['plain']:>12.1f} {med['ratio']:>5.2f}x {spread:>24} {share:>13.1%}",
            flush=True,
        )


if __name__ == "__main__":
    main()
