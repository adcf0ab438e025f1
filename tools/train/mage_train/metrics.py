"""The trained model's quality measures (tools/train/evaluate.py), computed with the exporter's
PyTorch modules, and the no-learning baselines they are read against.

All inputs are held-out procedural images (shapes.HELDOUT_SEEDS) of one distribution
(datasets.py). Every measure is deterministic for a given model and seed.
"""
import math
from typing import Dict

import numpy as np
import torch

from mage_export.archs import CODEBOOK_SIZE, FAKE_CLASS_ID, MASK_ID, NUM_TOKENS, TOKEN_GRID
from mage_export.model import MageModel
from mage_export.schedule import decode_deterministic

from . import datasets, shapes

BOX = 96
INPAINT_SEEDS_FROM = 10_000  # the held-out seeds of the inpainting boxes and images
PATCH = 256 // TOKEN_GRID


def to_pixels(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0


def to_images(pixels: torch.Tensor) -> np.ndarray:
    return np.clip(np.round(pixels.permute(0, 2, 3, 1).numpy() * 255), 0, 255).astype(np.uint8)


def with_class(tokens: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.full((tokens.shape[0], 1), FAKE_CLASS_ID, dtype=torch.long), tokens], dim=1)


def batched(fn, x, size=16):
    return torch.cat([fn(x[i:i + size]) for i in range(0, x.shape[0], size)])


def psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image PSNR in dB of uint8 images [N,H,W,3]."""
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).reshape(a.shape[0], -1).mean(1)
    return 10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-10))


def reconstruction_psnr(model: MageModel, images: np.ndarray) -> float:
    """Mean over images of the PSNR of detokenize(tokenize(image)) against the image."""
    tokens = batched(model.tokenize, to_pixels(images))
    return float(psnr(to_images(batched(model.detokenize, tokens)), images).mean())


def patch_mean_psnr(images: np.ndarray) -> float:
    """The no-learning tokenizer: each 16x16 patch's mean colour, upsampled bicubically."""
    x = to_pixels(images)
    up = torch.nn.functional.interpolate(torch.nn.functional.avg_pool2d(x, PATCH), scale_factor=PATCH,
                                         mode="bicubic", align_corners=False).clamp(0, 1)
    return float(psnr(to_images(up), images).mean())


def knn_accuracy(features: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Leave-one-out k-NN accuracy with cosine similarity; a vote tie goes to the class of the
    nearest neighbour among the tied classes."""
    f = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    sim = f @ f.T
    np.fill_diagonal(sim, -np.inf)
    nearest = np.argsort(-sim, axis=1)[:, :k]
    correct = 0
    for i, row in enumerate(nearest):
        votes = np.bincount(labels[row], minlength=labels.max() + 1)
        tied = np.flatnonzero(votes == votes.max())
        guess = next(labels[j] for j in row if labels[j] in tied)
        correct += int(guess == labels[i])
    return correct / len(labels)


def linprobe_features(model: MageModel, images: np.ndarray) -> np.ndarray:
    tokens = batched(model.tokenize, to_pixels(images))
    return batched(lambda t: model.encode_features(with_class(t))[1], tokens).numpy()


def box_for(seed: int):
    """A 96x96 box inside the image at a position drawn from `seed`: (y0, x0)."""
    rng = np.random.default_rng([seed, 96])
    return tuple(int(v) for v in rng.integers(0, 256 - BOX + 1, 2))


def mask_boxes(tokens: torch.Tensor, boxes) -> torch.Tensor:
    """A copy of `tokens` [N,256] with MASK_ID wherever a token's 16x16 patch touches row i's box
    (the service's rule, TokenMask.FromPixelMask)."""
    masked = tokens.clone()
    for i, (y, x) in enumerate(boxes):
        grid = masked[i].view(TOKEN_GRID, TOKEN_GRID)
        grid[y // PATCH:(y + BOX - 1) // PATCH + 1, x // PATCH:(x + BOX - 1) // PATCH + 1] = MASK_ID
    return masked


def box_errors(out: np.ndarray, images: np.ndarray, boxes) -> np.ndarray:
    """Per image, the mean absolute error (0..255) of `out` against `images` inside its box."""
    return np.array([np.abs(out[i, y:y + BOX, x:x + BOX].astype(np.float64)
                            - images[i, y:y + BOX, x:x + BOX]).mean() for i, (y, x) in enumerate(boxes)])


def border_fill_errors(images: np.ndarray, boxes) -> np.ndarray:
    """Per image, the error of filling its box with the mean colour of the 1-pixel ring around it."""
    errors = []
    for i, (y, x) in enumerate(boxes):
        inside = images[i, y:y + BOX, x:x + BOX].astype(np.float64)
        ring = np.concatenate([images[i, max(y - 1, 0), x:x + BOX], images[i, min(y + BOX, 255), x:x + BOX],
                               images[i, y:y + BOX, max(x - 1, 0)], images[i, y:y + BOX, min(x + BOX, 255)]])
        errors.append(np.abs(ring.astype(np.float64).mean(0) - inside).mean())
    return np.array(errors)


def token_ring_fill(masked: torch.Tensor) -> torch.Tensor:
    """The border fill in token space: every MASK_ID of a row becomes the most frequent known token
    of the ring of positions around the masked rectangle (ties: the smallest id)."""
    out = masked.clone()
    for row in out:
        grid = row.view(TOKEN_GRID, TOKEN_GRID)
        unknown = grid == MASK_ID
        if not unknown.any():
            continue
        ys, xs = torch.nonzero(unknown, as_tuple=True)
        y0, y1 = max(int(ys.min()) - 1, 0), min(int(ys.max()) + 2, TOKEN_GRID)
        x0, x1 = max(int(xs.min()) - 1, 0), min(int(xs.max()) + 2, TOKEN_GRID)
        window, known = grid[y0:y1, x0:x1], ~unknown[y0:y1, x0:x1]
        grid[unknown] = int(torch.bincount(window[known]).argmax())
    return out


@torch.no_grad()
def inpaint_errors(model: MageModel, images: np.ndarray, seeds, steps: int = 12) -> Dict[str, float]:
    """Mean absolute error (0..255) inside a 96x96 box: MAGE inpainting (deterministic schedule;
    a token is unknown if its 16x16 patch touches the box) against filling the box with the mean
    colour of the 1-pixel ring around it."""
    tokens = batched(model.tokenize, to_pixels(images))
    boxes = [box_for(int(s)) for s in seeds]
    filled = decode_deterministic(model, mask_boxes(tokens, boxes), steps)
    mage = box_errors(to_images(batched(model.detokenize, filled)), images, boxes)
    fill = border_fill_errors(images, boxes)
    return {"inpaint_mae": float(mage.mean()), "border_fill_mae": float(fill.mean()),
            "inpaint_wins": float(np.mean(mage < fill))}


@torch.no_grad()
def inpaint_diagnostics(model: MageModel, images: np.ndarray, seeds, steps=(1, 12)) -> Dict[str, float]:
    """Where the inpainting error comes from, on the boxes of inpaint_errors: the true tokens
    decoded (the tokenizer's own error in the box: what a perfect transformer would score), the
    deterministic schedule at several step counts, and the border fill done in token space
    (token_ring_fill: what a transformer that only copies the surrounding code would score).
    Each as the mean error and the share of boxes where it beats the pixel border fill."""
    tokens = batched(model.tokenize, to_pixels(images))
    boxes = [box_for(int(s)) for s in seeds]
    masked = mask_boxes(tokens, boxes)
    fill = border_fill_errors(images, boxes)
    result = {"border_fill_mae": float(fill.mean())}

    def record(name, chosen):
        errors = box_errors(to_images(batched(model.detokenize, chosen)), images, boxes)
        result[f"{name}_mae"], result[f"{name}_wins"] = float(errors.mean()), float(np.mean(errors < fill))

    record("true_tokens", tokens)
    for n in steps:
        record(f"decode_{n}_steps", decode_deterministic(model, masked, n))
    record("token_ring_fill", token_ring_fill(masked))
    return result


@torch.no_grad()
def generate(model: MageModel, count: int, seed: int, steps: int = 20, temperature: float = 6.0) -> torch.Tensor:
    """The decoding schedule of docs/model.md with sampling: categorical draws and Gumbel-perturbed
    confidences."""
    g = torch.Generator().manual_seed(seed)
    cur = torch.full((count, NUM_TOKENS), MASK_ID, dtype=torch.long)
    sampled = cur
    for t in range(steps):
        logits = model.logits(with_class(cur))
        unknown = cur == MASK_ID
        probs = torch.softmax(logits, dim=-1)
        draw = torch.multinomial(probs.reshape(-1, CODEBOOK_SIZE), 1, generator=g).view(count, NUM_TOKENS)
        sampled = torch.where(unknown, draw, cur)
        ratio = (t + 1) / steps
        picked = torch.gather(probs, -1, sampled.unsqueeze(-1)).squeeze(-1)
        u = torch.rand(count, NUM_TOKENS, generator=g).clamp(1e-20, 1 - 1e-7)
        gumbel = -torch.log(-torch.log(u))
        confidence = torch.where(unknown, torch.log(picked) + temperature * (1 - ratio) * gumbel,
                                 torch.tensor(float("inf")))
        mask_len = max(1, min(int(unknown[0].sum()) - 1, math.floor(NUM_TOKENS * math.cos(math.pi / 2 * ratio))))
        cut = torch.sort(confidence, dim=1).values[:, mask_len - 1:mask_len]
        cur = torch.where(confidence <= cut, torch.full_like(sampled, MASK_ID), sampled)
    return sampled


def image_statistics(images: np.ndarray) -> Dict[str, np.ndarray]:
    """Per image: total variation (mean |difference| of neighbouring pixels, 0..255), mean and
    standard deviation of each RGB channel."""
    f = images.astype(np.float64)
    tv = (np.abs(np.diff(f, axis=1)).mean((1, 2, 3)) + np.abs(np.diff(f, axis=2)).mean((1, 2, 3))) / 2
    return {"tv": tv, "mean": f.mean((1, 2)), "std": f.std((1, 2))}


def within_training_range(generated: np.ndarray, training: np.ndarray) -> Dict[str, float]:
    """Fraction of generated images whose statistics lie inside the training images' 1st..99th
    percentiles (total variation; every channel's mean and standard deviation)."""
    g, t = image_statistics(generated), image_statistics(training)
    inside = np.ones(len(generated), bool)
    out = {}
    for key in ("tv", "mean", "std"):
        lo, hi = np.percentile(t[key], 1, axis=0), np.percentile(t[key], 99, axis=0)
        ok = ((g[key] >= lo) & (g[key] <= hi)).reshape(len(generated), -1).all(1)
        out[f"gen_{key}_inside"] = float(ok.mean())
        inside &= ok
    out["gen_all_inside"] = float(inside.mean())
    out["gen_tv_mean"] = float(g["tv"].mean())
    out["train_tv_p1"], out["train_tv_p99"] = (float(v) for v in np.percentile(t["tv"], [1, 99]))
    return out


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^1/2) of two feature sets [N,D] (FID's formula,
    here on the model's own features; the trace of the square root from the eigenvalues of
    S_a S_b, which are real and non-negative up to rounding)."""
    ma, mb = a.mean(0), b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = np.sqrt(np.clip(np.linalg.eigvals(sa @ sb).real, 0, None)).sum()
    return float(((ma - mb) ** 2).sum() + np.trace(sa) + np.trace(sb) - 2 * root)


def distinct_codes(tokens: torch.Tensor) -> float:
    """Mean number of distinct codebook ids per image."""
    return float(np.mean([len(torch.unique(t)) for t in tokens]))


def evaluate(model: MageModel, n_recon: int = 300, n_knn: int = 300, n_inpaint: int = 64, n_gen: int = 64,
             n_train_stats: int = 200, seed: int = 0, distribution: str = datasets.DEFAULT) -> Dict[str, float]:
    """Every measure on held-out images of `distribution`. Generation is judged against real
    held-out images by two class-free statistics: the Frechet distance between the `linprobe`
    features of generated and real images (with, for scale, the same distance from as many other
    real images), and the distinct codes per image."""
    model.eval()
    result: Dict[str, float] = {}

    def draw(seeds):
        return datasets.images(distribution, seeds)

    recon_imgs, _ = draw(shapes.heldout_seeds(0, n_recon))
    result["psnr_db"] = reconstruction_psnr(model, recon_imgs)
    result["patch_mean_psnr_db"] = patch_mean_psnr(recon_imgs)
    knn_imgs, labels = draw(shapes.heldout_seeds(0, n_knn))
    real_tokens = batched(model.tokenize, to_pixels(knn_imgs))
    real = batched(lambda t: model.encode_features(with_class(t))[1], real_tokens).numpy()
    result["knn5_accuracy"] = knn_accuracy(real, labels)
    result["knn5_chance"] = float(np.bincount(labels).max() / len(labels))
    seeds = shapes.heldout_seeds(INPAINT_SEEDS_FROM, n_inpaint)
    inp_imgs, _ = draw(seeds)
    result.update(inpaint_errors(model, inp_imgs, seeds))
    gen_tokens = generate(model, n_gen, seed)
    gen = to_images(batched(model.detokenize, gen_tokens))
    gen_again = batched(model.tokenize, to_pixels(gen))  # the images, as a user would feed them back
    gen_features = batched(lambda t: model.encode_features(with_class(t))[1], gen_again).numpy()
    other_imgs, _ = draw(shapes.heldout_seeds(20_000, n_gen))
    other = linprobe_features(model, other_imgs)
    result["gen_frechet"] = frechet_distance(gen_features, real)
    result["real_frechet"] = frechet_distance(other, real)
    result["gen_distinct_codes"] = distinct_codes(gen_tokens)
    result["real_distinct_codes"] = distinct_codes(real_tokens)
    train_imgs, _ = draw(shapes.train_seeds(0, n_train_stats))
    result.update(within_training_range(gen, train_imgs))
    return result
