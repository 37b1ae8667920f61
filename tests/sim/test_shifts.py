"""Each shift axis changes what it claims and nothing else."""

import numpy as np
import pytest

from hivla.sim import SHIFT_AXES, make_env, parse_shifts
from hivla.sim.episode import combo_is_heldout
from hivla.sim.language import TEMPLATES

SEED = 1_060_004


def _reset(shifts, seed=SEED, render=True):
    env = make_env("tabletop-mixed", "floating", image_size=64, shifts=shifts, render=render)
    try:
        obs, info = env.reset(seed=seed)
        return obs, info, env.spec
    finally:
        env.close()


def _poses(info):
    return {k: np.round(v[:3], 5).tolist() for k, v in info["privileged"]["object_poses"].items()}


@pytest.fixture(scope="module")
def nominal():
    return _reset({})


@pytest.mark.parametrize("axis", ["lighting", "table", "camera"])
def test_render_axes_change_pixels_not_the_world(nominal, axis):
    obs0, info0, _ = nominal
    obs, info, _ = _reset({axis: 2})
    assert _poses(info) == _poses(info0)
    assert obs["instruction"] == obs0["instruction"]
    diff = np.abs(obs["images"]["front"].astype(int) - obs0["images"]["front"].astype(int)).mean()
    assert diff > 2.0, f"{axis} barely changed the front image ({diff:.2f})"
    if axis == "camera":  # the wrist camera does not move
        np.testing.assert_array_equal(obs["images"]["wrist"], obs0["images"]["wrist"])


def test_object_colour_changes_colours_and_names_not_poses(nominal):
    spec0 = nominal[2]
    spec = _reset({"object_colour": 3})[2]
    assert [o.xy for o in spec.objects] == [o.xy for o in spec0.objects]
    assert {o.colour for o in spec.objects}.isdisjoint({"red", "green", "blue", "yellow", "white", "black"})
    assert spec.instruction != spec0.instruction


def test_distractors_add_objects_without_moving_task_objects(nominal):
    _, _, spec0 = nominal
    _, _, spec = _reset({"distractors": 2})
    task = [o for o in spec.objects if not o.distractor]
    assert [(o.slot, o.xy) for o in task] == [(o.slot, o.xy) for o in spec0.objects]
    assert sum(o.distractor for o in spec.objects) >= 1
    mentioned = " ".join(s.text for s in spec.subtasks)
    assert all(o.name not in mentioned for o in spec.objects if o.distractor)


def test_placement_widens_the_range():
    from hivla.sim.catalogue import PLACE_X, PLACE_Y

    outside = 0
    for seed in range(SEED, SEED + 15):
        _, _, spec = _reset({"placement": 3}, seed=seed, render=False)
        for o in spec.objects:
            outside += not (PLACE_X[0] <= o.xy[0] <= PLACE_X[1] and PLACE_Y[0] <= o.xy[1] <= PLACE_Y[1])
    assert outside > 0


def test_paraphrase_uses_held_out_templates_only(nominal):
    _, _, spec0 = nominal
    _, _, spec = _reset({"paraphrase": 1})
    assert [s.text for s in spec.subtasks] == [s.text for s in spec0.subtasks]
    assert spec.instruction != spec0.instruction
    heldout_starts = {t[-1].split("{")[0].strip() for t in TEMPLATES.values()}
    assert any(spec.instruction.lower().startswith(h) for h in heldout_starts)


def test_combination_uses_only_unseen_pairs():
    for seed in range(SEED, SEED + 10):
        _, _, spec = _reset({"combination": 1}, seed=seed, render=False)
        for s in spec.subtasks:
            if s.kind in ("place", "stack"):
                assert combo_is_heldout(s.obj, s.target)
        _, _, train = _reset({}, seed=seed, render=False)
        for s in train.subtasks:
            if s.kind in ("place", "stack"):
                assert not combo_is_heldout(s.obj, s.target)


def test_shifts_are_recorded_in_info_and_validated():
    _, info, _ = _reset(["lighting=1"], render=False)
    assert info["shifts"] == {"lighting": 1}
    assert set(SHIFT_AXES.names()) >= {
        "lighting",
        "table",
        "object_colour",
        "camera",
        "distractors",
        "placement",
    }
    with pytest.raises(ValueError, match="axis=level"):
        parse_shifts(["lighting"])
    with pytest.raises(ValueError, match=r"0\.\.3"):
        parse_shifts(["lighting=7"])
    with pytest.raises(KeyError, match="available"):
        parse_shifts(["lightning=1"])
