"""Procedural facades: determinism, palette, day/night rendering that needs context."""

import numpy as np
import pytest

from condgen.facades import scenes as syn


@pytest.mark.parametrize("size", [32, 256])
def test_same_seed_gives_identical_arrays(size):
    labels, photos = syn.generate_pairs(2, size, seed=3)
    again = syn.generate_pairs(2, size, seed=3)
    np.testing.assert_array_equal(labels, again[0])
    np.testing.assert_array_equal(photos, again[1])
    assert labels.shape == photos.shape == (2, size, size, 3)
    assert labels.dtype == photos.dtype == np.uint8
    # A real photo-like range, not a flat or saturated image.
    assert photos.std() > 20 and photos.min() < 60 and photos.max() > 180
    other = syn.generate_pairs(2, size, seed=4)
    assert not np.array_equal(photos, other[1])


def test_sample_i_does_not_depend_on_count_and_streams_differ():
    few = syn.generate_pairs(2, 32, seed=1)
    more = syn.generate_pairs(5, 32, seed=1)
    np.testing.assert_array_equal(few[1], more[1][:2])
    test_stream = syn.generate_pairs(2, 32, seed=1, stream=1)
    assert not np.array_equal(few[1], test_stream[1])


@pytest.mark.parametrize("size", [31, 257])
def test_size_out_of_range_is_refused(size):
    with pytest.raises(ValueError, match="32..256"):
        syn.sample_scene(np.random.default_rng(0), size)


def test_label_maps_use_only_palette_colours():
    labels, _ = syn.generate_pairs(30, 64, seed=0)
    colours = {tuple(c) for c in np.unique(labels.reshape(-1, 3), axis=0)}
    palette = {tuple(c) for c in syn.PALETTE}
    assert colours <= palette
    # Over a few scenes every part of a facade appears.
    assert colours == palette


def test_label_map_and_class_map_agree():
    scene = syn.sample_scene(np.random.default_rng(5), 64)
    classes = syn.class_map(scene)
    np.testing.assert_array_equal(syn.label_map(scene), syn.PALETTE[classes])
    assert (classes[: scene.roofline] == syn.CLASS_INDEX["background"]).all()
    assert (classes[scene.roofline :] != syn.CLASS_INDEX["background"]).all()


def test_render_is_not_a_per_pixel_colour_lookup():
    labels, photos = syn.generate_pairs(40, 64, seed=11)
    flat_labels = labels.reshape(-1, 3).astype(np.int64) @ np.array([1 << 16, 1 << 8, 1])
    flat_photos = photos.reshape(-1, 3).astype(np.float64)
    # Even the best lookup table (mean photo colour per label colour, fitted on these very
    # images) is far off: the photo depends on the scene and on the neighbourhood.
    error = 0.0
    for key in np.unique(flat_labels):
        group = flat_photos[flat_labels == key]
        error += np.abs(group - group.mean(axis=0)).sum()
    assert error / flat_photos.size > 20
    # The wall's colour is chosen per scene.
    wall = (labels == syn.PALETTE[syn.CLASS_INDEX["facade"]]).all(axis=-1)
    wall_means = np.array([photos[i][wall[i]].mean(axis=0) for i in range(len(photos))])
    assert wall_means.std(axis=0).min() > 15


def plain_scene(parts, size=64):
    """A hand-made plaster facade with the given parts (a Scene is a plain description)."""
    return syn.Scene(
        size=size,
        roofline=8,
        floors=((8, size),),
        bays=((0, size),),
        parts=tuple(parts),
        wall_material="plaster",
        wall_rgb=(0.85, 0.8, 0.7),
        trim_rgb=(0.92, 0.9, 0.85),
        frame_rgb=(0.9, 0.9, 0.9),
        glass_rgb=(0.16, 0.2, 0.25),
        door_rgb=(0.4, 0.25, 0.14),
        shutter_rgb=(0.2, 0.4, 0.25),
        sign_rgb=(0.8, 0.2, 0.2),
        rail_rgb=(0.1, 0.1, 0.1),
        texture_seed=0,
    )


def test_parts_cast_shadows_onto_the_wall_below():
    scene = plain_scene([syn.Part("sill", (16, 30, 48, 32))])
    below, above = np.s_[32:34, 24:40], np.s_[26:30, 24:40]
    ratios = []
    for seed in range(8):
        photo = syn.render(scene, seed, "day").astype(np.float64)
        ratios.append(photo[below].mean() / photo[above].mean())
    # The same wall label, darker right under the sill (softer on overcast days).
    assert np.mean(ratios) < 0.85
    assert max(ratios) < 0.97


def test_night_is_dark_with_some_lit_windows():
    day_brightness, night_brightness, lit = [], [], 0
    window = syn.CLASS_INDEX["window"]
    for i in range(6):
        rng = np.random.default_rng([2, 0, i])
        scene = syn.sample_scene(rng, 64)
        day = syn.render(scene, 1, "day").astype(np.float64)
        night = syn.render(scene, 1, "night").astype(np.float64)
        building = slice(scene.roofline, None)
        day_brightness.append(day[building].mean())
        night_brightness.append(night[building].mean())
        panes = night[syn.class_map(scene) == window]
        # Lit panes are bright and warm (more red than blue).
        lit += int(((panes.mean(-1) > 120) & (panes[:, 0] > panes[:, 2])).sum() > 0)
        # Night sky is dark blue, day sky bright.
        assert night[: scene.roofline].mean() < 50 < day[: scene.roofline].mean()
    # The same building is much darker at night.
    assert max(n / d for n, d in zip(night_brightness, day_brightness)) < 0.5
    assert lit >= 3


def test_rendering_options():
    scene = syn.sample_scene(np.random.default_rng(0), 48)
    np.testing.assert_array_equal(syn.render(scene, 7), syn.render(scene, 7, "day"))
    np.testing.assert_array_equal(
        syn.render(scene, np.random.default_rng(7), "night"), syn.render(scene, 7, "night")
    )
    with pytest.raises(ValueError, match="lighting"):
        syn.render(scene, 0, "dusk")  # type: ignore[arg-type]
