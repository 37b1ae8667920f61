"""The object-centric localization loss: labels, their augmentation, the keypoint frame, training."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from tests.policies.conftest import build, make_batch, tiny_config

from hivla.models import VisionConfig
from hivla.models.vision import SpatialSoftmax
from hivla.policies import VLAConfig
from hivla.policies.vla.processor_vla import random_shift
from hivla.types import CAMERAS

REASONING = (
    "subtask: pick up the red cube; target: red cube is 12 cm forward, 3 cm left, 10 cm below; "
    "move: descend: move forward and down; gripper: open"
)


def localizing(cfg: VLAConfig, weight: float = 1.0, fine: int = 0) -> VLAConfig:
    vision = dataclasses.replace(cfg.vision, keypoints=4, fine_keypoints=fine)
    return dataclasses.replace(cfg, vision=vision, localize=weight)


def test_spatial_softmax_coordinates_are_image_coordinates() -> None:
    """A feature map peaked on one cell gives that cell's centre in -1..1 image coordinates."""
    pool = SpatialSoftmax(channels=1, keypoints=1)
    with torch.no_grad():
        pool.attn.weight.fill_(1.0)
        pool.attn.bias.zero_()
    fmap = torch.zeros(1, 1, 4, 8)
    fmap[0, 0, 3, 1] = 50.0  # row 3 of 4, column 1 of 8
    u, v = pool(fmap)[0, 0, -2:].tolist()
    assert u == pytest.approx((1.5 / 8) * 2 - 1, abs=1e-3)
    assert v == pytest.approx((3.5 / 4) * 2 - 1, abs=1e-3)


def test_cell_labels_put_their_expectation_on_the_target() -> None:
    from hivla.models.vision import cell_label

    uv = torch.tensor([[0.1, -0.3], [0.93, 0.0], [-1.0, 1.0], [0.0, 0.0]])
    label = cell_label(uv, 4, 8)  # (4, 32)
    assert torch.allclose(label.sum(-1), torch.ones(4)) and (label >= 0).all()
    ys, xs = torch.meshgrid(
        torch.linspace(-1 + 1 / 4, 1 - 1 / 4, 4), torch.linspace(-1 + 1 / 8, 1 - 1 / 8, 8), indexing="ij"
    )
    expected = torch.stack([label @ xs.reshape(-1), label @ ys.reshape(-1)], -1)
    inner = torch.tensor(
        [[0.1, -0.3], [1 - 1 / 8, 0.0], [-1 + 1 / 8, 1 - 1 / 4], [0.0, 0.0]]
    )  # clipped to centres
    torch.testing.assert_close(expected, inner)


def test_random_shift_reports_how_far_the_content_moved() -> None:
    torch.manual_seed(0)
    images = torch.zeros(16, 2, 3, 32, 32)
    images[:, :, :, 10, 20] = 1.0  # one bright pixel at x=20, y=10 in every image
    shifted, moved = random_shift(images, pad=4)
    assert moved.shape == (16, 2, 2) and moved.abs().max() <= 4
    for b in range(16):
        for c in range(2):
            y, x = divmod(int(shifted[b, c, 0].argmax()), 32)
            assert (x, y) == (20 + int(moved[b, c, 0]), 10 + int(moved[b, c, 1]))


def test_labels_follow_the_augmentation_and_pick_the_policy_cameras() -> None:
    cfg = dataclasses.replace(localizing(tiny_config()), cameras=("wrist",))
    processor = build(cfg).processor
    labels = torch.zeros(2, 3 * len(CAMERAS))
    wrist = CAMERAS.index("wrist")
    labels[:, 3 * wrist : 3 * wrist + 3] = torch.tensor([0.5, -0.25, 1.0])
    labels[1, 3 * wrist] = 0.99  # near the right edge: a shift to the right pushes it out of view
    moved = torch.tensor([[[2.0, -4.0]], [[2.0, 0.0]]])  # (B, C=1, 2) px at 32 px
    out = processor.target_uv({"annotation.target_uv": labels}, moved, 32)
    assert out.shape == (2, 1, 3)
    assert out[0, 0].tolist() == pytest.approx([0.5 + 2 * 2 / 32, -0.25 - 4 * 2 / 32, 1.0])
    assert out[1, 0, 2] == 0.0  # left the image: not supervised
    with pytest.raises(KeyError, match=r"annotation\.target_uv"):
        processor.target_uv({"task": ["x"]}, moved, 32)
    with pytest.raises(ValueError, match=r"float\[B, 6\]"):
        processor.target_uv({"annotation.target_uv": torch.zeros(2, 4)}, moved, 32)


def test_localize_needs_cnn_keypoints_and_a_non_negative_weight() -> None:
    cfg = tiny_config()
    with pytest.raises(ValueError, match="keypoints >= 1"):
        dataclasses.replace(cfg, localize=1.0)
    with pytest.raises(ValueError, match="keypoints >= 1"):
        dataclasses.replace(cfg, vision=VisionConfig(kind="efficientnet_lite0", keypoints=4), localize=1.0)
    with pytest.raises(ValueError, match=">= 0"):
        localizing(cfg, -1.0)


def test_the_loss_adds_the_localization_term_and_reports_pixel_error() -> None:
    cfg = localizing(tiny_config(head="l1"))
    policy = build(cfg)
    batch = make_batch(cfg)
    with pytest.raises(KeyError, match=r"annotation\.target_uv"):
        policy.compute_loss(batch)
    batch["annotation.target_uv"] = torch.rand(3, 3 * len(CAMERAS)) * 2 - 1
    batch["annotation.target_uv"][:, 2::3] = 1.0
    with pytest.raises(KeyError, match="reasoning"):
        policy.compute_loss(batch)
    batch["reasoning"] = [REASONING] * 3
    loss, metrics = policy.compute_loss(batch)
    assert {"policy_loss", "localize_loss", "localize_err_px", "offset_err_cm"} <= set(metrics)
    assert float(loss.detach()) > metrics["policy_loss"] > 0
    assert 0 < metrics["localize_err_px"] < cfg.image_size * 1.5


@pytest.mark.parametrize("fine", [0, 2])
def test_the_keypoint_learns_to_find_the_named_square(fine: int) -> None:
    """On the synthetic frames (a coloured square at a random place) the first keypoint (coarse, or
    fine from the first stage) moves from wherever it starts to within a few pixels of the square;
    without the loss it does not."""
    from hivla.training.data import SyntheticSpec, SyntheticVLADataset, collate

    cfg = localizing(tiny_config(head="l1"), weight=1.0, fine=fine)
    cfg = dataclasses.replace(cfg, augment_shift=0)
    data = SyntheticVLADataset(SyntheticSpec(size=96, image_size=32, horizon=cfg.horizon))
    batches = [collate([data[i] for i in range(j, j + 16)]) for j in range(0, 96, 16)]

    def error_after(steps: int, weight: float) -> float:
        policy = build(dataclasses.replace(cfg, localize=weight), seed=1)
        opt = torch.optim.Adam(policy.parameters(), lr=3e-3)
        for step in range(steps):
            loss, _ = policy.compute_loss(batches[step % len(batches)])
            opt.zero_grad()
            loss.backward()
            opt.step()
        batch = batches[0]
        with torch.no_grad():  # read the first keypoint whether or not the loss was on
            inputs = policy.processor.prepare_batch(batch)
            _, _, feats = policy.model.perceive_with_features(inputs)
            target = policy.processor.target_uv(batch, torch.zeros(16, len(cfg.cameras), 2), cfg.image_size)
            return policy.model.localization_loss(feats, target)[1]["localize_err_px"]

    untrained, trained, without = error_after(0, 1.0), error_after(150, 1.0), error_after(150, 0.0)
    print(
        f"keypoint error px: untrained {untrained:.1f}, trained {trained:.1f}, trained without the loss {without:.1f}"
    )
    assert trained < 0.5 * untrained and trained < 4.0 and without > 2 * trained, (
        untrained,
        trained,
        without,
    )


def test_a_localizing_policy_says_where_it_looks_and_the_eval_adapter_passes_it_on() -> None:
    from tests.policies.conftest import make_obs

    from hivla.policies import PolicyAdapter

    cfg = localizing(tiny_config(head="l1"))
    policy = build(cfg).eval()
    adapter = PolicyAdapter(policy)
    assert adapter.looking_at is None
    adapter.sample_actions(make_obs(cfg))
    looking = adapter.looking_at
    assert set(looking) == set(cfg.cameras)
    assert all(-1.0 <= value <= 1.0 for uv in looking.values() for value in uv)
    adapter.reset()
    assert adapter.looking_at is None
    plain = build(tiny_config(head="l1")).eval()
    plain.sample_actions(make_obs(tiny_config(head="l1")))
    assert plain.looking_at is None


def test_the_located_target_enters_the_backbone_as_its_own_token() -> None:
    cfg = localizing(tiny_config(head="l1"))
    plain = dataclasses.replace(cfg, localize=0.0)
    batch = make_batch(cfg)
    batch["annotation.target_uv"] = torch.zeros(3, 3 * len(CAMERAS))
    batch["reasoning"] = [REASONING] * 3
    inputs = build(cfg).processor.prepare_batch(batch)
    with_target = build(cfg).model.perceive(inputs)[0]
    without = build(plain).model.perceive(inputs)[0]
    assert with_target.shape[1] == without.shape[1] + 1
    model = build(cfg).model.eval()
    _, _, feats = model.perceive_with_features(inputs)
    moved = feats.clone()
    moved[:, 0, -2:] += 0.5  # move where the first camera located the target
    with torch.no_grad():
        assert not torch.allclose(
            model.located_target(feats, inputs["state"]), model.located_target(moved, inputs["state"])
        )


def test_the_offset_label_is_read_from_the_experts_reasoning() -> None:
    processor = build(localizing(tiny_config())).processor
    offsets = processor.target_offset(
        {"reasoning": [REASONING, REASONING.replace("12 cm forward", "4 cm back")]}
    )
    torch.testing.assert_close(offsets, torch.tensor([[0.12, 0.03, -0.10], [-0.04, 0.03, -0.10]]))
    with pytest.raises(ValueError, match="cannot parse reasoning"):
        processor.target_offset({"reasoning": ["no trace here"]})


def test_a_trained_localizing_policy_can_be_copied_after_a_loss() -> None:
    """EMA and validation deep-copy the policy between steps: nothing of the graph may stay on it."""
    import copy

    cfg = localizing(tiny_config(head="l1"))
    policy = build(cfg)
    batch = make_batch(cfg)
    batch["annotation.target_uv"] = torch.zeros(3, 3 * len(CAMERAS))
    batch["reasoning"] = [REASONING] * 3
    loss, _ = policy.compute_loss(batch)
    loss.backward()
    copy.deepcopy(policy)


def test_keypoint_pooling_without_the_localization_loss_can_be_copied_after_a_loss() -> None:
    """--localize 0 on a keypoint-pooling preset (e.g. quick on data without target labels): the
    pooling's attention logits are not read by any loss and must not stay on the module."""
    import copy

    cfg = localizing(tiny_config(head="l1"), weight=0.0)
    policy = build(cfg)
    loss, _ = policy.compute_loss(make_batch(cfg))
    loss.backward()
    assert all(m.last_logits is None for m in policy.modules() if isinstance(m, SpatialSoftmax))
    copy.deepcopy(policy)
