"""Benchmark: training throughput (images/s) of each MNIST GAN on this machine.

Usage: python benchmarks/bench_train.py [--batch-size 64] [--steps 200] [--jit] [--spe 1]
    [--models gan,cgan,dcgan] [--mismatch-weight 1.0] [--nondeterministic]
Prints one line per model; numbers are for choosing defaults, never asserted in tests.
"""

from __future__ import annotations

import argparse
import time

from condgen.core import runtime
from condgen.core.fit import compile_adversarial
from condgen.families import MODELS, models_of
from condgen.mnist import data as mnist
from condgen.mnist.config import GanConfig
from condgen.mnist.train import build


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--jit", action="store_true")
    parser.add_argument("--spe", type=int, default=1)
    parser.add_argument("--models", default=",".join(m.name for m in models_of("mnist")))
    parser.add_argument(
        "--mismatch-weight", type=float, default=0.0, help="conditional models only"
    )
    parser.add_argument(
        "--nondeterministic", action="store_true", help="leave TensorFlow op determinism off"
    )
    args = parser.parse_args()
    runtime.quiet_tensorflow()
    images, labels = mnist.load_bundled()
    for name in args.models.split(","):
        model = MODELS[name]
        runtime.set_seed(0, deterministic=not args.nondeterministic)
        config = GanConfig(
            epochs=1,
            batch_size=args.batch_size,
            jit_compile=args.jit,
            deterministic=not args.nondeterministic,
            steps_per_execution=args.spe,
            mismatch_weight=args.mismatch_weight if model.conditional else 0.0,
        )
        gan = compile_adversarial(build(model, config, 0), config, config.epochs)
        ds = mnist.make_dataset(images, labels, args.batch_size, 0, conditional=model.conditional)
        gan.fit(ds, steps_per_epoch=args.spe * 5, epochs=1, verbose=0)  # compile + warm up
        start = time.perf_counter()
        gan.fit(ds, steps_per_epoch=args.steps, epochs=1, verbose=0)
        elapsed = time.perf_counter() - start
        rate = args.steps * args.batch_size / elapsed
        print(
            f"{name}: {rate:,.0f} img/s, {args.steps / elapsed:,.1f} steps/s "
            f"(batch {args.batch_size}, jit={args.jit}, steps_per_execution={args.spe}, "
            f"deterministic={not args.nondeterministic}"
            + (f", mismatch_weight={args.mismatch_weight})" if model.conditional else ")")
        )


if __name__ == "__main__":
    main()
