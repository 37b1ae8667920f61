"""Probes: R² ≈ 1 where the latents are a known linear function of the actions, low where unrelated."""

from __future__ import annotations

import numpy as np
import pytest

from hivla.latent_actions.probe import Probe, ProbeConfig, r2_scores, score


def _toy(n: int, seed: int, mix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    actions = rng.normal(size=(n, 7)) * np.array([0.02, 0.02, 0.02, 0.0, 0.0, 0.2, 1.0])
    actions[:, 6] = np.sign(actions[:, 6])  # the gripper closes or opens
    return actions @ mix + 0.0001 * rng.normal(size=(n, mix.shape[1])), actions


@pytest.mark.parametrize("kind", ["linear", "mlp"])
def test_probe_recovers_known_linear_latents(kind):
    mix = np.random.default_rng(3).normal(size=(7, 12))  # latents are a linear map of the actions
    x, y = _toy(600, 0, mix)
    xt, yt = _toy(300, 1, mix)
    result = score(Probe(kind, ProbeConfig(steps=1500)).fit(x, y), xt, yt)
    assert result["r2"]["drx"] is None and result["r2"]["dry"] is None  # constant: no R²
    floor = 0.99 if kind == "linear" else 0.9
    assert all(v > floor for v in result["r2"].values() if v is not None), result["r2"]
    assert result["gripper_acc"] > 0.97 and result["r2_motion"] > floor


def test_unrelated_latents_score_near_zero():
    rng = np.random.default_rng(0)
    _, y = _toy(400, 0, np.eye(7))
    _, yt = _toy(400, 1, np.eye(7))
    result = score(Probe("linear").fit(rng.normal(size=(400, 12)), y), rng.normal(size=(400, 12)), yt)
    assert result["r2_motion"] < 0.1 and 0.3 < result["gripper_acc"] < 0.7


def test_r2_of_the_mean_is_zero_and_of_the_truth_one():
    y = np.random.default_rng(0).normal(size=(50, 2))
    assert r2_scores(y, y) == [1.0, 1.0]
    assert r2_scores(y, np.broadcast_to(y.mean(0), y.shape)) == pytest.approx([0.0, 0.0])


def test_motion_r2_is_not_swamped_by_a_dimension_that_hardly_varies():
    from hivla.latent_actions.probe import motion_r2

    rng = np.random.default_rng(0)
    y = np.zeros((200, 7))
    y[:, 0] = rng.normal(size=200) * 0.02  # dx moves
    y[:, 3] = 1e-5 + rng.normal(size=200) * 1e-5  # drx wobbles
    pred = y.copy()
    pred[:, 3] = 0.0  # the wobble is missed: its own R² is hopeless
    assert r2_scores(y, pred)[3] < -0.5
    assert motion_r2(y, pred) > 0.99
    assert motion_r2(np.zeros((5, 7)), np.zeros((5, 7))) is None
