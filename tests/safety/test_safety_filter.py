from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hivla.safety import INTERVENTION_KINDS, SafetyConfig, SafetyFilter

A = 7
LOW = np.array([-0.05, -0.05, -0.05, -0.2, -0.2, -0.2, -1.0], dtype=np.float32)
HIGH = np.array([0.05, 0.05, 0.05, 0.2, 0.2, 0.2, 1.0], dtype=np.float32)
BOX_LOW = np.array([-0.5, -0.5, 0.0], dtype=np.float32)
BOX_HIGH = np.array([0.5, 0.5, 0.6], dtype=np.float32)


def config(**kwargs):
    values = {"action_low": LOW, "action_high": HIGH, "max_delta": 0.02, "workspace_low": BOX_LOW}
    values["workspace_high"] = BOX_HIGH
    values.update(kwargs)
    return SafetyConfig(**values)


any_float = st.floats(allow_nan=True, allow_infinity=True, width=64)
actions = arrays(np.float64, st.sampled_from([(A,), (1, A), (3, A)]), elements=any_float)
ee_any = arrays(np.float64, (3,), elements=any_float)
ee_inside = arrays(np.float64, (3,), elements=st.floats(0.0, 1.0)).map(
    lambda u: BOX_LOW + u * (BOX_HIGH - BOX_LOW)
)


def within_limits(out):
    return out.dtype == np.float32 and np.all(out >= LOW) and np.all(out <= HIGH)


@settings(max_examples=200, deadline=None)
@given(seq=st.lists(st.tuples(actions, ee_any, st.booleans()), min_size=1, max_size=6))
def test_never_emits_outside_the_limits(seq):
    filt = SafetyFilter(config())
    for action, ee, stop in seq:
        if filt.last_action is not None and filt.last_action.shape[0] != np.atleast_2d(action).shape[0]:
            filt.reset()
        if stop:
            filt.estop()
        else:
            filt.release_estop()
        out = filt.step(action, ee)
        assert out.shape == action.shape
        assert within_limits(out), (action, out)


@settings(max_examples=100, deadline=None)
@given(
    chunk=arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 6), st.just(A)), elements=any_float)
)
def test_filtered_chunks_never_leave_the_limits(chunk):
    out = SafetyFilter(config()).filter_chunk(chunk, np.zeros(3))
    assert out.shape == chunk.shape and within_limits(out)


@settings(max_examples=150, deadline=None)
@given(seq=st.lists(actions.filter(lambda a: a.ndim == 1), min_size=1, max_size=8), ee=ee_inside)
def test_end_effector_stays_in_the_box(seq, ee):
    filt = SafetyFilter(config(max_delta=None, action_low=LOW * 40, action_high=HIGH * 40))
    for action in seq:
        out = filt.step(action, ee)
        ee = ee + out[:3].astype(np.float64)
        assert np.all(ee >= BOX_LOW - 1e-6) and np.all(ee <= BOX_HIGH + 1e-6)


@settings(max_examples=150, deadline=None)
@given(seq=st.lists(actions.filter(lambda a: a.ndim == 1), min_size=2, max_size=8))
def test_rate_limit_holds_without_a_workspace(seq):
    filt = SafetyFilter(config(workspace_low=None, workspace_high=None))
    prev = filt.step(seq[0])
    for action in seq[1:]:
        out = filt.step(action)
        assert np.all(np.abs(out.astype(np.float64) - prev) <= 0.02 + 1e-6)
        prev = out


def test_each_intervention_kind_is_counted():
    filt = SafetyFilter(config())
    ee = np.array([0.0, 0.0, 0.3])
    ok = np.array([0.01, 0, 0, 0, 0, 0, 0.5])
    np.testing.assert_allclose(filt.step(ok, ee), ok.astype(np.float32))
    assert sum(filt.interventions.values()) == 0 and set(filt.interventions) == set(INTERVENTION_KINDS)

    nan = ok.copy()
    nan[2] = np.nan
    out = filt.step(nan, ee)  # hold (zeros), rate-limited from the previous action
    np.testing.assert_allclose(out[:6], [0.0, 0, 0, 0, 0, 0], atol=1e-7)
    assert out[6] == pytest.approx(0.48)  # 0.5 -> 0 limited to a step of 0.02
    assert filt.interventions["nonfinite"] == 1 and filt.interventions["rate"] == 1

    filt.reset()
    filt.step(np.array([1.0, 0, 0, 0, 0, 0, 0]), ee)
    assert filt.interventions["clip"] == 1

    filt.reset()
    out = filt.step(np.array([0.04, 0, 0, 0, 0, 0, 0]), np.array([0.48, 0.0, 0.3]))
    assert out[0] == pytest.approx(0.02, abs=1e-6) and filt.interventions["workspace"] == 1

    filt.estop()
    filt.reset()  # a new episode does not release the e-stop
    np.testing.assert_array_equal(filt.step(ok, ee), np.zeros(A, np.float32))
    assert filt.interventions["estop"] == 1 and filt.estopped
    filt.release_estop()
    assert filt.step(np.zeros(A), ee) is not None and not filt.estopped
    filt.reset_counts()
    assert sum(filt.interventions.values()) == 0


def test_nonfinite_end_effector_gives_the_hold_action():
    filt = SafetyFilter(config(hold_action=[0, 0, 0, 0, 0, 0, 1.0]))
    out = filt.step(np.full(A, 0.01), np.array([np.nan, 0, 0]))
    np.testing.assert_array_equal(out, np.array([0, 0, 0, 0, 0, 0, 1.0], np.float32))
    assert filt.interventions["nonfinite"] == 1


def test_batched_rows_are_filtered_and_counted_independently():
    filt = SafetyFilter(config(workspace_low=None, workspace_high=None))
    rows = np.array([[0.0] * A, [np.inf] + [0.0] * (A - 1), [9.0] * A])
    out = filt.step(rows)
    assert out.shape == (3, A) and within_limits(out)
    assert filt.interventions["nonfinite"] == 1 and filt.interventions["clip"] == 1
    with pytest.raises(ValueError, match="batch size changed"):
        filt.step(np.zeros(A))


def test_filter_chunk_integrates_the_workspace_and_commits():
    filt = SafetyFilter(config(max_delta=None))
    chunk = np.zeros((5, A))
    chunk[:, 2] = 0.05  # climb 5 cm per step, from z = 0.45 towards the ceiling at 0.6
    out = filt.filter_chunk(chunk, np.array([0.0, 0.0, 0.45]), commit_steps=2)
    np.testing.assert_allclose(np.cumsum(out[:, 2]), [0.05, 0.1, 0.15, 0.15, 0.15], atol=1e-6)
    np.testing.assert_array_equal(filt.last_action, out[1:2])
    with pytest.raises(ValueError, match="commit_steps"):
        filt.filter_chunk(chunk, np.zeros(3), commit_steps=9)


def test_bad_inputs_raise_value_errors():
    filt = SafetyFilter(config())
    with pytest.raises(ValueError, match=r"shape \[7\] or \[B, 7\]"):
        filt.step(np.zeros(6), np.zeros(3))
    with pytest.raises(ValueError, match="pass ee_pos"):
        filt.step(np.zeros(A))
    with pytest.raises(ValueError, match=r"ee_pos must have shape \(3,\)"):
        filt.step(np.zeros(A), np.zeros(2))
    with pytest.raises(ValueError, match=r"chunk must be float\[H, 7\]"):
        filt.filter_chunk(np.zeros((2, 2, 2, A)), np.zeros(3))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action_high": LOW - 1}, "action_low <= action_high"),
        ({"action_high": HIGH[:3]}, r"action_high must be float\[7\]"),
        ({"action_low": [np.nan] * A}, "must be finite"),
        ({"max_delta": 0.0}, "max_delta must be > 0"),
        ({"workspace_high": None}, "both workspace_low and workspace_high"),
        ({"workspace_low": BOX_HIGH, "workspace_high": BOX_LOW}, "workspace_low <= workspace_high"),
        ({"xyz_slice": slice(0, 2)}, "3 distinct action dims"),
        ({"xyz_slice": (0, 0, 1)}, "3 distinct action dims"),
        ({"hold_action": [5.0] * A}, "hold_action"),
    ],
)
def test_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        config(**kwargs)


def test_config_from_embodiment_arrays_and_custom_xyz():
    arm = SimpleNamespace(action_low=LOW, action_high=HIGH, workspace=(BOX_LOW, BOX_HIGH))
    cfg = SafetyConfig.from_embodiment(arm, max_delta=0.1, xyz_slice=(4, 5, 6))
    assert cfg.xyz_indices == (4, 5, 6) and cfg.has_workspace and cfg.max_delta.shape == (A,)
    bare = SimpleNamespace(action_low=LOW, action_high=HIGH)
    assert not SafetyConfig.from_embodiment(bare).has_workspace
    assert not cfg.action_low.flags.writeable


# ---- a wheeled base ------------------------------------------------------------------------------
MOBILE_LOW = np.r_[LOW, -0.3, -0.3, -1.0].astype(np.float32)
MOBILE_HIGH = np.r_[HIGH, 0.3, 0.3, 1.0].astype(np.float32)
AREA_LOW, AREA_HIGH = np.array([-1.0, -0.5]), np.array([-0.6, 0.5])


def mobile_config(**kwargs):
    values = {"action_low": MOBILE_LOW, "action_high": MOBILE_HIGH, "base_indices": (7, 8, 9)}
    values.update(base_area_low=AREA_LOW, base_area_high=AREA_HIGH, base_dt=0.1, **kwargs)
    return SafetyConfig(**values)


base_inside = arrays(np.float64, (3,), elements=st.floats(0.0, 1.0)).map(
    lambda u: np.r_[AREA_LOW + u[:2] * (AREA_HIGH - AREA_LOW), (u[2] - 0.5) * 1.2]
)


@settings(max_examples=150, deadline=None)
@given(seq=st.lists(arrays(np.float64, (10,), elements=any_float), min_size=1, max_size=6), base=base_inside)
def test_base_stays_in_its_floor_area(seq, base):
    """Whatever is commanded, the base velocity of each emitted action keeps the base in its area."""
    filt = SafetyFilter(mobile_config())
    for action in seq:
        out = filt.step(action, base_pose=base)
        assert out.dtype == np.float32 and np.all(out >= MOBILE_LOW) and np.all(out <= MOBILE_HIGH)
        c, s = np.cos(base[2]), np.sin(base[2])
        world = np.array([c * out[7] - s * out[8], s * out[7] + c * out[8]], np.float64)
        base = np.r_[base[:2] + world * 0.1, base[2] + out[9] * 0.1]
        assert np.all(base[:2] >= AREA_LOW - 1e-5) and np.all(base[:2] <= AREA_HIGH + 1e-5), base


def test_base_area_clamps_counts_and_integrates_chunks():
    filt = SafetyFilter(mobile_config())
    at_edge = np.array([-0.6, 0.0, 0.0])  # at the area's front edge, facing +x
    forward = np.r_[np.zeros(7), 0.3, 0.1, 0.0]
    out = filt.step(forward, base_pose=at_edge)
    assert out[7] == pytest.approx(0.0, abs=1e-6) and out[8] == pytest.approx(0.1)  # sideways is still free
    assert filt.interventions["workspace"] == 1
    filt.reset()
    chunk = filt.filter_chunk(np.tile(np.r_[np.zeros(7), -0.3, 0.0, 0.0], (20, 1)), base_pose=at_edge)
    travelled = chunk[:, 7].sum() * 0.1
    assert travelled == pytest.approx(-0.4, abs=1e-5)  # backs up to the rear edge (0.4 m), no further
    with pytest.raises(ValueError, match="base_pose"):
        filt.step(forward)


def test_fixed_bodies_have_no_base():
    cfg = config()
    assert not cfg.has_base and mobile_config().has_base
    SafetyFilter(cfg).step(np.zeros(A), ee_pos=np.zeros(3))  # no base pose needed
    with pytest.raises(ValueError, match="base_indices"):
        config(base_area_low=AREA_LOW, base_area_high=AREA_HIGH)
    with pytest.raises(ValueError, match="floor area"):
        SafetyConfig(action_low=MOBILE_LOW, action_high=MOBILE_HIGH, base_indices=(7, 8, 9))


def test_agent_gives_the_mobile_body_its_floor_area():
    from hivla.evaluation.agent import safety_config
    from hivla.sim import EMBODIMENTS
    from hivla.sim.embodiments import BASE_AREA_HIGH, BASE_AREA_LOW

    mobile = safety_config(EMBODIMENTS.get("mobile")())
    assert mobile.has_base and mobile.base_indices == (7, 8, 9) and not mobile.has_workspace
    np.testing.assert_allclose(mobile.base_area_low, BASE_AREA_LOW)
    np.testing.assert_allclose(mobile.base_area_high, BASE_AREA_HIGH)
    assert not any(safety_config(EMBODIMENTS.get(e)()).has_base for e in ("floating", "arm6", "arm5"))
