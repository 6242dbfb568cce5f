"""Benchmark: CycleGAN training speed on this machine, per image size, width and depth.

Usage: python benchmarks/bench_cyclegan.py [--sizes 64] [--base-filters 16,32] [--blocks 0]
       [--batch-sizes 1] [--steps 40] [--generator resnet] [--jit]
Prints one line per setting (a step updates both generators and both discriminators); the
numbers are for choosing defaults, never asserted in tests.
"""

from __future__ import annotations

import argparse
import itertools
import time

from condgen.core import runtime
from condgen.core.fit import compile_adversarial
from condgen.cyclegan import data as unpaired
from condgen.cyclegan.config import CycleGANConfig
from condgen.cyclegan.train import build
from condgen.facades import scenes as synthetic


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="64")
    parser.add_argument("--base-filters", default="16,32")
    parser.add_argument("--blocks", default="0", help="residual blocks (0: the paper's)")
    parser.add_argument("--batch-sizes", default="1")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--generator", default="resnet")
    parser.add_argument("--jit", action="store_true", help="XLA (turns op determinism off)")
    args = parser.parse_args()
    runtime.quiet_tensorflow()
    ints = lambda text: [int(v) for v in text.split(",")]  # noqa: E731
    for size, filters, blocks, batch in itertools.product(
        ints(args.sizes), ints(args.base_filters), ints(args.blocks), ints(args.batch_sizes)
    ):
        runtime.set_seed(0, deterministic=not args.jit)
        day, night = synthetic.generate_day_night(max(8, 2 * batch), size, seed=0)
        config = CycleGANConfig(
            epochs=1,
            batch_size=batch,
            base_filters=filters,
            residual_blocks=blocks,
            generator=args.generator,
            steps_per_execution=10,
            jit_compile=args.jit,
            deterministic=not args.jit,
        )
        model = compile_adversarial(build(config, size, 0), config, config.epochs * args.steps)
        dataset = unpaired.make_train_dataset(day, night, batch, 0)
        model.fit(dataset, steps_per_epoch=10, epochs=1, verbose=0)  # compile + warm up
        start = time.perf_counter()
        model.fit(dataset, steps_per_epoch=args.steps, epochs=1, verbose=0)
        elapsed = time.perf_counter() - start
        print(
            f"cyclegan {args.generator} {size}px base_filters {filters} blocks "
            f"{blocks or 'paper'} batch {batch}: {args.steps / elapsed:,.2f} steps/s, "
            f"{elapsed / args.steps * 1000:,.0f} ms/step (jit={args.jit})",
            flush=True,
        )


if __name__ == "__main__":
    main()
