"""Unpaired data: CycleGAN-style downloads over a local HTTP server, user folders, the synthetic
day/night source and the endless tf.data stream."""

import dataclasses
import hashlib
import io
import typing
import zipfile

import numpy as np
import pytest
from PIL import Image

from condgen.core.archive import ArchiveError
from condgen.core.download import DownloadError
from condgen.cyclegan import data as unpaired
from condgen.cyclegan.config import UnpairedDataConfig
from condgen.facades import scenes as syn
from tests.test_core_download import socket_closed_port

SIZE = 32
# Each folder's images have their own colour, so that the arrays show where they came from.
COLOURS = {
    "trainA": (200, 30, 30),
    "trainB": (30, 30, 200),
    "testA": (30, 200, 30),
    "testB": (200, 200, 30),
}


def coloured(colour, seed: int, shape=(SIZE, SIZE)) -> Image.Image:
    """A flat colour with a little noise (so that JPEG has something to encode)."""
    noise = np.random.default_rng(seed).integers(-10, 11, (*shape, 3))
    return Image.fromarray(np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8))


def jpeg_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def cyclegan_members(prefix: str, counts: dict[str, int]) -> dict[str, bytes]:
    """Archive members ``<prefix><domain folder>/<i>.jpg`` coloured by their folder."""
    return {
        f"{prefix}{folder}/{i}.jpg": jpeg_bytes(coloured(COLOURS[folder], i))
        for folder, count in counts.items()
        for i in range(1, count + 1)
    }


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def files_under(folder):
    """Every file and folder below ``folder`` (relative paths), hidden ones included."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def dominant(images: np.ndarray) -> tuple[int, ...]:
    """The colour each image is closest to, as a key of :data:`COLOURS`-like RGB triples."""
    means = images.reshape(len(images), -1, 3).mean(axis=1)
    palette = np.array(list(COLOURS.values()))
    names = list(COLOURS)
    return tuple(names[int(np.argmin(((palette - m) ** 2).sum(axis=1)))] for m in means)


def serve(file_server, payload: bytes, filename: str = "horse2zebra.zip") -> str:
    served, url = file_server
    (served / filename).write_bytes(payload)
    return f"{url}/{filename}"


def remote_config(url: str, payload: bytes | None, **overrides) -> UnpairedDataConfig:
    values = {
        "name": "horse2zebra",
        "image_size": SIZE,
        "url": url,
        "sha256": hashlib.sha256(payload).hexdigest() if payload else "",
    }
    return UnpairedDataConfig(**{**values, **overrides})


COUNTS = {"trainA": 3, "trainB": 2, "testA": 1, "testB": 2}


# --- downloads -------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["horse2zebra/", ""])
def test_download_extract_and_prepare(file_server, tmp_path, prefix):
    payload = zip_bytes(cyclegan_members(prefix, COUNTS))
    config = remote_config(serve(file_server, payload), payload)
    raw = tmp_path / "raw"

    summary = unpaired.prepare(config, 0, tmp_path / "out", raw)
    assert summary == {
        "source": "horse2zebra",
        "image_size": SIZE,
        "a": "horse",
        "b": "zebra",
        "train_a": 3,
        "train_b": 2,
        "test_a": 1,
        "test_b": 2,
        "paired_test": False,
        "classes": [],  # downloads have no class maps
    }
    for split in ("train", "test"):
        a, b = unpaired.load_split(tmp_path / "out" / f"{split}.npz")
        assert a.dtype == b.dtype == np.uint8
        assert a.shape == (COUNTS[f"{split}A"], SIZE, SIZE, 3)
        assert b.shape == (COUNTS[f"{split}B"], SIZE, SIZE, 3)
        assert set(dominant(a)) == {f"{split}A"} and set(dominant(b)) == {f"{split}B"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "summary.json",
        "test.npz",
        "train.npz",
    ]
    # Downloads live in their own folder: pix2pix has datasets of the same names.
    assert files_under(raw)[:3] == [
        "cyclegan",
        "cyclegan/.horse2zebra.extracted",
        "cyclegan/horse2zebra",
    ]

    # The verified archive is re-used without asking the server; max_train_images caps each domain.
    (file_server[0] / "horse2zebra.zip").unlink()
    capped = dataclasses.replace(config, max_train_images=2)
    summary = unpaired.prepare(capped, 0, tmp_path / "capped", raw)
    assert (summary["train_a"], summary["train_b"], summary["test_a"]) == (2, 2, 1)


def test_unpinned_archive_prints_its_hash(file_server, tmp_path, capsys):
    payload = zip_bytes(cyclegan_members("apple2orange/", COUNTS))
    url = serve(file_server, payload, "apple2orange.zip")
    config = remote_config(url, None, name="apple2orange")
    summary = unpaired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert hashlib.sha256(payload).hexdigest() in capsys.readouterr().err
    assert (summary["a"], summary["b"]) == ("apple", "orange")


def test_checksum_mismatch_leaves_nothing_behind(file_server, tmp_path):
    payload = zip_bytes(cyclegan_members("horse2zebra/", COUNTS))
    config = remote_config(serve(file_server, payload), payload, sha256="0" * 64)
    with pytest.raises(DownloadError, match="checksum mismatch"):
        unpaired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert files_under(tmp_path / "raw") == ["cyclegan"]  # no archive, extraction or temp file
    assert not (tmp_path / "out").exists()


def test_archive_escaping_the_target_is_refused_with_nothing_left(file_server, tmp_path):
    members = cyclegan_members("horse2zebra/", COUNTS)
    members["horse2zebra/../../evil.txt"] = b"gotcha"
    payload = zip_bytes(members)
    config = remote_config(serve(file_server, payload), payload)
    with pytest.raises(ArchiveError, match=r"refused member 'horse2zebra/\.\./\.\./evil\.txt'"):
        unpaired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert files_under(tmp_path / "raw") == ["cyclegan", "cyclegan/horse2zebra.zip"]
    assert not list(tmp_path.rglob("evil.txt"))
    assert not (tmp_path / "out").exists()


def test_truncated_zip_is_a_clear_error(file_server, tmp_path):
    whole = zip_bytes(cyclegan_members("horse2zebra/", COUNTS))
    payload = whole[: len(whole) // 2]
    config = remote_config(serve(file_server, payload), payload)
    with pytest.raises(ArchiveError, match="corrupt or truncated.*Delete it") as err:
        unpaired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert "horse2zebra.zip" in str(err.value)
    assert files_under(tmp_path / "raw") == ["cyclegan", "cyclegan/horse2zebra.zip"]
    assert not (tmp_path / "out").exists()


def test_missing_domain_folders_are_named(file_server, tmp_path):
    payload = zip_bytes(cyclegan_members("horse2zebra/", {"trainA": 2, "trainB": 2}))
    config = remote_config(serve(file_server, payload), payload)
    with pytest.raises(unpaired.UnpairedDataError, match="no testA/, testB/ folder") as err:
        unpaired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert "name: folder" in str(err.value)  # the way to use it anyway
    assert not (tmp_path / "out").exists()

    payload = zip_bytes({"readme.txt": b"not a dataset"})
    config = remote_config(serve(file_server, payload), payload)
    with pytest.raises(unpaired.UnpairedDataError, match=r"no trainA/ .*found: readme\.txt"):
        unpaired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")


def test_offline_error_names_the_offline_choices(tmp_path):
    with socket_closed_port() as port:
        config = UnpairedDataConfig(name="horse2zebra", url=f"http://127.0.0.1:{port}/h2z.zip")
        with pytest.raises(DownloadError, match="synthetic-daynight.*name: folder"):
            unpaired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert files_under(tmp_path / "raw") == ["cyclegan"]


def test_catalog_covers_every_download_name():
    names = typing.get_args(typing.get_type_hints(UnpairedDataConfig)["name"])
    assert set(unpaired.CATALOG) == set(names) - {"synthetic-daynight", "folder"}
    assert (
        unpaired.CATALOG["horse2zebra"].url
        == "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/horse2zebra.zip"
    )
    assert (unpaired.CATALOG["monet2photo"].a, unpaired.CATALOG["monet2photo"].b) == (
        "Monet painting",
        "photo",
    )


def test_malformed_sha256_is_named(tmp_path):
    config = UnpairedDataConfig(name="horse2zebra", sha256="abc")
    with pytest.raises(unpaired.UnpairedDataError, match="data.unpaired.sha256"):
        unpaired.prepare(config, 0, tmp_path / "out", tmp_path / "raw")


# --- the user's folder -----------------------------------------------------------------------


def make_folder(root, counts: dict[str, int], shape=(SIZE, SIZE)):
    for folder, count in counts.items():
        (root / folder).mkdir(parents=True)
        for i in range(count):
            coloured(COLOURS[folder], i, shape).save(root / folder / f"{i}.png")
    return root


def folder_config(root, **overrides) -> UnpairedDataConfig:
    return UnpairedDataConfig(name="folder", folder=str(root), image_size=SIZE, **overrides)


def test_folder_with_test_folders_and_any_image_size_or_mode(tmp_path):
    root = make_folder(tmp_path / "imgs", COUNTS, shape=(20, 50))  # resized, aspect not kept
    Image.new("L", (40, 40), 90).save(root / "trainA" / "gray.png")
    Image.new("RGBA", (24, 24), (0, 0, 0, 0)).save(root / "trainB" / "clear.png")
    summary = unpaired.prepare(folder_config(root), 0, tmp_path / "out", tmp_path / "raw")
    assert summary["a"] == "domain A (trainA/)" and summary["paired_test"] is False
    counts = [summary[k] for k in ("train_a", "train_b", "test_a", "test_b")]
    assert counts == [4, 3, 1, 2]
    a, b = unpaired.load_split(tmp_path / "out" / "train.npz")
    assert a.shape == (4, SIZE, SIZE, 3) and b.shape == (3, SIZE, SIZE, 3)
    # Natural order: 0.png, 1.png, 2.png, then gray.png; the transparent image turns white.
    assert dominant(a[:3]) == ("trainA",) * 3 and (a[3] == 90).all()
    assert dominant(b[:2]) == ("trainB",) * 2 and (b[2] == 255).all()
    test_a, test_b = unpaired.load_split(tmp_path / "out" / "test.npz")
    assert dominant(test_a) == ("testA",) and dominant(test_b) == ("testB",) * 2
    assert not list((tmp_path / "raw").glob("*"))  # nothing downloaded


def test_folder_without_test_folders_holds_out_a_seeded_fraction(tmp_path):
    root = make_folder(tmp_path / "imgs", {"trainA": 10, "trainB": 4})
    config = folder_config(root, test_fraction=0.2)
    summary = unpaired.prepare(config, 3, tmp_path / "one", tmp_path / "raw")
    counts = [summary[k] for k in ("train_a", "train_b", "test_a", "test_b")]
    assert counts == [8, 3, 2, 1]  # at least one test image per domain
    unpaired.prepare(config, 3, tmp_path / "two", tmp_path / "raw")
    unpaired.prepare(config, 4, tmp_path / "other", tmp_path / "raw")
    one, two, other = (
        unpaired.load_split(tmp_path / d / "test.npz") for d in ("one", "two", "other")
    )
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    assert not np.array_equal(one[0], other[0])  # another seed holds out other images
    # Held-out images are not trained on.
    train_a, _ = unpaired.load_split(tmp_path / "one" / "train.npz")
    assert not any((train_a == image).all(axis=(1, 2, 3)).any() for image in one[0])

    capped = unpaired.prepare(
        dataclasses.replace(config, max_train_images=2), 3, tmp_path / "capped", tmp_path / "raw"
    )
    assert [capped[k] for k in ("train_a", "train_b", "test_a", "test_b")] == [2, 2, 2, 1]


def test_folder_problems_are_reported_together_by_name(tmp_path):
    root = make_folder(tmp_path / "imgs", {"trainA": 2, "testA": 1, "testB": 1})
    (root / "trainB").mkdir()  # empty domain
    (root / "trainA" / "12.jpg").write_bytes(b"this is not a JPEG")
    (root / "testA" / "notes.txt").write_text("a stray file")
    (root / "testA" / ".DS_Store").write_bytes(b"\0")  # hidden files are not data
    truncated = jpeg_bytes(coloured(COLOURS["testB"], 0))
    (root / "testB" / "cut.jpg").write_bytes(truncated[: len(truncated) // 2])
    with pytest.raises(unpaired.UnpairedDataError) as err:
        unpaired.prepare(folder_config(root), 0, tmp_path / "out", tmp_path / "raw")
    message = str(err.value)
    assert "4 problem(s) with the unpaired images" in message
    assert f"{root / 'trainB'} holds no images: add the images of domain B" in message
    assert f"{root / 'trainA' / '12.jpg'} is not an image Pillow can read" in message
    assert f"{root / 'testA' / 'notes.txt'} is not an image" in message
    assert f"{root / 'testB' / 'cut.jpg'} is not an image" in message
    assert "remove it or replace it" in message
    assert "0.png" not in message and ".DS_Store" not in message
    assert not (tmp_path / "out").exists()


def test_folder_layout_errors_say_the_fix(tmp_path):
    with pytest.raises(unpaired.UnpairedDataError, match="data.unpaired.folder: ''"):
        unpaired.prepare(UnpairedDataConfig(name="folder"), 0, tmp_path / "out", tmp_path / "r")
    root = make_folder(tmp_path / "imgs", {"trainA": 2})
    with pytest.raises(unpaired.UnpairedDataError, match="no trainB/ folder: put the images"):
        unpaired.prepare(folder_config(root), 0, tmp_path / "out", tmp_path / "raw")
    make_folder(root, {"trainB": 2, "testA": 1})
    with pytest.raises(unpaired.UnpairedDataError, match="has testA/ but no testB/: add testB/"):
        unpaired.prepare(folder_config(root), 0, tmp_path / "out", tmp_path / "raw")
    assert not (tmp_path / "out").exists()


# --- synthetic day/night ---------------------------------------------------------------------


def parts_map(scene: syn.Scene) -> np.ndarray:
    """One segment per part of the scene (and one each for the sky and the wall)."""
    segments = np.zeros((scene.size, scene.size), np.int32)
    segments[scene.roofline :] = 1
    for k, part in enumerate(scene.parts):
        x0, y0, x1, y1 = part.box
        segments[y0:y1, x0:x1] = k + 2
    return segments


def explained(image: np.ndarray, segments: np.ndarray) -> float:
    """The share of the image's variance explained by the mean colour of each segment."""
    pixels = image.reshape(-1, 3).astype(np.float64)
    flat = segments.ravel()
    means = np.zeros((flat.max() + 1, 3))
    np.add.at(means, flat, pixels)
    means /= np.maximum(np.bincount(flat, minlength=len(means)), 1)[:, None]
    residual = ((pixels - means[flat]) ** 2).sum()
    return 1 - residual / ((pixels - pixels.mean(axis=0)) ** 2).sum()


def test_synthetic_daynight_is_seeded_unpaired_in_training_and_paired_in_test(tmp_path):
    config = UnpairedDataConfig(image_size=SIZE, num_train=5, num_test=8)
    summary = unpaired.prepare(config, 1, tmp_path / "one", tmp_path / "raw")
    assert summary == {
        "source": "synthetic-daynight",
        "image_size": SIZE,
        "a": "day photo",
        "b": "night photo",
        "train_a": 5,
        "train_b": 5,
        "test_a": 8,
        "test_b": 8,
        "paired_test": True,
        "classes": list(syn.CLASSES),
    }
    unpaired.prepare(config, 1, tmp_path / "two", tmp_path / "raw")
    unpaired.prepare(config, 2, tmp_path / "other", tmp_path / "raw")
    splits = {
        (run, split): unpaired.load_split(tmp_path / run / f"{split}.npz")
        for run in ("one", "two", "other")
        for split in ("train", "test")
    }
    for split in ("train", "test"):
        for got, want in zip(splits[("two", split)], splits[("one", split)]):
            np.testing.assert_array_equal(got, want)
            assert got.dtype == np.uint8 and got.shape[1:] == (SIZE, SIZE, 3)
        assert not np.array_equal(splits[("other", split)][0], splits[("one", split)][0])
    assert not list((tmp_path / "raw").glob("*"))  # nothing downloaded
    (train_a, train_b), (test_a, test_b) = splits[("one", "train")], splits[("one", "test")]

    # Training domains come from different scene streams: no building is in both.
    streams = {
        "day": unpaired.DAY_STREAM,
        "night": unpaired.NIGHT_STREAM,
        "test": unpaired.TEST_STREAM,
    }
    assert len(set(streams.values())) == 3
    np.testing.assert_array_equal(train_a, syn.render_scenes(5, SIZE, 1, streams["day"], "day"))
    np.testing.assert_array_equal(train_b, syn.render_scenes(5, SIZE, 1, streams["night"], "night"))
    layouts = {
        name: [syn.label_map(syn.scene_at(1, stream, i, SIZE)).tobytes() for i in range(5)]
        for name, stream in streams.items()
    }
    assert not set(layouts["day"]) & set(layouts["night"])
    assert not (set(layouts["day"]) | set(layouts["night"])) & set(layouts["test"])
    # Each photo comes with its scene's class map; a test scene's is the same by day and night.
    train_ca, train_cb = unpaired.load_classes(tmp_path / "one" / "train.npz")
    test_ca, test_cb = unpaired.load_classes(tmp_path / "one" / "test.npz")
    np.testing.assert_array_equal(train_ca, syn.scene_classes(5, SIZE, 1, streams["day"]))
    np.testing.assert_array_equal(train_cb, syn.scene_classes(5, SIZE, 1, streams["night"]))
    np.testing.assert_array_equal(test_ca, test_cb)
    assert test_ca.shape == (8, SIZE, SIZE) and test_ca.max() < len(syn.CLASSES)

    # Test a[i] and b[i] show the same building: its parts explain the day photo better than any
    # other test scene's parts, and the night photo (darker, noisier) better on average.
    segments = [parts_map(syn.scene_at(1, streams["test"], i, SIZE)) for i in range(8)]
    fits = {
        name: np.array([[explained(image, s) for s in segments] for image in images])
        for name, images in (("day", test_a), ("night", test_b))
    }
    assert (fits["day"].argmax(axis=1) == np.arange(8)).all()
    off_diagonal = ~np.eye(8, dtype=bool)
    assert np.diag(fits["night"]).mean() > fits["night"][off_diagonal].mean() + 0.1
    assert (fits["night"].argmax(axis=1) == np.arange(8)).mean() >= 0.5

    # Night is darker than day.
    assert test_b.mean() < 0.6 * test_a.mean() and train_b.mean() < 0.6 * train_a.mean()
    assert all(b.mean() < a.mean() for a, b in zip(test_a, test_b))


def test_day_night_rendering_does_not_depend_on_count_or_the_other_lighting():
    day, night = syn.generate_day_night(3, SIZE, seed=5, stream=7)
    more_day, more_night = syn.generate_day_night(4, SIZE, seed=5, stream=7)
    np.testing.assert_array_equal(day, more_day[:3])
    np.testing.assert_array_equal(night, more_night[:3])
    np.testing.assert_array_equal(day, syn.render_scenes(3, SIZE, 5, 7, "day"))
    assert day.shape == night.shape == (3, SIZE, SIZE, 3) and day.dtype == np.uint8
    with pytest.raises(ValueError, match="lighting"):
        syn.render_scenes(1, SIZE, 0, 0, "dusk")  # type: ignore[arg-type]


# --- tf.data ---------------------------------------------------------------------------------


def numbered(count: int, size: int = SIZE) -> np.ndarray:
    """Image ``i`` is flat grey of value ``10 * i``: identifiable after any crop or mirror."""
    values = np.arange(count, dtype=np.uint8)[:, None, None, None] * 10
    return np.broadcast_to(values, (count, size, size, 3)).copy()


def flat_indices(x: np.ndarray) -> list[int]:
    """Which :func:`numbered` image each model-range image of a batch is."""
    return [int(round((img.mean() + 1) * 127.5 / 10)) for img in x]


def take(dataset, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(x.numpy(), y.numpy()) for x, y in dataset.take(n)]


def test_train_dataset_is_endless_shaped_and_in_range():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (5, SIZE, SIZE, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (3, SIZE, SIZE, 3), dtype=np.uint8)
    dataset = unpaired.make_train_dataset(a, b, batch_size=2, seed=0)
    assert dataset.cardinality() == tf.data.INFINITE_CARDINALITY
    steps = max(len(a), len(b)) // 2  # one pass over the larger domain
    out = take(dataset, 4 * steps)  # several passes over both domains
    assert len(out) == 4 * steps
    for x, y in out:
        assert x.shape == y.shape == (2, SIZE, SIZE, 3) and x.dtype == y.dtype == np.float32
        assert x.min() >= -1.0 and x.max() <= 1.0 and y.min() >= -1.0 and y.max() <= 1.0
    values = np.concatenate([x for x, _ in out])
    assert values.min() < -0.9 and values.max() > 0.9


def test_domains_are_shuffled_independently_and_reshuffled_every_pass():
    a, b = numbered(6), numbered(6)
    out = take(unpaired.make_train_dataset(a, b, batch_size=3, seed=1, jitter=False), 8)
    order_a = [i for x, _ in out for i in flat_indices(x)]
    order_b = [i for _, y in out for i in flat_indices(y)]
    passes_a = [order_a[k : k + 6] for k in range(0, 24, 6)]
    passes_b = [order_b[k : k + 6] for k in range(0, 24, 6)]
    for one_pass in passes_a + passes_b:
        assert sorted(one_pass) == list(range(6))  # every image once per pass
    assert len({tuple(p) for p in passes_a}) > 1  # reshuffled every pass
    assert order_a != order_b  # the same images, shuffled on their own


def test_train_dataset_is_deterministic_per_seed():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (4, SIZE, SIZE, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (6, SIZE, SIZE, 3), dtype=np.uint8)

    def run(seed):
        return take(unpaired.make_train_dataset(a, b, batch_size=2, seed=seed), 6)

    first, again, other = run(3), run(3), run(4)
    for (x, y), (x2, y2) in zip(first, again):
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, y2)
    assert not all(np.array_equal(x, x2) for (x, _), (x2, _) in zip(first, other))


def test_jitter_differs_between_passes_and_between_domains():
    # A horizontal ramp shows both: a crop shifts it, a mirror reverses it.
    ramp = np.tile(np.arange(SIZE, dtype=np.uint8)[None, :, None] * 8, (SIZE, 1, 3))[None]
    out = take(unpaired.make_train_dataset(ramp, ramp, batch_size=1, seed=0), 12)
    xs = np.concatenate([x for x, _ in out])
    ys = np.concatenate([y for _, y in out])
    # One image per domain, so each batch is a new pass over it: the jitter differs every time.
    assert len({x.tobytes() for x in xs}) > 6
    assert not all(np.array_equal(x, y) for x, y in zip(xs, ys))  # crops are per domain
    rising = xs[:, 0, -1, 0] > xs[:, 0, 0, 0]
    assert rising.any() and (~rising).any()  # mirrored sometimes
    # Without jitter, the images are the originals scaled to -1..1.
    plain = take(unpaired.make_train_dataset(ramp, ramp, batch_size=1, seed=0, jitter=False), 2)
    np.testing.assert_allclose(plain[1][0][0], ramp[0] / 127.5 - 1, atol=1e-6)


def test_bad_domains_are_refused():
    a = numbered(4)
    with pytest.raises(ValueError, match="larger than the 2 images of domain B"):
        unpaired.make_train_dataset(a, numbered(2), batch_size=3, seed=0)
    with pytest.raises(ValueError, match="differ in image size"):
        unpaired.make_train_dataset(a, numbered(4, size=40), batch_size=1, seed=0)
    with pytest.raises(ValueError, match="uint8"):
        unpaired.make_train_dataset(a.astype(np.float32), a, batch_size=1, seed=0)


def test_load_split_errors_say_what_to_do(tmp_path):
    with pytest.raises(unpaired.UnpairedDataError, match="run `dvc repro prepare_unpaired` first"):
        unpaired.load_split(tmp_path / "train.npz")
    np.savez(tmp_path / "odd.npz", x=np.zeros(1))
    with pytest.raises(unpaired.UnpairedDataError, match="has no array 'a'"):
        unpaired.load_split(tmp_path / "odd.npz")
    (tmp_path / "broken.npz").write_bytes(b"not an npz")
    with pytest.raises(unpaired.UnpairedDataError, match="not a readable npz"):
        unpaired.load_split(tmp_path / "broken.npz")
