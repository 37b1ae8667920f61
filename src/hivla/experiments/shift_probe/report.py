"""Outputs of the shift probe: ``results.json``, ``summary.md`` and a self-contained ``report.html``
(built with ``hivla.reporting``). Every figure is read from the results."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from hivla.experiments.shift_probe.attribution import CATEGORIES
from hivla.reporting import bar_chart, html_page, markdown_table, plots, table, video_figure, videos

METHODS_NOTE = (
    "Oracle substitution re-runs each failed seed with the oracle planner and monitor (oracle_plan), the "
    "expert's target and phase fed into the policy's trace (oracle_reasoning), the expert's whole trace "
    "(oracle_trace) and both plan and trace (oracle_all); the first part whose oracle makes the episode "
    "succeed is named (oracle_all alone: planning), none: control. Trace diagnosis compares, at each query "
    "of the subtask the episode failed on, the policy's plan with the env's subtasks and its trace with the "
    "expert's annotation of the same state: a wrong plan or current subtask is planning, a wrong target or "
    "phase reasoning, the right target placed farther than the threshold perception, all right control; a "
    "part counts as wrong when wrong at the given share of the failed subtask's queries or more, and the "
    "upstream-most wrong part is named; a policy without a trace that locates its target (localize) has "
    "that location checked for perception instead. "
    "Substitution names the part whose fix suffices, diagnosis the upstream-most part wrong: when a later part is "
    "broken too, no oracle recovers the episode and substitution says control where diagnosis names the "
    "earlier part, which is where the two disagree. Intervals are 95% Wilson score "
    "intervals; robustness ratios use a paired bootstrap over seeds."
)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def rate_cell(r: dict[str, Any]) -> str:
    """``3 (60% [23%, 88%])`` for a ``hivla.evaluation.stats.rate`` block; ``–`` without a denominator."""
    if not r["n"]:
        return "–"
    lo, hi = r["ci95"]
    return f"{r['count']} ({_pct(r['rate'])} [{_pct(lo)}, {_pct(hi)}])"


def undetermined_cell(t: dict[str, Any]) -> str:
    """``3 (reasoning or perception: 2, reasoning or control: 1)``: failures naming no single part."""
    u = t["undetermined"]
    groups = ", ".join(f"{' or '.join(k.split('|'))}: {n}" for k, n in u["by_candidates"].items())
    return f"{u['count']} ({groups})" if groups else str(u["count"])


def _axis_label(axis: str) -> str:
    return "in distribution" if axis == "none" else axis


def attribution_rows(policy: dict[str, Any], method: str) -> tuple[list[str], list[list[str]]]:
    """Axis x category counts (share of the axis's failures, Wilson 95%) for ``method``."""
    header = ["axis", *CATEGORIES, "undetermined", "failures"]
    rows = []
    blocks = [(_axis_label(a), b[method]) for a, b in policy["by_axis"].items()]
    for axis, t in [*blocks, ("all conditions", policy["overall"][method])]:
        rows.append([axis, *(rate_cell(t[c]) for c in CATEGORIES), undetermined_cell(t),
                     str(t["failures"])])  # fmt: skip
    return header, rows


def recovered_rows(policy: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    names = policy["variants"][1:]
    header = ["axis", *(f"{v} recovers" for v in names), "methods agree"]
    rows = [
        [_axis_label(axis), *(rate_cell(b["recovered"][v]) for v in names), rate_cell(b["agreement"]["same"])]
        for axis, b in policy["by_axis"].items()
    ]
    return header, rows


def success_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Condition x policy: success [Wilson 95%] and the ratio to in distribution [paired bootstrap]."""
    policies = results["policies"]
    header = [
        "condition",
        *(f"{n} success" for n in policies),
        *(f"{n} vs in distribution" for n in policies),
    ]
    rows = []
    for label in results["config"]["conditions"]:
        axis, _, level = label.partition("=")
        cells, ratios = [], []
        for p in policies.values():
            o = p["conditions"][label]["outcome"]
            lo, hi = o["success_ci95"]
            cells.append(f"{_pct(o['success'])} [{_pct(lo)}, {_pct(hi)}] ({o['successes']}/{o['episodes']})")
            r = p["robustness"].get("axes", {}).get(axis, {}).get(level) if level else None
            if r is None:
                ratios.append("1 (reference)" if not level else "–")
            elif r["ratio"] is None:
                ratios.append("– (no success in distribution)")
            else:
                ratios.append(f"{r['ratio']:.2f} [{r['ratio_ci95'][0]:.2f}, {r['ratio_ci95'][1]:.2f}]")
        rows.append([_axis_label(label), *cells, *ratios])
    return header, rows


def side_by_side_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Policy x method rows over all conditions: the parts each policy's failures are attributed to."""
    header = ["policy", "method", *CATEGORIES, "undetermined", "failures"]
    rows = []
    for name, p in results["policies"].items():
        for method in ("substitution", "diagnosis"):
            t = p["overall"][method]
            rows.append([name, method, *(rate_cell(t[c]) for c in CATEGORIES), undetermined_cell(t),
                         str(t["failures"])])  # fmt: skip
    return header, rows


def blind_spots(policy: dict[str, Any]) -> str:
    """Which categories this policy's parts cannot tell apart, in words."""
    parts = policy["parts"]
    lines = []
    if parts["plan"] == "none":
        lines.append(
            "It has no plan to check or replace, so planning cannot be told apart from the parts after it."
        )
    if parts["trace"] == "none" and parts.get("locate") == "learned":
        lines.append(
            "It writes no reasoning trace but locates its target: the diagnosis checks that location for "
            "perception, so reasoning cannot be told apart from perception when the location is wrong, nor "
            "from control when it is right; substitution cannot replace either."
        )
    elif parts["trace"] == "none":
        lines.append(
            "It writes no reasoning trace, so reasoning, perception and control cannot be told apart."
        )
    if "none" in (parts["plan"], parts["trace"]):
        lines.append("Such failures count as undetermined, listed by the parts they may be.")
    if parts["plan"] == "oracle":
        lines.append("Its planner and monitor are the oracle's, so planning is never the cause.")
    if parts["trace"] == "oracle":
        lines.append(
            "Its low level is the scripted expert, so its trace is the expert's and never the cause."
        )
    return " ".join(lines)


def _setup_lines(results: dict[str, Any]) -> list[str]:
    c = results["config"]
    lines = [
        f"- suite {c['suite']}, embodiment {c['embodiment']}, {c['episodes']} held-out seed(s) per condition "
        f"(the same seeds for every condition and substitution)"
        + (f", at most {c['max_steps']} steps each" if c["max_steps"] else ""),
        f"- conditions: {', '.join(c['conditions'])}",
        f"- diagnosis: perception threshold {c['threshold_cm']:g} cm on the trace's offset "
        f"({c['threshold_uv']:g} image units on a located target without a trace), a part wrong when "
        f"wrong at {c['share']:.0%} or more of the failed subtask's queries",
    ]
    for name, p in results["policies"].items():
        locates = ", locates its target" if p["parts"].get("locate") == "learned" else ""
        lines.append(
            f"- {name}: `{p['spec']}` (plan: {p['parts']['plan']}, trace: {p['parts']['trace']}{locates})"
        )
    lines.append(f"- wall time: {results['wall_seconds']:.0f} s")
    return lines


def _policy_markdown(name: str, p: dict[str, Any]) -> list[str]:
    out = [f"## {name}"]
    spots = blind_spots(p)
    if spots:
        out.append(spots)
    for method, title in (("substitution", "oracle substitution"), ("diagnosis", "trace diagnosis")):
        out += [f"### Failures by part: {title}", markdown_table(*attribution_rows(p, method))]
    same, consistent = p["agreement"]["same"], p["agreement"]["consistent"]
    out += [
        "### Recovered by each substitution, and agreement",
        markdown_table(*recovered_rows(p)),
        f"Over all axes the two methods name the same part in {rate_cell(same)} of the {same['n']} failure(s) "
        f"both attribute to one part; their candidate parts overlap in {rate_cell(consistent)} of "
        f"{consistent['n']} failure(s).",
    ]
    return out


def summary_markdown(results: dict[str, Any]) -> str:
    """The headline tables and the notes a reader needs to trust them."""
    parts = ["# Shift probe: where the stack fails under distribution shift", "\n".join(_setup_lines(results)),
             "## Success by condition", markdown_table(*success_rows(results))]  # fmt: skip
    if len(results["policies"]) > 1:
        parts += ["## Failures by part, policies side by side (all conditions)",
                  markdown_table(*side_by_side_rows(results))]  # fmt: skip
    for name, p in results["policies"].items():
        parts += _policy_markdown(name, p)
    parts += ["## Methods", METHODS_NOTE]
    return "\n\n".join(parts) + "\n"


def attribution_plot(name: str, p: dict[str, Any], method: str) -> str:
    """Share of each axis's failures per part (Wilson 95% whiskers)."""
    axes = list(p["by_axis"])
    series = {c: [p["by_axis"][a][method][c]["rate"] for a in axes] for c in CATEGORIES}
    intervals = {c: [p["by_axis"][a][method][c]["ci95"] for a in axes] for c in CATEGORIES}
    return bar_chart(f"attribution-{name}-{method}", f"{name}: failures by part ({method})",
                     [_axis_label(a) for a in axes], series, intervals, y_label="share of failures")  # fmt: skip


def failure_videos(p: dict[str, Any], per_category: int = 2) -> str:
    """Up to ``per_category`` kept failure videos per diagnosed category, read from the harness's results."""
    figures = []
    for category in (*CATEGORIES, None):
        shown = 0
        for label, cond in p["conditions"].items():
            for f in cond["failures"]:
                if shown >= per_category or not f["video"] or f["diagnosis"]["part"] != category:
                    continue
                path = Path(cond["results"]) / f["video"]
                if not path.is_file():
                    continue
                caption = (f"<b>{escape(category or 'undetermined')}</b> (diagnosis; substitution: "
                           f"{escape(f['substitution']['part'] or 'undetermined')}) · {escape(label)} · seed "
                           f"{f['seed']} · {escape(f['diagnosis']['why'])}")  # fmt: skip
                figures.append(video_figure(path.read_bytes(), caption, str(path), "failure"))
                shown += 1
    return videos(figures) if figures else '<p class="muted">No failure video was kept.</p>'


def report_html(results: dict[str, Any]) -> str:
    setup = "".join(f"<li>{escape(line[2:])}</li>" for line in _setup_lines(results))
    sections = [f"<ul>{setup}</ul>", f"<h2>Success by condition</h2>{table(*success_rows(results))}"]
    if len(results["policies"]) > 1:
        sections.append(
            f"<h2>Failures by part, policies side by side (all conditions)</h2>{table(*side_by_side_rows(results))}"
        )
    for name, p in results["policies"].items():
        same = p["agreement"]["same"]
        sections += [
            f"<h2>{escape(name)}</h2><p>{escape(blind_spots(p))}</p>",
            f"<h3>Failures by part: oracle substitution</h3>{table(*attribution_rows(p, 'substitution'))}",
            f"<h3>Failures by part: trace diagnosis</h3>{table(*attribution_rows(p, 'diagnosis'))}",
            plots([attribution_plot(name, p, "substitution"), attribution_plot(name, p, "diagnosis")]),
            f"<h3>Recovered by each substitution, and agreement</h3>{table(*recovered_rows(p))}",
            f"<p>The methods name the same part in {escape(rate_cell(same))} of {same['n']} failure(s).</p>",
            f"<h3>Example failures by diagnosed part</h3>{failure_videos(p)}",
        ]
    sections.append(f'<h2>Methods</h2><p class="muted">{escape(METHODS_NOTE)}</p>')
    return html_page("Shift probe: where the stack fails under distribution shift", sections)


def write_outputs(results: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write ``results.json``, ``summary.md`` and ``report.html`` into ``out``; return their paths."""
    paths = {"results": out / "results.json", "summary": out / "summary.md", "report": out / "report.html"}
    paths["results"].write_text(json.dumps(results, indent=1))
    paths["summary"].write_text(summary_markdown(results))
    paths["report"].write_text(report_html(results), encoding="utf-8")
    return paths
