"""MAGE-C's optional contrastive term (Li et al. 2023, section 3.3): a SimCLR-style InfoNCE loss
between the encoder's pooled features of two views of one scene, added to the masked-token loss.

The pooled feature is the package's `linprobe` (masking.masked_forward), so the term shapes the
very feature the 5-NN bar reads. The projection head is training-only: it is kept in train.py's
state.pt and left out of the final checkpoint (the exporter never sees it). The views come from
scenes.py (palette permutation, background drawn again, translation, flips, quarter turns), and
both are masked as any other sequence; no class label is used.
"""
import torch
import torch.nn.functional as F
from torch import nn


class Projection(nn.Module):
    """Two-layer MLP head, as SimCLR and MAGE-C."""

    def __init__(self, dim: int, hidden: int = 256, out: int = 128):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """a, b [S,K]: row i of a and row i of b are two views of one scene; every other row of the
    2S is a negative (NT-Xent)."""
    z = F.normalize(torch.cat([a, b]).float(), dim=1)
    sim = z @ z.t() / temperature
    n = a.shape[0]
    sim.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, target)
