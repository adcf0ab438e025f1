"""Seeded synthetic test images: gradients, rectangles, discs and noise, so that tokens vary."""
import numpy as np

from .archs import IMAGE_SIZE


def synthetic_images(count: int, seed: int, size: int = IMAGE_SIZE) -> np.ndarray:
    """-> uint8 [count, size, size, 3] (HWC RGB)."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    out = np.empty((count, size, size, 3), dtype=np.uint8)
    for i in range(count):
        img = np.empty((size, size, 3), dtype=np.float32)
        for c in range(3):
            a, b, p = rng.uniform(-1, 1, 3)
            img[..., c] = 0.5 + 0.35 * np.sin(2 * np.pi * (a * xx + b * yy) * rng.uniform(0.5, 3) + p)
        for _ in range(rng.randint(3, 8)):
            x0, y0 = rng.randint(0, size - 16, 2)
            w, h = rng.randint(16, size // 2, 2)
            img[y0:y0 + h, x0:x0 + w] = rng.uniform(0, 1, 3)
        for _ in range(rng.randint(2, 5)):
            cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.2)
            disc = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
            img[disc] = rng.uniform(0, 1, 3)
        img += rng.normal(0, 0.03, img.shape).astype(np.float32)
        out[i] = np.clip(np.round(img * 255), 0, 255).astype(np.uint8)
    return out
