"""Old path of :func:`condgen.serving.translate.translate_images` (registered model versions
import it)."""

from condgen.serving.translate import translate_images

__all__ = ["translate_images"]
