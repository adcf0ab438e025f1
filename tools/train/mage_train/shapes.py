"""Procedural training images: deterministic by seed, 256x256 RGB uint8, with a shape-class label.

Every image has exactly one *main object*: the largest shape, drawn last (in front of everything),
centred somewhere inside the canvas. Its class is the image's label. Behind it lie a textured
background (flat, gradient, stripes, checks or smooth noise), 0-3 smaller distractor shapes of any
class (which may occlude each other and be occluded by the main object) and 0-2 straight lines.
Distractors are at most 26 px in radius and the main object at least 44 px, so "largest" is never
ambiguous.

Image `seed` is drawn from `np.random.default_rng(seed)` alone, so it is the same on its own or in
any batch. Training images use seeds in TRAIN_SEEDS, held-out images (evaluation, tests) seeds in
HELDOUT_SEEDS; the ranges are disjoint.
"""
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np

SIZE = 256
CLASSES = ("disc", "square", "triangle", "ring", "star", "cross")
TRAIN_SEEDS = range(0, 1_000_000_000)
HELDOUT_SEEDS = range(1_000_000_000, 1_100_000_000)
BACKGROUNDS = ("flat", "gradient", "stripes", "checks", "noise")

# Named colours (RGB 0..255); each use is jittered a little so colours are not a small finite set.
PALETTE = np.array([
    (220, 40, 40), (240, 140, 30), (240, 220, 50), (50, 170, 60), (40, 200, 200), (40, 80, 220),
    (130, 60, 200), (220, 60, 180), (245, 245, 245), (20, 20, 20), (128, 128, 128), (130, 80, 40),
], dtype=np.float32)

MAIN_RADIUS = (44.0, 80.0)
DISTRACTOR_RADIUS = (10.0, 26.0)

_yy, _xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) + 0.5


@dataclass(frozen=True)
class Shape:
    kind: int          # index into CLASSES
    cx: float
    cy: float
    radius: float      # circumradius in pixels
    angle: float       # rotation in radians
    colour: Tuple[float, float, float]


@dataclass(frozen=True)
class Sample:
    image: np.ndarray  # uint8 [256,256,3]
    label: int         # class of the main object
    main: Shape
    background: str


def _rot(x, y, angle):
    c, s = np.cos(angle), np.sin(angle)
    return c * x + s * y, -s * x + c * y


def _box(x, y, hw, hh):
    qx, qy = np.abs(x) - hw, np.abs(y) - hh
    outside = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2)
    return outside + np.minimum(np.maximum(qx, qy), 0)


def signed_distance(shape: Shape, xx=_xx, yy=_yy) -> np.ndarray:
    """Approximate signed distance in pixels (negative inside) of a shape on the pixel grid."""
    x, y = _rot(xx - shape.cx, yy - shape.cy, shape.angle)
    r = shape.radius
    name = CLASSES[shape.kind]
    if name == "disc":
        return np.sqrt(x * x + y * y) - r
    if name == "ring":
        return np.abs(np.sqrt(x * x + y * y) - 0.72 * r) - 0.28 * r
    if name == "square":
        return _box(x, y, 0.72 * r, 0.72 * r)
    if name == "cross":
        return np.minimum(_box(x, y, r, 0.3 * r), _box(x, y, 0.3 * r, r))
    if name == "triangle":
        d = None
        for k in range(3):  # max over the three edges' signed distances (an equilateral triangle)
            a = k * 2 * np.pi / 3
            e = x * np.sin(a) - y * np.cos(a) - 0.5 * r
            d = e if d is None else np.maximum(d, e)
        return d
    if name == "star":
        rho = np.sqrt(x * x + y * y)
        phi = np.mod(np.arctan2(y, x), 2 * np.pi / 5) / (2 * np.pi / 5)  # 0..1 within one point
        tri = np.abs(phi - 0.5) * 2                                      # 1 at a tip, 0 between
        return rho - (0.42 * r + 0.58 * r * tri)
    raise ValueError(name)


def coverage(shape: Shape) -> np.ndarray:
    """Anti-aliased coverage in [0,1] (one-pixel soft edge)."""
    return np.clip(0.5 - signed_distance(shape), 0.0, 1.0)


def _colour(rng) -> np.ndarray:
    return np.clip(PALETTE[rng.integers(len(PALETTE))] + rng.uniform(-12, 12, 3), 0, 255).astype(np.float32)


def _background(rng, kind: str) -> np.ndarray:
    a, b = _colour(rng), _colour(rng)
    angle = rng.uniform(0, np.pi)
    u = np.cos(angle) * _xx + np.sin(angle) * _yy
    if kind == "flat":
        t = np.zeros((SIZE, SIZE), np.float32)
    elif kind == "gradient":
        t = (u - u.min()) / (u.max() - u.min())
    elif kind == "stripes":
        period = rng.uniform(24, 72)
        t = (np.mod(u + rng.uniform(0, period), period) < period / 2).astype(np.float32)
    elif kind == "checks":
        cell = rng.uniform(20, 56)
        v = -np.sin(angle) * _xx + np.cos(angle) * _yy
        t = ((np.floor(u / cell) + np.floor(v / cell)) % 2).astype(np.float32)
    elif kind == "noise":
        grid = int(rng.integers(4, 12))  # smooth value noise: a coarse random grid, bilinear
        coarse = rng.uniform(0, 1, (grid + 1, grid + 1)).astype(np.float32)
        g = _xx / SIZE * grid
        h = _yy / SIZE * grid
        i, j = np.minimum(g.astype(int), grid - 1), np.minimum(h.astype(int), grid - 1)
        fx, fy = g - i, h - j
        t = (coarse[j, i] * (1 - fx) * (1 - fy) + coarse[j, i + 1] * fx * (1 - fy)
             + coarse[j + 1, i] * (1 - fx) * fy + coarse[j + 1, i + 1] * fx * fy)
    else:
        raise ValueError(kind)
    return a * (1 - t[..., None]) + b * t[..., None]


def _paint(img: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> None:
    img *= 1 - alpha[..., None]
    img += alpha[..., None] * colour


def _contrasting_colour(rng, against: np.ndarray) -> np.ndarray:
    for _ in range(20):
        c = _colour(rng)
        if np.abs(c - against).sum() > 150:
            return c
    return 255 - against


def render(seed: int, distractors: bool = True, lines: bool = True, background: str = "") -> Sample:
    """Image number `seed`. `distractors=False, lines=False, background='flat'` gives a clean
    single-shape image (tests use it to check labels against pixels)."""
    rng = np.random.default_rng(seed)
    kind = background or BACKGROUNDS[rng.integers(len(BACKGROUNDS))]
    img = _background(rng, kind)
    bg_mean = img.reshape(-1, 3).mean(0)
    if distractors:
        for _ in range(int(rng.integers(0, 4))):
            r = rng.uniform(*DISTRACTOR_RADIUS)
            s = Shape(int(rng.integers(len(CLASSES))), rng.uniform(0, SIZE), rng.uniform(0, SIZE), r,
                      rng.uniform(0, 2 * np.pi), tuple(_colour(rng)))
            _paint(img, coverage(s), np.array(s.colour, np.float32))
    if lines:
        for _ in range(int(rng.integers(0, 3))):
            x0, y0, x1, y1 = rng.uniform(0, SIZE, 4)
            width = rng.uniform(1.5, 4.0)
            dx, dy = x1 - x0, y1 - y0
            t = np.clip(((_xx - x0) * dx + (_yy - y0) * dy) / max(dx * dx + dy * dy, 1e-6), 0, 1)
            dist = np.sqrt((_xx - x0 - t * dx) ** 2 + (_yy - y0 - t * dy) ** 2)
            _paint(img, np.clip(width / 2 + 0.5 - dist, 0, 1), _colour(rng))
    r = rng.uniform(*MAIN_RADIUS)
    cx, cy = rng.uniform(r + 4, SIZE - r - 4, 2)
    colour = _contrasting_colour(rng, bg_mean)
    main = Shape(int(rng.integers(len(CLASSES))), float(cx), float(cy), float(r), float(rng.uniform(0, 2 * np.pi)),
                 tuple(float(c) for c in colour))
    if rng.uniform() < 0.3:  # a shaded fill: the main colour darkening along a direction
        d = rng.uniform(0, 2 * np.pi)
        shade = 1 - 0.25 * np.clip(((_xx - cx) * np.cos(d) + (_yy - cy) * np.sin(d)) / r * 0.5 + 0.5, 0, 1)
        alpha = coverage(main)
        img *= 1 - alpha[..., None]
        img += alpha[..., None] * colour * shade[..., None]
    else:
        _paint(img, coverage(main), colour)
    img += rng.normal(0, 2.0, img.shape).astype(np.float32)  # sensor-like grain, 2/255
    return Sample(np.clip(np.round(img), 0, 255).astype(np.uint8), main.kind, main, kind)


def images(seeds, **kw) -> Tuple[np.ndarray, np.ndarray]:
    """-> (uint8 [N,256,256,3], int64 labels [N]) for the given seeds."""
    samples: List[Sample] = [render(int(s), **kw) for s in seeds]
    return np.stack([s.image for s in samples]), np.array([s.label for s in samples], dtype=np.int64)


def train_seeds(start: int, count: int) -> range:
    return range(TRAIN_SEEDS.start + start, TRAIN_SEEDS.start + start + count)


def heldout_seeds(start: int, count: int) -> range:
    return range(HELDOUT_SEEDS.start + start, HELDOUT_SEEDS.start + start + count)
