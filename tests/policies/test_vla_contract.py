"""Contract tests over every (vision encoder x action head): save/load round trip, shapes, no mutation."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from tests.policies.conftest import (
    HEADS,
    HORIZON,
    VISIONS,
    build,
    make_batch,
    make_obs,
    skip_unless_available,
    tiny_config,
)

from hivla.policies import load_policy


def _config(vision: str, head: str, request) -> object:
    skip_unless_available(vision)
    path = request.getfixturevalue("tiny_vlm_dir") if vision == "hf_vlm" else ""
    return tiny_config(vision, head, vlm_path=path)


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and bool(torch.equal(a, b))
    return a == b


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("vision", VISIONS)
def test_contract(vision: str, head: str, request, tmp_path) -> None:
    check_contract(_config(vision, head, request), tmp_path)


SENSOR_INPUTS = {
    "depth": {"depth": True},
    "points": {"depth": True, "depth_encoder": "points"},
    "contact": {"contact": True},
    "depth+contact": {"depth": True, "contact": True},
}


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("sensors", list(SENSOR_INPUTS))
def test_contract_with_sensor_encoders(sensors: str, head: str, tmp_path) -> None:
    """The RGB-D CNN and the touch-in-state token over every head: the same contract, and the actions
    depend on the sensor inputs (they are read, not ignored)."""
    cfg = tiny_config("cnn", head, **SENSOR_INPUTS[sensors])
    check_contract(cfg, tmp_path)
    policy = build(cfg).eval()
    obs = make_obs(cfg)

    def tokens(o):  # the backbone's input tokens (a fresh head's output ignores its conditioning)
        with torch.no_grad():
            return policy.model.perceive(policy.processor.prepare_obs(o)[0])[0]

    base = tokens(obs)
    if cfg.depth:
        moved = {**obs, "depth": {c: v[::-1].copy() for c, v in obs["depth"].items()}}
        assert not torch.allclose(base, tokens(moved))
        with pytest.raises(KeyError, match="sensors=\\('depth',\\)"):
            policy.sample_actions({k: v for k, v in obs.items() if k != "depth"})
    if cfg.contact:
        assert not torch.allclose(base, tokens({**obs, "contact": obs["contact"] * 0.0}))
        with pytest.raises(KeyError, match="--sensors contact"):
            policy.compute_loss({k: v for k, v in make_batch(cfg).items() if k != "observation.contact"})


def check_contract(cfg, tmp_path) -> None:
    policy = build(cfg)
    batch = make_batch(cfg)
    before = copy.deepcopy(batch)

    loss, metrics = policy.compute_loss(batch)
    assert torch.isfinite(loss) and metrics["loss"] == pytest.approx(float(loss.detach()))
    loss.backward()
    assert all(_same(batch[k], before[k]) for k in before) and set(batch) == set(before), "batch was mutated"
    grads = [p.grad is not None for p in policy.parameters() if p.requires_grad]
    assert any(grads)
    frozen = [n for n, p in policy.named_parameters() if not p.requires_grad]
    assert all(policy.get_parameter(n).grad is None for n in frozen)

    policy.eval()
    obs = make_obs(cfg)
    obs_before = copy.deepcopy(obs)
    one = policy.sample_actions(obs, generator=torch.Generator().manual_seed(0))
    assert one.shape == (1, HORIZON, cfg.action_dim) and one.dtype == np.float32 and np.isfinite(one).all()
    assert obs["instruction"] == obs_before["instruction"]
    assert all(np.array_equal(obs["images"][c], obs_before["images"][c]) for c in cfg.cameras)
    assert (
        all(np.array_equal(obs["depth"][c], obs_before["depth"][c]) for c in cfg.cameras)
        if cfg.depth
        else True
    )
    many = policy.sample_actions(make_obs(cfg, batch=2), generator=torch.Generator().manual_seed(0))
    assert many.shape == (2, HORIZON, cfg.action_dim)

    policy.save(tmp_path / "ckpt")
    assert (
        not list(tmp_path.rglob("*.pt"))
        and not list(tmp_path.rglob("*.bin"))
        and not list(tmp_path.rglob("*.pkl"))
    )
    loaded = load_policy(tmp_path / "ckpt")
    again = loaded.sample_actions(obs, generator=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(one, again)
    assert loaded.config == cfg and loaded.embodiments == ("floating",) and loaded.action_space == "native"
    assert json.loads(json.dumps(loaded.norm_stats)) == policy.norm_stats
    torch.manual_seed(1)
    l1 = policy.train().compute_loss(batch)[0].detach()
    torch.manual_seed(1)
    l2 = loaded.train().compute_loss(batch)[0].detach()
    assert float(l1) == pytest.approx(float(l2), abs=1e-6)


def test_film_keypoint_cnn_policy_and_augmentation_only_in_training() -> None:
    cfg = tiny_config("cnn", "l1")
    cfg = cfg.__class__(
        **{**cfg.__dict__, "vision": cfg.vision.__class__(widths=(8, 16), keypoints=4, film=True)}
    )
    policy = build(cfg)
    batch = make_batch(cfg)
    assert torch.isfinite(policy.train().compute_loss(batch)[0])
    prep = policy.processor.prepare_batch
    torch.manual_seed(0)
    a = prep(batch, train=True)["images"]
    b = prep(batch, train=True)["images"]
    assert not torch.equal(a, b)  # random shifts differ between calls
    assert torch.equal(prep(batch)["images"], prep(batch)["images"])  # none at inference


def test_unbatched_and_batched_observations_agree() -> None:
    policy = build(tiny_config("cnn", "l1")).eval()
    single = make_obs(policy.config)
    batched = {
        "images": {c: v[None] for c, v in single["images"].items()},
        "state": single["state"][None],
        "instruction": [single["instruction"]],
    }
    np.testing.assert_allclose(policy.sample_actions(single), policy.sample_actions(batched), atol=1e-6)


def test_frozen_pretrained_weights_stay_out_of_checkpoints(tmp_path) -> None:
    skip_unless_available("efficientnet_lite0")
    policy = build(tiny_config("efficientnet_lite0", "l1"))
    assert policy.vision_frozen
    assert not any(p.requires_grad for p in policy.model.vision.parameters())
    policy.save(tmp_path)
    from safetensors.torch import load_file

    keys = load_file(str(tmp_path / "model.safetensors"))
    assert not any(k.startswith("model.vision.net.") for k in keys)
    np.testing.assert_array_equal(
        policy.eval().sample_actions(make_obs(policy.config)),
        load_policy(tmp_path).sample_actions(make_obs(policy.config)),
    )


def test_finetuned_efficientnet_trains_and_is_saved(tmp_path) -> None:
    skip_unless_available("efficientnet_lite0")
    policy = build(tiny_config("efficientnet_lite0", "flow", freeze=False))
    assert not policy.vision_frozen
    loss, _ = policy.compute_loss(make_batch(policy.config))
    loss.backward()
    assert policy.model.vision.net._conv_stem.weight.grad is not None
    policy.save(tmp_path)
    from safetensors.torch import load_file

    assert any(k.startswith("model.vision.net.") for k in load_file(str(tmp_path / "model.safetensors")))


def test_minilm_language_encoder_round_trip(tmp_path) -> None:
    skip_unless_available("cnn", language="minilm")
    policy = build(tiny_config("cnn", "flow", language="minilm")).eval()
    obs = make_obs(policy.config)
    a = policy.sample_actions(obs, generator=torch.Generator().manual_seed(0))
    policy.save(tmp_path)
    b = load_policy(tmp_path).sample_actions(obs, generator=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(a, b)
    loss, _ = policy.train().compute_loss(make_batch(policy.config))
    loss.backward()
    assert all(p.grad is None for p in policy.model.language.parameters())


def test_universal_actions_over_several_embodiments(tmp_path) -> None:
    cfg = tiny_config("cnn", "flow", embodiments=("arm6", "floating"), action_space="universal")
    policy = build(cfg)
    loss, _ = policy.compute_loss(make_batch(cfg, batch=4))
    assert torch.isfinite(loss)
    policy.eval()
    with pytest.raises(ValueError, match="pass embodiment"):
        policy.sample_actions(make_obs(cfg))
    out = policy.sample_actions(make_obs(cfg, embodiment="floating"), embodiment="floating")
    assert out.shape == (1, HORIZON, 7)
    policy.save(tmp_path)
    loaded = load_policy(tmp_path)
    assert loaded.action_space == "universal" and loaded.embodiments == ("arm6", "floating")
    with pytest.raises(ValueError, match="not seen in training"):
        loaded.sample_actions(make_obs(cfg, embodiment="arm5"), embodiment="arm5")


def test_bad_inputs_say_what_to_do(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="--out directory"):
        load_policy(tmp_path)
    with pytest.raises(ValueError, match="autoregressive"):
        tiny_config("cnn", "fast").head.__class__(kind="fast", mode="parallel")
    with pytest.raises(ValueError, match="universal"):
        tiny_config("cnn", "flow", embodiments=("arm6", "floating"))
    policy = build(tiny_config("cnn", "l1"))
    batch = make_batch(policy.config)
    batch["action"] = batch["action"][:, :2]
    with pytest.raises(ValueError, match="chunk size"):
        policy.compute_loss(batch)


def test_execute_steps_is_saved_and_drives_evaluation(tmp_path) -> None:
    import dataclasses

    from hivla.policies import as_rollout_policy

    cfg = tiny_config()
    assert as_rollout_policy(build(cfg)).execute_steps == HORIZON  # 0: the whole chunk
    policy = build(dataclasses.replace(cfg, execute_steps=2))
    policy.save(tmp_path / "p")
    assert as_rollout_policy(load_policy(tmp_path / "p")).execute_steps == 2
    with pytest.raises(ValueError, match="execute_steps must be within"):
        dataclasses.replace(cfg, execute_steps=HORIZON + 1)


def test_point_clouds_match_the_simulators() -> None:
    """The processor's back-projection (torch) gives the env's own point cloud at the sampled pixels."""
    from hivla.policies.vla.processor_vla import depth_points
    from hivla.sim import make_env

    env = make_env("tabletop-single", "floating", image_size=64, sensors=("depth", "points"))
    try:
        obs, _ = env.reset(seed=2)
        for cam in env.cameras:
            params = obs["camera_params"][cam]
            k, pose = (torch.from_numpy(params[n])[None] for n in ("intrinsics", "extrinsics"))
            points, valid = depth_points(torch.from_numpy(obs["depth"][cam])[None], k, pose, 100)
            idx = torch.linspace(0, 64 * 64 - 1, 100).round().long()
            want = torch.from_numpy(obs["points"][cam].reshape(-1, 3))[idx]  # (100, 3)
            assert valid.sum() > 50  # the table and objects lie within range
            torch.testing.assert_close(points[0][valid[0]], want[valid[0]], atol=1e-4, rtol=1e-5)
    finally:
        env.close()
