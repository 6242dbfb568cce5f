"""params.yaml sections as frozen dataclasses: the checker and the sections every family shares.

Every stage reads its section through :func:`load_section`, so an unknown key, a value of the
wrong type or a value out of range stops the stage before any work, with an error that names the
full key path (``train.cgan.batch_size``) and what would be accepted.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

T = TypeVar("T")

DEFAULT_PARAMS = "params.yaml"


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
    """A dataclass field with an allowed range: ``min``/``max``, ``lo_open``/``hi_open``; or,
    for text, a ``pattern`` the whole value must match, described by ``expected``."""
    meta = _range(
        bounds.get("min"),
        bounds.get("max"),
        lo_open=bounds.get("lo_open", False),
        hi_open=bounds.get("hi_open", False),
    )
    if "pattern" in bounds:
        meta.update(pattern=bounds["pattern"], expected=bounds["expected"])
    return dataclasses.field(default=default, metadata=meta)


# A pinned download checksum: 64 hex digits, or empty for none.
SHA256 = {"pattern": r"(?:[0-9a-fA-F]{64})?", "expected": "64 hexadecimal digits (or empty)"}


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
    # Where to train: auto (a GPU when TensorFlow sees one, else the CPU), cpu (GPUs hidden),
    # gpu (stop at once when TensorFlow sees none, instead of training on the CPU unnoticed).
    device: Literal["auto", "cpu", "gpu"] = "auto"


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
class ImageSource:
    """Keys every image dataset section shares (``data.paired``, ``data.unpaired``)."""

    # Side of the square images every source is resized to (256 in the papers): a power of
    # two, as the generators halve it down to 1 px.
    image_size: Literal[32, 64, 128, 256] = 64
    # Downloads: empty url = the catalog's server; empty sha256 = the catalog's pin for that
    # server, if any (otherwise the download prints the hash to pin here).
    url: str = ""
    sha256: str = field_("", **SHA256)
    timeout_seconds: float = field_(60.0, min=0.1)
    # folder only: the user's own images (see the family's data module for the layout).
    folder: str = ""
    # folder without a test split: the share of images held out for testing.
    test_fraction: float = field_(0.2, min=0.05, max=0.5)
    # Downloads and folder: keep this many training images (a seeded subset; 0 = all).
    max_train_images: int = field_(0, min=0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImageTrainConfig(AdamSchedule, RunSwitches):
    """Keys every image-to-image training section shares (Pix2Pix, CycleGAN)."""

    epochs: int = field_(min=1)
    batch_size: int = field_(1, min=1)  # the papers': 1
    # Filters of the first layer of every network, doubling per level up to 8x (papers: 64).
    base_filters: int = field_(64, min=4)
    # PatchGAN receptive field: pixel (1x1), 16, 70 or 286 (the whole 256 px image).
    patch: Literal["pixel", 16, 70, 286] = 70
    # Resize to 286/256 of the size, random crop back and mirror (the papers' jitter).
    jitter: bool = True


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, path: str) -> Any:
    """Check ``value`` against the annotation ``tp``; return it in that type."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        choices = typing.get_args(tp)
        # By type too: 64.0 == 64 and True == 1, but a float size or a bool would slip through.
        if not any(type(value) is type(c) and value == c for c in choices):
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
        if not math.isfinite(value):  # YAML's .nan and .inf pass every range check
            raise ConfigError(f"{path}: expected a finite number, got {value!r}")
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
        pattern = f.metadata.get("pattern")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise ConfigError(f"{key_path}: {value!r} is not {f.metadata['expected']}")
        values[name] = value
    return cls(**values)


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (plain YAML keeps the last
    silently, so a second ``pix2pix:`` block would quietly replace the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        first_line: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                if key in first_line:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"key {key!r} is given twice (lines {first_line[key]} and {line}): "
                        "keep one",
                        key_node.start_mark,
                    )
                first_line[key] = line
            except TypeError:  # an unhashable key: the base class says so
                break
        return super().construct_mapping(node, deep=deep)


def read_params(params_path: str | Path = DEFAULT_PARAMS) -> dict:
    """The whole params file as a mapping; a missing or malformed file, or a key given twice in
    one mapping, is a ConfigError."""
    path = Path(params_path)
    if not path.is_file():
        raise ConfigError(f"{path}: params file not found (run from the project root)")
    try:
        data = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
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


def load_train(model: str, params_path: str | Path = DEFAULT_PARAMS) -> Any:
    """The validated ``train.<model>`` section, in the class its family's config declares.

    The other models' names under ``train`` are checked too, so that a typo in ``train.gan``
    is caught whichever stage runs.
    """
    from condgen import families

    if model not in families.MODELS:
        raise ConfigError(f"model {model!r} is not one of {', '.join(families.MODELS)}")
    params = read_params(params_path)
    raw = section(params, "train")
    if not isinstance(raw, dict):
        raise ConfigError("train: expected a mapping of models")
    unknown = sorted(set(raw) - set(families.MODELS))
    if unknown:
        raise ConfigError(
            f"train.{unknown[0]}: unknown model; train accepts: {', '.join(families.MODELS)}"
        )
    row = families.MODELS[model]
    config_module = families.module(row.family, "config")
    config = build(
        config_module.TRAIN_CONFIG, section(params, row.train_section), row.train_section
    )
    check = getattr(config_module, "check_train", None)
    if check is not None:
        check(row, config)
    return config


def load_data(family: str, params_path: str | Path = DEFAULT_PARAMS) -> Any:
    """The validated ``data.<data>`` section of ``family``, in its family's class."""
    from condgen import families

    fam = families.FAMILIES[family]
    return load_section(families.module(fam, "config").DATA_CONFIG, fam.data_section, params_path)
