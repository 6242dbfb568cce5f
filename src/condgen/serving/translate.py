"""Run an image-to-image generator the one way evaluation, serving and the CLI all use.

``translate`` runs a generator with or without test-time dropout and batch statistics;
``translate_images`` takes user images of any size through a fixed-size generator.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def translate_images(
    generator, images: list[np.ndarray], seeds: np.ndarray, size: int, train_mode_at_test: bool
) -> list[np.ndarray]:
    """Each uint8 RGB image resized to ``size``, translated, and resized back to its own size.

    ``seeds`` fix the randomness of test-time dropout per image (one image per call, as in
    the paper's batch size 1, so an answer never depends on what else was in the request).
    """
    from condgen.core.images import to_uint8

    outputs = []
    for image, seed in zip(images, seeds, strict=True):
        height, width = image.shape[:2]
        small = np.asarray(Image.fromarray(image).resize((size, size), Image.LANCZOS))
        inputs = small[None].astype(np.float32) / 127.5 - 1.0
        result = translate(generator, inputs, train_mode_at_test, seed=int(seed))
        pixels = to_uint8(result)[0]
        outputs.append(np.asarray(Image.fromarray(pixels).resize((width, height), Image.LANCZOS)))
    return outputs


def translate(generator, images, train_mode_at_test: bool, seed: int | None = None):
    """``generator(images)`` with dropout and batch norm in training mode or not.

    The one place evaluation and serving run a Pix2Pix generator, so the two agree. The paper
    keeps dropout and batch norm on at test time (batch statistics, dropout noise); a plain
    ``generator(images, training=True)`` would then also move the batch-norm moving averages,
    i.e. change the model by using it. ``stateless_call`` computes the same forward pass
    without writing any variable, so the weights stay as they were.

    Dropout noise in training mode: with ``seed=None`` each call draws fresh masks (the
    dropout layers' seed states advance; they are not weights). With an int ``seed`` the masks
    are a function of the seed alone, nothing is written, and the same seed gives the same
    output in any process and after a reload. ``keras.utils.set_random_seed`` cannot do this:
    each dropout layer fixes its own seed state when it is created.

    ``images``: float, [-1, 1], (batch, size, size, channels). A layer frozen with
    ``trainable = False`` runs batch norm in inference mode whatever ``train_mode_at_test`` says
    (Keras semantics).
    """
    if not train_mode_at_test:
        return generator(images, training=False)
    from keras import ops

    weights = {id(w) for w in generator.weights}
    variables = generator.non_trainable_variables
    # The non-trainable variables that are not weights are the dropout layers' seed states.
    seed_states = [i for i, v in enumerate(variables) if id(v) not in weights]
    state = [v.value for v in variables]
    if seed is not None:
        # [seed, k] for the k-th dropout layer: a different mask per layer, fixed by the seed.
        for k, i in enumerate(seed_states):
            state[i] = ops.convert_to_tensor([int(seed) % 2**31, k], dtype=variables[i].dtype)
    outputs, new_state = generator.stateless_call(
        [v.value for v in generator.trainable_variables], state, images, training=True
    )
    if seed is None:
        for i in seed_states:
            variables[i].assign(new_state[i])
    return outputs
