"""Benchmark: Pix2Pix training throughput on this machine, per image size and width.

Usage: python benchmarks/bench_pix2pix.py [--sizes 32,64] [--batch-sizes 1,4]
       [--base-filters 32,64] [--steps 30] [--generator unet] [--patch 70] [--jit]
Prints one line per setting; numbers are for choosing defaults, never asserted in tests.
"""

from __future__ import annotations

import argparse
import itertools
import time

from condgen.core import runtime
from condgen.core.fit import compile_adversarial
from condgen.facades import scenes as synthetic
from condgen.pix2pix import data as paired
from condgen.pix2pix.config import Pix2PixConfig
from condgen.pix2pix.train import build


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="32,64")
    parser.add_argument("--batch-sizes", default="1,4")
    parser.add_argument("--base-filters", default="32,64")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--generator", default="unet")
    parser.add_argument("--patch", default="70")
    parser.add_argument("--jit", action="store_true", help="XLA (turns op determinism off)")
    args = parser.parse_args()
    runtime.quiet_tensorflow()
    ints = lambda text: [int(v) for v in text.split(",")]  # noqa: E731
    for size, batch, filters in itertools.product(
        ints(args.sizes), ints(args.batch_sizes), ints(args.base_filters)
    ):
        runtime.set_seed(0, deterministic=not args.jit)
        labels, photos = synthetic.generate_pairs(max(8, 2 * batch), size, seed=0)
        config = Pix2PixConfig(
            epochs=1,
            batch_size=batch,
            base_filters=filters,
            generator=args.generator,
            patch=args.patch if args.patch == "pixel" else int(args.patch),
            jit_compile=args.jit,
            deterministic=not args.jit,
        )
        model = compile_adversarial(build(config, size), config, config.epochs)
        dataset = paired.make_train_dataset(labels, photos, batch, 0)
        model.fit(dataset, steps_per_epoch=3, epochs=1, verbose=0)  # compile + warm up
        start = time.perf_counter()
        model.fit(dataset, steps_per_epoch=args.steps, epochs=1, verbose=0)
        elapsed = time.perf_counter() - start
        print(
            f"pix2pix {args.generator}/{args.patch} {size}px batch {batch} base_filters "
            f"{filters}: {args.steps * batch / elapsed:,.1f} img/s, "
            f"{args.steps / elapsed:,.2f} steps/s (jit={args.jit})",
            flush=True,
        )


if __name__ == "__main__":
    main()
