#!/usr/bin/env python3
"""Train a small MAGE on procedural images: the VQGAN tokenizer, then the token transformer.

    /usr/bin/python3 tools/train/train.py --out runs/mini            # the recommended mini run
    /usr/bin/python3 tools/train/train.py --out runs/mini            # again: resumes where it stopped

Stages: `vq` (tokenizer on random crops) -> `tokens` (tokenize the stage-2 images at 256x256) ->
`mage` (masked token modelling) -> `done`. Everything is a function of --seed and the step, so a
resumed run matches an uninterrupted one. The run stops cleanly (checkpoint written, exit 0) at
--max-minutes or on Ctrl-C/SIGTERM; rerunning with the same --out continues. Arguments are stored
in the run folder on the first start; later starts must agree with them except --max-minutes and
--checkpoint-minutes.

Outputs in --out: state.pt (everything needed to resume), tokens.npy (stage-2 tokens),
vq_log.csv and mage_log.csv (losses), loss.png (curves), and at the end mage-<arch>.pth: the model
in the official checkpoint layout ({"model": state dict}), which tools/export/export.py reads.
"""
import argparse
import csv
import json
import math
import os
import signal
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "export"))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from mage_export.archs import ARCHS  # noqa: E402
from mage_export.model import MageModel  # noqa: E402
from mage_train import data, plot, shapes  # noqa: E402
from mage_train.masking import make_masks, masked_forward, sample_mask_ratio  # noqa: E402
from mage_train.tokenizer import CodebookUsage, latent_vectors, reinit_codes, vq_step  # noqa: E402

RESUMABLE_FREELY = {"max_minutes", "checkpoint_minutes", "stop_after", "out"}
VQ_COLUMNS = ["step", "elapsed_s", "lr", "loss", "l1", "mse", "codebook", "commit", "psnr", "perplexity", "reinit"]
MAGE_COLUMNS = ["step", "elapsed_s", "lr", "loss", "accuracy", "mask_ratio"]
LOG_EVERY = 10  # steps; each CSV row holds the means over those steps


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, type=Path, help="run folder (created, or resumed if it exists)")
    p.add_argument("--arch", default="mini", choices=sorted(ARCHS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--vq-steps", type=int, default=1800)
    p.add_argument("--vq-batch", type=int, default=8)
    p.add_argument("--vq-crop", type=int, default=128, help="crop side in pixels (a multiple of 16, at most 256)")
    p.add_argument("--vq-lr", type=float, default=5e-4)
    p.add_argument("--vq-plain-steps", type=int, default=0,
                   help="first train the VQGAN as a plain autoencoder for this many steps, then draw the "
                        "codebook from its encoder outputs (a remedy for early codebook collapse; not piloted)")
    p.add_argument("--token-images", type=int, default=3000, help="training images tokenized for stage 2")
    p.add_argument("--mage-steps", type=int, default=1000)
    p.add_argument("--mage-batch", type=int, default=32)
    p.add_argument("--mage-lr", type=float, default=1e-3)
    p.add_argument("--max-minutes", type=float, default=0, help="stop (resumably) after this long; 0 = no limit")
    p.add_argument("--checkpoint-minutes", type=float, default=5)
    p.add_argument("--stop-after", type=int, default=0,
                   help="stop (resumably) after this many steps of this start; 0 = no limit (tests use it)")
    a = p.parse_args(argv)
    if a.vq_crop % 16 or not 16 <= a.vq_crop <= 256:
        p.error(f"--vq-crop {a.vq_crop} must be a multiple of 16 in 16..256")
    for name in ("vq_steps", "vq_batch", "token_images", "mage_steps", "mage_batch"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    return a


def warmup_cosine(step: int, total: int, peak: float, warmup_frac: float = 0.05, floor: float = 0.1) -> float:
    warm = max(1, int(total * warmup_frac))
    if step < warm:
        return peak * (step + 1) / warm
    t = (step - warm) / max(1, total - warm)
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def set_lr(opt, step: int, total: int, peak: float) -> float:
    lr = warmup_cosine(step, total, peak)
    for group in opt.param_groups:
        group["lr"] = lr
    return lr


def init_transformer(model: MageModel) -> None:
    """The official initialisation: xavier-uniform linears with zero bias, unit LayerNorms,
    normal(0.02) embeddings and learned decoder positions."""
    for name, m in model.named_modules():
        if name.startswith("vqgan"):
            continue
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.trunc_normal_(m.weight, std=0.02)
    nn.init.trunc_normal_(model.decoder_pos_embed_learned, std=0.02)
    nn.init.zeros_(model.mlm_layer.bias)


def transformer_parameters(model: MageModel):
    return [p for n, p in model.named_parameters() if not n.startswith("vqgan.")]


class Window:
    """Means of logged values over the steps since the last log line (one step's loss is noisy)."""

    def __init__(self, saved: dict = None):
        """saved: `state()` of the window an interrupted start was filling."""
        self.sums, self.count = dict((saved or {}).get("sums", {})), (saved or {}).get("count", 0)

    def state(self) -> dict:
        return {"sums": dict(self.sums), "count": self.count}

    def add(self, values: dict) -> None:
        for k, v in values.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v)
        self.count += 1

    def take(self) -> dict:
        means = {k: v / max(self.count, 1) for k, v in self.sums.items()}
        self.sums, self.count = {}, 0
        return means


class CsvLog:
    def __init__(self, path: Path, columns, keep_until: int):
        """Opens for appending; rows after step `keep_until` (logged after the last checkpoint of
        an interrupted run) are dropped so a resumed log has no duplicates."""
        self.path, self.columns = path, columns
        rows = [r for r in csv.DictReader(path.open())] if path.is_file() else []
        rows = [r for r in rows if int(float(r["step"])) <= keep_until]
        with path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=columns)
            w.writeheader()
            w.writerows(rows)

    def write(self, row: dict) -> None:
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, fieldnames=self.columns).writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})


class Run:
    def __init__(self, args):
        self.args, self.out = args, args.out
        self.model = MageModel(ARCHS[args.arch])
        self.stop_requested = False
        self.steps_this_start = 0
        self.started = time.monotonic()
        self.last_save = time.monotonic()
        self.state_path = self.out / "state.pt"
        self.elapsed_before = 0.0

    # ----- persistence
    def check_args(self) -> None:
        path = self.out / "args.json"
        mine = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(self.args).items()}
        if path.is_file():
            saved = json.loads(path.read_text())
            diff = [f"--{k.replace('_', '-')} {saved.get(k)} (now {mine[k]})" for k in mine
                    if k not in RESUMABLE_FREELY and saved.get(k) != mine[k]]
            if diff:
                raise SystemExit(f"train: {self.out} was started with other arguments: {', '.join(diff)}; "
                                 f"use the same ones to resume, or another --out")
        else:
            path.write_text(json.dumps(mine, indent=2) + "\n")

    def load(self) -> dict:
        if not self.state_path.is_file():
            return {"stage": "vq", "step": 0, "elapsed": 0.0}
        state = torch.load(str(self.state_path), map_location="cpu")
        self.model.load_state_dict(state["model"])
        self.elapsed_before = state["elapsed"]
        return state

    def save(self, state: dict) -> None:
        state = dict(state, model=self.model.state_dict(), elapsed=self.elapsed())
        tmp = self.state_path.with_suffix(".tmp")
        torch.save(state, str(tmp))
        os.replace(tmp, self.state_path)
        self.last_save = time.monotonic()
        self.draw()

    def elapsed(self) -> float:
        """Training seconds over all starts of this run."""
        return self.elapsed_before + time.monotonic() - self.started

    def draw(self) -> None:
        plot.draw(self.out / "loss.png", [
            (self.out / "vq_log.csv", "stage 1: VQGAN tokenizer loss (log)", ["loss", "mse", "codebook"], True),
            (self.out / "vq_log.csv", "stage 1: training-crop PSNR (dB)", ["psnr"], False),
            (self.out / "mage_log.csv", "stage 2: masked-token cross entropy (log)", ["loss"], True),
            (self.out / "mage_log.csv", "stage 2: masked-token accuracy", ["accuracy"], False),
        ])

    def should_stop(self) -> bool:
        a = self.args
        return (self.stop_requested or (a.max_minutes > 0 and time.monotonic() - self.started > a.max_minutes * 60)
                or 0 < a.stop_after <= self.steps_this_start)

    def due(self) -> bool:
        return time.monotonic() - self.last_save > self.args.checkpoint_minutes * 60

    # ----- stages
    def stage_vq(self, state: dict) -> dict:
        a, vq = self.args, self.model.vqgan
        opt = torch.optim.Adam(vq.parameters(), lr=a.vq_lr, betas=(0.9, 0.99))
        usage = CodebookUsage(vq.quantize.embedding.num_embeddings)
        g = torch.Generator().manual_seed(a.seed + 11)
        if "vq_opt" in state:
            opt.load_state_dict(state["vq_opt"])
            usage.load(state["vq_usage"])
            g.set_state(state["vq_gen"])
        log = CsvLog(self.out / "vq_log.csv", VQ_COLUMNS, state["step"])
        batches = data.CropBatches(a.seed, a.vq_batch, a.vq_crop)
        step, reinit, window = state["step"], state.get("reinit", 0), Window(state.get("window"))

        def snapshot(s):
            return {"stage": "vq", "step": s, "vq_opt": opt.state_dict(), "vq_usage": usage.state(),
                    "vq_gen": g.get_state(), "window": window.state(), "reinit": reinit}

        vq.train()
        while step < a.vq_steps:
            if self.should_stop():
                return snapshot(step)
            lr = set_lr(opt, step, a.vq_steps, a.vq_lr)
            pixels = batches(step)
            quantize = step >= a.vq_plain_steps
            if step == a.vq_plain_steps:  # codebook from encoder outputs, so no code starts out of reach
                with torch.no_grad():
                    reinit_codes(vq, torch.arange(vq.quantize.embedding.num_embeddings), vq.encoder(pixels), g)
                usage.last_used.fill_(step)
            loss, parts, ids, z = vq_step(vq, pixels, quantize)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if quantize:
                usage.update(ids, step)
            window.add(parts)
            self.steps_this_start += 1
            if quantize and step % 50 == 49 and step < a.vq_steps * 0.9:
                dead = usage.dead(step)
                reinit += dead.numel()
                reinit_codes(vq, dead, z, g)
            step += 1
            if step % LOG_EVERY == 0 or step == a.vq_steps:
                parts = window.take()
                log.write(dict(parts, step=step, elapsed_s=self.elapsed(), lr=lr,
                               perplexity=usage.perplexity(), reinit=reinit))
                print(f"vq {step}/{a.vq_steps} loss {parts['loss']:.4f} psnr {parts['psnr']:.2f} "
                      f"perplexity {usage.perplexity():.0f} reinit {reinit}", flush=True)
                reinit = 0
            if self.due():
                self.save(snapshot(step))
        return {"stage": "tokens", "step": 0}

    def stage_tokens(self, state: dict) -> dict:
        a, vq = self.args, self.model.vqgan
        path = self.out / "tokens.npy"
        tokens = np.load(path) if path.is_file() else np.zeros((a.token_images, 256), np.int16)
        seeds = data.token_image_seeds(a.seed, a.token_images)
        done = state["step"]
        vq.eval()
        chunk = 32
        while done < a.token_images:
            if self.should_stop():
                np.save(path, tokens)
                return {"stage": "tokens", "step": done}
            n = min(chunk, a.token_images - done)
            imgs, _ = shapes.images(seeds[done:done + n])
            with torch.no_grad():
                ids = self.model.tokenize(torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 255.0)
            tokens[done:done + n] = ids.numpy().astype(np.int16)
            done += n
            if done % (chunk * 10) == 0 or done == a.token_images:
                used = len(np.unique(tokens[:done]))
                print(f"tokens {done}/{a.token_images} ({used} distinct codes)", flush=True)
        np.save(path, tokens)
        torch.manual_seed(a.seed + 22)
        init_transformer(self.model)
        return {"stage": "mage", "step": 0}

    def stage_mage(self, state: dict) -> dict:
        a = self.args
        tokens = np.load(self.out / "tokens.npy")
        params = transformer_parameters(self.model)
        opt = torch.optim.AdamW(params, lr=a.mage_lr, betas=(0.9, 0.95), weight_decay=0.05)
        if "mage_opt" in state:
            opt.load_state_dict(state["mage_opt"])
        log = CsvLog(self.out / "mage_log.csv", MAGE_COLUMNS, state["step"])
        step, window = state["step"], Window(state.get("window"))

        def snapshot(s):
            return {"stage": "mage", "step": s, "mage_opt": opt.state_dict(), "window": window.state()}

        self.model.train()
        while step < a.mage_steps:
            if self.should_stop():
                return snapshot(step)
            lr = set_lr(opt, step, a.mage_steps, a.mage_lr)
            rows, rng, g = data.token_batch(a.seed, step, tokens, a.mage_batch)
            ratio = sample_mask_ratio(rng)
            drop, masked = make_masks(rows.shape[0], rows.shape[1], ratio, g)
            loss, accuracy = masked_forward(self.model, rows, drop, masked)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 3.0)
            opt.step()
            self.steps_this_start += 1
            step += 1
            window.add({"loss": loss, "accuracy": accuracy, "mask_ratio": ratio})
            if step % LOG_EVERY == 0 or step == a.mage_steps:
                parts = window.take()
                log.write(dict(parts, step=step, elapsed_s=self.elapsed(), lr=lr))
                print(f"mage {step}/{a.mage_steps} loss {parts['loss']:.4f} acc {parts['accuracy']:.3f}", flush=True)
            if self.due():
                self.save(snapshot(step))
        return {"stage": "done", "step": 0}

    def finish(self) -> Path:
        final = self.out / f"mage-{self.args.arch}.pth"
        self.model.eval()
        # Strings and ints only: PyTorch 1.13's weights_only loader (which export.py uses) refuses floats.
        meta = {"arch": self.args.arch, "seed": self.args.seed, "trainer": "tools/train/train.py"}
        tmp = final.with_suffix(".tmp")
        torch.save({"model": self.model.state_dict(), "meta": meta}, str(tmp))
        os.replace(tmp, final)
        return final


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    run = Run(args)
    run.check_args()
    state = run.load()
    if state["stage"] != "vq" or state["step"]:
        print(f"train: resuming {args.out} at stage {state['stage']} step {state['step']}", flush=True)

    def request_stop(signum, _frame):
        print(f"train: signal {signum}: saving and stopping", flush=True)
        run.stop_requested = True

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        stages = {"vq": run.stage_vq, "tokens": run.stage_tokens, "mage": run.stage_mage}
        while state["stage"] in stages:
            before = state["stage"]
            state = stages[before](state)
            run.save(state)
            if state["stage"] == before:  # stopped inside a stage (budget, --stop-after or signal)
                print(f"train: stopped at stage {before} step {state['step']}; rerun the same command to resume",
                      flush=True)
                return 0
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    final = run.finish()
    print(f"train: done; checkpoint {final}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
