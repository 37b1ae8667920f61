"""A 2-process DDP run on CPU (gloo) through torchrun: ranks see different data, weights stay equal."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_ddp_step(tmp_path) -> None:
    worker = Path(__file__).with_name("ddp_worker.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
        "--master_port", str(_free_port()), str(worker), str(tmp_path),
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["processes"] == 2 and r["ddp"] == "DistributedDataParallel" for r in ranks)
    assert ranks[0]["losses"] != ranks[1]["losses"]  # each rank trained on its own shard
    assert ranks[0]["checksum"] == ranks[1]["checksum"]  # gradients were averaged: same weights
    ckpt = tmp_path / "checkpoints" / "step_0000002" / "train_state"
    assert (ckpt / "rng_rank0.safetensors").is_file() and (ckpt / "rng_rank1.safetensors").is_file()
