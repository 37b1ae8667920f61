"""Tiny recorded datasets for the latent-action tests: robot episodes with actions (floating) and
human-hand stand-in videos without them."""

from __future__ import annotations

from pathlib import Path

import pytest


def record(root: Path, embodiment: str, video_only: bool, episodes: int = 3) -> Path:
    from hivla.data.recorder import CollectConfig, collect

    collect(CollectConfig(out=root, embodiment=embodiment, episodes=episodes, image_size=64, max_steps=30,
                          video_only=video_only, stats=False))  # fmt: skip
    return root


@pytest.fixture(scope="session")
def robot_root(tmp_path_factory) -> Path:
    return record(tmp_path_factory.mktemp("lat") / "floating", "floating", video_only=False)


@pytest.fixture(scope="session")
def hand_video_root(tmp_path_factory) -> Path:
    return record(tmp_path_factory.mktemp("lat") / "hand", "hand", video_only=True)
