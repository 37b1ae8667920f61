"""Trainer tests on the debug preset (synthetic frames unless a dataset is collected)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from hivla.configs import get_preset
from hivla.policies import load_policy
from hivla.training import main
from hivla.training.data import StepBatchSampler, split_indices
from hivla.training.optim import warmup_cosine


def debug(**train) -> object:
    cfg = get_preset("debug")
    return dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, threads=1, **train))


def test_resume_reproduces_the_uninterrupted_run(tmp_path) -> None:
    cfg = debug(ema_decay=0.9)
    full = main(cfg, tmp_path / "full", quiet=True)
    first = main(cfg, tmp_path / "split", quiet=True, stop_at=3)
    rest = main(cfg, tmp_path / "split", quiet=True, resume=True)
    assert len(full["losses"]) == cfg.train.steps and first["step"] == 3 and rest["step"] == cfg.train.steps
    assert first["losses"] + rest["losses"] == full["losses"]  # bit-exact
    a = load_policy(tmp_path / "full").weights()
    b = load_policy(tmp_path / "split").weights()
    assert all(torch.equal(a[k], b[k]) for k in a)
    files = [p.suffix for p in (tmp_path / "split").rglob("*") if p.is_file()]
    assert not {".pt", ".pth", ".bin", ".pkl", ".pickle"} & set(files)


def test_run_directory_and_logs(tmp_path) -> None:
    out = tmp_path / "run"
    calls = []

    def eval_fn(policy, step):
        calls.append((step, policy.training))
        return {"eval/success": 0.5}

    result = main(debug(eval_every=3), out, quiet=True, eval_fn=eval_fn)
    assert calls == [(3, False), (6, False)]
    assert (out / "experiment.json").is_file() and (out / "checkpoints" / "latest").is_file()
    assert len(list((out / "checkpoints").glob("step_*"))) == 2  # keep_checkpoints
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    keys = set().union(*rows)
    assert {"train/loss", "train/samples_per_s", "train/lr", "val/loss", "eval/success"} <= keys
    assert list((out / "tensorboard").glob("events.*"))
    assert result["samples_per_s"] > 0
    with pytest.raises(FileExistsError, match="--resume"):
        main(debug(), out, quiet=True)


def test_loss_decreases_on_learnable_synthetic_data(tmp_path) -> None:
    cfg = debug(steps=60, lr=3e-3, log_every=60, val_every=0, save_every=0)
    cfg = dataclasses.replace(
        cfg, policy=dataclasses.replace(cfg.policy, head=dataclasses.replace(cfg.policy.head, kind="l1"))
    )
    losses = main(cfg, tmp_path / "run", quiet=True)["losses"]
    assert np.mean(losses[-10:]) < 0.6 * np.mean(losses[:5])


def test_batch_order_is_resumable_and_sharded() -> None:
    full = StepBatchSampler(range(20), 4, seed=3)
    later = StepBatchSampler(range(20), 4, seed=3, start_step=7)
    it = iter(later)
    assert [next(it) for _ in range(3)] == [full.batch_at(s) for s in (7, 8, 9)]
    r0, r1 = (StepBatchSampler(range(20), 4, seed=3, rank=r, world=2) for r in (0, 1))
    assert sorted(r0.batch_at(2) + r1.batch_at(2)) == sorted(full.batch_at(2))
    with pytest.raises(ValueError, match="fewer than one batch"):
        StepBatchSampler(range(3), 4, seed=0)


def test_split_by_episode_and_schedule() -> None:
    groups = [0, 0, 1, 1, 2, 2, 3, 3]
    train, val = split_indices(8, 0.25, seed=0, groups=groups)
    assert {groups[i] for i in train}.isdisjoint({groups[i] for i in val}) and len(val) == 2
    assert warmup_cosine(0, 10, 100, 0.1) == pytest.approx(0.1)
    assert warmup_cosine(9, 10, 100, 0.1) == pytest.approx(1.0)
    assert warmup_cosine(100, 10, 100, 0.1) == pytest.approx(0.1)


def test_default_threads_use_every_core_unless_the_environment_says(monkeypatch) -> None:
    from hivla.training.trainer import default_threads

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert default_threads(1) == 8 and default_threads(2) == 4 and default_threads(16) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert default_threads(1) == 3


def test_debug_training_with_every_augmentation(tmp_path, capsys) -> None:
    from hivla.cli.main import main as cli

    out = tmp_path / "augmented"
    augment = [
        "--augment-shift",
        "2",
        "--augment-colour",
        "0.3",
        "--camera-dropout",
        "0.2",
        "--paraphrase",
        "0.5",
    ]
    args = [
        "train",
        "--preset",
        "debug",
        "--steps",
        "3",
        "--threads",
        "1",
        "--eval-every",
        "0",
        "--out",
        str(out),
    ]
    assert cli([*args, *augment, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["step"] == 3 and np.isfinite(result["final_loss"])
    cfg = load_policy(out).config
    assert (cfg.augment_shift, cfg.augment_colour, cfg.camera_dropout, cfg.paraphrase) == (2, 0.3, 0.2, 0.5)
    with pytest.raises(SystemExit):  # the option error, before any data is read
        cli([*args[:-1], str(tmp_path / "one"), "--cameras", "front", "--camera-dropout", "0.2"])
    assert "needs two cameras" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a fine-tuned policy keeps the augmentations of --init
        cli([*args[:-1], str(tmp_path / "ft"), "--init", str(out), "--augment-colour", "0.1"])
    assert "--augment-colour with --init" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli([*args[:-1], str(tmp_path / "ft"), "--init", str(out), "--input-norm", "image"])
    assert "--input-norm with --init" in capsys.readouterr().err
    assert cli([*args[:-1], str(tmp_path / "normed"), "--input-norm", "image", "--json"]) == 0
    capsys.readouterr()
    assert load_policy(tmp_path / "normed").config.vision.input_norm == "image"
