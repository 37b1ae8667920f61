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
        "size",
    }
    with pytest.raises(ValueError, match="axis=level"):
        parse_shifts(["lighting"])
    with pytest.raises(ValueError, match=r"0\.\.3"):
        parse_shifts(["lighting=7"])
    with pytest.raises(KeyError, match="available"):
        parse_shifts(["lightning=1"])


def _sizes(suite: str, seed: int, level: int):
    from hivla.sim.episode import sample_episode
    from hivla.sim.shifts import sampling_options
    from hivla.sim.suites import SUITES

    shifts = {"size": level} if level else {}
    return sample_episode(seed, sampling_options(SUITES.get(suite).sampling_options(), shifts), shifts)


@pytest.mark.parametrize("suite", ["tabletop-mixed", "tabletop-spatial"])
def test_size_changes_sizes_monotonically_with_level_and_nothing_else(suite):
    """Level 0 is the unshifted episode; level L grows cubes and cylinders (every dimension) by 0.1 L
    and scales blocks' heights (keeping their order) by 1 +- 0.1 L; poses, words and receptacles stay."""
    from hivla.sim import catalogue as cat
    from hivla.sim.spatial import SIZE_STEP_PER_LEVEL

    for seed in range(SEED, SEED + 10):
        nominal = _sizes(suite, seed, 0)
        assert nominal == _sizes(suite, seed, 0) and nominal.shifts == {}
        previous = None
        for level in (1, 2, 3):
            spec = _sizes(suite, seed, level)
            assert [(o.name, o.xy, o.yaw) for o in spec.objects] == [
                (o.name, o.xy, o.yaw) for o in nominal.objects
            ]
            assert spec.subtasks == nominal.subtasks and spec.instruction == nominal.instruction
            change = []
            for o, o0 in zip(spec.objects, nominal.objects, strict=True):
                ratio = np.asarray(o.slot_info.size) / np.asarray(o0.slot_info.size)
                if o.label in ("cube", "cylinder"):  # every dimension grows by one factor
                    np.testing.assert_allclose(ratio - 1, SIZE_STEP_PER_LEVEL * level)
                elif o.label == cat.BLOCK_NOUN:  # the height only
                    np.testing.assert_allclose(
                        np.abs(ratio - 1), [0, 0, SIZE_STEP_PER_LEVEL * level], atol=1e-12
                    )
                else:  # receptacles keep their size
                    np.testing.assert_allclose(ratio, 1.0)
                change.append(float(np.max(np.abs(ratio - 1))))
            if previous is not None:
                assert all(c > p or c == p == 0 for c, p in zip(change, previous, strict=True))
            previous = change
            heights = [o.size[2] for o in spec.objects if o.label == cat.BLOCK_NOUN]
            heights0 = [o.size[2] for o in nominal.objects if o.label == cat.BLOCK_NOUN]
            assert np.argsort(heights).tolist() == np.argsort(heights0).tolist()


def test_size_shift_builds_the_objects_at_their_new_sizes():
    """In the env: a resized cube rests at its new half height and collides at its new size."""
    from hivla.sim import catalogue as cat

    _, info, spec = _reset({"size": 3}, render=False)
    _, info0, spec0 = _reset({}, render=False)
    grown = shrunk = 0
    for o, o0 in zip(spec.objects, spec0.objects, strict=True):
        if o.label not in ("cube", "cylinder"):
            continue
        slot = o.slot_info
        z = info["privileged"]["object_poses"][o.name][2]
        assert z == pytest.approx(slot.rest_height, abs=0.003), o.name
        assert info["privileged"]["object_sizes"][o.name] == slot.size
        assert info0["privileged"]["object_sizes"][o0.name] == cat.SLOT_BY_NAME[o0.slot].size
        grown += slot.size[0] > cat.SLOT_BY_NAME[o.slot].size[0]
        shrunk += slot.size[0] < cat.SLOT_BY_NAME[o.slot].size[0]
    assert grown + shrunk >= 3
