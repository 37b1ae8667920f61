"""A self-contained HTML report of one or several evaluations, built with ``hivla.reporting``:
tables, matplotlib charts as inline SVG and base64-embedded rollout videos, no external resources.

``write_report(results, out_dir)`` saves one run's results (``results.json``, ``videos/``) and its
``report.html``; given several runs it writes a side-by-side comparison followed by each run.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from hivla.evaluation.failures import FAILURE_CATEGORIES
from hivla.evaluation.results import EpisodeRecord, EvalResults
from hivla.reporting import (
    VIDEO_STATE_SCRIPT,
    bar_chart,
    cards,
    histogram_chart,
    html_page,
    plots,
    table,
    video_figure,
    videos,
)
from hivla.safety import INTERVENTION_KINDS

REPORT_FILE = "report.html"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}" if abs(x) >= 0.1 or x == 0 else f"{x:.1%}"


def _ci(ci: Sequence[float]) -> str:
    return f"[{_pct(ci[0])}, {_pct(ci[1])}]"


def _cards(m: dict[str, Any]) -> str:
    o, lat = m["overall"], m["latency"]
    hz = lat["control_hz"]
    items = [
        ("success", f"{_pct(o['success'])}", f"95% CI {_ci(o['success_ci95'])}, n={o['episodes']}"),
        ("progress", f"{o['progress']:.2f}", "mean fraction of subtasks done"),
        ("avg. completed length", f"{m['calvin']['avg_len']:.2f}", "CALVIN-style, subtasks in a row"),
        (
            "action latency p95",
            f"{lat['step_ms']['p95']:.1f} ms",
            f"median {lat['step_ms']['median']:.1f} ms",
        ),
        (
            "control rate",
            "–" if hz is None else f"{hz:.0f} Hz",
            f"policy stack alone; env runs at {lat['env_hz']:g} Hz",
        ),
        (
            "safety stops",
            _pct(m["safety"]["safety_stops"]["rate"]),
            f"{m['safety']['safety_stops']['count']} episodes",
        ),
    ]
    return cards(items)


def _outcome_rows(blocks: dict[str, dict[str, Any]], with_delta: bool = False) -> list[list[Any]]:
    rows = []
    for name, b in blocks.items():
        row = [
            name,
            b["episodes"],
            _pct(b["success"]),
            _ci(b["success_ci95"]),
            f"{b['progress']:.2f}",
            f"{b['mean_completed']:.2f}",
        ]
        if with_delta:
            d = b.get("delta_success")
            row.append("–" if d is None else f"{d:+.0%}")
        rows.append(row)
    return rows


def _chain_section(m: dict[str, Any]) -> str:
    chain = m["by_chain_length"]
    at_least = m["calvin"]["completed_at_least"]
    charts = [
        bar_chart(
            "success-by-chain-length", "Success vs chain length", list(chain),
            {"success": [b["success"] for b in chain.values()]},
            {"success": [b["success_ci95"] for b in chain.values()]}, y_label="success rate",
        ),
        bar_chart(
            "completed-at-least", "Completed at least k subtasks (CALVIN)", [f"≥{k}" for k in at_least],
            {"rate": [r["rate"] for r in at_least.values()]}, {"rate": [r["ci95"] for r in at_least.values()]},
            y_label="rate",
        ),
    ]  # fmt: skip
    calvin_rows = [[f"≥ {k}", r["n"], _pct(r["rate"]), _ci(r["ci95"])] for k, r in at_least.items()]
    return (
        "<h3>Success by chain length</h3>"
        + table(
            ["chain length", "episodes", "success", "95% CI", "progress", "mean completed"],
            _outcome_rows(chain),
        )
        + f"<p>Average completed length (CALVIN-style): <b>{m['calvin']['avg_len']:.2f}</b> "
        f"(95% CI {m['calvin']['avg_len_ci95'][0]:.2f}–{m['calvin']['avg_len_ci95'][1]:.2f})</p>"
        + table(["completed", "eligible episodes", "rate", "95% CI"], calvin_rows)
        + plots(charts)
    )


def _task_section(m: dict[str, Any]) -> str:
    """Success per task of single-task episodes (e.g. an external suite's tasks), if several."""
    tasks = m.get("by_task") or {}
    if len(tasks) < 2:
        return ""
    plot = bar_chart(
        "success-by-task", "Success per task", list(tasks),
        {"success": [b["success"] for b in tasks.values()]}, {"success": [b["success_ci95"] for b in tasks.values()]},
        y_label="success rate",
    )  # fmt: skip
    header = ["task", "episodes", "success", "95% CI", "progress", "mean completed"]
    return "<h3>Success per task</h3>" + table(header, _outcome_rows(tasks)) + plots([plot])


def _shift_section(m: dict[str, Any]) -> str:
    shifts = m["by_shift"]
    plot = bar_chart(
        "success-by-shift", "Success per shift condition", list(shifts),
        {"success": [b["success"] for b in shifts.values()]}, {"success": [b["success_ci95"] for b in shifts.values()]},
        y_label="success rate",
    )  # fmt: skip
    header = ["condition", "episodes", "success", "95% CI", "progress", "mean completed", "Δ success vs none"]
    return "<h3>Per shift</h3>" + table(header, _outcome_rows(shifts, True)) + plots([plot])


def _ratio(b: dict[str, Any]) -> str:
    """``0.83 [0.61, 1.05]`` (``–`` when the baseline never succeeded)."""
    if b["ratio"] is None:
        return "–"
    lo, hi = b["ratio_ci95"]
    return f"{b['ratio']:.2f} [{lo:.2f}, {hi:.2f}]"


def _ratio_cell(b: dict[str, Any] | None) -> str:
    """``0.83 [0.61, 1.05] · 5/6`` for one condition's robustness block (``–`` when not run)."""
    return "–" if b is None else f"{_ratio(b)} · {b['successes']}/{b['episodes']}"


def _levels(robust: dict[str, Any]) -> list[str]:
    return sorted({lvl for by_level in robust["axes"].values() for lvl in by_level}, key=int)


def _robustness_section(m: dict[str, Any]) -> str:
    """Axes (rows) x levels (columns): success relative to ``none`` with its interval, and W/N."""
    robust = m.get("robustness")
    if not robust:  # no single-axis shift, or results saved before robustness existed
        return ""
    levels, base = _levels(robust), robust["baseline"]
    rows = []
    for axis, by_level in robust["axes"].items():
        rows.append([axis, *(_ratio_cell(by_level.get(lvl)) for lvl in levels)])
    axes = list(robust["axes"])
    series = {
        f"level {lvl}": [(robust["axes"][a].get(lvl) or {}).get("ratio") for a in axes] for lvl in levels
    }
    cis = {
        f"level {lvl}": [(robust["axes"][a].get(lvl) or {}).get("ratio_ci95") for a in axes] for lvl in levels
    }
    plot = bar_chart(
        "robustness", "Success relative to no shift, per axis and level", axes, series, cis,
        y_label="success / success without shift", y_max=None, percent=False, reference=1.0,
    )  # fmt: skip
    return (
        "<h3>Robustness</h3><p class='muted'>Success under each shift divided by the success without "
        f"shift (none: {base['successes']}/{base['episodes']}) on the same seeds; 95% interval: "
        f"{escape(robust['method'])}. After each ratio: successes/episodes.</p>"
        + table(["axis", *(f"level {lvl}" for lvl in levels)], rows, cls="robustness")
        + plots([plot])
    )


def _failure_section(m: dict[str, Any]) -> str:
    f = m["failures"]
    rows = [[c, r["count"], _pct(r["rate"]), _ci(r["ci95"])] for c, r in f.items()]
    plot = bar_chart(
        "failure-categories", "Failure categories (share of all episodes)", list(FAILURE_CATEGORIES),
        {"rate": [f[c]["rate"] for c in FAILURE_CATEGORIES]}, {"rate": [f[c]["ci95"] for c in FAILURE_CATEGORIES]},
        y_label="share of episodes",
    )  # fmt: skip
    return "<h3>Failures</h3>" + table(["category", "episodes", "rate", "95% CI"], rows) + plots([plot])


def _safety_latency_section(m: dict[str, Any]) -> str:
    s, lat = m["safety"], m["latency"]
    rows = [
        [k, s["by_kind"][k]["count"], _pct(s["by_kind"][k]["rate"]), _ci(s["by_kind"][k]["ci95"])]
        for k in INTERVENTION_KINDS
    ]
    rows.append(["episodes with any intervention", s["episodes_with_intervention"]["count"],
                 _pct(s["episodes_with_intervention"]["rate"]), _ci(s["episodes_with_intervention"]["ci95"])])  # fmt: skip
    st, q = lat["step_ms"], lat["query_ms"]
    hz = lat["control_hz"]
    lat_rows = [
        ["action per step (ms)", f"{st['median']:.2f}", f"{st['p95']:.2f}", f"{st['mean']:.2f}", st["n"]],
        ["policy query (ms)", f"{q['median']:.2f}", f"{q['p95']:.2f}", f"{q['mean']:.2f}", q["n"]],
    ]
    hist = lat["step_ms_histogram"]
    plot = histogram_chart(
        "latency-histogram", "Action latency per step", hist["edges"], hist["counts"], "milliseconds", "steps"
    )
    return (
        f"<h3>Safety interventions</h3><p class='muted'>Per executed step ({s['steps']} steps); the filter "
        "clips to the embodiment's limits, keeps the hand in the workspace and stops on repeated NaN/inf.</p>"
        + table(["kind", "steps", "rate", "95% CI"], rows)
        + "<h3>Latency</h3>"
        + table(["what", "median", "p95", "mean", "samples"], lat_rows)
        + f"<p>Control rate of the policy stack: <b>{'–' if hz is None else f'{hz:.1f} Hz'}</b> "
        f"(environment: {lat['env_hz']:g} Hz; {'fast enough' if lat['realtime'] else 'slower than'} real time); "
        f"{lat['queries_per_episode']:.1f} policy queries per episode.</p>" + plots([plot])
    )


def _interjection_text(event: dict[str, Any]) -> str:
    """One interjection of an episode record, e.g. ``step 20: “open the drawer” (plan changed)``."""
    if not event.get("delivered", True):
        return f"step {event['step']}: “{event['text']}” (not given: the episode ended first)"
    changed = "plan changed" if event.get("plan_changed") else "plan unchanged"
    return f"interjection at step {event['step']}: “{event['text']}” ({changed})"


def _video_caption(ep: EpisodeRecord) -> str:
    verdict = (
        '<span class="ok">success</span>'
        if ep.success
        else f'<span class="bad">failed: {escape(ep.outcome.replace("_", " "))}</span>'
    )
    where = f" on “{escape(ep.failed_subtask)}”" if ep.failed_subtask else ""
    said = "".join(f"<br>{escape(_interjection_text(e))}" for e in ep.interjections)
    return (
        f"{verdict}{where}<br>“{escape(ep.instruction)}”<br><span class='muted'>seed {ep.seed}, "
        f"condition {escape(ep.condition)}, {ep.completed}/{ep.chain_length} subtasks, {ep.steps} steps</span>{said}"
    )


def _videos_section(run: EvalResults) -> str:
    figures = [
        video_figure(data, _video_caption(ep), ep.video_path, ep.outcome)
        for ep in run.episodes
        if (data := run.video_bytes(ep)) is not None
    ]
    if not figures:
        return "<h3>Rollout videos</h3><p class='muted'>No videos were recorded (videos=0).</p>"
    return (
        "<h3>Rollout videos</h3><p class='muted'>Text in the frames: instruction, current subtask, the policy's reasoning (when it has one), step; the last second shows the outcome. A magenta cross marks where a policy trained to localize its target found it at its latest query.</p>"
        + videos(figures)
    )


def _episodes_section(run: EvalResults) -> str:
    rows = [
        [e.seed, e.condition, e.instruction, f"{e.completed}/{e.chain_length}", e.outcome, e.steps,
         sum(e.interventions.values())]
        for e in run.episodes
    ]  # fmt: skip
    header = ["seed", "condition", "instruction", "completed", "outcome", "steps", "interventions"]
    if any(e.interjections for e in run.episodes):
        header.append("interjections")
        for row, e in zip(rows, run.episodes, strict=True):
            row.append("; ".join(_interjection_text(i) for i in e.interjections) or "–")
    return f"<details><summary>All {len(rows)} episodes</summary>{table(header, rows)}</details>"


def _config_table(run: EvalResults) -> str:
    c, info = run.config, run.info
    rows = [
        ["policy", run.policy.get("spec", run.policy["name"])],
        ["action space", f"{run.policy['action_space']} ({', '.join(run.policy['embodiments']) or 'any embodiment'})"],
        ["suite / split", f"{c['suite']} / {c['split']} seeds from index {c['first_seed_index']}"],
        ["embodiment", c["embodiment"]],
        ["episodes", f"{c['episodes']} per condition × {len(run.metrics['by_shift'])} condition(s)"],
        ["shifts", f"{', '.join(c['shifts']) or 'none'} ({c['shift_mode']})"],
        ["execution", f"ensemble m={c['ensemble']}" if c["ensemble"] is not None else f"chunks, {c['execute_steps']} step(s) per query"],
        ["image size", f"{c['image_size']} px"],
        ["interjections", "; ".join(c.get("interjections", [])) + " (success is still judged by the env's own task)"
         if c.get("interjections") else "none"],
        ["ran", f"{info['created']}, {info['wall_seconds']:.1f} s, {c['workers']} worker(s), hivla {info['hivla']}, {info['cpus']} CPUs"],
    ]  # fmt: skip
    return table(["setting", "value"], rows, cls="config")


def _run_section(run: EvalResults, index: int) -> str:
    m = run.metrics
    return (
        f'<section class="run" id="run-{index}"><h2>{escape(run.label)}</h2>'
        + _config_table(run)
        + _cards(m)
        + _chain_section(m)
        + _task_section(m)
        + _shift_section(m)
        + _robustness_section(m)
        + _failure_section(m)
        + _safety_latency_section(m)
        + _videos_section(run)
        + _episodes_section(run)
        + "</section>"
    )


def _comparison_section(runs: Sequence[EvalResults]) -> str:
    names = [f"{i + 1}. {r.label}" for i, r in enumerate(runs)]
    rows = []
    for name, r in zip(names, runs, strict=True):
        m = r.metrics
        o = m["overall"]
        hz = m["latency"]["control_hz"]
        rows.append([
            name, o["episodes"], _pct(o["success"]), _ci(o["success_ci95"]), f"{o['progress']:.2f}",
            f"{m['calvin']['avg_len']:.2f}", _pct(m["safety"]["safety_stops"]["rate"]),
            f"{m['latency']['step_ms']['p95']:.1f}", "–" if hz is None else f"{hz:.0f}",
        ])  # fmt: skip
    header = ["run", "episodes", "success", "95% CI", "progress", "avg len", "safety stops", "p95 ms", "Hz"]

    def grouped(plot_id: str, title: str, key: str, cats: list[str], y_label: str) -> str:
        series, cis = {}, {}
        for name, r in zip(names, runs, strict=True):
            blocks = r.metrics[key]
            vals = [blocks.get(c) for c in cats]
            series[name] = [b["success"] if b else None for b in vals]
            cis[name] = [b["success_ci95"] if b else None for b in vals]
        return bar_chart(plot_id, title, cats, series, cis, y_label=y_label)

    lengths = sorted({k for r in runs for k in r.metrics["by_chain_length"]}, key=int)
    conditions = list(dict.fromkeys(k for r in runs for k in r.metrics["by_shift"]))
    failure_series = {
        n: [r.metrics["failures"][c]["rate"] for c in FAILURE_CATEGORIES]
        for n, r in zip(names, runs, strict=True)
    }
    charts = [
        grouped("compare-success-by-chain-length", "Success vs chain length", "by_chain_length", lengths, "success rate"),
        grouped("compare-success-by-shift", "Success per shift condition", "by_shift", conditions, "success rate"),
        bar_chart("compare-failure-categories", "Failure categories", list(FAILURE_CATEGORIES), failure_series, y_label="share of episodes"),
    ]  # fmt: skip
    return (
        "<h2>Comparison</h2>"
        + table(header, rows, cls="comparison")
        + plots(charts)
        + _robustness_comparison(names, runs)
    )


def _robustness_comparison(names: Sequence[str], runs: Sequence[EvalResults]) -> str:
    """Success relative to each run's own ``none`` per shift condition (rows) and run (columns)."""
    blocks = [r.metrics.get("robustness") or {} for r in runs]
    conditions = list(
        dict.fromkeys(f"{a}={lvl}" for b in blocks for a, bl in b.get("axes", {}).items() for lvl in bl)
    )
    if not conditions:
        return ""

    def cell(block: dict[str, Any], condition: str) -> dict[str, Any] | None:
        axis, _, lvl = condition.partition("=")
        return block.get("axes", {}).get(axis, {}).get(lvl)

    rows = [[c, *(_ratio_cell(cell(block, c)) for block in blocks)] for c in conditions]
    series = {
        n: [(cell(b, c) or {}).get("ratio") for c in conditions] for n, b in zip(names, blocks, strict=True)
    }
    cis = {
        n: [(cell(b, c) or {}).get("ratio_ci95") for c in conditions]
        for n, b in zip(names, blocks, strict=True)
    }
    plot = bar_chart(
        "compare-robustness",
        "Success relative to no shift",
        conditions,
        series,
        cis,
        y_label="success / success without shift",
        y_max=None,
        percent=False,
        reference=1.0,
    )
    return (
        "<h3>Robustness</h3><p class='muted'>Each run's success under a shift divided by its own success "
        "without shift, on the same seeds, with a paired bootstrap 95% interval.</p>"
        + table(["condition", *names], rows, cls="robustness") + plots([plot])
    )  # fmt: skip


def render_report(runs: Sequence[EvalResults], title: str | None = None) -> str:
    """The report HTML for one run, or a comparison of several followed by each run."""
    if not runs:
        raise ValueError("render_report needs at least one EvalResults")
    default = "hivla evaluation report" if len(runs) == 1 else f"hivla evaluation: {len(runs)} runs compared"
    title = title or default
    parts = [_comparison_section(runs)] if len(runs) > 1 else []
    parts += [_run_section(r, i + 1) for i, r in enumerate(runs)]
    return html_page(title, parts, scripts=[VIDEO_STATE_SCRIPT])


def write_report(
    results: EvalResults | Sequence[EvalResults], out_dir: str | Path, title: str | None = None
) -> Path:
    """Write ``report.html`` into ``out_dir`` and return its path.

    One run is first saved there (``results.json`` and ``videos/``) unless it was loaded from
    ``out_dir``; several runs are compared without copying their results.
    """
    out = Path(out_dir)
    runs = [results] if isinstance(results, EvalResults) else list(results)
    if len(runs) == 1 and (runs[0].source is None or runs[0].source.resolve() != out.resolve()):
        runs[0].save(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / REPORT_FILE
    path.write_text(render_report(runs, title), encoding="utf-8")
    return path
