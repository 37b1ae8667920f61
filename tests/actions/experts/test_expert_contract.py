"""Contract tests run over every registered action expert."""

import dataclasses

import pytest
import torch

from hivla.actions.experts import (
    ACTION_EXPERTS,
    DiffusionConfig,
    FlowMatchingConfig,
    load_action_expert,
    make_action_expert,
    save_action_expert,
)
from hivla.actions.experts.base import masked_mean
from hivla.registry import UnknownNameError

B, D, H, A = 4, 6, 5, 3
NAMES = ACTION_EXPERTS.names()


def tiny(name, **kwargs):
    torch.manual_seed(0)
    return make_action_expert(name, cond_dim=D, horizon=H, action_dim=A, hidden_dim=32, depth=2, **kwargs)


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, D, generator=g), torch.randn(B, H, A, generator=g).clamp(-1, 1)


def trained(name, steps=20):
    expert = tiny(name)
    opt = torch.optim.Adam(expert.parameters(), lr=1e-2)
    cond, actions = batch()
    for _ in range(steps):
        loss = expert.compute_loss(cond, actions)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return expert


def test_registry_holds_the_three_experts():
    assert set(NAMES) >= {"flow", "diffusion", "l1"}
    with pytest.raises(UnknownNameError, match="available: diffusion, flow, l1"):
        make_action_expert("flwo", D, H, A)


@pytest.mark.parametrize("name", NAMES)
def test_loss_is_a_differentiable_scalar(name):
    expert = tiny(name)
    cond, actions = batch()
    loss = expert.compute_loss(cond, actions)
    assert loss.ndim == 0 and torch.isfinite(loss) and loss.requires_grad
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in expert.parameters())


@pytest.mark.parametrize("name", NAMES)
def test_sample_shape_and_steps(name):
    expert = trained(name, steps=3)
    cond, _ = batch()
    for steps in (None, 1, 3):
        out = expert.sample(cond, steps=steps)
        assert out.shape == (B, H, A) and out.dtype == torch.float32 and torch.isfinite(out).all()
    with pytest.raises(ValueError, match="steps"):
        expert.sample(cond, steps=0)


@pytest.mark.parametrize("name", NAMES)
def test_padded_steps_do_not_change_the_loss(name):
    expert = tiny(name)
    cond, actions = batch()
    mask = torch.ones(B, H, dtype=torch.bool)
    mask[:, 3:] = False
    garbage = actions.clone()
    garbage[:, 3:] = 1e3
    torch.manual_seed(1)
    ref = expert.compute_loss(cond, actions, mask)
    torch.manual_seed(1)
    assert torch.equal(expert.compute_loss(cond, garbage, mask), ref)
    torch.manual_seed(1)
    assert not torch.equal(expert.compute_loss(cond, garbage), ref)
    nothing_valid = expert.compute_loss(cond, actions, torch.zeros(B, H, dtype=torch.bool))
    assert nothing_valid.item() == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_padded_dimensions_do_not_change_the_loss(name):
    """A per-dimension mask bool[B, H, A] (universal actions of mixed widths: a fixed body's sample has
    no base part) leaves the padded entries out of the loss; an all-True one equals the step mask."""
    expert = tiny(name)
    cond, actions = batch()
    mask = torch.ones(B, H, A, dtype=torch.bool)
    mask[:2, :, A - 1] = False  # two samples lack the last dimension
    garbage = actions.clone()
    garbage[:2, :, A - 1] = 1e3
    torch.manual_seed(1)
    ref = expert.compute_loss(cond, actions, mask)
    torch.manual_seed(1)
    assert torch.equal(expert.compute_loss(cond, garbage, mask), ref)
    torch.manual_seed(1)
    assert not torch.equal(expert.compute_loss(cond, garbage, torch.ones(B, H, dtype=torch.bool)), ref)
    torch.manual_seed(1)
    by_step = expert.compute_loss(cond, actions, torch.ones(B, H, dtype=torch.bool))
    torch.manual_seed(1)
    assert torch.allclose(expert.compute_loss(cond, actions, torch.ones(B, H, A, dtype=torch.bool)), by_step)
    with pytest.raises(ValueError, match=r"or \[B, H, A\]"):
        expert.compute_loss(cond, actions, torch.ones(B, H, A + 1, dtype=torch.bool))


def test_masked_mean_over_dimensions_averages_the_valid_entries():
    err = torch.arange(B * H * A, dtype=torch.float32).reshape(B, H, A)
    mask = torch.rand(B, H, A, generator=torch.Generator().manual_seed(0)) > 0.5
    assert torch.allclose(masked_mean(err, mask), err[mask].mean())
    assert masked_mean(err, torch.zeros(B, H, A, dtype=torch.bool)).item() == 0.0
    steps = torch.ones(B, H, dtype=torch.bool)
    steps[:, -1] = False
    assert torch.equal(
        masked_mean(err, steps), err[:, :-1].sum() / (B * (H - 1) * A)
    )  # the step mask as before


@pytest.mark.parametrize("name", NAMES)
def test_inputs_are_not_mutated(name):
    expert = tiny(name)
    cond, actions = batch()
    mask = torch.ones(B, H, dtype=torch.bool)
    copies = cond.clone(), actions.clone(), mask.clone()
    expert.compute_loss(cond, actions, mask).backward()
    expert.sample(cond)
    for before, after in zip(copies, (cond, actions, mask), strict=True):
        assert torch.equal(before, after)


@pytest.mark.parametrize("name", NAMES)
def test_bad_inputs_raise_value_errors_naming_the_shape(name):
    expert = tiny(name)
    cond, actions = batch()
    with pytest.raises(ValueError, match=rf"cond must have shape \[B, {D}\]"):
        expert.compute_loss(cond[:, :2], actions)
    with pytest.raises(ValueError, match=rf"\[B, H, A\] = \({B}, {H}, {A}\)"):
        expert.compute_loss(cond, actions[:, :2])
    with pytest.raises(ValueError, match=r"mask must be a bool tensor of shape \[B, H\]"):
        expert.compute_loss(cond, actions, torch.ones(B, H + 1, dtype=torch.bool))
    nan_actions = actions.clone()
    nan_actions[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        expert.compute_loss(cond, nan_actions)
    with pytest.raises(ValueError, match=r"torch\.Tensor"):
        expert.sample(cond.numpy())


@pytest.mark.parametrize("name", NAMES)
def test_save_load_gives_identical_samples(name, tmp_path):
    expert = trained(name)
    path = save_action_expert(expert, tmp_path / name)
    assert (path / "model.safetensors").is_file() and (path / "action_expert.json").is_file()
    loaded = load_action_expert(path)
    assert type(loaded) is type(expert) and loaded.config == expert.config
    cond, _ = batch(seed=5)
    torch.manual_seed(123)
    first = expert.sample(cond)
    torch.manual_seed(123)
    assert torch.equal(loaded.sample(cond), first)
    gen = torch.Generator().manual_seed(7)
    again = loaded.sample(cond, generator=gen)
    assert torch.equal(expert.sample(cond, generator=torch.Generator().manual_seed(7)), again)


@pytest.mark.parametrize("name", NAMES)
def test_config_is_frozen_validated_and_round_trips(name):
    expert = tiny(name)
    cfg = expert.config
    assert type(cfg)(**dataclasses.asdict(cfg)) == cfg
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.hidden_dim = 3
    with pytest.raises(ValueError, match="hidden_dim must be an int >= 1"):
        dataclasses.replace(cfg, hidden_dim=0)
    with pytest.raises(ValueError, match="horizon must be an int >= 1"):
        make_action_expert(name, cond_dim=D, horizon=0, action_dim=A)


def test_expert_specific_config_errors():
    with pytest.raises(ValueError, match="schedule must be one of"):
        DiffusionConfig(D, H, A, schedule="quadratic")
    with pytest.raises(ValueError, match="time_dim must be even"):
        FlowMatchingConfig(D, H, A, time_dim=7)
    with pytest.raises(ValueError, match="time_shift"):
        FlowMatchingConfig(D, H, A, time_shift=0.0)


def test_diffusion_linear_schedule_and_stochastic_ddim_sample():
    expert = tiny("diffusion", schedule="linear", eta=1.0, sample_steps=4)
    out = expert.sample(batch()[0])
    assert out.shape == (B, H, A) and torch.isfinite(out).all()
    assert expert.alphas_cumprod[0] > expert.alphas_cumprod[-1] > 0


def test_flow_time_distribution_favours_noisy_times():
    expert = tiny("flow")
    torch.manual_seed(0)
    t = expert.sample_time(20_000, torch.device("cpu"))
    assert t.min() >= 1 - 0.999 and t.max() <= 1.0
    assert t.mean() > 0.55  # Beta(1.5, 1) has mean 0.6: more mass near t = 1 (noise)
