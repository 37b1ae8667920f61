"""The summary of a DAgger run: success against round (a chart) and a table, computed from
``dagger.json`` and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SUMMARY_FILE = "summary.md"
PLOT_FILE = "success_by_round.svg"


def round_rows(state: dict[str, Any]) -> list[list[str]]:
    """One row per evaluated round and embodiment: round, beta, episodes added, success [CI], avg len."""
    rows = []
    episodes = state["config"]["episodes"]
    for record in state["rounds"]:
        added = f"{episodes} x {len(record.get('data', []))}" if record["round"] else "expert data"
        for emb, e in record.get("eval", {}).items():
            lo, hi = e["success_ci95"]
            rows.append([
                str(record["round"]), f"{record['beta']:.2f}", added, emb,
                f"{e['success']:.1%} [{lo:.1%}, {hi:.1%}]", f"{e['progress']:.2f}", f"{e['avg_len']:.2f}",
            ])  # fmt: skip
    return rows


def write_summary(out: Path, state: dict[str, Any]) -> dict[str, str]:
    """Write ``summary.md`` and ``success_by_round.svg`` into ``out``; return their paths."""
    from hivla.reporting.charts import line_chart
    from hivla.reporting.tables import markdown_table

    rounds = [r for r in state["rounds"] if "eval" in r]
    embodiments = sorted({emb for r in rounds for emb in r["eval"]})
    series = {emb: [r["eval"].get(emb, {}).get("success") for r in rounds] for emb in embodiments}
    intervals = {emb: [r["eval"].get(emb, {}).get("success_ci95") for r in rounds] for emb in embodiments}
    suite = state["config"]["eval_suite"]
    svg = line_chart(
        "dagger-success", f"Success on held-out {suite} against DAgger round", [str(r["round"]) for r in rounds],
        series, intervals, y_label="success (95% CI)", x_label="DAgger round",
    )  # fmt: skip
    (out / PLOT_FILE).write_text(svg, encoding="utf-8")
    header = [
        "round",
        "beta",
        "relabelled episodes",
        "embodiment",
        "success [95% CI]",
        "progress",
        "avg length",
    ]
    text = "\n".join([
        f"# DAgger run {out}", "",
        f"Evaluation: the low level under the oracle planner and monitor, {state['config']['eval_episodes']} "
        f"held-out {suite} episodes per embodiment, the same seeds every round.", "",
        markdown_table(header, round_rows(state)), "", f"![success by round]({PLOT_FILE})", "",
    ])  # fmt: skip
    (out / SUMMARY_FILE).write_text(text, encoding="utf-8")
    return {"summary": str(out / SUMMARY_FILE), "plot": str(out / PLOT_FILE)}
