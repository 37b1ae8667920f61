"""The latent action model: VQ straight-through gradients and dead-code restarts, the alignment
loss only where actions exist, checkpoints."""

from __future__ import annotations

import pytest
import torch

from hivla.latent_actions import LATENT_PRESETS, LatentActionModel, VectorQuantizer, load_latent_model
from hivla.latent_actions.checkpoint import save_latent_model


def test_straight_through_passes_the_gradient_to_the_encoder_output():
    torch.manual_seed(0)
    vq = VectorQuantizer(size=4, dim=3, beta=0.25, dead_steps=0)
    z = torch.randn(5, 3, requires_grad=True)
    q, codes, _ = vq(z)
    torch.testing.assert_close(q, vq.codebook[codes])  # the forward value is the code
    weights = torch.randn(5, 3)
    (q * weights).sum().backward()
    torch.testing.assert_close(z.grad, weights)  # the backward is the identity
    z2 = z.detach().clone().requires_grad_(True)
    _, _, loss = vq(z2)
    loss.backward()
    assert vq.codebook.grad is not None and vq.codebook.grad.abs().sum() > 0  # the codebook learns
    assert z2.grad.abs().sum() > 0  # and the commitment term pulls z towards it


def _train_on_clusters(dead_steps: int) -> int:
    """Fit a codebook of 8 to 8 well-separated clusters, the codes starting in a corner; the
    number of codes in use at the end."""
    torch.manual_seed(0)
    centres = torch.randn(8, 2) * 5.0
    vq = VectorQuantizer(size=8, dim=2, beta=0.25, dead_steps=dead_steps)
    vq.codebook.data = torch.randn(8, 2) * 0.01 + 20.0  # all far from the data: one code wins first
    opt = torch.optim.Adam(vq.parameters(), lr=0.05)
    for _ in range(300):
        z = centres[torch.randint(8, (64,))] + 0.1 * torch.randn(64, 2)
        _, _, loss = vq(z)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        codes = vq.nearest(centres[torch.arange(8).repeat(20)] + 0.1 * torch.randn(160, 2))
    return len(codes.unique())


def test_dead_codes_are_restarted_so_the_codebook_does_not_collapse():
    assert _train_on_clusters(dead_steps=0) <= 2  # without restarts a few codes take every cluster
    assert _train_on_clusters(dead_steps=10) >= 7


def _batch(b: int, s: int, k: int, has: list[bool]) -> dict:
    torch.manual_seed(1)
    return {
        "frames": torch.rand(b, 2, 3, s, s),
        "action.universal": torch.randn(b, k, 7) * 0.01,
        "has_action": torch.tensor(has),
    }


def test_alignment_trains_only_on_samples_with_actions():
    cfg = LATENT_PRESETS.get("debug").model
    model = LatentActionModel(cfg.__class__(**{**cfg.__dict__, "align_weight": 1.0, "reverse_prob": 0.0}))
    batch = _batch(4, cfg.image_size, cfg.frame_gap, [True, False, True, False])
    _, metrics = model(batch)
    assert "align_mse" in metrics
    changed = dict(batch)
    changed["action.universal"] = batch["action.universal"].clone()
    changed["action.universal"][[1, 3]] += 100.0  # actions of unlabelled samples are never read
    assert model(changed)[1]["align_mse"] == pytest.approx(metrics["align_mse"])
    _, none = model({**batch, "has_action": torch.zeros(4, dtype=torch.bool)})
    assert "align_mse" not in none
    pure = LatentActionModel(cfg)  # align_weight 0: pure video
    assert "align_mse" not in pure(batch)[1]


def test_metrics_and_shapes(tmp_path):
    cfg = LATENT_PRESETS.get("debug").model
    model = LatentActionModel(cfg).eval()
    batch = _batch(3, cfg.image_size, cfg.frame_gap, [True] * 3)
    loss, m = model(batch)
    assert loss.ndim == 0 and 1.0 <= m["perplexity"] <= cfg.codebook_size
    assert 0 < m["codes_used"] <= 1 and m["recon_mse"] >= 0
    codes = model.encode(batch["frames"])
    assert codes.shape == (3, cfg.tokens) and codes.dtype == torch.long
    assert model.embed(batch["frames"]).shape == (3, cfg.tokens * cfg.code_dim)
    assert model.predict(batch["frames"][:, 0], codes).shape == (3, 3, cfg.image_size, cfg.image_size)
    # a fresh model predicts "nothing changes": its reconstruction error is the copy baseline's
    assert m["recon_mse"] == pytest.approx(m["copy_mse"], rel=1e-5)
    back = load_latent_model(save_latent_model(model, tmp_path / "ckpt"))
    torch.testing.assert_close(back.encode(batch["frames"]), codes)


def test_reversed_pairs_train_the_video_loss_but_never_the_alignment():
    cfg = LATENT_PRESETS.get("debug").model
    model = LatentActionModel(
        cfg.__class__(**{**cfg.__dict__, "align_weight": 1.0, "reverse_prob": 0.5, "dead_code_steps": 0})
    )
    batch = _batch(64, cfg.image_size, cfg.frame_gap, [True] * 64)
    torch.manual_seed(5)
    _, shown = model(batch)
    torch.manual_seed(5)
    reversed_ = torch.rand(64) < 0.5  # the draw compute_loss makes first
    assert 0 < int(reversed_.sum()) < 64
    model.eval()  # no reversal: score every sample the way the training step did for the forward ones
    with torch.no_grad():
        latent = model.embed(batch["frames"])
        target = batch["action.universal"] / model.action_scale
        err = (model.align(latent) - target).pow(2).mean(dim=(1, 2))
    assert shown["align_mse"] == pytest.approx(float(err[~reversed_].mean()), rel=1e-4)


@pytest.mark.parametrize("name", LATENT_PRESETS.names())
def test_every_preset_builds_a_model_whose_loss_runs(name):
    cfg = LATENT_PRESETS.get(name).model
    model = LatentActionModel(cfg)
    loss, metrics = model(_batch(2, cfg.image_size, cfg.frame_gap, [True, False]))
    assert torch.isfinite(loss) and metrics["perplexity"] >= 1.0
    assert model.encode(_batch(2, cfg.image_size, cfg.frame_gap, [True, True])["frames"]).shape == (
        2,
        cfg.tokens,
    )


def test_config_errors_say_what_is_expected():
    from hivla.latent_actions import LatentActionConfig
    from hivla.registry import UnknownNameError

    with pytest.raises(ValueError, match="divisible by 2\\*\\*len\\(widths\\)"):
        LatentActionConfig(image_size=60)
    with pytest.raises(ValueError, match="reverse_prob"):
        LatentActionConfig(reverse_prob=1.0)
    with pytest.raises(UnknownNameError, match="available: debug, quick, standard"):
        LATENT_PRESETS.get("quik")
