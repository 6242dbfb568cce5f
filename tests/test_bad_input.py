"""Bad input, one table per kind: params, data folders and files, archives, CLI arguments and
serving requests.

Each row is one mistake a user can make, with the message it must get: one line (or one list)
that names the key, file, row or value and says what to do, never a traceback alone, and no
output left behind. The substrings asserted are the parts that name the culprit and the fix.
"""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import condgen
from condgen.core import archive
from condgen.core.archive import ArchiveError
from condgen.core.images import DataError
from condgen.core.params import ConfigError, build, load_section, load_seed, load_train
from condgen.cyclegan import data as unpaired
from condgen.cyclegan.config import UnpairedDataConfig
from condgen.mnist import data as mnist
from condgen.mnist.config import MnistDataConfig
from condgen.pix2pix import data as paired
from condgen.pix2pix.config import PairedDataConfig
from condgen.serving.requests import RequestError, parse_image_rows, parse_rows
from condgen.style.config import StyleConfig
from tests.conftest import ROOT


def png_bytes(width: int, height: int, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


PAIR = png_bytes(64, 32)  # a good side-by-side pair: two 32 px squares
SQUARE = png_bytes(32, 32)
# A blank 1-bit 10000 x 10000 PNG: a few kB that decode to 100 megapixels.
HUGE = png_bytes(10000, 10000, "1")


def everything_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# --- params ----------------------------------------------------------------------------------

TRAIN = """
train:
  gan: {epochs: 2, batch_size: 8}
  cgan: {epochs: 2, batch_size: 8}
  dcgan: {epochs: 2, batch_size: 8}
  pix2pix: {epochs: 2}
  cyclegan: {epochs: 2}
"""
STYLE = """
style:
  pairs:
    - {name: cat, content: "skimage:chelsea", style: "skimage:coffee"}
    - {name: dog, content: "skimage:astronaut", style: "skimage:rocket"}
"""


def load(what: str, path: Path):
    """Load params the way the stages do: ``train.<model>``, ``seed`` or a section by name."""
    if what.startswith("train."):
        return load_train(what.removeprefix("train."), path)
    if what == "seed":
        return load_seed(path)
    sections = {
        "data.mnist": MnistDataConfig,
        "data.paired": PairedDataConfig,
        "data.unpaired": UnpairedDataConfig,
        "style": StyleConfig,
    }
    return load_section(sections[what], what, path)


# (params.yaml text, what is loaded, a message naming the key and what is accepted)
PARAMS_CASES = [
    pytest.param(
        TRAIN.replace("gan: {epochs: 2,", "gan: {epochs: two,", 1),
        "train.gan",
        "train.gan.epochs: expected a whole number, got 'two'",
        id="whole-number-as-text",
    ),
    pytest.param(
        TRAIN.replace("pix2pix: {epochs: 2}", "pix2pix: {epochs: 2, jitter: 1}"),
        "train.pix2pix",
        "train.pix2pix.jitter: expected true or false, got 1",
        id="bool-as-number",
    ),
    pytest.param(
        TRAIN.replace("gan: {epochs: 2,", "gan: {epochs: 2, g_learning_rate: 2e-4,", 1),
        "train.gan",
        "train.gan.g_learning_rate: expected a number, got '2e-4' (YAML reads 2e-4 as text: "
        "write 0.0002",
        id="float-read-as-text",
    ),
    pytest.param(
        TRAIN.replace("cyclegan: {epochs: 2}", "cyclegan: {epochs: 2, cycle_weight: -1}"),
        "train.cyclegan",
        "train.cyclegan.cycle_weight: must be at least 0.0, got -1.0",
        id="below-range",
    ),
    pytest.param(
        TRAIN.replace("gan: {epochs: 2,", "gan: {epochs: 2, beta_1: .nan,", 1),
        "train.gan",
        "train.gan.beta_1: expected a finite number, got nan",
        id="nan-passes-no-range",
    ),
    pytest.param(
        "data:\n  paired: {test_fraction: .inf}\n",
        "data.paired",
        "data.paired.test_fraction: expected a finite number, got inf",
        id="infinite-number",
    ),
    pytest.param(
        TRAIN.replace("pix2pix: {epochs: 2}", "pix2pix: {}"),
        "train.pix2pix",
        "train.pix2pix.epochs: missing; expected int",
        id="missing-required-key",
    ),
    pytest.param(
        "data:\n  paired: {size: 64}\n",
        "data.paired",
        "data.paired.size: unknown key; data.paired accepts: ",
        id="unknown-key",
    ),
    pytest.param(
        TRAIN + "  wgan: {epochs: 1}\n",
        "train.gan",
        "train.wgan: unknown model; train accepts: gan, cgan, dcgan, pix2pix, cyclegan",
        id="unknown-model",
    ),
    pytest.param(
        "data:\n  unpaired: {name: horse2tiger}\n",
        "data.unpaired",
        "data.unpaired.name: 'horse2tiger' is not one of 'synthetic-daynight', ",
        id="unknown-choice",
    ),
    pytest.param(
        "data:\n  paired: {image_size: 48}\n",
        "data.paired",
        "data.paired.image_size: 48 is not one of 32, 64, 128, 256",
        id="image-size-48",
    ),
    pytest.param(
        "data:\n  unpaired: {image_size: 64.0}\n",
        "data.unpaired",
        "data.unpaired.image_size: 64.0 is not one of 32, 64, 128, 256",
        id="image-size-as-float",
    ),
    pytest.param(
        TRAIN.replace("pix2pix: {epochs: 2}", "pix2pix: {epochs: 2, patch: true}"),
        "train.pix2pix",
        "train.pix2pix.patch: True is not one of 'pixel', 16, 70, 286",
        id="choice-as-bool",
    ),
    pytest.param(
        "data:\n  paired: {name: facades, sha256: abc}\n",
        "data.paired",
        "data.paired.sha256: 'abc' is not 64 hexadecimal digits (or empty)",
        id="sha256-too-short",
    ),
    pytest.param(
        f"data:\n  mnist: {{source: keras, sha256: {'g' * 64}}}\n",
        "data.mnist",
        f"data.mnist.sha256: '{'g' * 64}' is not 64 hexadecimal digits",
        id="sha256-not-hex",
    ),
    pytest.param(
        TRAIN.replace("dcgan: {epochs: 2,", "dcgan: {epochs: 2, mismatch_weight: 1.0,"),
        "train.dcgan",
        "train.dcgan.mismatch_weight: 1.0 needs labels to mismatch; only cgan has them "
        "(set it to 0.0)",
        id="key-of-another-model",
    ),
    pytest.param(
        STYLE.replace("name: dog", "name: cat"),
        "style",
        "style.pairs[1].name: 'cat' is already the name of style.pairs[0]; give each pair its "
        "own name",
        id="style-duplicate-name",
    ),
    pytest.param(
        STYLE.replace("name: dog", "name: ../dog"),
        "style",
        "style.pairs[1].name: '../dog' is not a plain file name; use letters, digits",
        id="style-name-a-path",
    ),
    pytest.param(
        "style:\n  pairs: []\n",
        "style",
        "style.pairs: empty; give at least one pair",
        id="style-no-pairs",
    ),
    pytest.param(
        STYLE.replace(', style: "skimage:rocket"', ""),
        "style",
        "style.pairs[1].style: missing; expected str",
        id="style-pair-without-style",
    ),
    pytest.param(
        "style:\n  style_layers: {block1_conv1: -0.5}\n",
        "style",
        "style.style_layers.block1_conv1: must be at least 0, got -0.5",
        id="style-negative-layer-weight",
    ),
    pytest.param(
        "data:\n  paired: [64]\n",
        "data.paired",
        "data.paired: expected a mapping of keys, got [64]",
        id="section-not-a-mapping",
    ),
    pytest.param(
        "seed: 1\ndata:\n  mnist: {}\nseed: 2\n",
        "seed",
        "key 'seed' is given twice (lines 1 and 4): keep one",
        id="key-given-twice",
    ),
    pytest.param(
        "seed: 4294967296\n", "seed", "seed: must be at most 2147483647", id="seed-too-large"
    ),
]


@pytest.mark.parametrize(("text", "what", "message"), PARAMS_CASES)
def test_bad_params_are_refused_by_key(tmp_path, text, what, message):
    path = tmp_path / "params.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(ConfigError) as err:
        load(what, path)
    assert message in str(err.value)


# (raw section given to build at a path, the message): how `condgen stylize` builds its options.
BUILD_CASES = [
    pytest.param(StyleConfig, {"steps": 0}, "", "steps: must be at least 1, got 0", id="steps-0"),
    pytest.param(
        StyleConfig,
        {"optimizer": "sgd"},
        "",
        "optimizer: 'sgd' is not one of 'adam', 'lbfgs'",
        id="unknown-optimizer",
    ),
    pytest.param(
        PairedDataConfig,
        {"max_train_images": -1},
        "data.paired",
        "data.paired.max_train_images: must be at least 0, got -1",
        id="negative-count",
    ),
]


@pytest.mark.parametrize(("cls", "raw", "at", "message"), BUILD_CASES)
def test_bad_values_built_directly_are_refused_by_key(cls, raw, at, message):
    with pytest.raises(ConfigError) as err:
        build(cls, raw, at)
    assert message in str(err.value)


def test_the_project_params_still_load():
    for what in ("data.mnist", "data.paired", "data.unpaired", "style", "seed", "train.cgan"):
        load(what, ROOT / "params.yaml")


# The prepare stage in a child process, as DVC runs it, in a copy holding only params.yaml:
# it must exit 2 with one `error:` line naming the key or file, and write nothing.
STAGE_CASES = [
    pytest.param(
        "pix2pix",
        "data:\n  paired: {image_size: 64.0}\n",
        "error: data.paired.image_size: 64.0 is not one of 32, 64, 128, 256",
        id="image-size-as-float",
    ),
    pytest.param(
        "pix2pix",
        "data:\n  paired: {name: folder}\n",
        "error: data.paired.folder: '' is not a folder; set it to a folder of side-by-side",
        id="folder-source-without-folder",
    ),
    pytest.param(
        "cyclegan",
        "data:\n  unpaired: {name: folder, folder: '{images}', test_fraction: .nan}\n",
        "error: data.unpaired.test_fraction: expected a finite number, got nan",
        id="nan-fraction",
    ),
    pytest.param(
        "pix2pix",
        "data:\n  paired: {name: folder, folder: '{images}', image_size: 32}\n",
        "error: 1 paired image(s) cannot be used (fix or remove them, then run the stage again)"
        ":\n  - {images}/notes.txt is not an image Pillow can read (UnidentifiedImageError): "
        "remove it or replace it",
        id="non-image-in-folder",
    ),
]


@pytest.mark.parametrize(("family", "text", "message"), STAGE_CASES)
def test_the_prepare_stage_refuses_before_writing_anything(tmp_path, family, text, message):
    images = tmp_path / "images"
    for sub in ("", "trainA", "trainB"):
        (images / sub).mkdir(exist_ok=True)
        for i in range(3):
            (images / sub / f"{i}.png").write_bytes(PAIR)
    (images / "notes.txt").write_text("not an image")
    project = tmp_path / "project"
    project.mkdir()
    (project / "params.yaml").write_text("seed: 0\n" + text.replace("{images}", str(images)))
    # The child imports the same condgen as this test process.
    src = str(Path(condgen.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    stage = subprocess.run(
        [sys.executable, "-m", "condgen.stages.prepare", family],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert stage.returncode == 2, stage.stderr
    assert message.replace("{images}", str(images)) in stage.stderr
    assert "Traceback" not in stage.stderr
    assert everything_under(project) == ["params.yaml"]  # no data/, no raw downloads


# --- data folders and files ------------------------------------------------------------------


def prepare_folder(family: str, root: Path, out: Path) -> None:
    """The family's prepare on a folder source, with the section built by the params checker."""
    if family == "paired":
        config = build(
            PairedDataConfig,
            {"name": "folder", "folder": str(root), "image_size": 32},
            "data.paired",
        )
        paired.prepare(config, 0, out, out.parent / "raw")
    else:
        config = build(
            UnpairedDataConfig,
            {"name": "folder", "folder": str(root), "image_size": 32},
            "data.unpaired",
        )
        unpaired.prepare(config, 0, out, out.parent / "raw")


# (family, files under the folder: path -> bytes or None for a folder, the message with {root})
FOLDER_CASES = [
    pytest.param(
        "paired",
        {"1.png": PAIR, "2.png": PAIR, "notes.txt": b"a stray file"},
        "{root}/notes.txt is not an image Pillow can read (UnidentifiedImageError): remove it or "
        "replace it",
        id="paired-non-image",
    ),
    pytest.param(
        "paired",
        {"1.png": PAIR, "2.png": PAIR, "odd.png": png_bytes(65, 32)},
        "{root}/odd.png is 65 px wide; a side-by-side pair needs an even width (A | B): crop one "
        "column",
        id="paired-odd-width",
    ),
    pytest.param(
        "paired",
        {"1.png": PAIR, "2.png": PAIR, "square.png": SQUARE},
        "{root}/square.png is 32x32 px, not a side-by-side pair (A | B), which is about twice as "
        "wide as high: join A and B side by side, or remove it",
        id="paired-square",
    ),
    pytest.param(
        "paired",
        {"1.png": PAIR, "2.png": PAIR, "cut.png": PAIR[: len(PAIR) // 2]},
        "{root}/cut.png is not an image Pillow can read (OSError): remove it or replace it",
        id="paired-truncated-png",
    ),
    pytest.param(
        "paired",
        {"1.png": PAIR, "2.png": PAIR, "empty.jpg": b""},
        "{root}/empty.jpg is not an image Pillow can read (UnidentifiedImageError)",
        id="paired-empty-file",
    ),
    pytest.param(
        "paired",
        {},
        "{root} holds 0 image(s) and no train/ folder; at least 2 are needed to make a train and "
        "a test split",
        id="paired-empty-folder",
    ),
    pytest.param(
        "paired",
        None,
        "data.paired.folder: '{root}' is not a folder; set it to a folder of side-by-side A|B "
        "images",
        id="paired-missing-folder",
    ),
    pytest.param(
        "paired",
        {"train/1.png": PAIR},
        "{root} has train/ but no test/ (or val/) folder: add one",
        id="paired-train-without-test",
    ),
    pytest.param(
        "unpaired",
        {"trainA/1.png": SQUARE, "trainA/2.png": SQUARE},
        "{root} has no trainB/ folder: put the images of domain A in trainA/ and those of "
        "domain B in trainB/",
        id="unpaired-missing-trainB",
    ),
    pytest.param(
        "unpaired",
        {"trainA/1.png": SQUARE, "trainA/2.png": SQUARE, "trainB": None},
        "{root}/trainB holds no images: add the images of domain B",
        id="unpaired-empty-trainB",
    ),
    pytest.param(
        "unpaired",
        {
            "trainA/1.png": SQUARE,
            "trainA/cut.png": SQUARE[:40],
            "trainB/1.png": SQUARE,
            "trainB/2.png": SQUARE,
        },
        "{root}/trainA/cut.png is not an image Pillow can read",
        id="unpaired-truncated-png",
    ),
    pytest.param(
        "unpaired",
        {"trainA/1.png": SQUARE, "trainB/1.png": SQUARE, "testA/1.png": SQUARE},
        "{root} has testA/ but no testB/: add testB/, or remove testA/",
        id="unpaired-testA-without-testB",
    ),
]


@pytest.mark.parametrize(("family", "files", "message"), FOLDER_CASES)
def test_bad_folders_are_named_and_nothing_is_prepared(tmp_path, family, files, message):
    root = tmp_path / "images"
    if files is not None:
        root.mkdir()
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if content is None:
                path.mkdir()
            else:
                path.write_bytes(content)
    out = tmp_path / "out"
    with pytest.raises(DataError) as err:
        prepare_folder(family, root, out)
    assert message.replace("{root}", str(root)) in str(err.value)
    assert not out.exists() and not (tmp_path / "raw").exists()


def foreign_npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, x=np.zeros(3))
    return buffer.getvalue()


def npz_with_a_bad_byte() -> bytes:
    """The arrays a prepared paired split holds, with one byte of ``a``'s data flipped."""
    buffer = io.BytesIO()
    np.savez(buffer, a=np.arange(1000, dtype=np.uint8), b=np.zeros(3, np.uint8))
    raw = bytearray(buffer.getvalue())
    raw[400] ^= 0xFF
    return bytes(raw)


# (load_split of a family, the file's bytes or None for no file, the message after the path)
NPZ_CASES = [
    pytest.param(
        paired.load_split,
        None,
        " not found: run `dvc repro prepare_paired` first",
        id="paired-missing",
    ),
    pytest.param(
        unpaired.load_split,
        b"this is not an npz",
        " is not a readable npz (not a zip archive); run `dvc repro prepare_unpaired` again",
        id="unpaired-not-a-zip",
    ),
    pytest.param(
        mnist.load_split,
        foreign_npz(),
        " has no array 'images': it is not what prepare_mnist writes; run `dvc repro "
        "prepare_mnist` again",
        id="mnist-foreign-arrays",
    ),
    pytest.param(
        paired.load_split,
        foreign_npz()[:-30],
        " is not a readable npz (not a zip archive); run `dvc repro prepare_paired` again",
        id="paired-truncated",
    ),
    pytest.param(
        paired.load_split,
        npz_with_a_bad_byte(),
        " is not a readable npz (Bad CRC-32 for file 'a.npy'); run `dvc repro prepare_paired` "
        "again",
        id="paired-corrupt-member",
    ),
]


@pytest.mark.parametrize(("load_split", "content", "message"), NPZ_CASES)
def test_a_missing_or_corrupt_prepared_split_says_which_stage_to_run(
    tmp_path, load_split, content, message
):
    path = tmp_path / "train.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError) as err:
        load_split(path)
    assert f"{path}{message}" in str(err.value)
    assert "allow_pickle" not in str(err.value)  # NumPy's advice is no fix for a broken file


# --- archives --------------------------------------------------------------------------------


def tar_gz(*members: tarfile.TarInfo, data: bytes = b"fine") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        ok = tarfile.TarInfo("data/ok.txt")
        ok.size = len(data)
        tar.addfile(ok, io.BytesIO(data))
        for member in members:
            tar.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    return buffer.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    if kind == tarfile.REGTYPE:
        info.size = 6
    return info


def zip_with_symlink(name: str, target: str) -> bytes:
    import stat

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("data/ok.txt", b"fine")
        info = zipfile.ZipInfo(name)
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, target)
    return buffer.getvalue()


def zip_file_and_folder() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("data/a", b"a file")
        zf.writestr("data/a/b.txt", b"and a folder of the same name")
    return buffer.getvalue()


def truncated_tar_gz() -> bytes:
    payload = tar_gz(data=np.random.default_rng(0).bytes(40_000))
    return payload[: len(payload) // 2]


# (archive file name, its bytes, the message after the archive's path)
ARCHIVE_CASES = [
    pytest.param(
        "data.tar.gz",
        tar_gz(member("data/../../evil.txt")),
        ": refused member 'data/../../evil.txt': its '..' would place it outside the target",
        id="dotdot-member",
    ),
    pytest.param(
        "data.tar.gz",
        tar_gz(member("/tmp/evil.txt")),
        ": refused member '/tmp/evil.txt': it has an absolute path",
        id="absolute-member",
    ),
    pytest.param(
        "data.tar.gz",
        tar_gz(member("data/link", tarfile.SYMTYPE, "../../etc")),
        ": refused member 'data/link': symlink to '../../etc' points outside the target folder",
        id="tar-symlink-escaping",
    ),
    pytest.param(
        "data.zip",
        zip_with_symlink("data/link", "../../etc/passwd"),
        ": refused member 'data/link': symlink to '../../etc/passwd' points outside",
        id="zip-symlink-escaping",
    ),
    pytest.param(
        "data.tar.gz",
        tar_gz(member("data/tty", tarfile.CHRTYPE)),
        ": refused member 'data/tty': it is a device file or FIFO, not a regular file or folder",
        id="device-file",
    ),
    pytest.param(
        "data.tar.gz",
        truncated_tar_gz(),
        " is corrupt or truncated (",
        id="truncated-tar-gz",
    ),
    pytest.param(
        "data.tar.gz",
        tar_gz(member("data/ok.txt/inner.txt")),
        ": member 'data/ok.txt/inner.txt' clashes with a file or folder of the same name",
        id="tar-file-and-folder",
    ),
    pytest.param(
        "data.zip",
        zip_file_and_folder(),
        ": member 'data/a/b.txt' clashes with a file or folder of the same name",
        id="zip-file-and-folder",
    ),
    pytest.param(
        "data.rar",
        b"Rar!\x1a\x07\x00",
        ": unknown archive type; expected one of .tar.gz, .tgz, .tar",
        id="unknown-suffix",
    ),
]


@pytest.mark.parametrize(("name", "payload", "message"), ARCHIVE_CASES)
def test_unsafe_or_broken_archives_are_refused_with_nothing_left(tmp_path, name, payload, message):
    workdir = tmp_path / "raw"
    workdir.mkdir()
    path = workdir / name
    path.write_bytes(payload)
    with pytest.raises(ArchiveError) as err:
        archive.extract(path, workdir / "extracted")
    assert f"{path}{message}" in str(err.value)
    if "corrupt" in message:
        assert "Delete it and run the stage again" in str(err.value)
    # Only the archive remains: no extraction, no temporary folder, nothing outside.
    assert everything_under(workdir) == [name]
    assert not list(tmp_path.rglob("evil.txt"))


# --- command-line arguments ------------------------------------------------------------------


@pytest.fixture()
def inputs(tmp_path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.png").write_bytes(SQUARE)
    (folder / "tiny.png").write_bytes(png_bytes(1, 1))
    (folder / "huge.png").write_bytes(HUGE)
    (folder / "notes.png").write_text("not an image")
    (folder / "empty.png").write_bytes(b"")
    return folder


GRID = ["-o", "{in}/grid.png"]

# (argv with {in} for the inputs folder, a message on stderr); every one exits with status 2.
CLI_CASES = [
    pytest.param(
        ["generate", "--model", "wgan", *GRID],
        "argument --model: invalid choice: 'wgan' (choose from 'gan', 'cgan', 'dcgan')",
        id="unknown-model",
    ),
    pytest.param(
        ["generate", "--model", "cgan", "--label", "3", "-n", "0", *GRID],
        "condgen: error: -n 0: ask for 1 to 256 images",
        id="n-0",
    ),
    pytest.param(
        ["generate", "--model", "cgan", "--label", "3", "-n", "1000", *GRID],
        "condgen: error: -n 1000: ask for 1 to 256 images",
        id="n-1000",
    ),
    pytest.param(
        ["generate", "--model", "cgan", "--label", "12", *GRID],
        "condgen: error: --label 12: labels are the digits 0-9",
        id="label-12",
    ),
    pytest.param(
        ["generate", "--model", "cgan", *GRID],
        "condgen: error: --label is required for the cgan model (a digit 0-9)",
        id="conditional-without-label",
    ),
    pytest.param(
        ["generate", "--model", "gan", "--label", "3", *GRID],
        "condgen: error: --label only applies to cgan; gan is unconditional",
        id="label-for-unconditional",
    ),
    pytest.param(
        ["generate", "--model", "gan", "--seed", "-5", *GRID],
        "condgen: error: --seed -5: give 0 to 4294967280 (the 16 images take the seeds from it on)",
        id="negative-seed",
    ),
    pytest.param(
        ["generate", "--model", "gan", "--cols", "-1", *GRID],
        "condgen: error: --cols -1: give 1 or more images per row",
        id="negative-cols",
    ),
    pytest.param(
        ["generate", "--model", "gan", "--scale", "0", *GRID],
        "condgen: error: --scale 0: give 1 to 16",
        id="scale-0",
    ),
    pytest.param(
        ["generate", "--model", "gan", "-o", "{in}/grid.foo"],
        "condgen: error: -o {in}/grid.foo: .foo is not an image type; end it in .png",
        id="output-unknown-type",
    ),
    pytest.param(
        ["generate", "--model", "gan", "-o", "{in}"],
        "condgen: error: -o {in}: is a folder; give a file name such as {in}/out.png",
        id="output-a-folder",
    ),
    pytest.param(
        ["translate", "{in}/missing.png", "--model", "pix2pix"],
        "condgen: error: {in}/missing.png: no such file",
        id="translate-missing-file",
    ),
    pytest.param(
        ["translate", "{in}/notes.png", "--model", "pix2pix"],
        "condgen: error: {in}/notes.png is not an image file Pillow can read "
        "(UnidentifiedImageError); give a PNG or JPEG file",
        id="translate-non-image",
    ),
    pytest.param(
        ["translate", "{in}/empty.png", "--model", "pix2pix"],
        "condgen: error: {in}/empty.png is not an image file Pillow can read",
        id="translate-empty-file",
    ),
    pytest.param(
        ["translate", "{in}/tiny.png", "--model", "pix2pix"],
        "condgen: error: {in}/tiny.png is 1x1 px; give at least 16 px a side",
        id="translate-1x1",
    ),
    pytest.param(
        ["translate", "{in}/huge.png", "--model", "pix2pix"],
        "condgen: error: {in}/huge.png is 10000x10000 px; shrink it to at most 4096 px a side",
        id="translate-huge-header",
    ),
    pytest.param(
        ["translate", "{in}/ok.png", "--model", "cyclegan"],
        "condgen: error: cyclegan translates both ways: add --direction a2b or b2a",
        id="cyclegan-without-direction",
    ),
    pytest.param(
        ["translate", "{in}/ok.png", "--model", "pix2pix", "--direction", "a2b"],
        "condgen: error: pix2pix translates one way only: leave out --direction",
        id="pix2pix-with-direction",
    ),
    pytest.param(
        ["translate", "{in}/ok.png", "--model", "pix2pix", "--seed", "-1"],
        "condgen: error: --seed -1: give 0 to 4294967295",
        id="translate-negative-seed",
    ),
    pytest.param(
        ["translate", "{in}/ok.png", "--model", "pix2pix", "-o", "{in}/ok.png/out.png"],
        "condgen: error: -o {in}/ok.png/out.png: {in}/ok.png is a file, not a folder",
        id="output-under-a-file",
    ),
]


def refusal(argv: list[str], capsys) -> str:
    """Run ``condgen argv``; it must stop with exit code 2. Returns what it wrote to stderr."""
    from condgen import cli

    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), CLI_CASES)
def test_bad_cli_arguments_exit_2_before_any_model_is_loaded(
    inputs, monkeypatch, capsys, argv, message
):
    from condgen import cli

    def no_model(*args):
        raise AssertionError("a model was asked for, but the arguments were bad")

    monkeypatch.setattr(cli, "_predict_local", no_model)
    monkeypatch.setattr(cli, "_predict_http", no_model)
    before = everything_under(inputs)
    err = refusal([a.replace("{in}", str(inputs)) for a in argv], capsys)
    assert message.replace("{in}", str(inputs)) in err
    assert everything_under(inputs) == before  # no output written


@pytest.mark.parametrize(
    ("layout", "argv", "message"),
    [
        pytest.param(
            {}, ["models"], "no condgen project at or above {in} (no dvc.yaml)", id="no-project"
        ),
        pytest.param(
            {"dvc.yaml": "stages: {}\n"},
            ["models"],
            "{in} has no mlflow.db yet: run `make pipeline`",
            id="project-before-its-pipeline",
        ),
        pytest.param(
            {},
            ["generate", "--model", "gan", "-o", "{in}/grid.png"],
            "no condgen project at or above {in}",
            id="generate-outside-a-project",
        ),
        pytest.param(
            {"dvc.yaml": "stages: {}\n"},
            ["serve", "--model", "gan"],
            "{in} has no mlflow.db yet",
            id="serve-before-the-pipeline",
        ),
        pytest.param(
            {}, ["serve", "--model", "gan", "--port", "70000"], "between 1 and 65535", id="port"
        ),
    ],
)
def test_registry_commands_outside_a_project_create_no_store(
    tmp_path, monkeypatch, capsys, layout, argv, message
):
    """MLflow would create an empty mlflow.db wherever the command runs and answer "no
    champion"; the command says where it looked instead."""
    for name, text in layout.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    for var in ("MLFLOW_TRACKING_URI", "CONDGEN_ROOT"):
        monkeypatch.delenv(var, raising=False)
    err = refusal([a.replace("{in}", str(tmp_path)) for a in argv], capsys)
    assert message.replace("{in}", str(tmp_path)) in err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(layout)


def test_serve_on_a_busy_port_says_so_before_loading_anything(tmp_path, monkeypatch, capsys):
    import socket

    monkeypatch.chdir(tmp_path)  # no project: the port is checked first
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        err = refusal(["serve", "--model", "cgan", "--port", str(port)], capsys)
    assert f"--port {port}: cannot listen on 127.0.0.1:{port} (Address already in use)" in err
    assert "choose another with --port" in err


def test_version(capsys):
    from importlib.metadata import version

    from condgen import cli

    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out == f"condgen {version('condgen')}\n"


def heavy_imports_of(argv: list[str]) -> subprocess.CompletedProcess:
    """Run ``condgen argv`` in a fresh interpreter; its stdout ends with the heavy modules it
    imported."""
    code = (
        "import sys\n"
        "from condgen import cli\n"
        "try:\n"
        f"    cli.main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'mlflow') if m in sys.modules))\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_help_imports_neither_tensorflow_nor_mlflow_and_writes_nothing_to_stderr():
    """``condgen --help`` comes before the heavy imports."""
    result = heavy_imports_of(["--help"])
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "usage: condgen" in result.stdout and result.stdout.endswith("[]\n"), result.stdout


def test_every_cli_option_says_what_it_is_and_its_default():
    import argparse

    from condgen import cli

    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"condgen {name} {action.dest}: no help"
            has_default = action.default not in (None, False) and not action.required
            if has_default and action.option_strings:
                assert "default" in action.help, f"condgen {name} {action.dest}: no default"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["generate", "--model", "cgan", "--label", "11", "-o", "{tmp}/x.png"], "--label 11"),
        (["generate", "--model", "cgan", "-n", "0", "-o", "{tmp}/x.png"], "-n 0"),
        (["translate", "--model", "pix2pix", "{tmp}/none.png", "-o", "{tmp}/y.png"], "no such"),
        (["serve", "--model", "gan", "--port", "70000"], "between 1 and 65535"),
        (["models", "nosuch"], "invalid choice: 'nosuch'"),
        (["stylize", "{tmp}/none.png", "skimage:coffee", "-o", "{tmp}/o.png"], "no such"),
    ],
    ids=["label", "count", "missing-image", "port", "model", "style-image"],
)
def test_argument_errors_come_before_tensorflow_and_mlflow_are_imported(tmp_path, argv, message):
    """A typo costs a fraction of a second, not the seconds of the heavy imports."""
    result = heavy_imports_of([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert message in result.stderr, result.stderr
    assert result.stdout.endswith("[]\n"), result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_stylize_refuses_a_bad_file_before_tensorflow_is_imported(tmp_path):
    notes = tmp_path / "notes.png"
    notes.write_text("a shopping list")
    result = heavy_imports_of(
        ["stylize", str(notes), "skimage:coffee", "-o", str(tmp_path / "o.png")]
    )
    assert "notes.png is not an image Pillow can read" in result.stderr, result.stderr
    assert result.stdout.endswith("[]\n"), result.stdout
    assert not (tmp_path / "o.png").exists()


def test_tensorflow_start_up_lines_are_filtered_and_other_stderr_kept():
    """The start-up lines TensorFlow writes before its log settings apply are dropped when it is
    imported; what the program itself writes to stderr stays."""
    code = (
        "import sys\n"
        "from condgen.core.runtime import quiet_tensorflow\n"
        "quiet_tensorflow()\n"
        "print('before', file=sys.stderr, flush=True)\n"
        "import tensorflow as tf\n"
        "tf.constant(1.0) + 1.0\n"
        "print('after', file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "before\nafter\n", result.stderr


@pytest.mark.parametrize(
    ("line", "noise"),
    [
        (
            "WARNING: All log messages before absl::InitializeLog() is called are written to "
            "STDERR",
            True,
        ),
        (
            "I0000 00:00:1796069717.059052   27280 port.cc:153] oneDNN custom operations are on.",
            True,
        ),
        (
            "I0000 00:00:1796069717.060276   27280 cudart_stub.cc:31] Could not find cuda drivers",
            True,
        ),
        (
            "E0000 00:00:1796069653.358646   27084 cuda_platform.cc:52] failed call to cuInit: "
            "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
            True,
        ),
        ("E0000 00:00:1796069653.358646   27084 some_op.cc:52] a real error", False),
        ("Traceback (most recent call last):", False),
        ("UserWarning: something the user can act on", False),
    ],
)
def test_start_up_noise_is_told_from_real_messages(line, noise):
    from condgen.core import runtime

    if "cuInit" in line and Path("/proc/driver/nvidia/version").exists():
        noise = False  # with a driver, cuInit's failure is news
    assert runtime._startup_noise(line) is noise


# --- serving requests ------------------------------------------------------------------------

GOOD_IMAGE = base64.b64encode(SQUARE).decode()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# (parser, the request's columns, a message naming the row and what is allowed)
REQUEST_CASES = [
    pytest.param(
        "cgan",
        {"label": [3, 12]},
        "row 1: label 12 is out of range; labels are the digits 0-9",
        id="label-12",
    ),
    pytest.param(
        "cgan",
        {"label": [2.5]},
        "row 0: label 2.5 is not a whole number; labels are the digits 0-9",
        id="label-fraction",
    ),
    pytest.param(
        "cgan",
        {"label": [3.0, float("nan")]},
        "row 1: label nan is not a whole number; labels are the digits 0-9",
        id="label-nan",
    ),
    pytest.param(
        "cgan",
        {"label": [float("inf")]},
        "row 0: label inf is not a whole number; labels are the digits 0-9",
        id="label-inf",
    ),
    pytest.param(
        "cgan",
        {"label": ["x"]},
        "row 0: label 'x' is not a number; labels are the digits 0-9",
        id="label-text",
    ),
    pytest.param(
        "cgan",
        {"label": [True]},
        "row 0: label True is not a number; labels are the digits 0-9",
        id="label-bool",
    ),
    pytest.param(
        "gan",
        {"seed": [-1]},
        "row 0: seed -1 is out of range; seeds are 0 to 4294967295",
        id="seed-negative",
    ),
    pytest.param(
        "cgan",
        {"label": [1, 2], "seed": [0, 2**40]},
        "row 1: seed 1099511627776 is out of range; seeds are 0 to 4294967295",
        id="seed-2-to-the-40",
    ),
    pytest.param(
        "gan",
        {"seed": list(range(257))},
        "the request has 257 rows; send at most 256",
        id="too-many-rows",
    ),
    pytest.param("cgan", {"label": []}, "the request has no rows; send at least one", id="no-rows"),
    pytest.param(
        "cgan",
        {"label": [1], "colour": ["red"]},
        "unknown field 'colour'; this model takes label, seed",
        id="unknown-field",
    ),
    pytest.param(
        "gan",
        {"seed": [1], "label": [3]},
        "unknown field 'label'; this model takes seed",
        id="label-for-unconditional",
    ),
    pytest.param(
        "image",
        {"image": [b64(HUGE)]},
        "row 0: image is 10000x10000 px; shrink it to at most 4096 px a side first",
        id="huge-image-header",
    ),
    pytest.param(
        "image",
        {"image": [GOOD_IMAGE, b64(png_bytes(1, 1))]},
        "row 1: image is 1x1 px; give at least 16 px a side",
        id="image-1x1",
    ),
    pytest.param(
        "image",
        {"image": ["%%% not base64"]},
        "row 0: image is not valid base64",
        id="not-base64",
    ),
    pytest.param(
        "image",
        {"image": [b64(b"plain text, not an image")]},
        "row 0: image is not an image file Pillow can read (UnidentifiedImageError); send a "
        "base64-encoded PNG or JPEG",
        id="not-an-image",
    ),
    pytest.param(
        "image",
        {"image": [b64(SQUARE[: len(SQUARE) - 20])]},
        "row 0: image is not an image file Pillow can read",
        id="truncated-png",
    ),
    pytest.param(
        "image",
        {"image": [GOOD_IMAGE], "seed": [-3]},
        "row 0: seed -3 is out of range; seeds are 0 to 4294967295",
        id="image-seed-negative",
    ),
    pytest.param(
        "cyclegan",
        {"image": [GOOD_IMAGE, GOOD_IMAGE], "direction": ["a2b", "sideways"]},
        "row 1: direction 'sideways' is not one of a2b, b2a",
        id="unknown-direction",
    ),
]


def parse(kind: str, frame: pd.DataFrame):
    """The request parsers of each model kind, as the pyfunc wrappers call them."""
    if kind in ("gan", "cgan"):
        return parse_rows(frame, conditional=kind == "cgan")
    if kind == "cyclegan":
        return parse_image_rows(frame, {"direction": ("a2b", "b2a")}, seeded=False)
    return parse_image_rows(frame)


@pytest.mark.parametrize(("kind", "columns", "message"), REQUEST_CASES)
def test_bad_requests_name_the_row_and_what_is_allowed(kind, columns, message):
    with pytest.raises(RequestError) as err:
        parse(kind, pd.DataFrame(columns))
    assert message in str(err.value)
