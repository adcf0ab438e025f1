"""The `simple` distribution: procedural scenes a small model can learn in two CPU hours, each with
as many *views* as wanted (for a contrastive term between two views of one scene).

A scene is one main object (the same six classes, radii and contrast rule as shapes.py) over a
flat, two-colour gradient, smooth low-frequency noise or wide-stripe background (period 64-128
px: narrower stripes and checks are what a 16x16-token tokenizer reconstructs worst), with at most
one distractor shape behind it and no lines. Label = the main object's class.

View 0 is the scene as drawn. View v >= 1 of the same scene keeps the main object's class, size,
angle and (up to a translation) position and the distractor's shape, and changes what a label
must not depend on: the palette is permuted (every palette colour maps to another, so equal
colours stay equal), the background is drawn again (kind, colours, parameters), everything moves
by up to 32 px, and the image is flipped and turned by a quarter turn at random. Both the scene
(`np.random.default_rng(seed)`) and each view (`default_rng([seed, v])`) are functions of the
seed alone. Seed ranges are shapes.TRAIN_SEEDS / shapes.HELDOUT_SEEDS.
"""
from dataclasses import dataclass, replace
from typing import Optional, Tuple

import numpy as np

from .shapes import CLASSES, DISTRACTOR_RADIUS, MAIN_RADIUS, PALETTE, SIZE, Shape, coverage

BACKGROUNDS = ("flat", "gradient", "noise", "stripes")
STRIPE_PERIOD = (64.0, 128.0)
NOISE_GRID = (2, 5)        # coarse cells across the image: 51-128 px features
MAX_SHIFT = 32             # pixels, views only
JITTER = 12.0              # colour jitter, as shapes.py

_yy, _xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) + 0.5


@dataclass(frozen=True)
class Paint:
    """A colour as a palette index and a jitter, so a palette permutation can remap it."""
    index: int
    jitter: Tuple[float, float, float]

    def rgb(self, perm: np.ndarray) -> np.ndarray:
        return np.clip(PALETTE[perm[self.index]] + np.array(self.jitter, np.float32), 0, 255).astype(np.float32)


@dataclass(frozen=True)
class Background:
    kind: str
    a: Paint
    b: Paint
    angle: float
    period: float = 0.0
    phase: float = 0.0
    coarse: Optional[np.ndarray] = None  # noise values [(g+1),(g+1)]


@dataclass(frozen=True)
class Scene:
    main: Shape          # colour is unused: main_paint decides it
    main_paint: Paint
    shaded: float        # direction of the shading in radians, or NaN for a flat fill
    distractor: Optional[Shape]
    distractor_paint: Optional[Paint]
    background: Background

    @property
    def label(self) -> int:
        return self.main.kind


def _paint(rng) -> Paint:
    return Paint(int(rng.integers(len(PALETTE))), tuple(float(v) for v in rng.uniform(-JITTER, JITTER, 3)))


def _background(rng) -> Background:
    kind = BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
    a, b, angle = _paint(rng), _paint(rng), float(rng.uniform(0, np.pi))
    if kind == "stripes":
        period = float(rng.uniform(*STRIPE_PERIOD))
        return Background(kind, a, b, angle, period, float(rng.uniform(0, period)))
    if kind == "noise":
        grid = int(rng.integers(NOISE_GRID[0], NOISE_GRID[1] + 1))
        return Background(kind, a, b, angle, coarse=rng.uniform(0, 1, (grid + 1, grid + 1)).astype(np.float32))
    return Background(kind, a, b, angle)


def _background_pixels(bg: Background, perm: np.ndarray) -> np.ndarray:
    u = np.cos(bg.angle) * _xx + np.sin(bg.angle) * _yy
    if bg.kind == "flat":
        t = np.zeros((SIZE, SIZE), np.float32)
    elif bg.kind == "gradient":
        t = (u - u.min()) / (u.max() - u.min())
    elif bg.kind == "stripes":
        t = (np.mod(u + bg.phase, bg.period) < bg.period / 2).astype(np.float32)
    elif bg.kind == "noise":
        grid = bg.coarse.shape[0] - 1
        g, h = _xx / SIZE * grid, _yy / SIZE * grid
        i, j = np.minimum(g.astype(int), grid - 1), np.minimum(h.astype(int), grid - 1)
        fx, fy = g - i, h - j
        c = bg.coarse
        t = (c[j, i] * (1 - fx) * (1 - fy) + c[j, i + 1] * fx * (1 - fy)
             + c[j + 1, i] * (1 - fx) * fy + c[j + 1, i + 1] * fx * fy)
    else:
        raise ValueError(bg.kind)
    a, b = bg.a.rgb(perm), bg.b.rgb(perm)
    return a * (1 - t[..., None]) + b * t[..., None]


def scene(seed: int) -> Scene:
    rng = np.random.default_rng(seed)
    background = _background(rng)
    distractor, distractor_paint = None, None
    if rng.uniform() < 0.5:
        distractor = Shape(int(rng.integers(len(CLASSES))), float(rng.uniform(0, SIZE)), float(rng.uniform(0, SIZE)),
                           float(rng.uniform(*DISTRACTOR_RADIUS)), float(rng.uniform(0, 2 * np.pi)), (0.0, 0.0, 0.0))
        distractor_paint = _paint(rng)
    r = float(rng.uniform(*MAIN_RADIUS))
    cx, cy = (float(v) for v in rng.uniform(r + 4, SIZE - r - 4, 2))
    main = Shape(int(rng.integers(len(CLASSES))), cx, cy, r, float(rng.uniform(0, 2 * np.pi)), (0.0, 0.0, 0.0))
    shaded = float(rng.uniform(0, 2 * np.pi)) if rng.uniform() < 0.3 else float("nan")
    return Scene(main, _paint(rng), shaded, distractor, distractor_paint, background)


def _contrasts(main_rgb: np.ndarray, bg_pixels: np.ndarray) -> bool:
    """shapes.py's rule: the main colour differs from the background's mean by > 150 (sum over RGB)."""
    return np.abs(main_rgb - bg_pixels.reshape(-1, 3).mean(0)).sum() > 150


def render(seed: int, view: int = 0) -> Tuple[np.ndarray, int]:
    """-> (uint8 [256,256,3], label) of view `view` of scene `seed`."""
    s = scene(seed)
    identity = np.arange(len(PALETTE))
    rng = np.random.default_rng([seed, view])
    if view == 0:
        perm, shift, bg = identity, (0.0, 0.0), _background_pixels(s.background, identity)
        if not _contrasts(s.main_paint.rgb(perm), bg):  # as shapes.py: pick a contrasting paint
            for _ in range(20):
                paint = _paint(rng)
                if _contrasts(paint.rgb(perm), bg):
                    s = replace(s, main_paint=paint)
                    break
    else:
        bg_desc = _background(rng)
        for _ in range(20):  # a permutation under which the main object still stands out
            perm = rng.permutation(len(PALETTE))
            bg = _background_pixels(bg_desc, perm)
            if _contrasts(s.main_paint.rgb(perm), bg):
                break
        # Translation within the canvas for the main object; the distractor moves with it.
        m = s.main
        lo_x, hi_x = m.radius + 4 - m.cx, SIZE - m.radius - 4 - m.cx
        lo_y, hi_y = m.radius + 4 - m.cy, SIZE - m.radius - 4 - m.cy
        shift = (float(np.clip(rng.uniform(-MAX_SHIFT, MAX_SHIFT), min(lo_x, 0), max(hi_x, 0))),
                 float(np.clip(rng.uniform(-MAX_SHIFT, MAX_SHIFT), min(lo_y, 0), max(hi_y, 0))))
    img = bg.astype(np.float32)
    if s.distractor is not None:
        d = replace(s.distractor, cx=s.distractor.cx + shift[0], cy=s.distractor.cy + shift[1])
        alpha = coverage(d)[..., None]
        img = img * (1 - alpha) + alpha * s.distractor_paint.rgb(perm)
    m = replace(s.main, cx=s.main.cx + shift[0], cy=s.main.cy + shift[1])
    colour = s.main_paint.rgb(perm)
    alpha = coverage(m)[..., None]
    if np.isnan(s.shaded):
        fill = colour
    else:
        d = s.shaded
        along = ((_xx - m.cx) * np.cos(d) + (_yy - m.cy) * np.sin(d)) / m.radius * 0.5 + 0.5
        fill = colour * (1 - 0.25 * np.clip(along, 0, 1))[..., None]
    img = img * (1 - alpha) + alpha * fill
    img = img + rng.normal(0, 2.0, img.shape).astype(np.float32)  # grain, 2/255, new in every view
    out = np.clip(np.round(img), 0, 255).astype(np.uint8)
    if view:
        if rng.uniform() < 0.5:
            out = out[:, ::-1]
        out = np.ascontiguousarray(np.rot90(out, int(rng.integers(4))))
    return out, s.label
