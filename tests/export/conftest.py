import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPORT_DIR = ROOT / "tools" / "export"
TRAIN_DIR = ROOT / "tools" / "train"
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(EXPORT_DIR))
sys.path.insert(0, str(TRAIN_DIR))


def run_export(*args, preexec_fn=None):
    """Runs export.py as a user would; returns the CompletedProcess."""
    return subprocess.run([sys.executable, str(EXPORT_DIR / "export.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=1800, preexec_fn=preexec_fn)


@pytest.fixture(scope="session")
def tiny_package(tmp_path_factory):
    out = tmp_path_factory.mktemp("pkg") / "tiny"
    r = run_export("--random-init", "--arch", "tiny", "--seed", "0", "--out", out)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(autouse=True)
def _threads():
    import torch
    torch.set_num_threads(os.cpu_count() or 1)
