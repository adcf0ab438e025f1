"""Stage 1: training the VQGAN tokenizer (the exporter's `VQGAN` module, trained here).

Losses as in VQ-VAE/VQGAN: reconstruction (L1 + MSE on [0,1] pixels), codebook loss
||sg(z) - e||^2 and commitment loss beta*||z - sg(e)||^2, with the straight-through estimator
carrying the decoder's gradient to the encoder. No adversarial loss: the quality bar here is pixel
fidelity (PSNR) and a patch discriminator would cost a third more compute for sharper, not more
faithful, reconstructions.

Codebook collapse is handled by re-initialising dead codes: every 50 steps, codes that no latent
vector chose during the last DEAD_AFTER steps take encoder outputs drawn from the current batch.
The codebook itself starts from encoder outputs (as k-means would), not from a random normal.
"""
import contextlib

import torch
import torch.nn.functional as F

from mage_export.vqgan import VQGAN

BETA = 0.25
DEAD_AFTER = 100


class CodebookUsage:
    """When each code was last chosen, and an exponential moving average of how often (for the
    perplexity: 1024 when every code is used equally, 1 when one code takes everything)."""

    def __init__(self, n_codes: int, decay: float = 0.99):
        self.decay = decay
        self.ema = torch.full((n_codes,), 1.0 / n_codes)
        self.last_used = torch.zeros(n_codes, dtype=torch.long)

    def update(self, ids: torch.Tensor, step: int) -> None:
        counts = torch.bincount(ids.reshape(-1).cpu(), minlength=self.ema.numel()).float()
        self.ema.mul_(self.decay).add_(counts / counts.sum(), alpha=1 - self.decay)
        self.last_used[counts > 0] = step

    def dead(self, step: int) -> torch.Tensor:
        """Codes unused for DEAD_AFTER steps; they are counted as fresh once re-drawn."""
        codes = torch.nonzero(step - self.last_used >= DEAD_AFTER).flatten()
        self.last_used[codes] = step
        return codes

    def state(self) -> dict:
        return {"ema": self.ema.clone(), "last_used": self.last_used.clone()}

    def load(self, state: dict) -> None:
        self.ema, self.last_used = state["ema"], state["last_used"]

    def perplexity(self) -> float:
        p = self.ema / self.ema.sum()
        return float(torch.exp(-(p * torch.log(p.clamp_min(1e-12))).sum()))


def latent_vectors(z: torch.Tensor) -> torch.Tensor:
    return z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])


@torch.no_grad()
def reinit_codes(vq: VQGAN, codes: torch.Tensor, z: torch.Tensor, generator: torch.Generator) -> None:
    """Codes `codes` take randomly chosen encoder outputs of this batch, slightly perturbed."""
    if codes.numel() == 0:
        return
    vectors = latent_vectors(z.detach().float())
    pick = torch.randint(0, vectors.shape[0], (codes.numel(),), generator=generator)
    noise = torch.randn(codes.numel(), vectors.shape[1], generator=generator).to(vectors.device) * 0.01 * vectors.std()
    weight = vq.quantize.embedding.weight
    weight[codes.to(weight.device)] = vectors[pick.to(vectors.device)] + noise


def vq_step(vq: VQGAN, pixels: torch.Tensor, quantize: bool = True):
    """One forward pass. -> (loss, dict of scalar parts, ids, z). quantize=False skips the codebook
    (a plain autoencoder step, for the optional warm-up before the codebook exists)."""
    z = vq.encoder(pixels)
    # The nearest-code search in float32 even under mixed precision: ids decide near-ties.
    with (torch.autocast("cuda", enabled=False) if z.is_cuda else contextlib.nullcontext()):
        ids = vq.quantize.nearest(z.detach().float())
    n, c, h, w = z.shape
    e = vq.quantize.embedding(ids).reshape(n, h, w, c).permute(0, 3, 1, 2)
    codebook = F.mse_loss(e, z.detach())
    commit = F.mse_loss(z, e.detach())
    zq = z + (e - z).detach() if quantize else z  # straight-through
    if not quantize:
        codebook, commit = codebook.detach() * 0, commit.detach() * 0
    recon = vq.decoder(zq)
    l1 = (recon - pixels).abs().mean()
    mse = F.mse_loss(recon, pixels)
    loss = l1 + mse + codebook + BETA * commit
    psnr = float(-10 * torch.log10(F.mse_loss(recon.detach().float().clamp(0, 1), pixels).clamp_min(1e-10)))
    return loss, {"loss": float(loss), "l1": float(l1), "mse": float(mse), "codebook": float(codebook),
                  "commit": float(commit), "psnr": psnr}, ids, z
