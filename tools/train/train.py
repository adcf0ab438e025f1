#!/usr/bin/env python3
"""Train a small MAGE on procedural images: the VQGAN tokenizer, then the token transformer.

    nice -n 19 /usr/bin/python3 tools/train/train.py --out runs/mini-half   # the recommended run
    nice -n 19 /usr/bin/python3 tools/train/train.py --out runs/mini-half   # again: resumes

Stages: `vq` (tokenizer on random crops) -> `tokens` (two views of every stage-2 scene tokenized
once at 256x256) -> `mage` (masked token modelling, box masks in some batches, and the optional
MAGE-C contrastive term between the two views) -> `done`. Everything is a function of --seed and
the step, so a resumed run matches an uninterrupted one (on the CPU; CUDA kernels are not bitwise
deterministic). The run stops cleanly (checkpoint written, exit 0) at --max-minutes or on
Ctrl-C/SIGTERM; rerunning with the same --out continues. Arguments are stored in the run folder on
the first start; later starts must agree with them except those in RESUMABLE_FREELY: budgets,
--device (a run started on the CPU may continue on a GPU) and --mage-steps (a longer stage 2; the
learning-rate schedule then follows the new length from the current step on).

Outputs in --out: state.pt (everything needed to resume), tokens.npy (stage-2 tokens),
vq_log.csv and mage_log.csv (losses), loss.png (curves), and at the end mage-<arch>.pth: the model
in the official checkpoint layout ({"model": state dict}), which tools/export/export.py reads.
"""
import argparse
import contextlib
import csv
import json
import math
import os
import shutil
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
from mage_train import data, datasets, plot  # noqa: E402
from mage_train.contrastive import Projection, info_nce  # noqa: E402
from mage_train.masking import make_box_masks, make_masks, masked_forward, sample_mask_ratio  # noqa: E402
from mage_train.tokenizer import CodebookUsage, latent_vectors, reinit_codes, vq_step  # noqa: E402

RESUMABLE_FREELY = {"max_minutes", "checkpoint_minutes", "stop_after", "out", "device", "mage_steps"}
VIEWS = 2  # tokenized views per stage-2 scene
VQ_COLUMNS = ["step", "elapsed_s", "lr", "loss", "l1", "mse", "codebook", "commit", "psnr", "perplexity", "reinit"]
MAGE_COLUMNS = ["step", "elapsed_s", "lr", "loss", "mlm", "contrastive", "accuracy", "mask_ratio", "box"]
LOG_EVERY = 10  # steps; each CSV row holds the means over those steps


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, type=Path, help="run folder (created, or resumed if it exists)")
    p.add_argument("--arch", default="mini-half", choices=sorted(ARCHS))
    p.add_argument("--data", default=datasets.DEFAULT, choices=datasets.DISTRIBUTIONS,
                   help="image distribution (mage_train/datasets.py)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                   help="cuda: mixed precision (bfloat16 autocast; the nearest-code search stays float32)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--vq-steps", type=int, default=12000)
    p.add_argument("--vq-batch", type=int, default=8)
    p.add_argument("--vq-crop", type=int, default=96,
                   help="crop side in pixels (a multiple of 16 x the arch's vq_pool, at most 256)")
    p.add_argument("--vq-lr", type=float, default=1e-3)
    p.add_argument("--vq-plain-steps", type=int, default=None,
                   help="first train the VQGAN as a plain autoencoder for this many steps, then draw the "
                        "codebook from its encoder outputs, which keeps every code in use (default: 40%% "
                        "of --vq-steps, the proportion of the first full run)")
    p.add_argument("--tokenizer-from", type=Path, default=None,
                   help="start from the trained tokenizer of another run folder (stage 1 done, the same "
                        "VQGAN geometry): its VQGAN weights are copied and stage 1 is skipped; its tokens "
                        "are reused when --data, --seed and --token-scenes agree, else they are made again")
    p.add_argument("--token-scenes", type=int, default=3000,
                   help=f"training scenes tokenized for stage 2 ({VIEWS} views each)")
    p.add_argument("--mage-steps", type=int, default=3000)
    p.add_argument("--mage-batch", type=int, default=32, help="sequences per step: half the scenes' first "
                   "views, half their second")
    p.add_argument("--mage-lr", type=float, default=1e-3)
    p.add_argument("--box-fraction", type=float, default=0.25,
                   help="share of stage-2 batches masked in a box of tokens with nothing dropped (masking.py)")
    p.add_argument("--contrastive-weight", type=float, default=0.1,
                   help="weight of the MAGE-C InfoNCE term between two views of a scene (0: off)")
    p.add_argument("--contrastive-temperature", type=float, default=0.2)
    p.add_argument("--max-minutes", type=float, default=0, help="stop (resumably) after this long; 0 = no limit")
    p.add_argument("--checkpoint-minutes", type=float, default=5)
    p.add_argument("--stop-after", type=int, default=0,
                   help="stop (resumably) after this many steps of this start; 0 = no limit (tests use it)")
    a = p.parse_args(argv)
    unit = 16 * ARCHS[a.arch].vq_pool
    if a.vq_crop % unit or not unit <= a.vq_crop <= 256:
        p.error(f"--vq-crop {a.vq_crop} must be a multiple of {unit} in {unit}..256 for --arch {a.arch}")
    for name in ("vq_steps", "vq_batch", "token_scenes", "mage_steps", "mage_batch"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if a.mage_batch % 2:
        p.error(f"--mage-batch {a.mage_batch} must be even (two views per scene)")
    if a.vq_plain_steps is None:
        a.vq_plain_steps = int(a.vq_steps * 0.4)
    if not 0 <= a.box_fraction <= 1:
        p.error(f"--box-fraction {a.box_fraction} must be in 0..1")
    if a.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: no CUDA device is visible to PyTorch")
    return a


def autocast(device: torch.device):
    """Mixed precision on CUDA (bfloat16: no loss scaling needed); plain float32 on the CPU."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


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


def vq_geometry(arch) -> tuple:
    """The Arch fields that shape the VQGAN: runs agreeing on them can share a tokenizer."""
    return tuple(getattr(arch, f) for f in ("vq_ch", "vq_ch_mult", "vq_res_blocks", "vq_z", "vq_groups", "vq_pool"))


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
        self.device = torch.device(args.device)
        self.model = MageModel(ARCHS[args.arch]).to(self.device)
        self.stop_requested = False
        self.steps_this_start = 0
        self.started = time.monotonic()
        self.last_save = time.monotonic()
        self.state_path = self.out / "state.pt"
        self.elapsed_before = 0.0

    # ----- persistence
    def arg_values(self) -> dict:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(self.args).items()}

    def check_args(self) -> None:
        path = self.out / "args.json"
        mine = self.arg_values()
        if path.is_file():
            saved = json.loads(path.read_text())
            diff = [f"--{k.replace('_', '-')} {saved.get(k)} (now {mine[k]})" for k in mine
                    if k not in RESUMABLE_FREELY and saved.get(k) != mine[k]]
            if diff:
                raise SystemExit(f"train: {self.out} was started with other arguments: {', '.join(diff)}; "
                                 f"use the same ones to resume, or another --out")

    def record_args(self) -> None:
        """Stores a new run's arguments (after its first state loaded, so a refused start leaves none)."""
        path = self.out / "args.json"
        if not path.is_file():
            path.write_text(json.dumps(self.arg_values(), indent=2) + "\n")

    def load(self) -> dict:
        if not self.state_path.is_file():
            if self.args.tokenizer_from is not None:
                return self.adopt_tokenizer(self.args.tokenizer_from)
            return {"stage": "vq", "step": 0, "elapsed": 0.0}
        # weights_only=False: the state holds optimiser state and Python numbers (newer PyTorch
        # defaults to True); it is this run's own file.
        state = torch.load(str(self.state_path), map_location="cpu", weights_only=False)
        self.model.load_state_dict(state["model"])
        self.elapsed_before = state["elapsed"]
        return state

    def adopt_tokenizer(self, source: Path) -> dict:
        """A new run's first state, taken from `source`'s finished stage 1: the VQGAN weights, and
        its tokens.npy where it tokenized the same scenes (data, seed and count agree)."""
        def refuse(why):
            raise SystemExit(f"train: --tokenizer-from {source}: {why}")
        try:
            theirs_args = json.loads((source / "args.json").read_text())
            theirs = torch.load(str(source / "state.pt"), map_location="cpu", weights_only=False)
        except (OSError, ValueError, RuntimeError) as e:
            refuse(f"not a readable run folder ({e})")
        if theirs.get("stage") not in ("tokens", "mage", "done"):
            refuse(f"its stage 1 has not finished (stage {theirs.get('stage')})")
        mine_vq = vq_geometry(ARCHS[self.args.arch])
        if vq_geometry(ARCHS[theirs_args["arch"]]) != mine_vq:
            refuse(f"its arch {theirs_args['arch']} has another VQGAN than {self.args.arch}")
        vq = {k[len("vqgan."):]: v for k, v in theirs["model"].items() if k.startswith("vqgan.")}
        self.model.vqgan.load_state_dict(vq)
        same_scenes = all(theirs_args.get(k) == getattr(self.args, k) for k in ("data", "seed", "token_scenes"))
        if same_scenes and theirs["stage"] != "tokens" and (source / "tokens.npy").is_file():
            shutil.copyfile(source / "tokens.npy", self.out / "tokens.npy")
            torch.manual_seed(self.args.seed + 22)  # as stage_tokens leaves it
            init_transformer(self.model)
            print(f"train: tokenizer and tokens from {source}", flush=True)
            return {"stage": "mage", "step": 0, "elapsed": 0.0}
        print(f"train: tokenizer from {source}; tokenizing {self.args.token_scenes} scenes", flush=True)
        return {"stage": "tokens", "step": 0, "elapsed": 0.0}

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
            (self.out / "mage_log.csv", "stage 2: loss, masked-token cross entropy, contrastive (log)",
             ["loss", "mlm", "contrastive"], True),
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
        batches = data.CropBatches(a.seed, a.vq_batch, a.vq_crop, a.data)
        step, reinit, window = state["step"], state.get("reinit", 0), Window(state.get("window"))

        def snapshot(s):
            return {"stage": "vq", "step": s, "vq_opt": opt.state_dict(), "vq_usage": usage.state(),
                    "vq_gen": g.get_state(), "window": window.state(), "reinit": reinit}

        vq.train()
        while step < a.vq_steps:
            if self.should_stop():
                return snapshot(step)
            lr = set_lr(opt, step, a.vq_steps, a.vq_lr)
            pixels = batches(step).to(self.device)
            quantize = step >= a.vq_plain_steps
            if step == a.vq_plain_steps:  # codebook from encoder outputs, so no code starts out of reach
                with torch.no_grad():
                    reinit_codes(vq, torch.arange(vq.quantize.embedding.num_embeddings), vq.encoder(pixels), g)
                usage.last_used.fill_(step)
            with autocast(self.device):
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
        tokens = np.load(path) if path.is_file() else np.zeros((a.token_scenes, VIEWS, 256), np.int16)
        seeds = data.token_image_seeds(a.seed, a.token_scenes)
        done = state["step"]
        vq.eval()
        chunk = 32
        while done < a.token_scenes:
            if self.should_stop():
                np.save(path, tokens)
                return {"stage": "tokens", "step": done}
            n = min(chunk, a.token_scenes - done)
            for view in range(VIEWS):
                # The busy distribution has no views: both rows then hold the same image.
                imgs, _ = datasets.images(a.data, seeds[done:done + n], view if a.data == "simple" else 0)
                pixels = torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 255.0
                ids = self.model.tokenize(pixels.to(self.device)).cpu()
                tokens[done:done + n, view] = ids.numpy().astype(np.int16)
            done += n
            if done % (chunk * 10) == 0 or done == a.token_scenes:
                used = len(np.unique(tokens[:done]))
                print(f"tokens {done}/{a.token_scenes} scenes ({used} distinct codes)", flush=True)
        np.save(path, tokens)
        torch.manual_seed(a.seed + 22)
        init_transformer(self.model)
        return {"stage": "mage", "step": 0}

    def stage_mage(self, state: dict) -> dict:
        a = self.args
        tokens = np.load(self.out / "tokens.npy")
        torch.manual_seed(a.seed + 33)
        proj = Projection(self.model.arch.dim)  # training-only (contrastive.py)
        if "proj" in state:
            proj.load_state_dict(state["proj"])
        proj.to(self.device)
        params = transformer_parameters(self.model) + list(proj.parameters())
        opt = torch.optim.AdamW(params, lr=a.mage_lr, betas=(0.9, 0.95), weight_decay=0.05)
        if "mage_opt" in state:
            opt.load_state_dict(state["mage_opt"])
        log = CsvLog(self.out / "mage_log.csv", MAGE_COLUMNS, state["step"])
        step, window = state["step"], Window(state.get("window"))

        def snapshot(s):
            return {"stage": "mage", "step": s, "mage_opt": opt.state_dict(), "window": window.state(),
                    "proj": proj.state_dict()}

        self.model.train()
        while step < a.mage_steps:
            if self.should_stop():
                return snapshot(step)
            lr = set_lr(opt, step, a.mage_steps, a.mage_lr)
            rows, rng, g = data.token_batch(a.seed, step, tokens, a.mage_batch)
            box = rng.uniform() < a.box_fraction
            if box:
                drop, masked = make_box_masks(rows.shape[0], 16, g)
                ratio = float(masked.float().mean())
            else:
                ratio = sample_mask_ratio(rng)
                drop, masked = make_masks(rows.shape[0], rows.shape[1], ratio, g)
            dev = self.device
            with autocast(dev):
                mlm, accuracy, pooled = masked_forward(self.model, rows.to(dev), drop.to(dev), masked.to(dev))
                contrastive = torch.zeros((), device=dev)
                if a.contrastive_weight > 0:
                    z = proj(pooled)
                    half = rows.shape[0] // 2
                    contrastive = info_nce(z[:half], z[half:], a.contrastive_temperature)
                loss = mlm + a.contrastive_weight * contrastive
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 3.0)
            opt.step()
            self.steps_this_start += 1
            step += 1
            window.add({"loss": loss, "mlm": mlm, "contrastive": contrastive, "accuracy": accuracy,
                        "mask_ratio": ratio, "box": float(box)})
            if step % LOG_EVERY == 0 or step == a.mage_steps:
                parts = window.take()
                log.write(dict(parts, step=step, elapsed_s=self.elapsed(), lr=lr))
                print(f"mage {step}/{a.mage_steps} loss {parts['loss']:.4f} mlm {parts['mlm']:.4f} "
                      f"contrastive {parts['contrastive']:.4f} acc {parts['accuracy']:.3f}", flush=True)
            if self.due():
                self.save(snapshot(step))
        return {"stage": "done", "step": 0}

    def finish(self) -> Path:
        final = self.out / f"mage-{self.args.arch}.pth"
        self.model.eval()
        # Strings and ints only: PyTorch 1.13's weights_only loader (which export.py uses) refuses floats.
        meta = {"arch": self.args.arch, "seed": self.args.seed, "data": self.args.data,
                "trainer": "tools/train/train.py"}
        tmp = final.with_suffix(".tmp")
        model = {k: v.cpu() for k, v in self.model.state_dict().items()}
        torch.save({"model": model, "meta": meta}, str(tmp))
        os.replace(tmp, final)
        return final


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    run = Run(args)
    run.check_args()
    resumed = run.state_path.is_file()
    state = run.load()
    run.record_args()
    if resumed:
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
