"""Contract over every registered world model: shapes of encode / predict / rollout, heads, decode."""

import numpy as np
import pytest
import torch

from hivla.world_model import WORLD_MODELS
from hivla.world_model.events import EVENT_NAMES

from .conftest import build_model

KINDS = WORLD_MODELS.names()


def test_both_kinds_are_registered():
    assert KINDS == ["jepa", "latent"]


def _obs(ep, t, batch=None):
    images = {c: v[t] for c, v in ep.images.items()}
    state = ep.state[t]
    if batch:
        images = {c: np.stack([v] * batch) for c, v in images.items()}
        state = np.stack([state] * batch)
    return {"images": images, "state": state, "instruction": "x"}


@pytest.mark.parametrize("kind", KINDS)
def test_rollout_shapes(kind, episodes):
    torch.manual_seed(0)
    model = build_model(kind, episodes).eval()
    ep = episodes[0]
    d = model.latent_size
    assert d == model.config.latent_dim + ep.state.shape[1]
    z = model.encode(_obs(ep, 0))
    assert z.shape == (1, d)
    zb = model.encode(_obs(ep, 0, batch=3))
    assert zb.shape == (3, d)
    assert torch.allclose(zb[0], z[0], atol=1e-5)
    chunk = torch.from_numpy(np.stack([ep.action[:5]] * 3))  # (3, 5, 7)
    with torch.no_grad():
        zs = model.rollout(zb, chunk)
        assert zs.shape == (3, 5, d)
        assert model.predict(zb, chunk[:, 0]).shape == (3, d)
        assert torch.allclose(model.predict(zb, chunk), zs[:, -1])
        assert torch.allclose(model.predict(zb, chunk[:, 0]), zs[:, 0])
        _, probs = model.imagine_events(zb, chunk)
        assert probs.shape == (3, 5, len(EVENT_NAMES)) and torch.all((probs >= 0) & (probs <= 1))
        assert model.outcome_prob(zs).shape == (3, 5)
        assert model.decode_state(zs).shape == (3, 5, ep.state.shape[1])
        if kind == "latent":
            frames = model.decode(zs)
            s = model.config.image_size
            assert frames.shape == (3, 5, len(model.config.cameras), 3, s, s)


@pytest.mark.parametrize("kind", KINDS)
def test_state_part_of_the_latent_reads_back(kind, episodes):
    model = build_model(kind, episodes).eval()
    ep = episodes[0]
    with torch.no_grad():
        z = model.encode(_obs(ep, 3))
        assert np.allclose(model.decode_state(z)[0].numpy(), ep.state[3], atol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_rollout_rejects_a_wrong_chunk(kind, episodes):
    model = build_model(kind, episodes).eval()
    z = model.encode(_obs(episodes[0], 0))
    with pytest.raises(ValueError, match=r"chunk float\[B=1, H, A=7\]"):
        model.rollout(z, torch.zeros(1, 4, 5))


@pytest.mark.parametrize("kind", KINDS)
def test_missing_camera_is_named(kind, episodes):
    model = build_model(kind, episodes)
    obs = _obs(episodes[0], 0)
    obs["images"] = {}
    with pytest.raises(ValueError, match="lacks cameras"):
        model.encode(obs)


@pytest.mark.parametrize("kind", KINDS)
def test_compute_loss_is_finite_and_does_not_mutate_the_batch(kind, episodes):
    from hivla.training.data import collate
    from hivla.world_model.data import WindowDataset

    model = build_model(kind, episodes)
    cfg = model.config
    ds = WindowDataset(
        [e.resized(cfg.image_size, cfg.cameras) for e in episodes], cfg.horizon, cfg.outcome_horizon
    )
    batch = collate([ds[i] for i in range(4)])
    before = {k: v.clone() for k, v in batch.items() if isinstance(v, torch.Tensor)}
    loss, metrics = model.compute_loss(batch)
    loss.backward()
    assert torch.isfinite(loss) and {"teacher", "rollout", "events", "outcome", "progress"} <= set(metrics)
    assert ("recon" in metrics) == (kind == "latent")
    for k, v in before.items():
        assert torch.equal(batch[k], v), k
