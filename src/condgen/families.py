"""The one table of model families and their models; everything else looks names up here.

A family is a folder ``src/condgen/<family>/`` that imports ``condgen.core`` (and the shared
``facades`` and ``serving`` packages) and itself, never another family. It provides these
modules, found by name, so that a stage imports only its own family:

===================  ==========================================================================
``config``           ``DATA_CONFIG`` (the ``data.<data>`` section's class, if the family has
                     prepared data), ``TRAIN_CONFIG`` (the ``train.<model>`` section's class),
                     optionally ``check_train(model, config)`` for rules across keys; with
                     ``inputs``, ``INPUTS_CONFIG`` and ``external_files(config)``: the user's
                     files that section names
``data``             ``prepare(config, seed, out_dir, raw_dir) -> summary dict``
``train``            ``train(model, config, seed, data_dir, out_dir, checkpoint_dir, *,
                     log_to_mlflow, verbose, extra_callbacks) -> run info dict``; built on the
                     one resumable driver :func:`condgen.core.fit.train_adversarial`
``evaluate``         ``evaluate_stage(model, params_path, seed, model_dir, data_dir, out_dir)
                     -> metrics dict``; writes metrics.json, the grids and the loss curves
``registration``     ``registration(model) -> condgen.core.registry.Registration``: how a
                     version is logged, served and judged for the champion alias
===================  ==========================================================================

A family's own stages (the MNIST evaluator, style transfer) are functions of its modules,
named in its row (``stages``) and run by ``python -m condgen.stages.run <stage>``.

This module imports nothing heavy: the CLI and the stages read it before TensorFlow loads.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Family:
    """One folder of the package: its name, and the prepared data its models train on."""

    name: str
    # data/<data>/ from the stage prepare_<data> with params data.<data>; "" = no data stage.
    data: str = ""
    # The family's own stages: DVC stage name -> "module:function" inside the family.
    stages: tuple[tuple[str, str], ...] = ()
    # The params section that may name the user's own files (a folder source, style images);
    # the stage inputs fingerprints them. "" = the family reads none.
    inputs: str = ""
    # What the family's MLflow experiment is about (its description in the UI).
    description: str = ""

    @property
    def inputs_file(self) -> str:
        return f"data/inputs/{self.name}.json"

    @property
    def data_dir(self) -> str:
        return f"data/{self.data}"

    @property
    def data_stage(self) -> str:
        return f"prepare_{self.data}"

    @property
    def data_section(self) -> str:
        return f"data.{self.data}"


@dataclass(frozen=True)
class Model:
    """One trained, evaluated and registered model: ``train.<name>`` in params, ``models/<name>``
    and ``reports/<name>`` on disk, ``condgen-<name>`` in MLflow."""

    name: str
    family: str
    # The champion policy: the metric a new version must beat, and which way is better.
    primary_metric: str
    greater_is_better: bool
    # MNIST: which networks (condgen.mnist.networks.NETWORKS) and whether they take a label.
    networks: str = ""
    conditional: bool = False
    # Image models with two generators: a request names its direction.
    directions: tuple[str, ...] = ()
    # What the model is, on what data, how it is judged (MLflow experiment and model description).
    description: str = ""

    @property
    def train_section(self) -> str:
        return f"train.{self.name}"

    @property
    def model_dir(self) -> str:
        return f"models/{self.name}"

    @property
    def report_dir(self) -> str:
        return f"reports/{self.name}"

    @property
    def checkpoint_dir(self) -> str:
        return f"checkpoints/{self.name}"


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("mnist", data="mnist", stages=(("train_evaluator", "evaluator:stage"),)),
        Family(
            "pix2pix",
            data="paired",
            stages=(("train_segmenter_paired", "segmenter:stage"),),
            inputs="data.paired",
        ),
        Family(
            "cyclegan",
            data="unpaired",
            stages=(("train_segmenter_unpaired", "segmenter:stage"),),
            inputs="data.unpaired",
        ),
        Family(
            "style",
            stages=(("style_transfer", "transfer:stage"),),
            inputs="style",
            description=(
                "Neural style transfer (Gatys et al. 2016): each pair's content photo optimised "
                "to match the style image's VGG Gram matrices. Scored by content and style loss "
                "beside the content image itself and a colour-statistics transfer."
            ),
        ),
    )
}

MODELS: dict[str, Model] = {
    m.name: m
    for m in (
        Model(
            "gan",
            "mnist",
            "fid_mnist",
            False,
            networks="mlp",
            description=(
                "GAN (Goodfellow et al. 2014): MLP generator and discriminator on MNIST digits. "
                "Judged by FID against held-out test digits on the project's MNIST evaluator "
                "(lower is better), beside trivial answers (class-mean digits) and real digits."
            ),
        ),
        # Not label_accuracy: the mean digit of each label scores 1.0 on it, above real digits.
        Model(
            "cgan",
            "mnist",
            "fid_mnist",
            False,
            networks="mlp-maxout",
            conditional=True,
            description=(
                "Conditional GAN (Mirza & Osindero 2014): maxout MLPs conditioned on the digit "
                "label, on MNIST. Judged by FID against held-out test digits (lower is better); "
                "label accuracy of its samples on the evaluator is reported beside it."
            ),
        ),
        Model(
            "dcgan",
            "mnist",
            "fid_mnist",
            False,
            networks="conv",
            description=(
                "DCGAN (Radford et al. 2016): transposed-convolution generator and "
                "convolutional discriminator on MNIST. Judged by FID against held-out test "
                "digits (lower is better), beside trivial answers and real digits."
            ),
        ),
        Model(
            "pix2pix",
            "pix2pix",
            "l1",
            False,
            description=(
                "Pix2Pix (Isola et al. 2017): U-Net generator and PatchGAN discriminator, label "
                "map -> facade photo, on the paired data set of params data.paired. Judged by "
                "test L1 to the true photo (lower is better) beside a fitted colour map and the "
                "mean photo; FCN-score (segmenter mean IoU) and KID reported."
            ),
        ),
        # KID exists for every data set (offline features); per-pixel L1 to a night scene whose
        # lit windows are random rewards a dark blur, so it is reported, not ranked on.
        Model(
            "cyclegan",
            "cyclegan",
            "a2b_kid",
            False,
            directions=("a2b", "b2a"),
            description=(
                "CycleGAN (Zhu et al. 2017): two generators (A->B, B->A) and two PatchGAN "
                "discriminators trained with cycle consistency on the unpaired data set of "
                "params data.unpaired. Judged by KID of G(A) against real B (lower is better) "
                "beside a fitted colour map and the unchanged input; segmenter IoU reported."
            ),
        ),
    )
}


def family_of(model: str | Model) -> Family:
    name = model.family if isinstance(model, Model) else MODELS[model].family
    return FAMILIES[name]


def models_of(family: str) -> tuple[Model, ...]:
    return tuple(m for m in MODELS.values() if m.family == family)


def module(family: str | Family, part: str) -> ModuleType:
    """The family's module ``part`` (config, data, train, evaluate, registration), imported now."""
    name = family.name if isinstance(family, Family) else family
    return importlib.import_module(f"condgen.{name}.{part}")


def family_stage(stage: str) -> tuple[Family, str, str]:
    """(family, module, function) of a family's own stage, or a ValueError listing them."""
    for family in FAMILIES.values():
        for name, target in family.stages:
            if name == stage:
                module_name, function = target.split(":")
                return family, module_name, function
    known = [name for f in FAMILIES.values() for name, _ in f.stages]
    raise ValueError(f"unknown stage {stage!r}; the families' own stages are {', '.join(known)}")


def description(name: str) -> str:
    """A model's or a family's description ("" if it has none)."""
    if name in MODELS:
        return MODELS[name].description
    return FAMILIES[name].description if name in FAMILIES else ""
