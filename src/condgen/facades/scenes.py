"""Procedural facades: one scene description, drawn as a label map and as a photo by day or night.

A scene (:func:`sample_scene`) is a plain description of one building front: a grid of floors
and bays, the parts placed on it (windows, doors, shop fronts, sills, balconies, ...) and the
materials and colours chosen for this building. :func:`label_map` paints the parts in a fixed
palette in the style of the CMP Facade Database label maps used by pix2pix; :func:`render` paints
the "photo" of the same scene with textures, lighting, cast shadows and sensor noise, by day or by
night. The paired dataset (label map -> day photo) and the unpaired day/night dataset both draw the
same scenes, so ground truth exists for either translation.
:func:`generate_day_night` renders each scene by day and by night, for unpaired day <-> night.

The photo is deliberately not a per-pixel function of the label colour: the wall material and
colour are chosen per scene, the light comes from one side with a gradient across the facade,
cornices, sills, balconies and window reveals cast shadows onto the pixels below or beside them,
window glass reflects more sky on higher floors, and noise is added last.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
from PIL import Image

# Class order and jet-style colours follow the CMP facades label maps (pix2pix `facades`).
CLASSES = (
    "background",  # sky above the roofline
    "facade",  # the wall
    "window",
    "door",
    "cornice",
    "sill",
    "balcony",
    "blind",  # shutters and roller blinds
    "deco",  # ornaments above windows
    "molding",  # string courses between floors
    "pillar",
    "shop",  # shop fronts on the ground floor
)
PALETTE = np.array(
    [
        (0, 0, 170),
        (0, 0, 255),
        (0, 85, 255),
        (0, 170, 255),
        (0, 255, 255),
        (85, 255, 170),
        (170, 255, 85),
        (255, 255, 0),
        (255, 170, 0),
        (255, 85, 0),
        (255, 0, 0),
        (170, 0, 0),
    ],
    dtype=np.uint8,
)
CLASS_INDEX = {name: i for i, name in enumerate(CLASSES)}
MIN_SIZE, MAX_SIZE = 32, 256

# Parts that stick out of the wall and so cast a shadow downwards by day.
CASTERS = ("cornice", "molding", "sill", "balcony", "deco")
# Paint order: later parts cover earlier ones (a balcony covers the bottom of its window).
PAINT_ORDER = (
    "molding",
    "cornice",
    "pillar",
    "shop",
    "window",
    "door",
    "blind",
    "sill",
    "balcony",
    "deco",
)

RGB = tuple[float, float, float]
Lighting = Literal["day", "night"]

# Colour choices per scene (jittered a little): wall materials, frames, doors, shutters.
PLASTER = (
    (0.87, 0.80, 0.65),  # cream
    (0.80, 0.62, 0.40),  # ochre
    (0.86, 0.71, 0.66),  # pale pink
    (0.78, 0.78, 0.75),  # light grey
    (0.90, 0.83, 0.56),  # pale yellow
    (0.66, 0.72, 0.60),  # sage
    (0.70, 0.75, 0.80),  # blue-grey
    (0.76, 0.50, 0.38),  # terracotta
)
BRICK = (
    (0.60, 0.29, 0.21),  # red
    (0.52, 0.32, 0.25),  # brown
    (0.70, 0.45, 0.32),  # orange
    (0.45, 0.25, 0.20),  # dark red
    (0.80, 0.68, 0.48),  # yellow
)
STONE = ((0.72, 0.69, 0.62), (0.60, 0.58, 0.55), (0.80, 0.76, 0.66), (0.66, 0.62, 0.52))
FRAMES = ((0.92, 0.92, 0.90), (0.30, 0.20, 0.12), (0.20, 0.26, 0.22), (0.12, 0.12, 0.12))
DOORS = (
    (0.40, 0.25, 0.14),  # wood
    (0.12, 0.28, 0.20),  # green
    (0.50, 0.13, 0.10),  # red
    (0.12, 0.16, 0.30),  # blue
    (0.10, 0.10, 0.10),  # black
)
SHUTTERS = (
    (0.20, 0.40, 0.25),  # green
    (0.45, 0.30, 0.18),  # brown
    (0.40, 0.50, 0.56),  # grey-blue
    (0.85, 0.85, 0.80),  # white
    (0.45, 0.18, 0.14),  # oxblood
)
# Lamp colours of lit windows at night: mostly warm, some cool (screens, LEDs).
WARM_LIGHTS = ((1.0, 0.82, 0.50), (1.0, 0.90, 0.70), (0.95, 0.70, 0.40), (0.90, 0.92, 1.0))


@dataclasses.dataclass(frozen=True)
class Part:
    """One labelled rectangle, ``box = (x0, y0, x1, y1)`` in pixels, end-exclusive."""

    kind: str
    box: tuple[int, int, int, int]
    floor: int = -1  # 0 = top floor; the ground floor is the last
    bay: int = -1


@dataclasses.dataclass(frozen=True)
class Scene:
    """A building front: its layout grid, its parts in paint order and its materials."""

    size: int
    roofline: int  # first row of the building; the sky is above it
    floors: tuple[tuple[int, int], ...]  # (y0, y1) per floor, top to bottom
    bays: tuple[tuple[int, int], ...]  # (x0, x1) per bay, left to right
    parts: tuple[Part, ...]
    wall_material: Literal["plaster", "brick", "stone"]
    wall_rgb: RGB
    trim_rgb: RGB  # cornices, sills, moldings, pillars, ornaments
    frame_rgb: RGB  # window frames and mullions
    glass_rgb: RGB
    door_rgb: RGB
    shutter_rgb: RGB
    sign_rgb: RGB  # shop signs
    rail_rgb: RGB  # balcony railings
    texture_seed: int  # bricks, stains and grain: the same in every rendering of the scene

    def parts_of(self, kind: str) -> list[Part]:
        return [p for p in self.parts if p.kind == kind]


def _styled(rng: np.random.Generator, colours: tuple[RGB, ...], key: int, amount: float) -> RGB:
    """Colour ``key`` (modulo the choices), varied by up to ``amount`` per channel."""
    base = np.array(colours[key % len(colours)])
    return tuple(float(v) for v in np.clip(base + rng.uniform(-amount, amount, 3), 0.0, 1.0))


def sample_scene(rng: np.random.Generator | int, size: int) -> Scene:
    """Draw the layout and materials of one facade of ``size`` x ``size`` pixels (32..256).

    ``rng`` is a Generator or a seed. Coordinates are drawn as fractions of the size, so the
    same style of building is drawn at every size; the smallest sizes have fewer floors and bays.
    """
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"facade size must be {MIN_SIZE}..{MAX_SIZE} pixels, got {size}")
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    s = size

    def px(v: float) -> int:
        return int(round(v))

    roof = px(s * rng.uniform(0.06, 0.2))
    cornice_h = max(1, px(s * rng.uniform(0.02, 0.04)))
    body_top = roof + cornice_h
    max_floors = int(np.clip(s // 12, 2, 6))
    n_floors = int(rng.integers(min(3, max_floors), max_floors + 1))
    has_shop = bool(rng.random() < 0.5)
    ground_ratio = rng.uniform(1.15, 1.5) if has_shop else rng.uniform(1.0, 1.25)
    unit = (s - body_top) / (n_floors - 1 + ground_ratio)
    edges = [px(body_top + unit * i) for i in range(n_floors)] + [s]
    floors = tuple((edges[i], edges[i + 1]) for i in range(n_floors))

    pillar_w = max(1, px(s * rng.uniform(0.025, 0.05))) if rng.random() < 0.35 else 0
    margin = px(s * rng.uniform(0.0, 0.04))
    x_left, x_right = pillar_w + margin, s - pillar_w - margin
    n_bays = int(rng.integers(3, int(np.clip(s // 10, 3, 7)) + 1))
    bay_edges = [x_left + (x_right - x_left) * j / n_bays for j in range(n_bays + 1)]
    bays = tuple((px(bay_edges[j]), px(bay_edges[j + 1])) for j in range(n_bays))

    # Per-building style: all windows of a facade share proportions and decorations.
    blinds = rng.choice(["none", "shutters", "rollers"], p=[0.5, 0.25, 0.25])
    width_frac = rng.uniform(0.38, 0.5 if blinds == "shutters" else 0.62)
    height_frac = rng.uniform(0.45, 0.68)
    top_frac = rng.uniform(0.25, 0.45)
    has_sills = rng.random() < 0.75
    has_deco = rng.random() < 0.35
    has_molding = rng.random() < 0.5
    balconies = rng.choice(["none", "continuous", "some"], p=[0.45, 0.25, 0.3])
    upper = range(n_floors - 1)
    balcony_floors = set()
    if balconies == "continuous" and n_floors >= 2:
        balcony_floors = {n_floors - 2}
    elif balconies == "some":
        balcony_floors = {f for f in upper if rng.random() < 0.5}
    thin = max(1, px(s * 0.012))

    parts: dict[str, list[Part]] = {kind: [] for kind in PAINT_ORDER}
    if has_molding:
        for y, _ in floors[1:]:
            parts["molding"].append(Part("molding", (pillar_w, y - thin, s - pillar_w, y)))
    parts["cornice"].append(Part("cornice", (0, roof, s, body_top)))
    if pillar_w:
        parts["pillar"].append(Part("pillar", (0, body_top, pillar_w, s)))
        parts["pillar"].append(Part("pillar", (s - pillar_w, body_top, s, s)))

    for f in upper:
        fy0, fy1 = floors[f]
        fh = fy1 - fy0
        h = max(2, px(fh * height_frac))
        for b, (bx0, bx1) in enumerate(bays):
            w = max(2, px((bx1 - bx0) * width_frac))
            x0 = px((bx0 + bx1) / 2 - w / 2)
            x1 = x0 + w
            y0 = fy0 + max(1, px((fh - h) * top_frac))
            y1 = min(y0 + h, fy1 - thin)
            ext = max(0, px(w * 0.08))
            if f in balcony_floors:
                # Balcony windows are French windows reaching down to the balcony floor.
                y1 = fy1 - thin
                if balconies == "some":
                    rail_h = max(2, px(fh * rng.uniform(0.18, 0.28)))
                    box = (x0 - 2 * ext - 1, y1 - rail_h, x1 + 2 * ext + 1, fy1)
                    parts["balcony"].append(Part("balcony", box, f, b))
            elif has_sills:
                parts["sill"].append(Part("sill", (x0 - ext, y1, x1 + ext, y1 + thin), f, b))
            parts["window"].append(Part("window", (x0, y0, x1, y1), f, b))
            if blinds == "shutters":
                sw = max(1, px(w * 0.4))
                parts["blind"].append(Part("blind", (max(bx0, x0 - sw), y0, x0, y1), f, b))
                parts["blind"].append(Part("blind", (x1, y0, min(bx1, x1 + sw), y1), f, b))
            elif blinds == "rollers" and rng.random() < 0.7:
                drop = max(1, px((y1 - y0) * rng.uniform(0.1, 0.7)))
                parts["blind"].append(Part("blind", (x0, y0, x1, y0 + drop), f, b))
            if has_deco:
                top = y0 - 1 - max(1, px(s * 0.015))
                if top > fy0:
                    parts["deco"].append(Part("deco", (x0 - ext, top, x1 + ext, y0 - 1), f, b))
        if balconies == "continuous" and f in balcony_floors:
            rail_h = max(2, px(fh * rng.uniform(0.18, 0.28)))
            parts["balcony"].append(Part("balcony", (x_left, fy1 - thin - rail_h, x_right, fy1), f))

    # Ground floor: a door in one bay, and either shop fronts or plain windows in the others.
    g = n_floors - 1
    gy0, gy1 = floors[g]
    gh = gy1 - gy0
    door_bay = n_bays // 2 if n_bays % 2 and rng.random() < 0.5 else int(rng.integers(n_bays))
    dbx0, dbx1 = bays[door_bay]
    door_w = max(2, px((dbx1 - dbx0) * rng.uniform(0.45, 0.7)))
    dx0 = px((dbx0 + dbx1) / 2 - door_w / 2)
    if has_shop:
        shop_top = gy0 + max(1, px(gh * rng.uniform(0.08, 0.2)))
        parts["door"].append(Part("door", (dx0, shop_top, dx0 + door_w, gy1), g, door_bay))
        gap = max(1, px(s * 0.01))
        if dbx0 - gap > x_left:
            parts["shop"].append(Part("shop", (x_left, shop_top, dbx0 - gap, gy1), g))
        if dbx1 + gap < x_right:
            parts["shop"].append(Part("shop", (dbx1 + gap, shop_top, x_right, gy1), g))
    else:
        door_h = max(3, px(gh * rng.uniform(0.7, 0.88)))
        parts["door"].append(Part("door", (dx0, gy1 - door_h, dx0 + door_w, gy1), g, door_bay))
        h = max(2, px(gh * min(0.75, height_frac * rng.uniform(1.0, 1.15))))
        for b, (bx0, bx1) in enumerate(bays):
            if b == door_bay:
                continue
            w = max(2, px((bx1 - bx0) * width_frac))
            x0 = px((bx0 + bx1) / 2 - w / 2)
            y0 = gy0 + max(1, px((gh - h) * 0.4))
            parts["window"].append(Part("window", (x0, y0, x0 + w, y0 + h), g, b))

    # A building's materials follow what its label map shows, as a street's styles follow its
    # eras: buildings with shop fronts are brick, the others plaster. A wall pixel's colour is
    # then predictable from the whole label map (a shop front may be far below it), though not
    # from the pixel itself (every wall has the same label).
    wall_material = "brick" if has_shop else "plaster"
    palette = {"plaster": PLASTER, "brick": BRICK, "stone": STONE}[wall_material]
    style = int(has_sills) + 2 * int(has_shop)
    wall_rgb = _styled(rng, palette, 0, 0.02)
    # Trim is usually lighter than the wall (painted or stone); sometimes a darker band.
    trim_base = (0.9, 0.88, 0.83) if has_molding else tuple(0.75 * v for v in wall_rgb)
    trim_rgb = _styled(rng, (trim_base,), 0, 0.02)
    hue = 0.3 * style + 0.1 * int(has_molding)
    sign = np.clip(0.55 + 0.4 * np.cos(2 * np.pi * (hue + np.array([0, 1 / 3, 2 / 3]))), 0, 1)
    clipped = tuple(
        Part(p.kind, _clip_box(p.box, s), p.floor, p.bay)
        for kind in PAINT_ORDER
        for p in parts[kind]
    )
    return Scene(
        size=s,
        roofline=roof,
        floors=floors,
        bays=bays,
        parts=tuple(p for p in clipped if p.box[0] < p.box[2] and p.box[1] < p.box[3]),
        wall_material=wall_material,  # type: ignore[arg-type]
        wall_rgb=wall_rgb,
        trim_rgb=trim_rgb,
        frame_rgb=_styled(rng, FRAMES, style, 0.02),
        glass_rgb=_styled(rng, ((0.16, 0.21, 0.26), (0.20, 0.24, 0.22)), style, 0.02),
        door_rgb=_styled(rng, DOORS, style, 0.02),
        shutter_rgb=_styled(rng, SHUTTERS, style, 0.02),
        sign_rgb=tuple(float(v) for v in sign),
        rail_rgb=(0.1, 0.1, 0.11) if balconies == "continuous" else trim_rgb,
        texture_seed=int(rng.integers(2**31)),
    )


def _clip_box(box: tuple[int, int, int, int], size: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (int(np.clip(v, 0, size)) for v in box)
    return x0, y0, x1, y1


def class_map(scene: Scene) -> np.ndarray:
    """Class index per pixel (uint8 H x W), indices into :data:`CLASSES`."""
    classes = np.zeros((scene.size, scene.size), np.uint8)
    classes[scene.roofline :] = CLASS_INDEX["facade"]
    for part in scene.parts:
        x0, y0, x1, y1 = part.box
        classes[y0:y1, x0:x1] = CLASS_INDEX[part.kind]
    return classes


def label_map(scene: Scene) -> np.ndarray:
    """The scene's label map in the CMP-style palette (uint8 H x W x 3)."""
    return PALETTE[class_map(scene)]


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Value noise in -1..1: a coarse random grid resized smoothly to ``size``."""
    grid = rng.uniform(-1, 1, (cells, cells)).astype(np.float32)
    return np.asarray(Image.fromarray(grid).resize((size, size), Image.Resampling.BICUBIC))


def _wall_texture(scene: Scene, rng: np.random.Generator) -> np.ndarray:
    """Per-pixel RGB multipliers (around 1) of the wall material."""
    s = scene.size
    y, x = np.mgrid[0:s, 0:s]
    stains = 0.05 * _smooth_noise(rng, s, 6)  # weathering: large soft patches
    grain = rng.normal(0, 0.035, (s, s)).astype(np.float32)
    if scene.wall_material == "plaster":
        streaks = 0.03 * _smooth_noise(rng, s, 12)[0][None, :]  # rain streaks run down
        shade = 1 + stains + grain + streaks
        return np.repeat(shade[..., None], 3, axis=2)
    course = max(3, round(s / 30)) if scene.wall_material == "brick" else max(5, round(s / 14))
    length = round(course * (2.2 if scene.wall_material == "brick" else 3.0))
    row = y // course
    shifted = x + (row % 2) * (length // 2)
    col = shifted // length
    # One shade per brick/block, from a table indexed by its row and column; bricks also vary a
    # little in hue (firing), dressed stone hardly.
    hue = 0.035 if scene.wall_material == "brick" else 0.008
    table = rng.normal(0, 0.06, (64, 64, 1)) + rng.normal(0, hue, (64, 64, 3))
    table = table.astype(np.float32)
    block = 1 + table[row % 64, col % 64] + (stains + grain)[..., None]
    joint = (y % course == course - 1) | (shifted % length == 0)
    mortar = np.array(scene.trim_rgb, np.float32) / np.maximum(scene.wall_rgb, 0.05)
    mortar = 0.85 * mortar + 0.15 * grain[..., None] if scene.wall_material == "brick" else 0.9
    return np.where(joint[..., None], mortar, block).astype(np.float32)


@dataclasses.dataclass
class _Local:
    """For pixels of one kind of part: position inside its rectangle and which part it is."""

    mask: np.ndarray
    lx: np.ndarray  # column inside the part
    ly: np.ndarray  # row inside the part
    w: np.ndarray  # part width
    h: np.ndarray  # part height
    index: np.ndarray  # part number among parts of this kind (-1 elsewhere)


def _local(scene: Scene, classes: np.ndarray, kind: str) -> _Local:
    s = scene.size
    x0 = np.zeros((s, s), np.int32)
    y0 = np.zeros((s, s), np.int32)
    w = np.ones((s, s), np.int32)
    h = np.ones((s, s), np.int32)
    index = np.full((s, s), -1, np.int32)
    for i, part in enumerate(scene.parts_of(kind)):
        px0, py0, px1, py1 = part.box
        region = np.s_[py0:py1, px0:px1]
        x0[region], y0[region] = px0, py0
        w[region], h[region] = px1 - px0, py1 - py0
        index[region] = i
    y, x = np.mgrid[0:s, 0:s]
    mask = classes == CLASS_INDEX[kind]
    index[~mask] = -1
    return _Local(mask, x - x0, y - y0, w, h, index)


def _frame(loc: _Local, rel: float) -> np.ndarray:
    """Pixels within the frame of each part: a border ``rel`` of its short side (>= 1 px)."""
    t = np.maximum(1, np.rint(np.minimum(loc.w, loc.h) * rel)).astype(np.int32)
    return (
        (loc.lx < t) | (loc.ly < t) | (loc.w - 1 - loc.lx < t) | (loc.h - 1 - loc.ly < t)
    ) & loc.mask


@dataclasses.dataclass
class _Surfaces:
    """Surface colours before lighting, and the pixels whose lighting is special."""

    albedo: np.ndarray  # H x W x 3, 0..1
    window: _Local
    door: _Local
    shop: _Local
    glass: np.ndarray  # window panes (not frames or mullions)
    display: np.ndarray  # shop windows (not signs or frames)
    sign: np.ndarray
    goods: np.ndarray  # brightness of what is behind the shop windows (around 1)


def _surfaces(scene: Scene, classes: np.ndarray) -> _Surfaces:
    s = scene.size
    tex_rng = np.random.default_rng(scene.texture_seed)
    albedo = np.zeros((s, s, 3), np.float32)
    wall = np.array(scene.wall_rgb, np.float32) * _wall_texture(scene, tex_rng)
    trim = np.array(scene.trim_rgb, np.float32) * (
        1 + tex_rng.normal(0, 0.025, (s, s, 1)).astype(np.float32)
    )
    y, x = np.mgrid[0:s, 0:s]

    def paint(kind: str, values: np.ndarray) -> None:
        mask = classes == CLASS_INDEX[kind]
        albedo[mask] = values[mask]

    paint("facade", wall)
    paint("molding", trim * 0.93)
    paint("deco", trim * (0.85 + 0.15 * ((x + y) % 3 == 0))[..., None])
    paint("sill", trim)
    # A cornice is a stack of mouldings: lighter top, darker underside.
    rows = np.zeros((s, s), np.float32)
    for part in scene.parts_of("cornice"):
        x0, y0, x1, y1 = part.box
        t = (np.arange(y1 - y0, dtype=np.float32) + 0.5) / (y1 - y0)
        rows[y0:y1, x0:x1] = (1.08 - 0.3 * t**2)[:, None]
    paint("cornice", trim * rows[..., None])
    pillar = _local(scene, classes, "pillar")
    rounded = 1.0 - 0.25 * np.abs(2 * (pillar.lx + 0.5) / pillar.w - 1) ** 2
    paint("pillar", trim * rounded[..., None])
    slat = max(2, round(s / 64) + 1)
    shutter = np.array(scene.shutter_rgb, np.float32)
    paint("blind", shutter * (1 - 0.3 * (y % slat == 0))[..., None])

    # Railings: a top rail and balusters, with the shaded wall seen between them.
    balcony = _local(scene, classes, "balcony")
    solid = (balcony.ly < max(1, s // 64)) | (balcony.lx % 3 != 2)
    albedo[balcony.mask] = np.where(
        solid[balcony.mask][:, None],
        np.array(scene.rail_rgb, np.float32),
        0.45 * wall[balcony.mask],
    )

    frame = np.array(scene.frame_rgb, np.float32)
    window = _local(scene, classes, "window")
    bars = _frame(window, 0.1)
    bars |= window.mask & (window.w >= 7) & (np.abs(2 * window.lx + 1 - window.w) <= 1)
    bars |= window.mask & (window.h >= 9) & (window.ly == np.rint(window.h * 0.3))  # transom
    glass = window.mask & ~bars
    albedo[bars] = frame
    albedo[glass] = np.array(scene.glass_rgb, np.float32)

    door = _local(scene, classes, "door")
    panels = (door.ly * 3 // door.h) % 2 == 0
    albedo[door.mask] = (
        np.array(scene.door_rgb, np.float32) * np.where(panels[door.mask], 1.0, 0.85)[:, None]
    )
    albedo[_frame(door, 0.08)] = frame * 0.8

    # Shop fronts: a sign band over large panes split by mullions, wares dimly seen inside.
    shop = _local(scene, classes, "shop")
    sign = shop.mask & (shop.ly < np.maximum(1, np.rint(shop.h * 0.22)))
    pane = max(4, round(s / 12))
    display = shop.mask & ~sign & ~_frame(shop, 0.04) & (shop.lx % pane != pane - 1)
    goods = 1 + 0.25 * _smooth_noise(tex_rng, s, 8)
    albedo[shop.mask & ~sign] = frame
    albedo[sign] = np.array(scene.sign_rgb, np.float32)
    albedo[display] = np.array(scene.glass_rgb, np.float32) * goods[display][:, None]
    return _Surfaces(np.clip(albedo, 0, 1), window, door, shop, glass, display, sign, goods)


def render(scene: Scene, rng: np.random.Generator | int, lighting: Lighting = "day") -> np.ndarray:
    """The scene as a photo (uint8 H x W x 3), by ``day`` or by ``night``.

    ``rng`` (a Generator or a seed) draws what changes between two photos of the same building:
    light direction and strength, sky, which windows are lit at night, and the noise. The
    surface textures come from the scene itself, so day and night photos show the same bricks.
    """
    if lighting not in ("day", "night"):
        raise ValueError(f"lighting must be 'day' or 'night', got {lighting!r}")
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    classes = class_map(scene)
    surfaces = _surfaces(scene, classes)
    if lighting == "day":
        image = _day(scene, classes, surfaces, rng)
        sigma = rng.uniform(0.008, 0.02)
    else:
        image = _night(scene, surfaces, rng)
        sigma = rng.uniform(0.015, 0.03)
    image += rng.normal(0, sigma, image.shape).astype(np.float32)
    return np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)


def _sky(top: tuple, bottom: tuple, rows: int, size: int) -> np.ndarray:
    """A vertical gradient (rows x size x 3) from ``top`` down to ``bottom`` at the roofline."""
    t = np.linspace(0, 1, rows, dtype=np.float32)[:, None, None]
    top_, bottom_ = np.array(top, np.float32), np.array(bottom, np.float32)
    return np.repeat(top_ + (bottom_ - top_) * t, size, axis=1)


def _day(
    scene: Scene, classes: np.ndarray, surfaces: _Surfaces, rng: np.random.Generator
) -> np.ndarray:
    s, roof = scene.size, scene.roofline
    y, x = np.mgrid[0:s, 0:s].astype(np.float32)
    # The street faces one way: the sun always comes from the left, and the weather and the
    # camera's exposure vary only a little, so a photo is mostly determined by its scene.
    overcast = rng.random() < 0.15
    side = 1.0  # +1: sun from the left
    slope = rng.uniform(0.02, 0.05) if overcast else rng.uniform(0.08, 0.14)
    exposure = rng.uniform(0.97, 1.03)
    tint = np.array([0.96, 0.98, 1.0] if overcast else [1.0, 0.98, 0.93], np.float32)
    below_roof = np.clip((y - roof) / max(s - roof, 1), 0, 1)
    light = exposure * (1 + side * slope * (0.5 - x / s)) * (1 - 0.15 * below_roof**2)

    # Cast shadows: every protruding part darkens the pixels below it, shifted away from the sun.
    strength = rng.uniform(0.8, 0.9) if overcast else rng.uniform(0.5, 0.68)
    reach = rng.uniform(0.8, 1.8)
    shadow = np.ones((s, s), np.float32)
    caster = np.zeros((s, s), bool)
    for part in scene.parts:
        if part.kind not in CASTERS:
            continue
        x0, y0, x1, y1 = part.box
        caster[y0:y1, x0:x1] = True
        depth = max(1, round((y1 - y0) * reach) + (part.kind == "cornice"))
        shift = int(round(side * depth * 0.6))
        shadow[y1 : y1 + depth, max(0, x0 + shift) : max(0, x1 + shift)] = strength
    # Window, door and shop reveals: the top edge and the edge on the sun's side are in shade.
    for loc in (surfaces.window, surfaces.door, surfaces.shop):
        depth = np.maximum(1, np.rint(np.minimum(loc.w, loc.h) * 0.15))
        near = loc.lx if side > 0 else loc.w - 1 - loc.lx
        recess = loc.mask & ((loc.ly < depth) | (near < depth))
        shadow[recess] = np.minimum(shadow[recess], strength + 0.1)
    shadow[caster | (classes == CLASS_INDEX["background"])] = 1.0

    image = surfaces.albedo * (light * shadow)[..., None] * tint
    # Glass mirrors the sky: more on higher floors (less of the street in view), fading towards
    # the bottom of each pane, with a diagonal sheen.
    win, glass = surfaces.window, surfaces.glass
    sheen = ((win.lx + win.ly * 0.7) / win.w) % 1.0 < 0.25
    amount = (0.15 + 0.35 * (1 - y / s) + 0.15 * sheen) * (1 - 0.5 * win.ly / win.h)
    sky_rgb = np.array([0.47, 0.48, 0.49] if overcast else [0.5, 0.58, 0.68], np.float32)
    image[glass] += amount[glass, None] * sky_rgb * shadow[glass, None]
    display = surfaces.display
    image[display] += (0.1 + 0.1 * sheen[display, None]) * sky_rgb * shadow[display, None]

    if roof:
        top, low = (
            ((0.74, 0.76, 0.8), (0.86, 0.87, 0.88))
            if overcast
            else (
                (0.30, 0.50, 0.82),
                (0.68, 0.78, 0.90),
            )
        )
        sky = _sky(top, low, roof, s)
        clouds = np.clip(_smooth_noise(rng, s, 5)[:roof] * 1.5 - 0.3, 0, 1)[..., None]
        sky += clouds * (np.array([0.95, 0.95, 0.96], np.float32) - sky) * 0.8
        image[:roof] = sky * exposure
    return image


def _night(scene: Scene, surfaces: _Surfaces, rng: np.random.Generator) -> np.ndarray:
    s, roof = scene.size, scene.roofline
    y, x = np.mgrid[0:s, 0:s].astype(np.float32)
    # Cool, dim light from the sky; warm street lamps from below, in pools along the street.
    ambient = rng.uniform(0.14, 0.22) * np.array([0.72, 0.82, 1.05], np.float32)
    below_roof = np.clip((y - roof) / max(s - roof, 1), 0, 1)
    pools = 1 + 0.3 * np.cos(2 * np.pi * (x / s * rng.uniform(1, 2.5) + rng.uniform(0, 1)))
    lamp = rng.uniform(0.25, 0.5) * below_roof**3 * pools
    light = ambient + lamp[..., None] * np.array([1.0, 0.75, 0.45], np.float32)

    # Some windows are lit, each with its own lamp colour, and spill light onto the wall.
    windows = scene.parts_of("window")
    lit = rng.random(len(windows) + 1) < rng.uniform(0.2, 0.6)
    lit[-1] = False  # index -1 marks pixels outside any window
    colours = np.array(WARM_LIGHTS, np.float32)[rng.integers(len(WARM_LIGHTS), size=len(lit))]
    spill = np.zeros((s, s), np.float32)
    for i, part in enumerate(windows):
        if lit[i]:
            x0, y0, x1, y1 = part.box
            # Nested boxes: a cheap glow that fades with the distance from the window.
            for step in (1, 2, 3):
                m = max(1, step * (y1 - y0) // 6)
                spill[max(0, y0 - m) : y1 + m, max(0, x0 - m) : x1 + m] += 0.035
    light = light + spill[..., None] * np.array([1.0, 0.85, 0.6], np.float32)
    image = surfaces.albedo * light

    win, glass = surfaces.window, surfaces.glass
    lit_px = glass & lit[win.index]
    inside = 0.75 + 0.25 * win.ly / win.h  # lamps hang from the ceiling; curtains stripe it
    inside *= 1 - 0.15 * ((win.lx * 5 // win.w) % 2)
    image[lit_px] = colours[win.index[lit_px]] * inside[lit_px, None] * rng.uniform(0.75, 1.0)
    dark_px = glass & ~lit_px
    image[dark_px] = surfaces.albedo[dark_px] * 0.35 + np.array([0.02, 0.03, 0.06], np.float32)

    if surfaces.shop.mask.any() and rng.random() < 0.7:  # shops open late
        display = surfaces.display
        warm = np.array([0.95, 0.8, 0.55], np.float32) * rng.uniform(0.55, 0.8)
        image[display] = warm * (surfaces.goods[display, None] - 0.2)
        image[surfaces.sign] = np.array(scene.sign_rgb, np.float32) * 0.8

    if roof:
        sky = _sky((0.01, 0.015, 0.05), (0.07, 0.08, 0.15), roof, s)
        stars = rng.random((roof, s)) < 0.004
        sky[stars] = rng.uniform(0.5, 0.9, (int(stars.sum()), 1)).astype(np.float32)
        image[:roof] = sky
    return image


def facade_pair(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(label map, day photo) of one freshly sampled scene."""
    scene = sample_scene(rng, size)
    return label_map(scene), render(scene, rng, "day")


def generate_pairs(
    count: int, size: int, seed: int, stream: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` (label map, day photo) pairs as uint8 arrays (count, size, size, 3).

    Sample ``i`` is drawn from its own generator seeded by ``(seed, stream, i)``, so it is the
    same whatever ``count`` is; use a different ``stream`` for each split.
    """
    labels = np.empty((count, size, size, 3), np.uint8)
    photos = np.empty((count, size, size, 3), np.uint8)
    for i in range(count):
        labels[i], photos[i] = facade_pair(np.random.default_rng([seed, stream, i]), size)
    return labels, photos


# Each lighting renders from its own generator, so a scene's day photo is the same whether or not
# its night photo is drawn too.
_LIGHTING_KEYS = {"day": 1, "night": 2}


def scene_at(seed: int, stream: int, index: int, size: int) -> Scene:
    """Scene ``index`` of ``(seed, stream)``: the building drawn for that sample everywhere."""
    return sample_scene(np.random.default_rng([seed, stream, index]), size)


def render_scenes(count: int, size: int, seed: int, stream: int, lighting: Lighting) -> np.ndarray:
    """Photos by ``lighting`` of scenes ``0..count-1`` of ``(seed, stream)``: uint8 N x S x S x 3.

    Sample ``i`` does not depend on ``count`` or on which other lightings are rendered.
    """
    if lighting not in _LIGHTING_KEYS:
        raise ValueError(f"lighting must be 'day' or 'night', got {lighting!r}")
    photos = np.empty((count, size, size, 3), np.uint8)
    for i in range(count):
        rng = np.random.default_rng([seed, stream, i, _LIGHTING_KEYS[lighting]])
        photos[i] = render(scene_at(seed, stream, i, size), rng, lighting)
    return photos


def scene_classes(count: int, size: int, seed: int, stream: int) -> np.ndarray:
    """Class maps (uint8 N x S x S, indices into :data:`CLASSES`) of scenes ``0..count-1`` of
    ``(seed, stream)``: the ground truth of every photo drawn of them, by day or night."""
    return np.stack([class_map(scene_at(seed, stream, i, size)) for i in range(count)])


def generate_day_night(
    count: int, size: int, seed: int, stream: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(day, night) photos of the same ``count`` scenes: ``day[i]`` and ``night[i]`` match.

    For unpaired training take the day photos of one stream and the night photos of another, so
    that no building appears in both domains.
    """
    return (
        render_scenes(count, size, seed, stream, "day"),
        render_scenes(count, size, seed, stream, "night"),
    )
