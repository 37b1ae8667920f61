"""Universal actions of mixed widths in one VLA (fixed bodies' 7 values, a wheeled body's 10): the
padded base part is masked out of every head's loss and out of the normalizer's statistics; and the
shared proprioception that lets a universal policy drive a body it never saw."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from hivla.policies import FitData, VLAPolicy, VLAProcessor
from hivla.policies.runtime import ActionSpaceError, PolicyAdapter, check_compatible
from hivla.policies.vla.processor_vla import MASKED_HEADS

from .conftest import HEADS, HORIZON, make_batch, make_obs, tiny_config

STATES = {"floating": 14, "mobile": 19}


def mixed_config(head: str = "flow", proprio: str = "body"):
    cfg = tiny_config(head=head, embodiments=("floating",), action_space="universal")
    return dataclasses.replace(
        cfg, embodiments=("floating", "mobile"), state_dim=19, action_dim=10, proprio=proprio
    )


def mixed_fit(seed: int = 0) -> FitData:
    """Floating's 7-wide chunks padded with NaN to 10 (as the trainer pads them), mobile's 10-wide."""
    rng = np.random.default_rng(seed)
    fixed = np.full((50, HORIZON, 10), np.nan)
    fixed[..., :7] = rng.uniform(-0.03, 0.03, (50, HORIZON, 7))
    mobile = rng.uniform(-0.5, 0.5, (30, HORIZON, 10))
    states = {e: rng.normal(size=(40, n)) for e, n in STATES.items()}
    return FitData(
        states, {"universal": np.concatenate([fixed, mobile])}, action_widths={"floating": 7, "mobile": 10}
    )


def mixed_batch(cfg) -> dict:
    batch = make_batch(cfg, batch=4)
    batch["embodiment"] = ["floating", "mobile", "floating", "mobile"]
    batch["observation.state"] = torch.randn(4, 1, 19)
    universal = torch.rand(4, HORIZON, 10) * 0.06 - 0.03
    universal[0::2, :, 7:] = 0.0  # the fixed body's rows, zero-padded by the collate function
    batch["action.universal"] = universal
    return batch


def test_statistics_of_the_base_part_come_from_the_mobile_body_only():
    data = mixed_fit()
    proc = VLAProcessor.fit(mixed_config(), data)
    low, high = (np.asarray(proc.stats["action"]["universal"][k]) for k in ("low", "high"))
    mobile_base = data.chunks["universal"][50:, :, 7:].reshape(-1, 3)
    assert np.allclose(low[7:], np.quantile(mobile_base, 0.01, axis=0))
    assert np.allclose(high[7:], np.quantile(mobile_base, 0.99, axis=0))
    both = data.chunks["universal"][..., :7].reshape(-1, 7)
    assert np.allclose(low[:7], np.quantile(both, 0.01, axis=0))  # the shared part from both bodies
    assert proc.stats["action_widths"] == {"floating": 7, "mobile": 10}


def test_padding_round_trips_through_a_saved_processor(tmp_path):
    cfg = mixed_config()
    proc = VLAProcessor.fit(cfg, mixed_fit())
    again = VLAProcessor.load(cfg, proc.save(tmp_path))
    assert again.action_widths == {"floating": 7, "mobile": 10}
    inputs = again.prepare_batch(mixed_batch(cfg))
    mask, actions = inputs["mask"], inputs["actions"]
    assert mask.shape == (4, HORIZON, 10) and actions.shape == (4, HORIZON, 10)
    assert not mask[0::2, :, 7:].any() and mask[1::2, :2].all()  # the fixed rows lack the base part
    assert mask[0, :, :7].all()
    assert torch.equal(actions[0::2, :, 7:], torch.zeros(2, HORIZON, 3))  # padded dimensions held at 0
    narrow = make_batch(cfg, batch=2)  # a batch of the fixed body alone: 7 values, padded here
    narrow["embodiment"], narrow["observation.state"] = ["floating"] * 2, torch.randn(2, 1, 14)
    inputs = again.prepare_batch(narrow)
    assert inputs["actions"].shape == (2, HORIZON, 10) and not inputs["mask"][..., 7:].any()


@pytest.mark.parametrize("head", [h for h in HEADS if h in MASKED_HEADS])
def test_every_masking_head_ignores_the_padded_base_part(head):
    cfg = mixed_config(head)
    torch.manual_seed(0)
    policy = VLAPolicy(cfg, VLAProcessor.fit(cfg, mixed_fit()))
    batch = mixed_batch(cfg)
    garbage = {**batch, "action.universal": batch["action.universal"].clone()}
    garbage["action.universal"][0::2, :, 7:] = 5.0  # what a fixed body's padded base part holds
    torch.manual_seed(1)
    ref, _ = policy.compute_loss(batch)
    torch.manual_seed(1)
    assert torch.equal(policy.compute_loss(garbage)[0], ref)
    if head == "bins":  # the tokens of padded dimensions leave the loss
        inputs = policy.processor.prepare_batch(batch)
        dims = torch.arange(inputs["token_mask"].shape[1]) % 10
        assert not inputs["token_mask"][0][dims >= 7].any() and inputs["token_mask"][1][dims >= 7].any()
    out = policy.sample_actions(make_obs(cfg), embodiment="floating")
    assert out.shape == (1, HORIZON, 10)
    policy.processor.action_widths = {}  # without the mask the padded zeros would count as targets
    torch.manual_seed(1)
    assert not torch.equal(policy.compute_loss(batch)[0], ref)


def test_heads_that_cannot_mask_are_refused_naming_those_that_can():
    with pytest.raises(
        ValueError, match=r"cannot train on universal actions of mixed widths.*flow, diffusion, l1, bins"
    ):
        VLAProcessor.fit(mixed_config("fast"), mixed_fit())


def test_shared_proprioception_drives_an_unseen_body():
    cfg = mixed_config(proprio="shared")
    cfg = dataclasses.replace(cfg, state_dim=10)
    policy = VLAPolicy(cfg, VLAProcessor.fit(cfg, mixed_fit()))
    assert set(policy.processor.stats["state"]) == {"shared"} and policy.model.embodiment_embed is None
    out = policy.sample_actions(make_obs(cfg, embodiment="arm5"), embodiment="arm5")  # never trained on
    assert out.shape == (1, HORIZON, 10) and np.isfinite(out).all()
    adapter = PolicyAdapter(policy)
    check_compatible(adapter, "arm5")  # no refusal
    assert adapter.describe()["any_embodiment"] is True  # what a server tells its clients
    from types import SimpleNamespace

    from hivla.serving.protocol import metadata

    meta = metadata(adapter, SimpleNamespace(max_message_bytes=1, max_array_bytes=1), "torch")
    assert meta["observation"]["embodiment"].endswith("any embodiment")
    body = mixed_config()
    with pytest.raises(ActionSpaceError, match="was not among them"):
        check_compatible(PolicyAdapter(VLAPolicy(body, VLAProcessor.fit(body, mixed_fit()))), "arm5")
    with pytest.raises(ValueError, match=r"proprio='shared'.*universal"):
        dataclasses.replace(tiny_config(), proprio="shared")
    with pytest.raises(ValueError, match="proprio must be one of"):
        dataclasses.replace(cfg, proprio="joints")
