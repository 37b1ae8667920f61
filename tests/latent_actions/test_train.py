"""``hivla latent train`` end to end on tiny recorded data, a resumed run equal to an uninterrupted
one, video-only datasets (robot columns absent, refused where actions are required)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from hivla.cli.main import main
from hivla.data import ChunkDataset, DatasetError, DatasetMeta, LoaderConfig, VideoClipDataset
from hivla.data.recorder import ROBOT_COLUMNS
from hivla.latent_actions import LATENT_PRESETS, load_latent_model
from hivla.latent_actions.data import FramePairDataset
from hivla.latent_actions.trainer import train


def test_video_only_dataset_has_no_robot_columns_and_is_refused_for_policies(hand_video_root):
    meta = DatasetMeta.load(hand_video_root)
    assert meta.video_only and meta.info["robot_type"] == "hand"
    assert not set(ROBOT_COLUMNS) & set(meta.features)  # absent, not zero
    assert {"observation.images.front", "subtask"} <= set(meta.features)
    with pytest.raises(DatasetError, match=r"video only.*hivla latent train"):
        ChunkDataset(hand_video_root, LoaderConfig(horizon=4))
    clips = VideoClipDataset(hand_video_root, clip_len=2, stride=2, action_key="action.universal")
    assert not clips.has_actions and "action.universal" not in clips[0]


def test_frame_pairs_carry_the_actions_between_the_frames(robot_root):
    cfg = LATENT_PRESETS.get("debug").model
    pairs = FramePairDataset(robot_root, cfg)
    clips = VideoClipDataset(robot_root, clip_len=2, stride=cfg.frame_gap)
    chunk = ChunkDataset(robot_root, LoaderConfig(horizon=cfg.frame_gap, action_key="action.universal"))
    item = pairs[5]
    assert item["frames"].shape == (2, 3, cfg.image_size, cfg.image_size) and bool(item["has_action"])
    start = int(clips.frames.starts[0]) + int(item["frame_index"])  # episode 0 is long enough
    torch.testing.assert_close(item["action.universal"], chunk[start]["action"])
    assert item["embodiment"] == "floating"


def _exp(paths, align=0.5):
    exp = LATENT_PRESETS.get("debug")
    return dataclasses.replace(
        exp, data=dataclasses.replace(exp.data, paths=tuple(str(p) for p in paths)),
        model=dataclasses.replace(exp.model, align_weight=align),
    )  # fmt: skip


def test_resumed_run_matches_an_uninterrupted_one(robot_root, hand_video_root, tmp_path):
    exp = _exp([robot_root, hand_video_root])
    whole = train(exp, tmp_path / "whole", quiet=True)
    train(exp, tmp_path / "split", quiet=True, stop_at=6)
    resumed = train(exp, tmp_path / "split", resume=True, quiet=True)
    assert resumed["step"] == whole["step"] == exp.train.steps
    a, b = whole["model"].state_dict(), resumed["model"].state_dict()
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key)


def test_cli_trains_on_video_only_and_labelled_data(robot_root, hand_video_root, tmp_path, capsys):
    out = tmp_path / "lam"
    args = ["latent", "train", "--data", str(robot_root), str(hand_video_root), "--preset", "debug",
            "--out", str(out), "--align-weight", "0.5", "--json"]  # fmt: skip
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    robot_pairs = len(FramePairDataset(robot_root, LATENT_PRESETS.get("debug").model))
    assert result["samples_with_actions"] == robot_pairs < result["samples"]
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    train_rows = [r for r in logged if "train/perplexity" in r]
    assert train_rows and all(
        k in train_rows[-1] for k in ("train/recon_mse", "train/codes_used", "train/align_mse")
    )
    assert any("val/recon_mse" in r for r in logged)
    model = load_latent_model(out)
    assert model.cfg.align_weight == 0.5
    assert main(["latent", "train", "--data", str(tmp_path / "nothing"), "--preset", "debug",
                 "--out", str(tmp_path / "x")]) == 2  # fmt: skip
    assert "holds no dataset" in capsys.readouterr().err


def test_world_models_refuse_video_only_data(hand_video_root):
    from hivla.world_model.sources import load_episodes

    with pytest.raises(DatasetError, match=r"video only.*conditioned on actions"):
        load_episodes(hand_video_root)
