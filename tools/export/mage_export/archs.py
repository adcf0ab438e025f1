"""Architecture settings. `tiny` keeps the real geometry (256x256 images, a 16x16 token grid,
1024 codes, the 2025-id vocabulary with mask id 2024 and fake class 1100) with narrow layers.
`mini` has the same geometry and the widths that tools/train can train in about two hours on two
CPU cores (tools/train/README.md has the measurements behind them)."""
from dataclasses import dataclass
from typing import Tuple

IMAGE_SIZE = 256
TOKEN_GRID = 16
NUM_TOKENS = TOKEN_GRID * TOKEN_GRID
CODEBOOK_SIZE = 1024
VOCAB_SIZE = 2025
MASK_ID = 2024
FAKE_CLASS_ID = 1100


@dataclass(frozen=True)
class Arch:
    name: str
    vq_ch: int
    vq_ch_mult: Tuple[int, ...]
    vq_res_blocks: int
    vq_z: int
    dim: int
    depth: int
    heads: int
    dec_dim: int
    dec_depth: int
    dec_heads: int
    # GroupNorm groups in the VQGAN. The official 32 leaves 4 channels per group at width 128; at
    # width 32 it leaves one, and a one-channel group norm erases each channel's mean, so the
    # network cannot carry an image's colours (a plain autoencoder of that kind stalls below the
    # PSNR of predicting each crop's mean colour). `mini` keeps 4 channels per group instead.
    vq_groups: int = 32
    # The VQGAN works at IMAGE_SIZE / vq_pool inside: the encoder average-pools its input by
    # vq_pool and the decoder resizes its output bilinearly by vq_pool, so the package keeps 256x256
    # pixels and the 16x16 token grid (the encoder then needs one 2x pooling fewer per factor 2).
    # The full-resolution convolutions are most of a small VQGAN's cost; at 2 they cost a quarter.
    vq_pool: int = 1


ARCHS = {
    "tiny": Arch("tiny", 32, (1, 1, 1, 1, 2), 1, 32, 64, 2, 2, 64, 2, 2),
    "mini": Arch("mini", 32, (1, 1, 2, 2, 2), 1, 64, 128, 4, 2, 128, 2, 2, vq_groups=8),
    # `mini` with a tokenizer at 128x128 inside and narrower convolutions (tools/train/README.md).
    "mini-half": Arch("mini-half", 16, (1, 2, 4, 4), 1, 64, 128, 4, 2, 128, 2, 2, vq_groups=4, vq_pool=2),
    # `mini-half`'s tokenizer under a transformer twice as wide and half again as deep (6.4 M
    # parameters against 1.6 M), trained from a finished mini-half tokenizer (tools/train/README.md).
    "mini-half-wide": Arch("mini-half-wide", 16, (1, 2, 4, 4), 1, 64, 256, 6, 4, 192, 2, 3, vq_groups=4, vq_pool=2),
    "vit-base": Arch("vit-base", 128, (1, 1, 2, 2, 4), 2, 256, 768, 12, 12, 768, 8, 16),
    "vit-large": Arch("vit-large", 128, (1, 1, 2, 2, 4), 2, 256, 1024, 24, 16, 1024, 8, 16),
}
