"""Paired data: downloads over a local HTTP server, safe extraction, user folders, tf.data."""

import dataclasses
import hashlib
import io
import os
import stat
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

from condgen.core import archive
from condgen.core.archive import ArchiveError
from condgen.core.download import DownloadError
from condgen.core.images import jitter_size
from condgen.core.params import ConfigError, build
from condgen.pix2pix import data as paired
from condgen.pix2pix.config import PairedDataConfig
from tests.test_core_download import socket_closed_port

SIZE = 16  # every test image is a 16 x 32 pair: two 16 px squares side by side


def pair_image(seed: int, size: int = SIZE) -> Image.Image:
    """A side-by-side pair: A = smooth random colours on the left, B = its negative on the right."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    a = np.asarray(Image.fromarray(coarse).resize((size, size), Image.Resampling.BILINEAR))
    return Image.fromarray(np.concatenate([a, 255 - a], axis=1))


def jpeg_bytes(seed: int) -> bytes:
    buffer = io.BytesIO()
    pair_image(seed).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def pix2pix_members(name: str, splits: dict[str, int]) -> dict[str, bytes]:
    """Archive members in the pix2pix layout: ``<name>/<split>/<i>.jpg``."""
    members, seed = {}, 0
    for split, count in splits.items():
        for i in range(1, count + 1):
            members[f"{name}/{split}/{i}.jpg"] = jpeg_bytes(seed)
            seed += 1
    return members


def tar_gz(members: dict[str, bytes], extra=()) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return buffer.getvalue()


def files_under(folder):
    """Every file and folder below ``folder`` (relative paths), hidden ones included."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def remote_config(url: str, payload: bytes, **overrides) -> PairedDataConfig:
    values = {
        "name": "facades",
        "image_size": SIZE,
        "url": url,
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    return PairedDataConfig(**{**values, **overrides})


# --- downloads -------------------------------------------------------------------------------


def test_download_extract_prepare_and_direction(file_server, tmp_path):
    served, url = file_server
    payload = tar_gz(pix2pix_members("facades", {"train": 3, "val": 1, "test": 2}))
    (served / "facades.tar.gz").write_bytes(payload)
    config = remote_config(f"{url}/facades.tar.gz", payload)
    raw = tmp_path / "raw"

    summary = paired.prepare(config, 0, tmp_path / "ab", raw)
    assert summary == {
        "source": "facades",
        "image_size": SIZE,
        "direction": "AtoB",
        "a": "photo",
        "b": "label map",
        "train": 3,
        "test": 2,  # test/ is preferred over val/
        "classes": [],  # downloads have no class maps
    }
    a, b = paired.load_split(tmp_path / "ab" / "train.npz")
    assert a.shape == b.shape == (3, SIZE, SIZE, 3) and a.dtype == np.uint8
    # B was drawn as the negative of A (up to JPEG's rounding).
    assert np.abs(a.astype(int) + b.astype(int) - 255).mean() < 6
    extracted = ["test", "test/1.jpg", "test/2.jpg", "train", "train/1.jpg", "train/2.jpg",
                 "train/3.jpg", "val", "val/1.jpg"]  # fmt: skip
    assert files_under(raw) == [
        ".facades.extracted",
        "facades",
        "facades.tar.gz",
        "facades/facades",
        *(f"facades/facades/{p}" for p in extracted),
    ]

    # BtoA swaps the halves; the verified archive is re-used without asking the server.
    (served / "facades.tar.gz").unlink()
    swapped = paired.prepare(
        remote_config(config.url, payload, direction="BtoA"), 0, tmp_path / "ba", raw
    )
    assert (swapped["a"], swapped["b"]) == ("label map", "photo")
    a2, b2 = paired.load_split(tmp_path / "ba" / "train.npz")
    np.testing.assert_array_equal(a2, b)
    np.testing.assert_array_equal(b2, a)


def test_val_split_is_the_test_split_when_there_is_no_test(file_server, tmp_path):
    served, url = file_server
    payload = tar_gz(pix2pix_members("edges2shoes", {"train": 4, "val": 2}))
    (served / "edges2shoes.tar.gz").write_bytes(payload)
    config = remote_config(
        f"{url}/edges2shoes.tar.gz", payload, name="edges2shoes", max_train_images=2
    )
    summary = paired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert (summary["train"], summary["test"]) == (2, 2)  # train capped, val used as test
    assert (summary["a"], summary["b"]) == ("edges", "shoe photo")


def test_zip_archive_downloads_and_prepares(file_server, tmp_path):
    served, url = file_server
    payload = zip_bytes(pix2pix_members("maps", {"train": 2, "val": 1}))
    (served / "maps.zip").write_bytes(payload)
    config = remote_config(f"{url}/maps.zip", payload, name="maps")
    summary = paired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert (summary["train"], summary["test"]) == (2, 1)


def test_checksum_mismatch_leaves_nothing_behind(file_server, tmp_path):
    served, url = file_server
    payload = tar_gz(pix2pix_members("facades", {"train": 2, "val": 1}))
    (served / "facades.tar.gz").write_bytes(payload)
    config = remote_config(f"{url}/facades.tar.gz", payload, sha256="0" * 64)
    with pytest.raises(DownloadError, match="checksum mismatch"):
        paired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert files_under(tmp_path / "raw") == []  # no archive, no extraction, no temp files
    assert not (tmp_path / "out").exists()


def test_archive_escaping_the_target_is_refused_with_nothing_left(file_server, tmp_path):
    served, url = file_server
    members = pix2pix_members("facades", {"train": 2, "val": 1})
    members["facades/../../evil.txt"] = b"gotcha"
    payload = tar_gz(members)
    (served / "facades.tar.gz").write_bytes(payload)
    config = remote_config(f"{url}/facades.tar.gz", payload)
    with pytest.raises(ArchiveError, match=r"refused member 'facades/\.\./\.\./evil\.txt'"):
        paired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    # Only the verified download remains: no extracted folder, no temp folder, nothing outside.
    assert files_under(tmp_path / "raw") == ["facades.tar.gz"]
    assert not list(tmp_path.rglob("evil.txt"))


def test_unpinned_archive_prints_its_hash_and_is_reused(file_server, tmp_path, capsys):
    served, url = file_server
    payload = tar_gz(pix2pix_members("night2day", {"train": 2, "test": 1}))
    (served / "night2day.tar.gz").write_bytes(payload)
    config = remote_config(f"{url}/night2day.tar.gz", payload, name="night2day", sha256="")
    paired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert hashlib.sha256(payload).hexdigest() in capsys.readouterr().err
    (served / "night2day.tar.gz").unlink()  # a second run does not need the server
    summary = paired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert (summary["a"], summary["b"], summary["test"]) == ("night photo", "day photo", 1)


def test_offline_error_says_how_to_work_without_network(tmp_path):
    with socket_closed_port() as port:
        config = PairedDataConfig(name="facades", url=f"http://127.0.0.1:{port}/facades.tar.gz")
        with pytest.raises(DownloadError, match="synthetic-facades"):
            paired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert files_under(tmp_path / "raw") == []


def test_catalog_urls():
    assert set(paired.CATALOG) == {
        "facades",
        "cityscapes",
        "maps",
        "edges2shoes",
        "edges2handbags",
        "night2day",
    }
    assert (
        paired.CATALOG["night2day"].url
        == "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/night2day.tar.gz"
    )


# --- extraction ------------------------------------------------------------------------------


def tar_info(name, kind, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (tar_info("/etc/evil", tarfile.REGTYPE), "absolute path"),
        (tar_info("data/../../evil", tarfile.REGTYPE), r"'\.\.'"),
        (tar_info("data/link", tarfile.SYMTYPE, "/etc/passwd"), "symlink to absolute"),
        (tar_info("data/link", tarfile.SYMTYPE, "../../outside"), "points outside"),
        (tar_info("data/hard", tarfile.LNKTYPE, "../outside"), "hard link.*points outside"),
        (tar_info("data/tty", tarfile.CHRTYPE), "device file"),
        (tar_info("data/fifo", tarfile.FIFOTYPE), "device file or FIFO"),
    ],
)
def test_unsafe_tar_members_are_refused(tmp_path, member, message):
    path = tmp_path / "bad.tar.gz"
    path.write_bytes(tar_gz({"data/ok.txt": b"fine"}, extra=[member]))
    with pytest.raises(ArchiveError, match=message) as err:
        archive.extract(path, tmp_path / "out")
    assert repr(member.name) in str(err.value) and str(path) in str(err.value)
    assert files_under(tmp_path) == ["bad.tar.gz"]


def test_safe_links_inside_the_archive_are_kept(tmp_path):
    path = tmp_path / "ok.tar"
    links = [
        tar_info("data/sub/link", tarfile.SYMTYPE, "../ok.txt"),
        tar_info("data/hard", tarfile.LNKTYPE, "data/ok.txt"),
    ]
    path.write_bytes(tar_gz({"data/ok.txt": b"fine"}, extra=links))
    out = archive.extract(path, tmp_path / "out")
    assert (out / "data/sub/link").read_text() == "fine"
    assert (out / "data/hard").read_text() == "fine"


@pytest.mark.parametrize(
    ("members", "symlinks", "message"),
    [
        ({"../evil.txt": b"x"}, None, r"'\.\./evil\.txt'.*outside"),
        ({"/abs.txt": b"x"}, None, "'/abs.txt'.*absolute"),
        ({"data\\..\\..\\evil.txt": b"x"}, None, "outside"),
        ({}, {"data/link": "../../etc/passwd"}, "'data/link'.*points outside"),
    ],
)
def test_unsafe_zip_members_are_refused(tmp_path, members, symlinks, message):
    path = tmp_path / "bad.zip"
    path.write_bytes(zip_bytes({"data/ok.txt": b"fine", **members}, symlinks))
    with pytest.raises(ArchiveError, match=message):
        archive.extract(path, tmp_path / "out")
    assert files_under(tmp_path) == ["bad.zip"]


@pytest.mark.parametrize(
    ("name", "build_archive"),
    [("data.tar.gz", tar_gz), ("data.zip", zip_bytes)],
)
def test_truncated_archive_is_a_clear_error(tmp_path, name, build_archive):
    rng = np.random.default_rng(0)
    members = {f"data/{i}.bin": rng.bytes(4000) for i in range(4)}
    payload = build_archive(members)
    path = tmp_path / name
    path.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(ArchiveError, match="corrupt or truncated.*Delete it") as err:
        archive.extract(path, tmp_path / "out")
    assert str(path) in str(err.value)
    assert files_under(tmp_path) == [name]


def test_failed_extraction_keeps_the_previous_one(tmp_path):
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    good.write_bytes(zip_bytes({"data/ok.txt": b"v1"}))
    bad.write_bytes(zip_bytes({"data/ok.txt": b"v2", "../evil": b"x"}))
    target = archive.extract(good, tmp_path / "out")
    with pytest.raises(ArchiveError):
        archive.extract(bad, target)
    assert (target / "data/ok.txt").read_text() == "v1"
    # A new good archive replaces the old extraction as a whole.
    good.write_bytes(zip_bytes({"data/new.txt": b"v3"}))
    archive.extract(good, target)
    assert files_under(target) == ["data", "data/new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.zip", "good.zip", "out"]


def test_unknown_archive_type_is_refused(tmp_path):
    path = tmp_path / "data.rar"
    path.write_bytes(b"Rar!")
    with pytest.raises(ArchiveError, match="unknown archive type"):
        archive.extract(path, tmp_path / "out")


# --- the user's folder -----------------------------------------------------------------------


def test_folder_problems_are_reported_together_by_name(tmp_path):
    pairs = tmp_path / "pairs"
    (pairs / "train").mkdir(parents=True)
    (pairs / "test").mkdir()
    pair_image(0).save(pairs / "train" / "1.png")
    (pairs / "train" / "12.jpg").write_bytes(b"this is not a JPEG")
    Image.new("RGB", (255, 128)).save(pairs / "train" / "3.png")
    Image.new("RGB", (128, 128)).save(pairs / "train" / "4.png")  # one picture, not a pair
    pair_image(1).save(pairs / "test" / "1.png")
    (pairs / "test" / "notes.txt").write_text("a stray file")
    (pairs / "test" / ".DS_Store").write_bytes(b"\0")  # hidden files are not data
    config = PairedDataConfig(name="folder", folder=str(pairs), image_size=SIZE)
    with pytest.raises(paired.PairedDataError) as err:
        paired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    message = str(err.value)
    assert "4 paired image(s) cannot be used" in message
    assert f"{pairs / 'train' / '12.jpg'} is not an image Pillow can read" in message
    assert "remove it or replace it" in message
    assert f"{pairs / 'test' / 'notes.txt'} is not an image" in message
    assert f"{pairs / 'train' / '3.png'} is 255 px wide" in message
    assert "crop one column" in message
    assert f"{pairs / 'train' / '4.png'} is 128x128 px, not a side-by-side pair" in message
    assert "1.png" not in message and ".DS_Store" not in message
    assert not (tmp_path / "out").exists()


def save_pair(path, left: np.ndarray, right: np.ndarray, mode: str | None = None) -> None:
    image = Image.fromarray(np.concatenate([left, right], axis=1))
    (image.convert(mode) if mode else image).save(path)


def test_image_modes_are_converted_to_rgb(tmp_path):
    folder = tmp_path / "pairs"
    folder.mkdir()
    gray = np.full((SIZE, SIZE), 100, np.uint8)
    save_pair(folder / "gray.png", gray, gray)
    # RGBA: transparent pixels become white, opaque ones keep their colour.
    clear = np.zeros((SIZE, SIZE, 4), np.uint8)
    opaque = np.zeros((SIZE, SIZE, 4), np.uint8)
    opaque[...] = (0, 0, 255, 255)
    save_pair(folder / "rgba.png", clear, opaque)
    # Palette image.
    palette = Image.new("P", (2 * SIZE, SIZE))
    palette.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    palette.paste(1, (SIZE, 0, 2 * SIZE, SIZE))
    palette.save(folder / "palette.png")
    # 16-bit grayscale: the full 0..65535 range maps to 0..255.
    deep = np.zeros((SIZE, 2 * SIZE), np.uint16)
    deep[:, SIZE:] = 65535
    deep[0, 0] = 32896
    Image.fromarray(deep).save(folder / "sixteen.png")
    assert Image.open(folder / "sixteen.png").mode.startswith("I")

    files = [folder / n for n in ("gray.png", "rgba.png", "palette.png", "sixteen.png")]
    a, b, problems = paired.read_pairs(files, SIZE, "AtoB")
    assert problems == []
    assert a.dtype == np.uint8 and a.shape == (4, SIZE, SIZE, 3)
    assert (a[0] == 100).all() and (b[0] == 100).all()
    assert (a[1] == 255).all() and (b[1] == (0, 0, 255)).all()
    assert (a[2] == (10, 20, 30)).all() and (b[2] == (200, 100, 50)).all()
    assert a[3, 0, 0].tolist() == [128] * 3 and (a[3, 1:] == 0).all() and (b[3] == 255).all()


def test_flat_folder_is_split_by_test_fraction_with_the_seed(tmp_path):
    folder = tmp_path / "pairs"
    folder.mkdir()
    for i in range(10):
        pair_image(i, 24).save(folder / f"{i}.jpg")
    config = PairedDataConfig(name="folder", folder=str(folder), image_size=SIZE, test_fraction=0.2)
    summary = paired.prepare(config, 5, tmp_path / "a", tmp_path / "raw")
    assert (summary["train"], summary["test"]) == (8, 2)
    train, test = paired.folder_splits(folder, 0.2, 5)
    assert (train, test) == paired.folder_splits(folder, 0.2, 5)
    assert not set(train) & set(test)
    assert paired.folder_splits(folder, 0.2, 6) != (train, test)
    capped = dataclasses.replace(config, max_train_images=3)
    assert paired.prepare(capped, 5, tmp_path / "b", tmp_path / "raw")["train"] == 3
    a, _ = paired.load_split(tmp_path / "a" / "train.npz")
    assert a.shape == (8, SIZE, SIZE, 3)  # 24 px halves resized to 16


def test_missing_folder_is_named(tmp_path):
    config = PairedDataConfig(name="folder", folder=str(tmp_path / "nowhere"))
    with pytest.raises(paired.PairedDataError, match="data.paired.folder: .*nowhere"):
        paired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    with pytest.raises(paired.PairedDataError, match="data.paired.folder: ''"):
        paired.prepare(PairedDataConfig(name="folder"), 0, tmp_path / "out", tmp_path / "raw")


# --- synthetic source and config --------------------------------------------------------------


def test_synthetic_prepare_is_seeded_and_swaps_direction(tmp_path):
    config = PairedDataConfig(image_size=32, num_train=3, num_test=2)
    summary = paired.prepare(config, 1, tmp_path / "a", tmp_path / "raw")
    assert (summary["train"], summary["test"], summary["a"]) == (3, 2, "label map")
    paired.prepare(config, 1, tmp_path / "b", tmp_path / "raw")
    swapped = PairedDataConfig(image_size=32, num_train=3, num_test=2, direction="BtoA")
    paired.prepare(swapped, 1, tmp_path / "c", tmp_path / "raw")
    a, b = paired.load_split(tmp_path / "a" / "test.npz")
    a2, b2 = paired.load_split(tmp_path / "b" / "test.npz")
    a3, b3 = paired.load_split(tmp_path / "c" / "test.npz")
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)
    np.testing.assert_array_equal(a3, b)
    np.testing.assert_array_equal(b3, a)
    train_a, _ = paired.load_split(tmp_path / "a" / "train.npz")
    assert not any((train_a == row).all(axis=(1, 2, 3)).any() for row in a)
    assert not list((tmp_path / "raw").glob("*"))  # nothing downloaded
    # The scene's class map comes with each pair: the label map's colours, as class indices.
    assert len(summary["classes"]) == 12
    classes = paired.load_classes(tmp_path / "a" / "test.npz")
    from condgen.facades.scenes import PALETTE

    np.testing.assert_array_equal(PALETTE[classes], a)
    np.testing.assert_array_equal(paired.load_classes(tmp_path / "c" / "test.npz"), classes)


def test_paired_config_checks_values():
    assert build(PairedDataConfig, {}, "data.paired").name == "synthetic-facades"
    with pytest.raises(
        ConfigError, match="data.paired.image_size: 16 is not one of 32, 64, 128, 256"
    ):
        build(PairedDataConfig, {"image_size": 16}, "data.paired")
    with pytest.raises(ConfigError, match="data.paired.name: 'horses' is not one of"):
        build(PairedDataConfig, {"name": "horses"}, "data.paired")
    with pytest.raises(ConfigError, match="data.paired.direction"):
        build(PairedDataConfig, {"direction": "AB"}, "data.paired")


def test_malformed_sha256_is_named(tmp_path):
    config = PairedDataConfig(name="facades", sha256="abc")
    with pytest.raises(paired.PairedDataError, match="data.paired.sha256"):
        paired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")


# --- tf.data ---------------------------------------------------------------------------------


def negated_pairs(count: int = 6, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Pairs where B is the negative of A, so any crop or mirror applied alike keeps b == -a."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (count, size, size, 3), dtype=np.uint8)
    return a, 255 - a


def batches(dataset, count: int):
    """The first ``count`` batches of an endless dataset."""
    return [(x.numpy(), y.numpy()) for x, y in dataset.take(count)]


def test_train_dataset_shapes_range_and_shared_jitter():
    import tensorflow as tf

    a, b = negated_pairs()
    dataset = paired.make_train_dataset(a, b, batch_size=4, seed=0)
    assert dataset.cardinality() == tf.data.INFINITE_CARDINALITY
    x, y = batches(dataset, 1)[0]
    assert x.shape == y.shape == (4, 32, 32, 3) and x.dtype == np.float32
    assert x.min() >= -1.0 and x.max() <= 1.0 and x.min() < -0.9 and x.max() > 0.9
    np.testing.assert_allclose(y, -x, atol=1e-6)  # the same crop and mirror for A and B
    # Jitter changed the images: none is a plain copy of a source image.
    sources = a.astype(np.float32) / 127.5 - 1
    assert not any(np.allclose(img, src) for img in x for src in sources)


def test_train_dataset_is_deterministic_per_seed_and_varies_per_pass():
    a, b = negated_pairs()

    def two_passes(seed):
        out = batches(paired.make_train_dataset(a, b, batch_size=2, seed=seed), 6)
        return out[:3], out[3:]  # 6 pairs in batches of 2: a pass is 3 batches

    first, second = two_passes(3)
    again_first, again_second = two_passes(3)
    for got, want in zip(first + second, again_first + again_second):
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
    assert not np.array_equal(first[0][0], second[0][0])  # new shuffle and crops each pass
    other, _ = two_passes(4)
    assert not np.array_equal(first[0][0], other[0][0])


def test_jitter_crops_and_mirrors():
    # A horizontal ramp shows both: a crop shifts it, a mirror reverses its direction.
    ramp = np.tile(np.arange(32, dtype=np.uint8)[None, :, None] * 8, (32, 1, 3))
    a = np.repeat(ramp[None], 16, axis=0)
    x = np.concatenate([x for x, _ in batches(paired.make_train_dataset(a, a, 16, seed=0), 1)])
    rising = x[:, 0, -1, 0] > x[:, 0, 0, 0]
    assert rising.any() and (~rising).any()
    assert len({round(float(v), 3) for v in x[rising, 0, 0, 0]}) > 1  # different crop offsets
    assert jitter_size(256) == 286 and jitter_size(64) == 72


def test_without_jitter_the_images_are_only_shuffled():
    a, b = negated_pairs(count=5)
    scaled = a.astype(np.float32) / 127.5 - 1
    plain = np.concatenate(
        [x for x, _ in batches(paired.make_train_dataset(a, b, 5, seed=0, jitter=False), 1)]
    )
    # Only shuffled: the same images in another order.
    assert sorted(img.tobytes() for img in plain) == sorted(img.tobytes() for img in scaled)


def test_batch_larger_than_the_data_is_refused():
    a, b = negated_pairs(count=3)
    with pytest.raises(ValueError, match="batch_size"):
        paired.make_train_dataset(a, b, batch_size=4, seed=0)


def test_prepare_leaves_no_temp_files_and_writes_the_same_bytes_again(tmp_path):
    import time

    from tests.test_mnist_data import same_bytes

    config = PairedDataConfig(image_size=32, num_train=2, num_test=1)
    paired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert sorted(os.listdir(tmp_path / "out")) == ["summary.json", "test.npz", "train.npz"]
    time.sleep(2.1)  # zip members carry a date with 2-second resolution
    paired.prepare(config, 0, tmp_path / "again", tmp_path / "raw")
    assert same_bytes(tmp_path / "out", tmp_path / "again")
