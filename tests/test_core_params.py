import textwrap

import pytest

from condgen.core.params import ConfigError, load_section, load_seed, load_train
from condgen.mnist.config import EvaluatorConfig, MnistDataConfig
from tests.conftest import ROOT


def write(tmp_path, text):
    path = tmp_path / "params.yaml"
    path.write_text(textwrap.dedent(text))
    return path


TRAIN = """
seed: 1
train:
  gan: {epochs: 2, batch_size: 8}
  cgan: {epochs: 2, batch_size: 8}
  dcgan: {epochs: 2, batch_size: 8}
"""


def test_project_params_load():
    path = ROOT / "params.yaml"
    assert load_seed(path) >= 0
    assert load_section(MnistDataConfig, "data.mnist", path).source == "bundled"
    assert load_section(EvaluatorConfig, "evaluator", path).epochs >= 1
    for model in ("gan", "cgan", "dcgan", "pix2pix"):
        assert load_train(model, path).batch_size >= 1


def test_defaults_fill_missing_optional_keys(tmp_path):
    config = load_train("gan", write(tmp_path, TRAIN))
    assert config.noise_dim == 100 and config.beta_1 == 0.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            TRAIN.replace("gan: {epochs: 2, batch_size: 8}", "gan: {epochs: 2, batch_size: 0}", 1),
            "train.gan.batch_size: must be at least 1, got 0",
        ),
        (
            TRAIN.replace("gan: {epochs: 2,", "gan: {epochs: 2, batch: 3,", 1),
            "train.gan.batch: unknown key",
        ),
        (
            TRAIN.replace("gan: {epochs: 2,", "gan: {epochs: two,", 1),
            "train.gan.epochs: expected a whole number, got 'two'",
        ),
        (
            TRAIN.replace("gan: {epochs: 2,", "gan: {epochs: 2, g_learning_rate: 2e-4,", 1),
            "write 0.0002",
        ),
        (
            TRAIN.replace("gan: {epochs: 2,", "gan: {epochs: 2, beta_1: 1.5,", 1),
            "train.gan.beta_1: must be at most 1.0",
        ),
        (
            TRAIN.replace("gan: {epochs: 2,", "gan: {epochs: 2, distribute: tpu,", 1),
            "train.gan.distribute: 'tpu' is not one of",
        ),
        (
            TRAIN.replace("gan: {epochs: 2,", "gan: {epochs: 2, jit_compile: 1,", 1),
            "train.gan.jit_compile: expected true or false",
        ),
        (
            TRAIN.replace("gan: {epochs: 2, batch_size: 8}", "gan: {epochs: 2}", 1),
            "train.gan.batch_size: missing",
        ),
        (TRAIN + "  wgan: {epochs: 1}\n", "train.wgan: unknown model"),
    ],
)
def test_bad_values_name_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=None) as err:
        load_train("gan", write(tmp_path, text))
    assert message in str(err.value)


def test_sibling_section_error_is_caught_by_any_model(tmp_path):
    bad = TRAIN.replace("dcgan: {epochs: 2,", "dcgan: {epochs: -1,")
    assert load_train("dcgan", write(tmp_path, TRAIN)).epochs == 2
    with pytest.raises(ConfigError, match=r"train\.dcgan\.epochs: must be at least 1"):
        load_train("dcgan", write(tmp_path, bad))


def test_data_and_seed_errors(tmp_path):
    path = write(tmp_path, "seed: -3\ndata:\n  mnist:\n    source: web\n")
    with pytest.raises(ConfigError, match="seed: must be at least 0"):
        load_seed(path)
    with pytest.raises(
        ConfigError, match="data.mnist.source: 'web' is not one of 'bundled', 'keras'"
    ):
        load_section(MnistDataConfig, "data.mnist", path)
    with pytest.raises(ConfigError, match="evaluator: missing from params"):
        load_section(EvaluatorConfig, "evaluator", path)


def test_unreadable_params_file(tmp_path):
    with pytest.raises(ConfigError, match="params file not found"):
        load_seed(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_seed(write(tmp_path, "seed: [1\n"))


PIX2PIX = TRAIN + "  pix2pix: {epochs: 2}\n"


@pytest.mark.parametrize(
    ("replacement", "message"),
    [
        ("pix2pix: {epochs: 2, patch: 50}", "train.pix2pix.patch: 50 is not one of 'pixel', 16"),
        ("pix2pix: {epochs: 2, generator: resnet}", "train.pix2pix.generator: 'resnet'"),
        ("pix2pix: {epochs: 2, l1_weight: -1}", "train.pix2pix.l1_weight: must be at least 0"),
        ("pix2pix: {epochs: 2, noise_dim: 3}", "train.pix2pix.noise_dim: unknown key"),
    ],
)
def test_pix2pix_section_errors(tmp_path, replacement, message):
    config = load_train("pix2pix", write(tmp_path, PIX2PIX))
    assert (config.patch, config.generator, config.batch_size) == (70, "unet", 1)
    pixel = PIX2PIX.replace("{epochs: 2}", "{epochs: 2, patch: pixel}")
    assert load_train("pix2pix", write(tmp_path, pixel)).patch == "pixel"
    with pytest.raises(ConfigError) as err:
        load_train("pix2pix", write(tmp_path, PIX2PIX.replace("pix2pix: {epochs: 2}", replacement)))
    assert message in str(err.value)


def test_weight_average_decay_must_stay_below_one(tmp_path):
    text = TRAIN.replace("gan: {epochs: 2,", "gan: {epochs: 2, ema_decay: 1.0,", 1)
    with pytest.raises(ConfigError, match=r"train\.gan\.ema_decay: must be less than 1\.0"):
        load_train("gan", write(tmp_path, text))


def test_mismatch_weight_only_for_the_cgan(tmp_path):
    text = TRAIN.replace("  cgan: {epochs: 2,", "  cgan: {epochs: 2, mismatch_weight: 1.0,")
    assert load_train("cgan", write(tmp_path, text)).mismatch_weight == 1.0
    bad = TRAIN.replace("  dcgan: {epochs: 2,", "  dcgan: {epochs: 2, mismatch_weight: 1.0,")
    with pytest.raises(ConfigError, match=r"train\.dcgan\.mismatch_weight: 1\.0 needs labels"):
        load_train("dcgan", write(tmp_path, bad))


@pytest.mark.parametrize("section", ["data.paired", "data.unpaired"])
def test_an_image_size_the_generators_cannot_halve_is_refused_by_name(tmp_path, section):
    from condgen.cyclegan.config import UnpairedDataConfig
    from condgen.pix2pix.config import PairedDataConfig

    config = {"data.paired": PairedDataConfig, "data.unpaired": UnpairedDataConfig}[section]
    group, name = section.split(".")
    path = write(tmp_path, f"{group}:\n  {name}: {{image_size: 48}}\n")
    with pytest.raises(ConfigError, match=rf"{section}.image_size: 48 is not one of 32, 64"):
        load_section(config, section, path)
