"""Run neural style transfer for the pairs in params (the ``style_transfer`` stage) or for one
user pair (``condgen stylize``): images, loss histories, a comparison sheet, an MLflow run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from condgen.core import runtime, tracking
from condgen.core.images import to_rgb, unit_to_uint8
from condgen.style.config import StyleConfig
from condgen.style.model import FeatureExtractor, StyleError, StyleLoss, stylize

SAMPLE_PREFIX = "skimage:"
LOSS_TERMS = ("total", "content", "style", "tv")


def load_image(spec: str, size: int | None = None) -> np.ndarray:
    """RGB float32 0..1 (H, W, 3) from ``skimage:<sample>`` or an image file's path.

    With ``size``, resized so that its longer side is ``size`` pixels (aspect ratio kept).
    A missing or unreadable file, or an unknown sample, is a StyleError naming it.
    """
    if spec.startswith(SAMPLE_PREFIX):
        import skimage.data

        name = spec[len(SAMPLE_PREFIX) :]
        loader = getattr(skimage.data, name, None)
        if not callable(loader) or name.startswith("_"):
            raise StyleError(
                f"{spec}: scikit-image has no sample {name!r} (try skimage:chelsea, "
                "skimage:astronaut, skimage:coffee, skimage:rocket, skimage:immunohistochemistry)"
            )
        image = Image.fromarray(np.asarray(loader()))
        pixels = to_rgb(image)
    else:
        path = Path(spec)
        if not path.is_file():
            raise StyleError(f"{spec}: no such file")
        try:
            with Image.open(path) as image:
                image.load()
                pixels = to_rgb(image)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
            raise StyleError(
                f"{spec} is not an image Pillow can read ({type(err).__name__}): give a PNG or JPEG"
            ) from err
    if size is not None:
        height, width = pixels.shape[:2]
        scale = size / max(height, width)
        shape = (max(1, round(width * scale)), max(1, round(height * scale)))
        pixels = np.asarray(Image.fromarray(pixels).resize(shape, Image.Resampling.LANCZOS))
    return pixels.astype(np.float32) / 255.0


def make_extractor(config: StyleConfig) -> FeatureExtractor:
    """The backbone with the content layer and every style layer."""
    names = [*config.style_layers, config.content_layer]
    return FeatureExtractor(
        config.backbone, list(dict.fromkeys(names)), config.weights, config.pooling
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
    objective = StyleLoss(
        extractor,
        content,
        style,
        config.content_layer,
        config.style_layers,
        config.content_weight,
        config.style_weight,
        config.tv_weight,
    )
    start = content
    if config.init == "noise":
        start = np.random.default_rng(seed).uniform(0, 1, content.shape).astype(np.float32)
    return stylize(objective, start, config.steps, config.optimizer, config.learning_rate, on_step)


def comparison_rows(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Image.Image:
    """A sheet with one content | style | result row per pair, each cell at the result's height."""
    from PIL import ImageDraw

    pad, top = 6, 16
    cells = []
    for content, style, result in rows:
        height = result.shape[0]
        scaled = []
        for image in (content, style, result):
            pixels = Image.fromarray(unit_to_uint8(image))
            width = max(1, round(pixels.width * height / pixels.height))
            scaled.append(pixels.resize((width, height), Image.Resampling.LANCZOS))
        cells.append(scaled)
    width = max(sum(c.width for c in row) + pad * 4 for row in cells)
    height = top + sum(row[0].height + pad for row in cells) + pad
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    x = pad
    for header, cell in zip(("content", "style", "result"), cells[0], strict=True):
        draw.text((x, 2), header, fill=(0, 0, 0))
        x += cell.width + pad
    y = top
    for row in cells:
        x = pad
        for cell in row:
            sheet.paste(cell, (x, y))
            x += cell.width + pad
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
    fig.savefig(path)
    plt.close(fig)


def run(config: StyleConfig, seed: int, out_dir: str | Path, *, log_to_mlflow: bool = True) -> dict:
    """Stylise every pair of ``config`` and write the results to ``out_dir``.

    Writes ``images/<pair>.png``, ``losses/<pair>.csv`` (step, total, content, style, tv),
    ``sheet.png`` (content | style | result rows), ``losses.png`` and ``metrics.json`` (per
    pair: first and last total loss, their ratio, steps), and logs the same to an MLflow run.
    """
    out = Path(out_dir)
    for sub in ("images", "losses"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    runtime.set_seed(seed)
    names = [p.name for p in config.pairs]
    if len(set(names)) != len(names) or not names:
        raise StyleError(f"style.pairs: give each pair its own name (got {names})")
    inputs = {
        p.name: (load_image(p.content, config.image_size), load_image(p.style, config.image_size))
        for p in config.pairs
    }
    extractor = make_extractor(config)
    metrics: dict = {}
    rows, histories = [], {}
    for name, (content, style) in inputs.items():
        start = time.perf_counter()
        image, history = transfer(config, extractor, content, style, seed)
        seconds = time.perf_counter() - start
        Image.fromarray(unit_to_uint8(image)).save(out / "images" / f"{name}.png")
        frame = pd.DataFrame(history)[list(LOSS_TERMS)]
        frame.insert(0, "step", range(len(frame)))
        frame.to_csv(out / "losses" / f"{name}.csv", index=False)
        histories[name] = frame
        rows.append((content, style, image))
        first, last = float(frame["total"].iloc[0]), float(frame["total"].iloc[-1])
        metrics[name] = {
            "first_total": first,
            "last_total": last,
            "loss_ratio": first / max(last, 1e-12),
            "steps": len(frame) - 1,
        }
        print(f"stylised {name} in {seconds:.1f} s", flush=True)
    comparison_rows(rows).save(out / "sheet.png")
    _loss_plot(histories, out / "losses.png")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
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
        mlflow.set_tags({"model": "style"})
        for name, frame in histories.items():
            for row in frame.itertuples(index=False):
                mlflow.log_metrics(
                    {f"{name}_{t}": getattr(row, t) for t in LOSS_TERMS}, step=row.step
                )
            mlflow.log_metrics({f"{name}_loss_ratio": metrics[name]["loss_ratio"]})
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
            f"({m['loss_ratio']:.0f}x) over {m['steps']} steps"
        )
