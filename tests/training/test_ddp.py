"""2-process DDP runs on CPU (gloo, loopback) through torchrun: ranks see different data, weights
stay equal; a run checkpointed by 2 processes resumes on 1."""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun_worker(out: Path, *args: str) -> None:
    worker = Path(__file__).with_name("ddp_worker.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
        "--master_port", str(_free_port()), str(worker), str(out), *args,
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory) -> Path:
    """Steps 1-2 of a 6-step debug run on 2 processes, stopped there (as if preempted)."""
    out = tmp_path_factory.mktemp("ddp")
    _torchrun_worker(out, "6")
    return out


def test_two_process_ddp_step(ddp_run) -> None:
    tmp_path = ddp_run
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["processes"] == 2 and r["ddp"] == "DistributedDataParallel" for r in ranks)
    assert ranks[0]["losses"] != ranks[1]["losses"]  # each rank trained on its own shard
    assert ranks[0]["checksum"] == ranks[1]["checksum"]  # gradients were averaged: same weights
    ckpt = tmp_path / "checkpoints" / "step_0000002" / "train_state"
    assert (ckpt / "rng_rank0.safetensors").is_file() and (ckpt / "rng_rank1.safetensors").is_file()


def test_a_two_process_checkpoint_resumes_on_one_process(ddp_run, tmp_path) -> None:
    """Steps 1-2 on 2 processes, steps 3-6 on 1: the checkpoint is written once, by the main
    process, and the 1-process run continues it to the end."""
    import dataclasses

    from hivla.configs import get_preset
    from hivla.training import Trainer
    from hivla.training.checkpoint import saved_processes

    tmp_path = Path(shutil.copytree(ddp_run, tmp_path / "run"))
    first = tmp_path / "checkpoints" / "step_0000002"
    assert saved_processes(first) == 2
    assert len(list(tmp_path.glob("checkpoints/*/model.safetensors"))) == 1
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "train/loss" in r] == [1, 2]  # one writer of the logs

    cfg = get_preset("debug")
    cfg = dataclasses.replace(
        cfg, train=dataclasses.replace(cfg.train, threads=1, steps=6, val_every=0, save_every=2)
    )
    resumed = Trainer(cfg, tmp_path, resume=True, quiet=True)
    result = resumed.fit()
    assert result["processes"] == 1 and result["step"] == 6 and len(result["losses"]) == 4
    assert all(math.isfinite(loss) for loss in result["losses"])
    last = tmp_path / "checkpoints" / "step_0000006"
    assert saved_processes(last) == 1 and (last / "model.safetensors").is_file()


def test_accelerate_launch_runs_hivla_train_with_ddp(tmp_path) -> None:
    """The documented recipe, `accelerate launch --multi_gpu ... -m hivla.cli.main train`: on CPU
    Accelerate starts torchrun and the two processes train with DDP over gloo."""
    from hivla.training.checkpoint import saved_processes

    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
        "--main_process_ip", "127.0.0.1", "--main_process_port", str(_free_port()),
        "-m", "hivla.cli.main", "train", "--preset", "debug", "--steps", "2", "--threads", "1",
        "--out", str(tmp_path), "--json",
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '"processes": 2' in proc.stdout
    assert saved_processes(tmp_path / "checkpoints" / "step_0000002") == 2
