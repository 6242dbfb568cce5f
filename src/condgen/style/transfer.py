"""Run neural style transfer for the pairs in params (the ``style_transfer`` stage) or for one
user pair (``condgen stylize``): images, loss histories, a comparison sheet, an MLflow run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from condgen.core import runtime, tracking
from condgen.core.backbones import FeatureExtractor
from condgen.core.files import save_atomic, write_text_atomic
from condgen.core.images import unit_to_uint8
from condgen.style import baselines
from condgen.style.config import StyleConfig
from condgen.style.inputs import SAMPLE_PREFIX, load_image  # noqa: F401 (re-exported)
from condgen.style.model import StyleLoss, stylize

LOSS_TERMS = ("total", "content", "style", "tv")


def make_extractor(config: StyleConfig) -> FeatureExtractor:
    """The backbone with the content layer and every style layer."""
    names = [*config.style_layers, config.content_layer]
    return FeatureExtractor(
        config.backbone, list(dict.fromkeys(names)), config.weights, config.pooling
    )


def make_objective(
    config: StyleConfig, extractor: FeatureExtractor, content: np.ndarray, style: np.ndarray
) -> StyleLoss:
    """The loss of ``config``'s layers and weights for one (content, style) pair."""
    return StyleLoss(
        extractor,
        content,
        style,
        config.content_layer,
        config.style_layers,
        config.content_weight,
        config.style_weight,
        config.tv_weight,
    )


def transfer(
    config: StyleConfig,
    extractor: FeatureExtractor,
    content: np.ndarray,
    style: np.ndarray,
    seed: int,
    on_step: Callable[[int, dict], None] | None = None,
) -> tuple[np.ndarray, list[dict]]:
    """Stylise ``content`` with ``style`` (RGB 0..1); the result has the content's size."""
    objective = make_objective(config, extractor, content, style)
    start = content
    if config.init == "noise":
        start = np.random.default_rng(seed).uniform(0, 1, content.shape).astype(np.float32)
    return stylize(objective, start, config.steps, config.optimizer, config.learning_rate, on_step)


SHEET_COLUMNS = ("content", "style", "colour transfer", "result")


def comparison_rows(
    rows: list[tuple[np.ndarray, ...]], headers: tuple[str, ...] = SHEET_COLUMNS
) -> Image.Image:
    """A sheet with one row of images per pair under ``headers``: each cell at the height of the
    row's last image (the result), each column as wide as its widest cell so that columns line
    up when the pairs' aspect ratios differ."""
    from PIL import ImageDraw

    pad, top = 6, 16
    cells = []
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"a sheet row has {len(row)} images for {len(headers)} headers")
        height = row[-1].shape[0]
        scaled = []
        for image in row:
            pixels = Image.fromarray(unit_to_uint8(image))
            width = max(1, round(pixels.width * height / pixels.height))
            scaled.append(pixels.resize((width, height), Image.Resampling.LANCZOS))
        cells.append(scaled)
    widths = [max(row[i].width for row in cells) for i in range(len(headers))]
    lefts = [pad + sum(widths[:i]) + pad * i for i in range(len(headers))]
    width = lefts[-1] + widths[-1] + pad
    height = top + sum(row[0].height + pad for row in cells) + pad
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    for header, left in zip(headers, lefts, strict=True):
        draw.text((left, 2), header, fill=(0, 0, 0))
    y = top
    for row in cells:
        for cell, left in zip(row, lefts, strict=True):
            sheet.paste(cell, (left, y))
        y += row[0].height + pad
    return sheet


def _loss_plot(histories: dict[str, pd.DataFrame], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(histories), figsize=(5 * len(histories), 3.6), squeeze=False)
    for ax, (name, history) in zip(axes[0], histories.items(), strict=True):
        for term in LOSS_TERMS:
            ax.plot(history["step"], history[term].clip(lower=1e-12), label=term)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(f"{name}: losses (weighted total)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    save_atomic(path, fig.savefig)
    plt.close(fig)


def run(config: StyleConfig, seed: int, out_dir: str | Path, *, log_to_mlflow: bool = True) -> dict:
    """Stylise every pair of ``config`` and write the results to ``out_dir``.

    Writes ``images/<pair>.png``, ``losses/<pair>.csv`` (step, total, content, style, tv),
    ``sheet.png`` (content | style | colour transfer | result rows), ``losses.png`` and
    ``metrics.json``, and logs the same to an MLflow run. ``metrics.json`` holds per pair the
    first and last total loss of the optimisation, their ratio and the steps, and the total,
    content and style loss of the saved result beside those of each trivial answer in
    :mod:`condgen.style.baselines` (``total_vs_best_baseline`` etc., lower is better).
    """
    out = Path(out_dir)
    runtime.set_seed(seed)
    inputs = {
        p.name: (load_image(p.content, config.image_size), load_image(p.style, config.image_size))
        for p in config.pairs
    }
    extractor = make_extractor(config)
    # Created once the inputs are known good: a refused pair leaves no empty folders behind.
    for sub in ("images", "losses"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    metrics: dict = {}
    rows, histories = [], {}
    for name, (content, style) in inputs.items():
        start = time.perf_counter()
        image, history = transfer(config, extractor, content, style, seed)
        seconds = time.perf_counter() - start
        objective = make_objective(config, extractor, content, style)
        trivial = baselines.baseline_images(content, style)
        scores = {name: baselines.score(objective, b) for name, b in trivial.items()}
        save_atomic(out / "images" / f"{name}.png", Image.fromarray(unit_to_uint8(image)).save)
        frame = pd.DataFrame(history)[list(LOSS_TERMS)]
        frame.insert(0, "step", range(len(frame)))
        write_text_atomic(out / "losses" / f"{name}.csv", frame.to_csv(index=False))
        histories[name] = frame
        rows.append((content, style, trivial["colour_transfer"], image))
        first, last = float(frame["total"].iloc[0]), float(frame["total"].iloc[-1])
        metrics[name] = {
            "first_total": first,
            "last_total": last,
            "loss_ratio": first / max(last, 1e-12),
            "steps": len(frame) - 1,
        }
        baselines.compare_losses(metrics[name], baselines.score(objective, image), scores)
        print(f"stylised {name} in {seconds:.1f} s", flush=True)
    save_atomic(out / "sheet.png", comparison_rows(rows).save)
    _loss_plot(histories, out / "losses.png")
    write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    if log_to_mlflow:
        _log_run(config, seed, out, histories, metrics)
    return metrics


def _log_run(config: StyleConfig, seed: int, out: Path, histories: dict, metrics: dict) -> None:
    import dataclasses

    import mlflow

    tracking.setup("style")
    with mlflow.start_run(run_name="style-transfer"):
        params = {k: v for k, v in dataclasses.asdict(config).items() if k != "pairs"}
        params["pairs"] = ", ".join(f"{p.name}={p.content}+{p.style}" for p in config.pairs)
        mlflow.log_params({"seed": seed, **params})
        from condgen import families

        family = families.FAMILIES["style"]
        # The style family has no prepared data: its inputs are the user's images, whose
        # fingerprint the inputs stage writes.
        stage, path = "inputs", family.inputs_file
        mlflow.set_tags({**tracking.run_tags(stage, path), "model": "style", "stage": "train"})
        tracking.log_data_input(stage, path, "training")
        for name, frame in histories.items():
            for row in frame.itertuples(index=False):
                mlflow.log_metrics(
                    {f"{name}_{t}": getattr(row, t) for t in LOSS_TERMS}, step=row.step
                )
            # The saved result's scores get their own names: "<pair>_total" etc. are the series.
            numbers = {
                f"{name}_saved_{k}" if k in LOSS_TERMS else f"{name}_{k}": v
                for k, v in metrics[name].items()
                if not isinstance(v, str)
            }
            mlflow.log_metrics(numbers)
            notes = {k: v for k, v in metrics[name].items() if isinstance(v, str)}
            mlflow.set_tags({f"{name}_{k}": v for k, v in notes.items()})
        for path in [out / "sheet.png", out / "losses.png", out / "metrics.json"]:
            mlflow.log_artifact(str(path))
        mlflow.log_artifacts(str(out / "images"), artifact_path="images")


def stage() -> None:
    """The style_transfer stage: params style, seed -> reports/style/."""
    from condgen.core.params import load_section, load_seed

    metrics = run(load_section(StyleConfig, "style"), load_seed(), "reports/style")
    for name, m in metrics.items():
        print(
            f"stylised {name}: total loss {m['first_total']:.4g} -> {m['last_total']:.4g} "
            f"({m['loss_ratio']:.0f}x) over {m['steps']} steps; saved result's total "
            f"{m['total']:.4g} vs best trivial answer {m['best_baseline_name_total']}'s "
            f"{m['best_baseline_total']:.4g} (ratio {m['total_vs_best_baseline']:.3g})"
        )
