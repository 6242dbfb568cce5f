"""Sample grids (Pillow) and loss curves (matplotlib) for people to look at."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from condgen.core.files import save_atomic

# Rows of an image-to-image comparison sheet (input | output | target ...).
GRID_ROWS = 8


def image_grid(
    images: np.ndarray,
    rows: int,
    cols: int,
    *,
    scale: int = 2,
    pad: int = 2,
    row_labels: Sequence[str] | None = None,
) -> Image.Image:
    """Tile uint8 images (N, H, W) or (N, H, W, 3) row by row into one picture.

    ``row_labels`` writes a caption left of each row (the requested digit for cGAN grids).
    """
    images = np.asarray(images)
    if images.shape[0] < rows * cols:
        raise ValueError(f"need {rows * cols} images for a {rows}x{cols} grid, got {len(images)}")
    h, w = images.shape[1:3]
    mode = "RGB" if images.ndim == 4 else "L"
    margin = 18 if row_labels else 0
    cell_h, cell_w = h * scale + pad, w * scale + pad
    sheet = Image.new(
        mode,
        (margin + cols * cell_w + pad, rows * cell_h + pad),
        color=255 if mode == "L" else (255, 255, 255),
    )
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        tile = Image.fromarray(images[i], mode=mode).resize((w * scale, h * scale), Image.NEAREST)
        sheet.paste(tile, (margin + pad + c * cell_w, pad + r * cell_h))
    if row_labels:
        draw = ImageDraw.Draw(sheet)
        for r, text in enumerate(row_labels):
            draw.text((4, pad + r * cell_h + cell_h // 2 - 6), str(text), fill=0)
    return sheet


def loss_curves(
    history: pd.DataFrame, columns: Sequence[str], path: str | Path, title: str
) -> None:
    """Plot ``columns`` of a per-epoch history against ``epoch`` into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for column in columns:
        ax.plot(history["epoch"], history[column], label=column)
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save_atomic(path, fig.savefig)
    plt.close(fig)


def comparison_sheet(
    columns: Sequence[np.ndarray], headers: Sequence[str], *, scale: int = 2, pad: int = 4
) -> Image.Image:
    """Rows of uint8 RGB images side by side (e.g. input | output | target), headed by name.

    ``columns`` holds one (N, H, W, 3) array per column; row i shows image i of each.
    """
    columns = [np.asarray(c) for c in columns]
    if len({c.shape for c in columns}) != 1:
        raise ValueError(f"columns differ in shape: {[c.shape for c in columns]}")
    n, h, w = columns[0].shape[:3]
    cell_w, cell_h = w * scale + pad, h * scale + pad
    top = 16
    sheet = Image.new("RGB", (len(columns) * cell_w + pad, top + n * cell_h + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for c, header in enumerate(headers):
        draw.text((pad + c * cell_w + 2, 2), header, fill=(0, 0, 0))
    for r in range(n):
        for c, column in enumerate(columns):
            tile = Image.fromarray(column[r]).resize((w * scale, h * scale), Image.NEAREST)
            sheet.paste(tile, (pad + c * cell_w, top + pad + r * cell_h))
    return sheet
