"""Outputs of the sensing experiment: ``results.json``, ``summary.md`` and a self-contained
``report.html``: success per arm and condition (Wilson 95%), the ratio to in distribution and the
difference to the reference arm (paired bootstraps over seeds), and the answer to "does depth make the
policy more robust?" computed from those intervals. Every figure printed is computed here."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from hivla.experiments import steps
from hivla.experiments.steps import pct, points_cell, success_cell, verdict
from hivla.reporting import bar_chart, html_page, markdown_table, plots, table

NOTE = (
    "Every arm trains the same preset for the same steps on the same recorded episodes and is evaluated on "
    "the same held-out seeds in every condition; the arms differ only in the sensors the policy reads. "
    "Success: the env's own task predicate, 95% Wilson score intervals. Ratios to in distribution and "
    "differences between arms: 95% paired percentile bootstrap intervals over seeds."
)


def _condition_label(cond: str) -> str:
    return "in distribution" if cond == "none" else cond


def _interval(value: float | None, ci: list[float] | None) -> str:
    if value is None or ci is None:
        return "–"
    return f"{value:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"


def success_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    arms = results["arms"]
    header = ["condition", *(a["label"] for a in arms.values())]
    rows = [[_condition_label(c), *(success_cell(a["conditions"].get(c)) for a in arms.values())]
            for c in results["conditions"]]  # fmt: skip
    return header, rows


def _ratio(arm: dict[str, Any], cond: str) -> dict[str, Any] | None:
    axis, _, level = cond.partition("=")
    return arm["robustness"].get("axes", {}).get(axis, {}).get(level)


def ratio_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    arms = results["arms"]
    header = ["condition", *(f"{a['label']}: shifted / in distribution" for a in arms.values())]
    rows = []
    for cond in results["conditions"][1:]:
        cells = []
        for a in arms.values():
            r = _ratio(a, cond)
            cells.append(
                "– (no success in distribution)" if r is None else _interval(r["ratio"], r["ratio_ci95"])
            )
        rows.append([cond, *cells])
    return header, rows


def difference_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    arms, ref = results["arms"], results["reference"]
    others = list(results["versus_reference"])
    header = ["condition", *(f"{arms[o]['label']} - {arms[ref]['label']} (points)" for o in others)]
    rows = []
    for cond in results["conditions"]:
        cells = [results["versus_reference"][o].get(cond, {}) for o in others]
        rows.append([_condition_label(cond), *(points_cell(c) for c in cells)])
    return header, rows


def answer_lines(results: dict[str, Any]) -> list[str]:
    """Per arm reading depth and per shifted condition: its success minus the reference arm's, with
    the interval's verdict; then the same for the ratio to in distribution (robustness proper)."""
    arms, ref = results["arms"], results["reference"]
    lines = []
    for arm, per in results["versus_reference"].items():
        for cond in results["conditions"]:
            d = per.get(cond, {})
            mine, theirs = _ratio(arms[arm], cond), _ratio(arms[ref], cond)
            kept = ""
            if mine and theirs and mine["ratio"] is not None and theirs["ratio"] is not None:
                kept = f"; keeps {pct(mine['ratio'])} of its in-distribution success against {pct(theirs['ratio'])}"
            lines.append(
                f"- {arm} vs {ref}, {_condition_label(cond)}: {points_cell(d)} "
                f"points, {verdict(d.get('ci95'))}{kept}"
            )
    return lines


def _setup_lines(results: dict[str, Any]) -> list[str]:
    c, s, d = results["config"], results["config"]["sizes"], results["data"]
    steps = f"{s['steps']} steps" if s["steps"] else "the preset's steps"
    return [
        f"- suite {c['suite']}, embodiment {c['embodiment']}; {d['episodes']} expert episodes recorded with "
        f"sensors {', '.join(d['sensors']) or 'none'} at {s['image_size']} px ({d['path']})",
        f"- every arm: the {s['vla_preset']} preset, {steps}; arms {', '.join(c['arms'])}",
        f"- {s['eval_episodes']} held-out episodes per arm and condition; shifts {', '.join(c['shifts'])}",
        f"- wall time {results['wall_seconds']:.0f} s",
    ]


def summary_markdown(results: dict[str, Any]) -> str:
    parts = [
        "# Sensing: RGB vs depth vs depth + contact under shifts",
        "\n".join(_setup_lines(results)),
        "## Success",
        markdown_table(*success_rows(results)),
        "## Shifted / in distribution",
        markdown_table(*ratio_rows(results)),
        f"## Against {results['reference']}",
        markdown_table(*difference_rows(results)),
        NOTE,
        "## Does depth make the policy more robust?",
        "\n".join(answer_lines(results)),
    ]
    return "\n\n".join(parts) + "\n"


def success_plot(results: dict[str, Any]) -> str:
    conds, arms = results["conditions"], results["arms"]
    series = {a["label"]: [a["conditions"][c]["success"] for c in conds] for a in arms.values()}
    intervals = {a["label"]: [a["conditions"][c]["success_ci95"] for c in conds] for a in arms.values()}
    return bar_chart("sensing-success", "Success per condition", [_condition_label(c) for c in conds], series,
                     intervals, y_label="success rate")  # fmt: skip


def report_html(results: dict[str, Any]) -> str:
    setup = "".join(f"<li>{escape(line[2:])}</li>" for line in _setup_lines(results))
    answer = "".join(f"<li>{escape(line[2:])}</li>" for line in answer_lines(results))
    sections = [
        f"<ul>{setup}</ul>",
        f"<h2>Success</h2>{table(*success_rows(results))}{plots([success_plot(results)])}",
        f"<h2>Shifted / in distribution</h2>{table(*ratio_rows(results))}",
        f"<h2>Against {escape(results['reference'])}</h2>{table(*difference_rows(results))}",
        f'<p class="muted">{escape(NOTE)}</p><h2>Does depth make the policy more robust?</h2><ul>{answer}</ul>',
    ]
    return html_page("Sensing: RGB vs depth vs depth + contact under shifts", sections)


def write_outputs(results: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write ``results.json``, ``summary.md`` and ``report.html`` into ``out``; return their paths."""
    return steps.write_outputs(results, out, summary_markdown(results), report_html(results))
