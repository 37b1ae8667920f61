"""Latent pretraining of the VLA and fine-tuning from it (``hivla latent pretrain``, ``hivla train
--init-latent``) on the debug presets."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from hivla.checkpoints import load_weights
from hivla.cli.main import main
from hivla.configs.presets import PRESETS
from hivla.latent_actions import LATENT_PRESETS
from hivla.latent_actions.pretrain import LatentPretrainConfig, policy_for, pretrain
from hivla.latent_actions.trainer import train
from hivla.policies import VLAPolicy, VLAProcessor
from hivla.policies.vla.latent_init import LatentInitError, init_from_latent, resolve_latent_pretrained


@pytest.fixture(scope="module")
def lam_run(robot_root, hand_video_root, tmp_path_factory):
    exp = LATENT_PRESETS.get("debug")
    exp = dataclasses.replace(
        exp, data=dataclasses.replace(exp.data, paths=(str(robot_root), str(hand_video_root)))
    )
    out = tmp_path_factory.mktemp("lam") / "run"
    train(exp, out, quiet=True)
    return out


def _cfg(lam_run, hand_video_root, steps=8):
    train_cfg = dataclasses.replace(PRESETS.get("debug").train, steps=steps, save_every=0, eval_every=0)
    return LatentPretrainConfig(
        lam=str(lam_run),
        data=(str(hand_video_root),),
        policy=policy_for("debug", "floating"),
        train=train_cfg,
    )


def _policy(cfg):
    state = {"floating": {"mean": [0.0] * cfg.state_dim, "std": [1.0] * cfg.state_dim}}
    action = {"floating": {"low": [-1.0] * cfg.action_dim, "high": [1.0] * cfg.action_dim}}
    return VLAPolicy(cfg, VLAProcessor(cfg, {"state": state, "action": action}))


def test_fine_tuning_starts_from_the_pretrained_backbone_with_a_new_head(lam_run, hand_video_root, tmp_path):
    cfg = _cfg(lam_run, hand_video_root)
    result = pretrain(cfg, tmp_path / "lvla", quiet=True)
    assert result["step"] == 8 and result["samples"] > 0 and 0 < result["majority_code_acc"] <= 1
    weights = load_weights(resolve_latent_pretrained(tmp_path / "lvla") / "model.safetensors")
    torch.manual_seed(0)
    policy = _policy(cfg.policy)
    head_before = {k: v.clone() for k, v in policy.model.head.state_dict().items()}
    loaded = init_from_latent(policy, tmp_path / "lvla")
    assert loaded["loaded_tensors"] > 0 and loaded["new_tensors"] > 0
    for key, value in policy.model.state_dict().items():
        if key.startswith("head."):
            torch.testing.assert_close(value, head_before[key.removeprefix("head.")])  # the head is new
        else:
            torch.testing.assert_close(value, weights[f"vla.{key}"], msg=key)  # the rest pretrained
    other = dataclasses.replace(cfg.policy, backbone=dataclasses.replace(cfg.policy.backbone, dim=48))
    with pytest.raises(LatentInitError, match="same preset"):
        init_from_latent(_policy(other), tmp_path / "lvla")


def test_resumed_pretraining_matches_an_uninterrupted_one(lam_run, hand_video_root, tmp_path):
    cfg = _cfg(lam_run, hand_video_root, steps=6)
    cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, save_every=3))
    pretrain(cfg, tmp_path / "whole", quiet=True)
    pretrain(cfg, tmp_path / "split", quiet=True, stop_at=3)
    pretrain(None, tmp_path / "split", resume=True, quiet=True)
    a = load_weights(resolve_latent_pretrained(tmp_path / "whole") / "model.safetensors")
    b = load_weights(resolve_latent_pretrained(tmp_path / "split") / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key)


def test_cli_pretrain_then_fine_tune(lam_run, hand_video_root, robot_root, tmp_path, capsys):
    lvla = tmp_path / "lvla"
    args = ["latent", "pretrain", "--lam", str(lam_run), "--data", str(hand_video_root), "--preset", "debug",
            "--embodiment", "floating", "--out", str(lvla), "--steps", "4", "--json"]  # fmt: skip
    assert main(args) == 0
    assert "val/latent_acc" in json.loads(capsys.readouterr().out)["val"]
    args = ["train", "--preset", "debug", "--data", str(robot_root), "--init-latent", str(lvla),
            "--out", str(tmp_path / "ft"), "--json"]  # fmt: skip
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["loaded_tensors"] > 0 and result["init_latent"].startswith(str(lvla))
    bad = ["train", "--preset", "debug", "--data", str(robot_root), "--init-latent", str(tmp_path / "none"),
           "--out", str(tmp_path / "ft2")]  # fmt: skip
    assert main(bad) == 2
    assert "hivla latent pretrain" in capsys.readouterr().err


def test_a_localizing_policy_with_ema_pretrains(lam_run, hand_video_root):
    """The quick preset's keypoint logits (kept for a localization loss pretraining does not have)
    must not stay on the model: EMA deep-copies it for validation."""
    cfg = _cfg(lam_run, hand_video_root, steps=2)
    cfg = dataclasses.replace(
        cfg, policy=policy_for("quick", "floating"), train=dataclasses.replace(cfg.train, ema_decay=0.9)
    )
    assert cfg.policy.localize > 0
    result = pretrain(cfg, None, quiet=True)
    assert result["step"] == 2 and "val/latent_acc" in result["val"]
