"""Old path of :func:`condgen.core.layers.load_image_model` (registered model versions use it).

Importing this registers the custom layers (``condgen>ReflectionPadding2D``) with Keras.
"""

from condgen.core.layers import ReflectionPadding2D, load_image_model

__all__ = ["ReflectionPadding2D", "load_image_model"]
