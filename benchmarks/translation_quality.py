"""Train and evaluate Pix2Pix or CycleGAN with changed settings; print time and scores.

The measurement behind the default settings: what a generator, width, step count or image
size buys in quality (beside the trivial answers and the real ceiling) and costs in time.

    python benchmarks/translation_quality.py cyclegan --set generator=unet base_filters=32 \
        --data data/unpaired --segmenters models/segmenter_unpaired --out /tmp/cyclegan-unet

Reads ``params.yaml`` for everything not ``--set``; prepared data and segmenters come from the
pipeline (``dvc repro train_segmenter_unpaired`` makes both). Nothing is logged to MLflow.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import yaml

KEYS = {
    "pix2pix": ("l1", "ssim", "kid", "mean_iou"),
    "cyclegan": ("a2b_l1", "a2b_kid", "a2b_mean_iou", "b2a_l1", "b2a_kid", "b2a_mean_iou"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted(KEYS))
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--data", required=True)
    parser.add_argument("--segmenters", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument(
        "--rescore", action="store_true", help="evaluate the model already in --out, no training"
    )
    args = parser.parse_args()

    from condgen import families
    from condgen.core import params as p

    row = families.MODELS[args.model]
    config = p.load_train(args.model, args.params)
    changes = {}
    for item in args.set:
        key, _, value = item.partition("=")
        changes[key] = yaml.safe_load(value)
    raw = {**dataclasses.asdict(config), **changes}
    config = p.build(type(config), raw, row.train_section)
    seed = p.load_seed(args.params)
    out = Path(args.out)
    train = families.module(row.family, "train").train
    evaluate = families.module(row.family, "evaluate").evaluate

    start = time.perf_counter()
    if not args.rescore:
        model_dir, checkpoints = out / "model", out / "ckpt"
        train(row, config, seed, args.data, model_dir, checkpoints, log_to_mlflow=False, verbose=0)
    trained = time.perf_counter() - start
    start = time.perf_counter()
    if args.model == "pix2pix":
        result = evaluate(
            config.train_mode_at_test,
            seed,
            out / "model",
            args.data,
            out / "report",
            args.segmenters,
        )
    else:
        result = evaluate(seed, out / "model", args.data, out / "report", args.segmenters)
    evaluated = time.perf_counter() - start
    print(json.dumps({"set": changes, "train_s": round(trained, 1), "eval_s": round(evaluated, 1)}))
    for key in KEYS[args.model]:
        head = key[:4] if key[:4] in ("a2b_", "b2a_") else ""
        metric = key[len(head) :]
        line = {
            "metric": key,
            "model": result.get(key),
            "best_baseline": result.get(f"{head}best_baseline_{metric}"),
            "best_is": result.get(f"{head}best_baseline_name_{metric}"),
            "vs_best": result.get(f"{key}_vs_best_baseline"),
            "real": result.get(f"{head}real_{metric}"),
        }
        if metric == "kid":
            line["spread"] = result.get(f"{head}kid_spread")
        print(json.dumps(line))


if __name__ == "__main__":
    main()
