"""How close any model can come to the synthetic facade photos: the L1 of an oracle.

Each test scene of ``synthetic-facades`` (the pipeline's seed and split) is rendered again
``--renders`` times with a new wall texture, light and noise; the per-pixel median of those
renderings knows everything the label map can tell, and its L1 to the test photo is the part
of a model's L1 that no model can remove. Printed overall and per label class, on the 0..1
scale of ``reports/pix2pix/metrics.json``.

    python benchmarks/facade_floor.py --size 64 --count 100 --renders 8
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--count", type=int, default=100, help="test scenes")
    parser.add_argument("--renders", type=int, default=8, help="new renderings per scene")
    parser.add_argument("--seed", type=int, default=42, help="params.yaml's seed")
    args = parser.parse_args()

    from condgen.facades import scenes

    errors, classes = [], []
    for i in range(args.count):
        # The test split's generator, as scenes.generate_pairs(..., stream=1) draws it.
        rng = np.random.default_rng([args.seed, 1, i])
        scene = scenes.sample_scene(rng, args.size)
        photo = scenes.render(scene, rng, "day") / 255.0
        others = [
            scenes.render(
                dataclasses.replace(scene, texture_seed=scene.texture_seed + k + 1),
                np.random.default_rng([args.seed, 9, i, k]),
                "day",
            )
            / 255.0
            for k in range(args.renders)
        ]
        oracle = np.median(np.stack(others), axis=0)
        errors.append(np.abs(photo - oracle).mean(axis=-1))
        classes.append(scenes.class_map(scene))
    error, label = np.stack(errors), np.stack(classes)
    per_class = {
        name: round(float(error[label == c].mean()), 4)
        for c, name in enumerate(scenes.CLASSES)
        if (label == c).any()
    }
    print(json.dumps({"oracle_l1": round(float(error.mean()), 4), "per_class": per_class}))


if __name__ == "__main__":
    main()
