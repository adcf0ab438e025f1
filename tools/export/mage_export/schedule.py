"""A plain reference of the deterministic MaskGIT schedule (docs/model.md#decode-schedule with argmax and no
Gumbel noise), used only to compute golden outputs."""
import math

import torch

from .archs import FAKE_CLASS_ID, MASK_ID


@torch.no_grad()
def decode_deterministic(model, tokens: torch.Tensor, steps: int) -> torch.Tensor:
    """tokens: int64 [N,256] with MASK_ID at unknown positions -> int64 [N,256], all known."""
    cur = tokens.clone()
    u0 = (cur == MASK_ID).sum(dim=1)
    fake = torch.full((cur.shape[0], 1), FAKE_CLASS_ID, dtype=torch.long)
    sampled = cur
    for t in range(steps):
        ids = torch.cat([fake, cur], dim=1)
        logits = model.logits(ids)
        unknown = cur == MASK_ID
        chosen = logits.argmax(dim=-1)
        sampled = torch.where(unknown, chosen, cur)
        ratio = (t + 1) / steps
        mask_ratio = math.cos(math.pi / 2 * ratio)
        probs = torch.softmax(logits, dim=-1)
        picked = torch.gather(probs, -1, sampled.unsqueeze(-1)).squeeze(-1)
        confidence = torch.where(unknown, torch.log(picked), torch.tensor(float("inf")))
        nxt = sampled.clone()
        for r in range(cur.shape[0]):
            if int(u0[r]) == 0:
                continue
            unknown_now = int(unknown[r].sum())
            mask_len = max(1, min(unknown_now - 1, math.floor(int(u0[r]) * mask_ratio)))
            cut_off = torch.sort(confidence[r]).values[mask_len - 1]
            nxt[r] = torch.where(confidence[r] <= cut_off, torch.tensor(MASK_ID), sampled[r])
        cur = nxt
    return sampled
