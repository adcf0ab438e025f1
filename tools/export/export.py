#!/usr/bin/env python3
"""Export an official MAGE checkpoint, or seeded random weights, to an ONNX model package.

See README.md beside this file for the package contract. Exit codes: 0 ok, 2 bad input, 3 output.
"""
import argparse
import errno
import os
import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from mage_export.archs import ARCHS  # noqa: E402
from mage_export.model import CheckpointMismatch, MageModel, load_state, random_init  # noqa: E402
from mage_export.package import OutputError, sha256_file, write_package  # noqa: E402

EXIT_INPUT = 2
EXIT_OUTPUT = 3


class InputError(Exception):
    pass


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", type=Path, help="official pre-trained checkpoint (.pth)")
    src.add_argument("--random-init", action="store_true", help="seeded random weights (tests, benchmarks)")
    p.add_argument("--arch", required=True, choices=sorted(ARCHS))
    p.add_argument("--out", required=True, type=Path, help="package folder to write")
    p.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "int8"],
                   help="int8, for the CPU: the transformer's matrix products (mage_export/int8.py) and the VQGAN "
                        "convolutions fidelity allows (mage_export/int8_conv.py) in int8")
    p.add_argument("--seed", type=int, default=0, help="seed for --random-init and for golden inputs")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--golden-batch", type=int, default=2)
    p.add_argument("--allow-pickle", action="store_true",
                   help="load checkpoints that hold arbitrary Python objects (only for files you trust)")
    args = p.parse_args(argv)
    if not 1 <= args.golden_batch <= 16:
        p.error(f"--golden-batch {args.golden_batch} is out of range 1..16")
    if args.seed < 0:
        p.error(f"--seed {args.seed} must be >= 0")
    return args


def read_checkpoint(path: Path, allow_pickle: bool) -> dict:
    if not path.is_file():
        raise InputError(f"checkpoint {path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise InputError(f"checkpoint {path} is empty")
    try:
        data = torch.load(str(path), map_location="cpu", weights_only=not allow_pickle)
    except pickle.UnpicklingError as e:
        if any(w in str(e) for w in ("weights_only", "Weights only", "Unsupported")):
            raise InputError(f"checkpoint {path} holds Python objects besides tensors; if you trust the file, "
                             f"pass --allow-pickle ({str(e).splitlines()[0]})") from e
        raise InputError(f"{path} is not a PyTorch checkpoint: {str(e).splitlines()[0]}") from e
    except Exception as e:  # noqa: BLE001 - any failure to unpickle means the file is not usable
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"{path} is not a readable PyTorch checkpoint (truncated or another format?): {first}") from e
    if not isinstance(data, dict) or "model" not in data or not isinstance(data["model"], dict):
        keys = list(data.keys())[:5] if isinstance(data, dict) else type(data).__name__
        raise InputError(f"{path} has no 'model' state dict (found {keys}); expected an official MAGE "
                         f"pre-trained checkpoint")
    return data["model"]


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)
    arch = ARCHS[args.arch]
    try:
        model = MageModel(arch)
        if args.random_init:
            random_init(model, args.seed)
            source = {"kind": "random-init", "seed": args.seed}
        else:
            state = read_checkpoint(args.checkpoint, args.allow_pickle)
            load_state(model, state)
            del state
            source = {"kind": "checkpoint", "name": args.checkpoint.name, "sha256": sha256_file(args.checkpoint)}
        model.eval()
        write_package(model, args.out, force=args.force, precision=args.precision, opset=args.opset,
                      source=source, golden_batch=args.golden_batch, seed=args.seed,
                      log=lambda m: print(f"export: {m}", file=sys.stderr))
    except (InputError, CheckpointMismatch) as e:
        print(f"export: error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except OutputError as e:
        print(f"export: error: {e}", file=sys.stderr)
        return EXIT_OUTPUT
    except (OSError, RuntimeError) as e:
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) or "No space left" in str(e):
            print(f"export: error: no space left on the device while writing {args.out}; nothing was written",
                  file=sys.stderr)
            return EXIT_OUTPUT
        raise
    print(f"export: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
