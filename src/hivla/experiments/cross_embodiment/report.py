"""Outputs of the cross-embodiment experiment: ``results.json``, ``summary.md`` and a self-contained
``report.html`` (``hivla.reporting``): the table of success per evaluated body and arm with Wilson 95%
intervals (each evaluation's, and ``hivla.evaluation.stats.wilson_interval`` over the pooled counts),
a bar chart of the same, success per subtask kind pooled over bodies, the paired differences between
arms on the same seeds (per body and pooled) with what their intervals show, and the command that
reproduces it. Every figure printed is computed here from the results."""

from __future__ import annotations

import dataclasses
from html import escape
from pathlib import Path
from typing import Any

from hivla.evaluation.stats import wilson_interval
from hivla.experiments import steps
from hivla.experiments.cross_embodiment.config import ARM_LABELS, ARMS, EXPERIMENT_PRESETS
from hivla.experiments.steps import pct, points_cell, success_cell, verdict
from hivla.reporting import bar_chart, html_page, markdown_table, plots, table

SUCCESS_NOTE = (
    "Closed-loop success on held-out seeds (the env's own task predicate), the same seeds for every arm "
    "of a body; 95% Wilson score intervals; (successes/episodes). Every policy is the same VLA preset "
    "trained for the same steps on universal actions from the shared proprioception (hand pose and "
    "gripper): the arms differ in their training data only. Zero-shot: the body's own data never trained it."
)

KIND_NOTE = (
    "Each arm's successes per subtask kind, pooled over the bodies it was evaluated on (zero-shot: the "
    "held-out bodies only): where the arms differ, and where every arm fails alike."
)
DIFFERENCE_NOTE = (
    "One arm's success minus another's on the same bodies and seeds, in percentage points, with a 95% "
    "paired percentile bootstrap interval over seeds (pooled: over every paired episode of the bodies "
    "both arms ran on). Better/worse: the interval excludes zero."
)


def arms_of(results: dict[str, Any]) -> list[str]:
    present = {arm for row in results["table"].values() for arm in row}
    return [a for a in ARMS if a in present]


def table_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Rows: evaluated body; columns: per-body, joint, held-out (zero-shot)."""
    arms = arms_of(results)
    header = ["evaluated body", *(ARM_LABELS[a] for a in arms)]
    rows = [[body, *(success_cell(row.get(a)) for a in arms)] for body, row in results["table"].items()]
    if len(results["table"]) > 1:
        rows.append(["all evaluated bodies (pooled)", *(success_cell(pooled(results, a)) for a in arms)])
    return header, rows


def pooled(results: dict[str, Any], arm: str) -> dict[str, Any] | None:
    """One arm's successes and episodes summed over the bodies it was evaluated on (held-out: only
    the held-out bodies)."""
    cells = [row[arm] for row in results["table"].values() if arm in row]
    if not cells:
        return None
    wins, n = sum(int(c["successes"]) for c in cells), sum(int(c["episodes"]) for c in cells)
    return {"successes": wins, "episodes": n, "success": wins / n if n else 0.0,
            "success_ci95": list(wilson_interval(wins, n))}  # fmt: skip


def kind_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Rows: subtask kind; columns: arms; cells: successes/episodes of that kind pooled over the bodies
    the arm was evaluated on (which kinds a policy learned, whatever body it drives)."""
    arms = arms_of(results)
    counts: dict[str, dict[str, list[int]]] = {}
    for row in results["table"].values():
        for arm, cell in row.items():
            for kind, b in cell.get("by_kind", {}).items():
                c = counts.setdefault(kind, {}).setdefault(arm, [0, 0])
                c[0] += b["successes"]
                c[1] += b["episodes"]
    header = ["subtask kind", *(ARM_LABELS[a] for a in arms)]
    rows = []
    for kind in sorted(counts):
        cells = [counts[kind].get(a) for a in arms]
        rows.append([kind, *("–" if c is None else f"{pct(c[0] / c[1])} ({c[0]}/{c[1]})" for c in cells)])
    return header, rows


def difference_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Rows: evaluated body, then pooled; columns: each comparison of arms in percentage points."""
    diffs = results.get("differences", {})
    header = ["evaluated body", *(f"{name} (points)" for name in diffs)]
    bodies = [b for b in results["table"] if any(b in rows for rows in diffs.values())]
    rows = [[body, *(points_cell(diffs[n].get(body)) for n in diffs)] for body in bodies]
    if len(bodies) > 1:
        rows.append(["all (pooled)", *(points_cell(diffs[n].get("pooled")) for n in diffs)])
    return header, rows


def answer_lines(results: dict[str, Any]) -> list[str]:
    """One line per comparison, pooled over the bodies both arms ran on: the difference, its interval
    and what the interval shows."""
    lines = []
    for name, rows in results.get("differences", {}).items():
        cell = rows["pooled"]
        bodies = [b for b in rows if b != "pooled"]
        lines.append(
            f"- {name}, over {', '.join(bodies)} ({cell['paired_seeds']} paired episodes): "
            f"{points_cell(cell)} points, {verdict(cell['ci95'])}"
        )
    return lines


def run_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["training", "bodies", "final loss", "seconds"]
    rows = [[name, ", ".join(r["bodies"]), f"{r['final_loss']:.4f}", f"{r['seconds']:.0f}"]
            for name, r in results["runs"].items()]  # fmt: skip
    return header, rows


def commands(results: dict[str, Any]) -> list[str]:
    """The command that produced these results (rerunning it reuses every finished step)."""
    c = results["config"]
    line = (f"hivla experiment cross-embodiment --preset {c['preset']} --out {c['out']} --suite {c['suite']} "
            f"--embodiments {' '.join(c['embodiments'])} --arms {' '.join(c['arms'])}")  # fmt: skip
    if c["held_out"]:
        line += f" --held-out {' '.join(c['held_out'])}"
    preset = dataclasses.asdict(EXPERIMENT_PRESETS.get(c["preset"]))
    for name in ("episodes", "steps", "eval_episodes"):  # the overrides of the preset's sizes
        if c["sizes"][name] != preset[name]:
            line += f" --{name.replace('_', '-')} {c['sizes'][name]}"
    line += f" --workers {c['workers']} --collect-workers {c['collect_workers']} --threads {c['threads']}"
    return [line]


def _setup_lines(results: dict[str, Any]) -> list[str]:
    c, z = results["config"], results["config"]["sizes"]
    return [
        f"- preset {c['preset']}; suite {c['suite']}; bodies {', '.join(c['embodiments'])}; "
        f"held out: {', '.join(c['held_out']) or 'none'}",
        f"- data: {z['episodes']} expert episodes per body; VLA preset {z['vla_preset']}, "
        f"{'its own' if not z['steps'] else z['steps']} steps, universal actions, shared proprioception",
        f"- evaluation: {z['eval_episodes']} held-out episode(s) per body and arm"
        + (f", at most {z['max_steps']} steps each" if z["max_steps"] else ""),
        f"- wall time: {results['wall_seconds']:.0f} s",
    ]


def summary_markdown(results: dict[str, Any]) -> str:
    parts = [
        "# One policy across bodies",
        "\n".join(_setup_lines(results)),
        "## Success per body",
        markdown_table(*table_rows(results)),
        SUCCESS_NOTE,
        "## Success by subtask kind",
        markdown_table(*kind_rows(results)),
        KIND_NOTE,
        "## Paired differences",
        markdown_table(*difference_rows(results)),
        DIFFERENCE_NOTE,
        "\n".join(answer_lines(results)),
        "## Trainings",
        markdown_table(*run_rows(results)),
        "## Command",
        "```bash\n" + "\n".join(commands(results)) + "\n```",
    ]
    return "\n\n".join(parts) + "\n"


def success_plot(results: dict[str, Any]) -> str:
    bodies, arms = list(results["table"]), arms_of(results)
    series, intervals = {}, {}
    for a in arms:
        blocks = [results["table"][b].get(a) for b in bodies]
        series[ARM_LABELS[a]] = [None if x is None else x["success"] for x in blocks]
        intervals[ARM_LABELS[a]] = [(0.0, 0.0) if x is None else tuple(x["success_ci95"]) for x in blocks]
    return bar_chart("cross-embodiment", "Success per body and arm", bodies, series, intervals,
                     y_label="success rate")  # fmt: skip


def report_html(results: dict[str, Any]) -> str:
    setup = "".join(f"<li>{escape(line[2:])}</li>" for line in _setup_lines(results))
    cmds = escape("\n".join(commands(results)))
    sections = [
        f"<ul>{setup}</ul>",
        f"<h2>Success per body</h2>{table(*table_rows(results))}{plots([success_plot(results)])}",
        f'<p class="muted">{escape(SUCCESS_NOTE)}</p>',
        f"<h2>Success by subtask kind</h2>{table(*kind_rows(results))}",
        f'<p class="muted">{escape(KIND_NOTE)}</p>',
        f"<h2>Paired differences</h2>{table(*difference_rows(results))}",
        f'<p class="muted">{escape(DIFFERENCE_NOTE)}</p>',
        "<ul>" + "".join(f"<li>{escape(line[2:])}</li>" for line in answer_lines(results)) + "</ul>",
        f"<h2>Trainings</h2>{table(*run_rows(results))}",
        f"<h2>Command</h2><pre>{cmds}</pre>",
    ]
    return html_page("One policy across bodies", sections)


def write_outputs(results: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write ``results.json``, ``summary.md`` and ``report.html`` into ``out``; return their paths."""
    return steps.write_outputs(results, out, summary_markdown(results), report_html(results))
