"""Robustness under shifts: `--shift all` expands to every axis and level, the success ratio to the
unshifted baseline with its paired bootstrap interval, and the report's robustness section."""

import pytest

from hivla.evaluation import EpisodeRecord, EvalConfig, EvalResults, render_report
from hivla.evaluation.metrics import compute_metrics, robustness
from hivla.evaluation.stats import paired_ratio_ci
from hivla.sim import SHIFT_AXES


def test_all_runs_every_axis_at_every_level():
    labels = [c.label for c in EvalConfig(shifts=("all",)).conditions()]
    assert len(labels) == 1 + 3 * len(SHIFT_AXES) and labels[0] == "none"
    assert labels[1:] == [f"{a}={lvl}" for a in SHIFT_AXES.names() for lvl in (1, 2, 3)]
    assert len(set(labels)) == len(labels)


def test_all_at_one_level():
    conditions = EvalConfig(shifts=("all=2",)).conditions()
    assert [c.label for c in conditions] == ["none", *(f"{a}=2" for a in SHIFT_AXES.names())]
    assert all(c.shifts == {c.label.split("=")[0]: 2} for c in conditions[1:])


def test_all_mixed_with_explicit_items_is_their_union():
    labels = [c.label for c in EvalConfig(shifts=("all=1", "lighting=3", "camera=1")).conditions()]
    assert labels == ["none", *(f"{a}=1" for a in SHIFT_AXES.names()), "lighting=3"]  # camera=1 once


@pytest.mark.parametrize(
    ("shifts", "mode", "message"),
    [
        (("all",), "combined", "cannot combine"),
        (("all=0",), "each", r"all=LEVEL with LEVEL 1\.\.3"),
        (("all=4",), "each", r"all=LEVEL with LEVEL 1\.\.3"),
        (("lighting=2", "lighting=2"), "each", "each shift may be given once"),
    ],
)
def test_bad_shift_lists_are_clear_errors(shifts, mode, message):
    with pytest.raises(ValueError, match=message):
        EvalConfig(shifts=shifts, shift_mode=mode)


def test_ratio_of_half_successes_to_an_all_success_baseline():
    ratio, ci = paired_ratio_ci([1, 0] * 10, [1] * 20)
    assert ratio == 0.5
    assert ci == pytest.approx([0.28, 0.72], abs=0.05)  # about 0.5 +- 1.96 * sqrt(0.25 / 20)
    assert paired_ratio_ci([1, 0] * 10, [1] * 20) == (ratio, ci)  # seeded: deterministic


def test_the_interval_is_paired_over_seeds():
    outcomes = [1, 1, 0, 1, 0, 0, 1, 1]
    assert paired_ratio_ci(outcomes, outcomes) == (1.0, [1.0, 1.0])  # same seeds, same outcomes
    # the same rates unpaired (successes on other seeds) spread the interval
    _, ci = paired_ratio_ci(outcomes[::-1], outcomes)
    assert ci[0] < 1.0 < ci[1]


def test_no_baseline_success_has_no_ratio():
    assert paired_ratio_ci([1, 0], [0, 0]) == (None, None)


def _record(condition: str, seed: int, success: bool) -> EpisodeRecord:
    return EpisodeRecord(
        condition=condition, seed=seed, instruction="Pick up the red cube.", subtasks=["pick up the red cube"],
        task_kinds=["pick"], chain_length=1, completed=int(success), success=success, progress=float(success),
        steps=20, failure=None if success else "timeout", step_ms=[1.0], query_ms=[1.0],
    )  # fmt: skip


def _records() -> tuple[list[EpisodeRecord], list[str]]:
    """Ten seeds: none all succeed, lighting=1 all, lighting=3 half, camera=2 none."""
    outcome = {"none": [1] * 10, "lighting=1": [1] * 10, "lighting=3": [1, 0] * 5, "camera=2": [0] * 10}
    records = [_record(c, 100 + i, bool(w)) for c, ws in outcome.items() for i, w in enumerate(ws)]
    return records, list(outcome)


def test_robustness_block_from_records():
    records, conditions = _records()
    r = robustness(records, conditions)
    assert r["baseline"] == {"episodes": 10, "successes": 10, "success": 1.0}
    assert set(r["axes"]) == {"lighting", "camera"} and set(r["axes"]["lighting"]) == {"1", "3"}
    half = r["axes"]["lighting"]["3"]
    assert (half["successes"], half["episodes"], half["ratio"]) == (5, 10, 0.5)
    assert half["ratio_ci95"][0] < 0.5 < half["ratio_ci95"][1]
    assert r["axes"]["lighting"]["1"]["ratio_ci95"] == [1.0, 1.0]
    assert r["axes"]["camera"]["2"]["ratio"] == 0.0
    assert "paired" in r["method"]


def test_robustness_needs_the_baseline_and_skips_combined_conditions():
    records, conditions = _records()
    assert robustness([r for r in records if r.condition != "none"], conditions[1:]) == {}
    combined = [_record("lighting=1+camera=1", 100, True)]
    assert robustness(records + combined, [*conditions, "lighting=1+camera=1"])["axes"].keys() == {
        "lighting",
        "camera",
    }


def _results(records, conditions) -> EvalResults:
    cfg = EvalConfig(episodes=10, shifts=tuple(conditions[1:]), image_size=64).to_dict()
    policy = {"name": "expert", "spec": "expert", "action_space": "native", "embodiments": []}
    info = {"created": "now", "hivla": "test", "cpus": 1, "wall_seconds": 1.0}
    return EvalResults(cfg, policy, compute_metrics(records, conditions, env_hz=20.0), records, info)


def test_report_has_a_robustness_table_and_chart():
    records, conditions = _records()
    html = render_report([_results(records, conditions)])
    assert "<h3>Robustness</h3>" in html and 'data-plot="robustness"' in html
    assert "0.50 [" in html and "· 5/10" in html  # lighting=3: the ratio, its interval, W/N
    assert '<th class="">level 3</th>' in html


def test_comparison_has_robustness_per_run():
    records, conditions = _records()
    other = [_record(r.condition, r.seed, r.success or r.condition == "camera=2") for r in records]
    html = render_report([_results(records, conditions), _results(other, conditions)])
    assert 'data-plot="compare-robustness"' in html
    assert "1.00 [1.00, 1.00] · 10/10" in html and "0.00 [0.00, 0.00] · 0/10" in html


def test_report_without_shifts_has_no_robustness_section():
    records, _ = _records()
    base = [r for r in records if r.condition == "none"]
    html = render_report([_results(base, ["none"])])
    assert "<h3>Robustness</h3>" not in html


def test_paired_difference_of_success_rates():
    from hivla.evaluation.stats import paired_difference_ci

    diff, ci = paired_difference_ci([1] * 20, [1, 0] * 10)
    assert diff == 0.5 and ci == pytest.approx([0.28, 0.72], abs=0.05)
    outcomes = [1, 1, 0, 1, 0, 0, 1, 1]
    assert paired_difference_ci(outcomes, outcomes) == (0.0, [0.0, 0.0])  # pairs kept: no spread
    _, ci = paired_difference_ci(outcomes[::-1], outcomes)
    assert ci[0] < 0.0 < ci[1]
    assert paired_difference_ci([], []) == (None, None)
    with pytest.raises(ValueError, match="one length"):
        paired_difference_ci([1, 0], [1])
