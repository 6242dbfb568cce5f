import numpy as np
import pandas as pd
import pytest

from condgen.serving.requests import (
    RequestError,
    decode_png_base64,
    noise_for_seeds,
    parse_image_rows,
    parse_rows,
    png_base64,
)


def test_good_conditional_request_with_and_without_seeds():
    labels, seeds = parse_rows(pd.DataFrame({"label": [3.0, 7.0], "seed": [5.0, np.nan]}), True)
    assert labels.tolist() == [3, 7] and seeds[0] == 5 and 0 <= seeds[1] < 2**31
    labels, seeds = parse_rows(pd.DataFrame({"label": [1]}), True)
    assert labels.tolist() == [1] and len(seeds) == 1


@pytest.mark.parametrize(
    ("frame", "conditional", "message"),
    [
        ({"label": [12]}, True, "row 0: label 12 is out of range; labels are the digits 0-9"),
        ({"label": [3.7]}, True, "label 3.7 is not a whole number"),
        ({"label": ["x"]}, True, "label 'x' is not a number"),
        ({"seed": [1]}, True, "missing field 'label'"),
        ({"label": [1], "colour": [2]}, True, "unknown field 'colour'"),
        ({"label": []}, True, "no rows"),
        ({"label": [1] * 300}, True, "at most 256"),
        ({"label": [1], "seed": [-1]}, True, "seed -1 is out of range"),
        ({"label": [1]}, False, "unknown field 'label'"),
        ({"other": [1]}, False, "unknown field 'other'"),
        ({"seed": [1.0, np.nan]}, False, "row 1: missing seed"),
    ],
)
def test_bad_requests_say_what_is_wrong(frame, conditional, message):
    with pytest.raises(RequestError) as err:
        parse_rows(pd.DataFrame(frame), conditional)
    assert message in str(err.value)


def test_noise_depends_only_on_the_seed():
    a = noise_for_seeds(np.array([1, 2]), 100)
    b = noise_for_seeds(np.array([2]), 100)
    np.testing.assert_array_equal(a[1], b[0])
    assert a.shape == (2, 100) and a.dtype == np.float32


def test_png_round_trip():
    image = (np.arange(28 * 28) % 256).astype(np.uint8).reshape(28, 28)
    np.testing.assert_array_equal(decode_png_base64(png_base64(image)), image)


def _png(array: np.ndarray, mode: str | None = None, fmt: str = "PNG") -> str:
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(buffer, format=fmt)
    return base64.b64encode(buffer.getvalue()).decode()


def test_image_rows_accept_any_readable_image():
    rgb = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    frame = pd.DataFrame(
        {
            "image": [_png(rgb), _png(rgb, "L"), _png(rgb, "RGBA"), _png(rgb, fmt="JPEG")],
            "seed": [4.0, np.nan, 1.0, 2.0],
        }
    )
    images, seeds, extra = parse_image_rows(frame)
    assert [i.shape for i in images] == [(20, 30, 3)] * 4 and all(
        i.dtype == np.uint8 for i in images
    )
    np.testing.assert_array_equal(images[0], rgb)
    assert seeds.tolist() == [4, 0, 1, 2] and extra == {}
    _, _, extra = parse_image_rows(
        pd.DataFrame({"image": [_png(rgb)], "direction": ["a2b"]}), {"direction": ("a2b", "b2a")}
    )
    assert extra == {"direction": ["a2b"]}


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ({"image": ["bm90IGFuIGltYWdl"]}, "row 0: image is not an image file Pillow can read"),
        ({"image": ["%%%"]}, "row 0: image is not valid base64"),
        ({"image": [3.0]}, "row 0: image must be base64 text"),
        ({"seed": [1.0]}, "missing field 'image'"),
        ({"image": [], "seed": []}, "no rows"),
        ({"image": ["x"], "size": [3]}, "unknown field 'size'"),
    ],
)
def test_bad_image_rows_say_what_is_wrong(frame, message):
    with pytest.raises(RequestError, match=None) as err:
        parse_image_rows(pd.DataFrame(frame))
    assert message in str(err.value)


def test_direction_must_be_one_of_the_choices():
    rgb = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(RequestError, match="row 0: direction 'up' is not one of a2b, b2a"):
        parse_image_rows(
            pd.DataFrame({"image": [_png(rgb)], "direction": ["up"]}), {"direction": ("a2b", "b2a")}
        )


def _png_of_size(width: int, height: int) -> str:
    """base64 PNG of a blank 1-bit image: a huge one compresses to a few kB."""
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ((1, 1), "row 0: image is 1x1 px; give at least 16 px a side"),
        ((300, 15), "row 0: image is 300x15 px; give at least 16 px a side"),
        ((10000, 10000), "row 0: image is 10000x10000 px; shrink it to at most 4096 px a side"),
        ((4097, 16), "row 0: image is 4097x16 px; shrink it"),
    ],
)
def test_images_too_small_or_too_large_are_refused_from_their_header(size, message):
    text = _png_of_size(*size)
    assert len(text) < 100_000  # far below the body limit: only the size check can refuse it
    with pytest.raises(RequestError) as err:
        parse_image_rows(pd.DataFrame({"image": [text]}))
    assert message in str(err.value)
    images, _, _ = parse_image_rows(pd.DataFrame({"image": [_png_of_size(16, 4096)]}))
    assert images[0].shape == (4096, 16, 3)
