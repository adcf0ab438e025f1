"""Stage 2 pieces: MAGE's variable masking and the training forward pass with token dropping.

Follows the official training (LTH14/mage models_mage.py): one mask ratio per batch drawn from a
truncated Gaussian (loc 0.55, scale 0.25, range [0.5, 1.0]); ceil(256*ratio) positions of every
row get the mask id; ceil(256*0.5) of those (the lowest-noise ones) are also *dropped* from the
encoder input; the fake class token at position 0 is never masked or dropped. The decoder puts the
decoder-embedded position-0 vector at every masked position (dropped or not), adds the learned
decoder position embedding, and predicts codebook ids; the loss is label-smoothed (0.1) cross
entropy over the 1024 codebook logits at masked positions only. As in the official code the
prediction head reads the word embeddings detached (gradient reaches them only as inputs).

Box batches (not in the official training): inpainting asks the model to fill a box of tokens
with everything else known and nothing dropped, which the random >= 50% masks never show it. A
fraction of batches (train.py --box-fraction) therefore masks, in every row, a random subset of a
random rectangle of tokens (make_box_masks), drops nothing, and is scored on those positions.

Note on the numbers: loc 0.55 is the Gaussian's centre before truncation; truncating at 0.5 cuts
most of its lower half, so the ratios drawn have mean ~0.694 (TRUNCATED_MEAN).
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

from mage_export.archs import CODEBOOK_SIZE, FAKE_CLASS_ID, MASK_ID
from mage_export.transformer import MageTransformer

RATIO_LOC, RATIO_SCALE, RATIO_MIN, RATIO_MAX = 0.55, 0.25, 0.5, 1.0
LABEL_SMOOTHING = 0.1


def _phi(x):
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _cdf(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


_A, _B = (RATIO_MIN - RATIO_LOC) / RATIO_SCALE, (RATIO_MAX - RATIO_LOC) / RATIO_SCALE
TRUNCATED_MEAN = RATIO_LOC + RATIO_SCALE * (_phi(_A) - _phi(_B)) / (_cdf(_B) - _cdf(_A))


def sample_mask_ratio(rng: np.random.Generator) -> float:
    """One draw of the truncated Gaussian (rejection sampling; about 54% of draws are accepted)."""
    while True:
        r = rng.normal(RATIO_LOC, RATIO_SCALE)
        if RATIO_MIN <= r <= RATIO_MAX:
            return float(r)


def make_masks(batch: int, seq: int, ratio: float, generator: torch.Generator):
    """-> (drop [B,seq] bool, masked [B,seq] bool): drop is a subset of masked, row counts exact."""
    n_drop = int(math.ceil(seq * RATIO_MIN))
    n_mask = int(math.ceil(seq * ratio))
    order = torch.rand(batch, seq, generator=generator).argsort(dim=1)  # a random permutation per row
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(seq).expand(batch, seq))
    return rank < n_drop, rank < n_mask


BOX_SIDE = (3, 10)  # tokens; the evaluation's 96x96-pixel box touches 6-7 tokens per side


def make_box_masks(batch: int, grid: int, generator: torch.Generator):
    """-> (drop [B,grid*grid] all False, masked [B,grid*grid]): per row a rectangle of BOX_SIDE
    sides at a random place, of which a random fraction in [0.3, 1] of positions (at least one) is
    masked, as the iterative schedule leaves a box part filled."""
    seq = grid * grid
    masked = torch.zeros(batch, grid, grid, dtype=torch.bool)
    for r in range(batch):
        h, w = (int(v) for v in torch.randint(BOX_SIDE[0], BOX_SIDE[1] + 1, (2,), generator=generator))
        y = int(torch.randint(0, grid - h + 1, (1,), generator=generator))
        x = int(torch.randint(0, grid - w + 1, (1,), generator=generator))
        keep_frac = 0.3 + 0.7 * float(torch.rand(1, generator=generator))
        inside = torch.rand(h, w, generator=generator) < keep_frac
        inside.view(-1)[int(torch.randint(0, h * w, (1,), generator=generator))] = True
        masked[r, y:y + h, x:x + w] = inside
    return torch.zeros(batch, seq, dtype=torch.bool), masked.view(batch, seq)


def masked_forward(model: MageTransformer, tokens: torch.Tensor, drop: torch.Tensor, masked: torch.Tensor):
    """tokens [B,256] codebook ids -> (loss, accuracy on masked positions, pooled [B,D]). Every row
    must drop the same number of positions. `pooled` is the package's `linprobe` feature of what
    the encoder saw (mean of the kept positions after the blocks, LayerNorm without affine), for
    the contrastive term."""
    b, seq = tokens.shape
    ids = torch.where(masked, torch.full_like(tokens, MASK_ID), tokens)
    dev = tokens.device
    ids = torch.cat([torch.full((b, 1), FAKE_CLASS_ID, dtype=torch.long, device=dev), ids], dim=1)
    keep = torch.cat([torch.ones(b, 1, dtype=torch.bool, device=dev), ~drop], dim=1)
    all_masked = torch.cat([torch.zeros(b, 1, dtype=torch.bool, device=dev), masked], dim=1)

    x = model.token_emb(ids)
    d = x.shape[-1]
    x = x[keep].reshape(b, -1, d)  # every row keeps the same count, so this stays rectangular
    for block in model.blocks:
        x = block(x)
    pooled = F.layer_norm(x[:, 1:].mean(1), (d,), eps=1e-6)
    x = model.norm(x)

    x = model.decoder_embed(x)
    dd = x.shape[-1]
    pad = x[:, 0:1].expand(b, seq + 1, dd)
    full = pad.clone()
    full[keep] = x.reshape(-1, dd)
    full = torch.where(all_masked.unsqueeze(-1), pad, full)
    full = full + model.decoder_pos_embed_learned
    for block in model.decoder_blocks:
        full = block(full)
    full = model.decoder_norm(full)
    # The head only at masked positions and over codebook ids: the loss reads nothing else, and the
    # full 257 x 2025 product would be a sixth of the step's arithmetic.
    head = model.mlm_layer
    h = head.ln(F.gelu(head.fc(full[:, 1:][masked])))
    picked = h @ model.token_emb.word_embeddings.weight[:CODEBOOK_SIZE].detach().t() + head.bias[0, :, :CODEBOOK_SIZE]

    target = tokens[masked]
    loss = F.cross_entropy(picked, target, label_smoothing=LABEL_SMOOTHING)
    accuracy = float((picked.argmax(-1) == target).float().mean())
    return loss, accuracy, pooled
