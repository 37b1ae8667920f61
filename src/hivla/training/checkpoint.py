"""Training checkpoints: the policy checkpoint plus ``train_state/`` for an exact resume.

Layout of ``<run>/checkpoints/step_<n>/``::

    policy.json, model.safetensors, assets/     the policy (EMA weights when EMA is on)
    train_state/state.json                      step, scheduler, optimizer hyper-parameters, processes
    train_state/optimizer.safetensors           AdamW moments
    train_state/rng_rank<r>.safetensors (.json) torch (and CUDA), numpy and Python RNG state of each process
    train_state/model_train.safetensors         raw (non-EMA) weights, with EMA only
    train_state/ema.safetensors                 EMA shadow weights, with EMA only

Everything is safetensors or JSON, never a pickle. ``<run>/checkpoints/latest`` names the newest.
The inference checkpoint next to ``train_state/`` is whatever the trained model's saver writes
(a policy, a world model, a planner, a monitor); the core reads it back through its task.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hivla.checkpoints import LATEST_FILE, CheckpointFormat, latest_in_run, load_weights, save_weights

STATE_DIR = "train_state"
# state.json of the first hivla versions carried no "format" key: still read as version 1.
TRAIN_STATE_FORMAT = CheckpointFormat(
    "hivla.train_state", 1, "state.json", "training state", "the hivla trainer", unnamed_ok=True
)


def checkpoint_dir(run: Path, step: int) -> Path:
    return run / "checkpoints" / f"step_{step:07d}"


def latest_checkpoint(run: Path) -> Path:
    """The checkpoint ``<run>/checkpoints/latest`` names. Raises FileNotFoundError."""
    ckpt = latest_in_run(run)
    if ckpt is None:
        raise FileNotFoundError(
            f"{run} holds no checkpoints/{LATEST_FILE}: resume needs the --out directory of an earlier "
            "training run; drop --resume to start a new one"
        )
    return ckpt


def optimizer_to_files(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer state dict into tensors (safetensors) and JSON."""
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, state in sd["state"].items():
        for name, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{idx}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{idx}.{name}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def optimizer_from_files(
    opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in list(tensors.items()) + list(meta["scalars"].items()):
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        tensors.update({f"cuda{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    tensors["numpy_keys"] = torch.from_numpy(np.asarray(keys, dtype=np.int64))
    version, py_state, gauss = random.getstate()
    scalars = {
        "numpy": [kind, int(pos), int(has_gauss), float(cached)],
        "python": [version, list(py_state), gauss],
    }
    return tensors, scalars


def set_rng_state(tensors: dict[str, torch.Tensor], scalars: dict[str, Any]) -> None:
    torch.set_rng_state(tensors["torch"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("cuda")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    kind, pos, has_gauss, cached = scalars["numpy"]
    np.random.set_state((kind, tensors["numpy_keys"].numpy().astype(np.uint32), pos, has_gauss, cached))
    version, py_state, gauss = scalars["python"]
    random.setstate((version, tuple(py_state), gauss))


def save_train_state(
    ckpt: Path, step: int, optimizer, scheduler, rank: int, is_main: bool, raw=None, ema=None, world: int = 1
) -> None:
    """Write ``train_state/`` (the optimizer and scheduler from the main process, with the number of
    processes ``world``; RNG from every rank). Every process holds the whole optimizer state (DDP)."""
    out = ckpt / STATE_DIR
    rng_tensors, rng_scalars = rng_state()
    save_weights(rng_tensors, out / f"rng_rank{rank}.safetensors")
    (out / f"rng_rank{rank}.json").write_text(json.dumps(rng_scalars))
    if not is_main:
        return
    tensors, opt_meta = optimizer_to_files(optimizer)
    save_weights(tensors, out / "optimizer.safetensors")
    TRAIN_STATE_FORMAT.write_meta(
        out, {"step": step, "optimizer": opt_meta, "scheduler": scheduler.state_dict(), "processes": world}
    )
    if ema is not None:
        save_weights(raw, out / "model_train.safetensors")
        save_weights(ema.state_dict(), out / "ema.safetensors")


def saved_processes(ckpt: Path) -> int:
    """How many processes wrote ``ckpt``'s training state (older checkpoints: its RNG files)."""
    src = ckpt / STATE_DIR
    meta = TRAIN_STATE_FORMAT.read_meta(src)
    return int(meta.get("processes") or len(list(src.glob("rng_rank*.safetensors"))))


def load_train_state(
    ckpt: Path, optimizer, scheduler, rank: int, ema=None, world: int = 1
) -> tuple[int, dict[str, torch.Tensor] | None, bool]:
    """Restore optimizer, scheduler, RNG (and EMA); return (step, raw weights if EMA was on, whether
    this rank's RNG was restored). Written by as many processes as ``world``: every RNG stream is
    restored (an exact resume). By another number: the optimizer, schedule, EMA and data order are
    still restored exactly (batches are global), the RNG streams are not (the caller seeds new ones)."""
    src = ckpt / STATE_DIR
    meta = TRAIN_STATE_FORMAT.read_meta(src)
    optimizer_from_files(optimizer, load_weights(src / "optimizer.safetensors"), meta["optimizer"])
    scheduler.load_state_dict(meta["scheduler"])
    rng_file = src / f"rng_rank{rank}.safetensors"
    same_world = saved_processes(ckpt) == world
    if same_world and not rng_file.is_file():
        raise FileNotFoundError(f"{rng_file} is missing: the checkpoint {ckpt} is incomplete")
    if same_world:
        set_rng_state(load_weights(rng_file), json.loads(rng_file.with_suffix(".json").read_text()))
    raw = None
    if ema is not None and (src / "ema.safetensors").is_file():
        ema.load_state_dict(load_weights(src / "ema.safetensors"))
        raw = load_weights(src / "model_train.safetensors")
    return int(meta["step"]), raw, same_world


def mark_latest(run: Path, ckpt: Path, keep: int) -> None:
    """Point ``checkpoints/latest`` at ``ckpt`` and delete all but the newest ``keep`` checkpoints."""
    root = run / "checkpoints"
    tmp = root / (LATEST_FILE + ".tmp")
    tmp.write_text(ckpt.name)
    tmp.replace(root / LATEST_FILE)
    old = sorted(p for p in root.glob("step_*") if p.is_dir())
    for path in old[: max(0, len(old) - keep)]:
        shutil.rmtree(path, ignore_errors=True)
