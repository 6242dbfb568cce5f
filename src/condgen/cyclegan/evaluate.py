"""Evaluate trained CycleGAN generators on the test images: metrics, grids, loss curves."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from condgen.core import baselines, evaluation, runtime
from condgen.core.files import save_atomic, write_text_atomic
from condgen.core.images import to_unit
from condgen.core.metrics import fid, rounded
from condgen.core.plots import GRID_ROWS, comparison_sheet, loss_curves
from condgen.cyclegan import data as unpaired
from condgen.cyclegan import segmenter

LOSS_COLUMNS = (
    "g_a2b_loss",
    "g_b2a_loss",
    "d_a_loss",
    "d_b_loss",
    "cycle_a_loss",
    "cycle_b_loss",
    "identity_a_loss",
    "identity_b_loss",
)
INCEPTION_SIZE = 299
INCEPTION_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
)


def load_generators(model_dir: str | Path) -> dict:
    """{"a2b": G, "b2a": F} from a trained CycleGAN's folder."""
    from condgen.core.layers import load_image_model
    from condgen.cyclegan.train import GENERATOR_FILES

    return {d: load_image_model(Path(model_dir) / name) for d, name in GENERATOR_FILES.items()}


def translate_all(generator, images: np.ndarray) -> np.ndarray:
    """uint8 images through ``generator`` one at a time (the serving path), uint8 out."""
    from condgen.serving.translate import translate_images

    # CycleGAN has no dropout and instance norm needs no batch statistics: inference mode.
    seeds = np.zeros(len(images), np.int64)
    return np.stack(translate_images(generator, list(images), seeds, images.shape[1], False))


def inception_weights_file(
    weights: str = "imagenet", url: str = INCEPTION_URL
) -> tuple[Path | None, str]:
    """(the InceptionV3 no-top weights file, "") or (None, why there is none).

    ``imagenet`` is Keras' cached file, else a download of it from ``url``; anything else is a
    file path.
    Only the known causes (no such file; offline or a failed download) give None: Keras' own
    download raises a bare ``Exception``, so the file is fetched here with our downloader.
    """
    if weights != "imagenet":
        path = Path(weights)
        if path.is_file():
            return path, ""
        return None, f"FID skipped: the InceptionV3 weights file {weights} does not exist"
    from condgen.core.download import DownloadError, download

    cache = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"
    cached = cache / Path(INCEPTION_URL).name
    if cached.is_file():
        return cached, ""
    try:
        return download(url, cached, None, progress=False), ""
    except DownloadError as err:
        return None, (
            f"FID skipped: the InceptionV3 ImageNet weights are not in {cache} and could not be "
            f"downloaded ({err}). Put {cached.name} there, or run once with network access."
        )


def inception_features(weights: str = "imagenet") -> tuple[Callable | None, str]:
    """(images -> InceptionV3 pool features (N, 2048), note), built once for every FID.

    Without the weights (see :func:`inception_weights_file`) it is (None, why not); a weights
    file that is there but cannot be loaded is an error, not a note.
    """
    import keras

    path, why_not = inception_weights_file(weights)
    if path is None:
        return None, why_not
    model = keras.applications.InceptionV3(
        include_top=False,
        weights=str(path),
        pooling="avg",
        input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3),
    )

    def features(images: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        resized = tf.image.resize(images.astype(np.float32), [INCEPTION_SIZE] * 2)
        prepared = keras.applications.inception_v3.preprocess_input(resized)
        return model.predict(prepared, batch_size=32, verbose=0)

    return features, "InceptionV3 pool features (2048-d)"


def evaluate_stage(
    model, params_path: str | Path, seed: int, model_dir: str, data_dir: str, out_dir: str
) -> dict:
    """The evaluate stage (reads no params but the seed)."""
    return evaluate(seed, model_dir, data_dir, out_dir, segmenter.MODEL_DIR)


def trivial_answers(
    train_source: np.ndarray, train_target: np.ndarray, test_source: np.ndarray
) -> dict[str, np.ndarray]:
    """What a model that learned nothing about the scenes answers to ``test_source``: the mean
    training image of the target domain, the source's colours mapped channel by channel onto
    the target domain's (histogram matching fitted on the training domains), and the input."""
    mapping = baselines.fit_channel_map(train_source, train_target)
    return {
        "mean_target": np.broadcast_to(baselines.mean_image(train_target), test_source.shape),
        "colour_map": mapping.predict(test_source),
        "unchanged_input": test_source,
    }


def evaluate(
    seed: int,
    model_dir: str | Path,
    data_dir: str | Path,
    out_dir: str | Path,
    segmenter_dir: str | Path,
    inception_weights: str = "imagenet",
) -> dict:
    """Score both generators on ``data_dir/test.npz``, each way beside the trivial answers.

    Always: the cycle reconstruction L1 both ways, |F(G(a)) - a| and |G(F(b)) - b|, and KID of
    G(testA) against testB (F(testB) against testA) on offline VGG16-HED features, beside each
    trivial answer's (:func:`trivial_answers`) and real training images' (the ceiling). With
    ground truth (``paired_test``: the synthetic day/night scenes): L1, PSNR and SSIM against
    the true image of the same scene, and the segmentation score: the other domain's segmenter
    reads G(a) and should find the scene's class map (the real photo's score is the ceiling).
    Without it: FID on InceptionV3 features too, where its weights can be had.
    Writes ``metrics.json``, ``grid_a2b.png`` (A | colour map | G(A) | F(G(A)) [| true B]),
    ``grid_b2a.png`` (B | colour map | F(B) | G(F(B)) [| true A]) and ``losses.png``.
    """
    from condgen.core.backbones import PooledFeatures
    from condgen.core.segmentation import Segmenters

    model_dir, out, data_dir = Path(model_dir), Path(out_dir), Path(data_dir)
    out.mkdir(parents=True, exist_ok=True)
    runtime.set_seed(seed)
    summary_file = data_dir / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    paired_test = bool(summary.get("paired_test", False))
    train_a, train_b = unpaired.load_split(data_dir / "train.npz")
    test_a, test_b = unpaired.load_split(data_dir / "test.npz")
    segmenters = Segmenters.load(segmenter_dir, segmenter.STAGE)
    g = load_generators(model_dir)

    fake_b = translate_all(g["a2b"], test_a)
    fake_a = translate_all(g["b2a"], test_b)
    rec_a = translate_all(g["b2a"], fake_b)
    rec_b = translate_all(g["a2b"], fake_a)
    features = PooledFeatures()
    result: dict = {
        "num_test_a": int(len(test_a)),
        "num_test_b": int(len(test_b)),
        "image_size": int(test_a.shape[1]),
        "paired_test": paired_test,
        "cycle_a_l1": _mean_l1(rec_a, test_a),
        "cycle_b_l1": _mean_l1(rec_b, test_b),
        "kid_features": features.description,
    }
    use_segmenters = paired_test and bool(segmenters.models)
    if use_segmenters:
        result["segmenter"] = segmenters.fingerprint
        test_classes, _ = unpaired.load_classes(data_dir / "test.npz")
    else:
        result["segmentation_note"] = segmenters.note or "no segmentation score: no ground truth"
    trivial = {}
    for direction, output, source, target, train_source, train_target, reader in (
        ("a2b", fake_b, test_a, test_b, train_a, train_b, "b"),
        ("b2a", fake_a, test_b, test_a, train_b, train_a, "a"),
    ):
        trivial[direction] = trivial_answers(train_source, train_target, source)
        segment = None
        if use_segmenters:

            def segment(images: np.ndarray, reader: str = reader) -> dict[str, float]:
                return segmenters.score(reader, images, test_classes)

        evaluation.score_translation(
            result,
            output,
            trivial[direction],
            truth=target if paired_test else None,
            test_target=target,
            train_target=train_target,
            seed=seed,
            features=features,
            segment=segment,
            prefix=f"{direction}_",
        )
    if not paired_test:
        # Fréchet distance of InceptionV3 pool features (Heusel et al. 2017), where they exist.
        inception, note = inception_features(inception_weights)
        if inception is not None:
            result["fid_a2b"] = fid(inception(fake_b), inception(test_b))
            result["fid_b2a"] = fid(inception(fake_a), inception(test_a))
        result["fid_note"] = note
    result = rounded(result)
    write_text_atomic(out / "metrics.json", json.dumps(result, indent=2) + "\n")

    rows = min(GRID_ROWS, len(test_a), len(test_b))
    headers_a, headers_b = (
        ["A", "colour map", "G(A)", "F(G(A))"],
        ["B", "colour map", "F(B)", "G(F(B))"],
    )
    columns_a = [test_a[:rows], trivial["a2b"]["colour_map"][:rows], fake_b[:rows], rec_a[:rows]]
    columns_b = [test_b[:rows], trivial["b2a"]["colour_map"][:rows], fake_a[:rows], rec_b[:rows]]
    if paired_test:
        headers_a.append("true B")
        columns_a.append(test_b[:rows])
        headers_b.append("true A")
        columns_b.append(test_a[:rows])
    save_atomic(out / "grid_a2b.png", comparison_sheet(columns_a, headers_a).save)
    save_atomic(out / "grid_b2a.png", comparison_sheet(columns_b, headers_b).save)
    history = pd.read_csv(model_dir / "history.csv")
    columns = [c for c in LOSS_COLUMNS if c in history.columns]
    loss_curves(history, columns, out / "losses.png", "cyclegan losses per epoch")
    return result


def _mean_l1(images: np.ndarray, targets: np.ndarray) -> float:
    return float(np.mean(np.abs(to_unit(images) - to_unit(targets))))
