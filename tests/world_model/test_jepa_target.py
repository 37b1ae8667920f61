"""The JEPA target encoder receives no gradients and moves only by the EMA update."""

import torch

from hivla.training.data import collate
from hivla.world_model.data import WindowDataset

from .conftest import build_model


def _batch(model, episodes):
    cfg = model.config
    ds = WindowDataset(
        [e.resized(cfg.image_size, cfg.cameras) for e in episodes], cfg.horizon, cfg.outcome_horizon
    )
    return collate([ds[i] for i in range(4)])


def test_target_encoder_is_not_updated_by_gradients(episodes):
    torch.manual_seed(0)
    model = build_model("jepa", episodes, ema_momentum=0.9)
    params = list(model.target_encoder.parameters())
    assert params and not any(p.requires_grad for p in params)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    target_before = [p.detach().clone() for p in params]
    online_before = [p.detach().clone() for p in model.encoder.parameters()]
    loss, _ = model.compute_loss(_batch(model, episodes))
    loss.backward()
    assert all(p.grad is None for p in params)
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters())
    opt.step()
    assert all(torch.equal(a, b) for a, b in zip(params, target_before, strict=True))  # no gradient step
    online_after = [p.detach().clone() for p in model.encoder.parameters()]
    assert any(not torch.equal(a, b) for a, b in zip(online_after, online_before, strict=True))
    model.after_step()
    for tgt, old, new in zip(params, target_before, online_after, strict=True):
        assert torch.allclose(tgt, 0.9 * old + 0.1 * new, atol=1e-6)


def test_target_encoder_starts_as_a_copy_and_stays_in_eval_mode(episodes):
    model = build_model("jepa", episodes).train()
    assert not model.target_encoder.training
    for a, b in zip(model.target_encoder.parameters(), model.encoder.parameters(), strict=True):
        assert torch.equal(a, b)
