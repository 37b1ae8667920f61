"""Collecting with pushes (action_noise): the robot leaves the expert's path, the labels stay the expert's."""

from __future__ import annotations

import numpy as np
import pytest

from hivla.data.recorder import CollectConfig, PushAside, collect, record_episode
from hivla.sim import ScriptedExpert, make_env


def test_pushes_are_seeded_and_come_in_short_bursts() -> None:
    env = make_env("tabletop-single", "floating", image_size=64, render=False)
    env.reset(seed=0)
    still = env.from_universal(np.zeros(7, np.float32))

    def offsets(seed: int) -> np.ndarray:
        push = PushAside(0.02, seed)
        return np.stack([env.to_universal(push.perturb(env, still))[:3] for _ in range(200)])

    first, again = offsets(3), offsets(3)
    np.testing.assert_array_equal(first, again)
    speed = np.linalg.norm(first, axis=1)
    assert speed.max() <= 0.02 + 1e-6
    pushed = speed > 0
    assert 0.1 < pushed.mean() < 0.6  # mostly clean steps, with bursts
    starts = np.flatnonzero(pushed[1:] & ~pushed[:-1]) + 1
    ends = np.flatnonzero(pushed[:-1] & ~pushed[1:]) + 1
    lengths = ends - starts[: len(ends)]
    assert lengths.min() >= 2 and lengths.max() <= 10  # bursts of 2-5 steps (two may touch)


def test_noisy_episodes_record_the_experts_clean_actions_and_still_succeed() -> None:
    """With pushes the hand moves where the recorded action does not say (the push), and the
    recorded actions keep within the expert's own step limit."""
    env = make_env("tabletop-single", "floating", image_size=64, render=False)

    def mismatch(ep) -> np.ndarray:
        moved = np.diff(ep.frames["observation.state"][:, :3], axis=0)  # ee_x, ee_y, ee_z
        return np.linalg.norm(moved - ep.frames["action.universal"][:-1, :3], axis=1)

    clean, ok_clean = record_episode(env, 5)
    noisy, ok_noisy = record_episode(env, 5, action_noise=0.025)
    assert ok_clean and ok_noisy
    assert mismatch(noisy).max() > 0.008 > mismatch(clean).max()
    translation = np.linalg.norm(noisy.frames["action.universal"][:, :3], axis=1)
    assert translation.max() <= ScriptedExpert(env).p.max_step + 1e-6


def test_collect_keeps_the_noise_in_its_resume_key(tmp_path) -> None:
    root = tmp_path / "ds"
    collect(CollectConfig(out=root, episodes=1, workers=1, image_size=64, action_noise=0.02))
    with pytest.raises(ValueError, match="action noise"):
        collect(CollectConfig(out=root, episodes=2, workers=1, image_size=64, resume=True))
    with pytest.raises(ValueError, match=r"0\.\.0\.05"):
        CollectConfig(out=root, action_noise=0.2)
