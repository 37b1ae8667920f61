"""Outputs of the reasoning ablation: ``results.json``, ``summary.md`` and a self-contained ``report.html``
(built with ``hivla.reporting``)."""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

from hivla.experiments.reasoning_ablation.config import (
    BUDGET_NOTE,
    LONG_FROM,
    ORACLE_NOTE,
    RESULTS_FORMAT,
    RESULTS_VERSION,
    AblationError,
)
from hivla.experiments.steps import success_cell
from hivla.reporting import html_page, line_chart, markdown_table, plots, table

JUDGE_NOTE = (
    "Success is the env's own task predicate on held-out seeds (the same seeds for every arm); "
    "intervals are 95% Wilson score intervals."
)
REUSE_NOTE = (
    "Success evaluations use each policy's own reasoning reuse setting (its training config); latency is "
    "measured on one torch thread in one process, with the reasoning trace reused until the subtask "
    "changes (k=0) and regenerated at every query (k=1). The hierarchical step latency includes the "
    "planner: its calls are amortized over the steps (the mean), and the per-call planner time is listed."
)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def length_cell(row: dict[str, Any]) -> str:
    """``1.25 [0.90, 1.60]``: a row's average completed length and its 95% interval."""
    lo, hi = row["avg_len_ci95"]
    return f"{row['avg_len']:.2f} [{lo:.2f}, {hi:.2f}]"


def oracle_label(arm: str) -> str:
    return f"{arm} (oracle planner + monitor: upper bound)"


def success_rows(
    results: dict[str, Any], budget: str, oracle: bool = False
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the arm x chain length table of ``budget``: its main rows, or (``oracle``)
    its oracle planner + monitor rows, labelled as such."""
    lengths = [str(n) for n in results["config"]["lengths"]]
    header = ["arm", *(f"chain {n}" for n in lengths), "avg completed length"]
    block = results["budgets"][budget]["oracle" if oracle else "rows"]
    rows = [
        [oracle_label(arm) if oracle else arm, *(success_cell(r["by_length"].get(n)) for n in lengths),
         length_cell(r)]
        for arm, r in block.items()
    ]  # fmt: skip
    return header, rows


def budget_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The budgets side by side: per arm, average completed length and success on chains of
    ``LONG_FROM`` or more under each budget (main rows only)."""
    budgets = list(results["budgets"])
    header = ["arm", *(f"avg completed length, {b}" for b in budgets),
              *(f"success chains >= {LONG_FROM}, {b}" for b in budgets)]  # fmt: skip
    rows = []
    for arm in results["config"]["arms"]:
        per = [results["budgets"][b]["rows"][arm] for b in budgets]
        rows.append([arm, *(length_cell(r) for r in per), *(success_cell(r.get("long")) for r in per)])
    return header, rows


def budget_label(results: dict[str, Any], budget: str) -> str:
    b = results["budgets"][budget]
    return f"budget {budget} (retries {b['retries']}, replans {b['replans']})"


def _apart(a: list[float], b: list[float]) -> str:
    """How interval ``a`` lies against interval ``b``: ahead, behind, or overlapping."""
    if a[0] > b[1]:
        return "ahead (intervals apart)"
    if a[1] < b[0]:
        return "behind (intervals apart)"
    return "not told apart (intervals overlap)"


def horizon_lines(results: dict[str, Any], budget: str) -> list[str]:
    """Does reasoning help at long horizons? hierarchical+reasoning against the other arms on chains of
    ``LONG_FROM`` or more (pooled success, Wilson 95%) and on average completed length, per budget."""
    rows = results["budgets"][budget]["rows"]
    lead = "hierarchical+reasoning"
    if lead not in rows:
        return []
    out = []
    for other in (a for a in rows if a != lead):
        mine, theirs = rows[lead].get("long"), rows[other].get("long")
        if mine is not None and theirs is not None:
            out.append(
                f"- chains >= {LONG_FROM}: {lead} {success_cell(mine)} vs {other} {success_cell(theirs)}: "
                f"{_apart(mine['success_ci95'], theirs['success_ci95'])}"
            )
        out.append(
            f"- average completed length: {lead} {length_cell(rows[lead])} vs {other} {length_cell(rows[other])}: "
            f"{_apart(rows[lead]['avg_len_ci95'], rows[other]['avg_len_ci95'])}"
        )
    return out


def latency_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["variant", "step median ms", "step p95 ms", "step mean ms (amortized)", "query median ms",
              "query p95 ms", "planner ms per call", "traces generated / queries"]  # fmt: skip
    rows = []
    for variant, lat in results["latency"].items():
        s, q, p, t = lat["step_ms"], lat["query_ms"], lat["plan_ms"], lat.get("traces")
        plan = "–" if p is None else f"{p['median']:.2f} (×{p['n']})"
        traces = "–" if t is None else f"{t['generated']} / {t['queries']}"
        rows.append([variant, f"{s['median']:.2f}", f"{s['p95']:.2f}", f"{s['mean']:.2f}", f"{q['median']:.2f}",
                     f"{q['p95']:.2f}", plan, traces])  # fmt: skip
    return header, rows


def _arm_line(arm: str, a: dict[str, Any]) -> str:
    t, k = a["train"], a["train"]["key"]
    if t.get("source") == "given":
        made = ", ".join(f"{n} {k[n]}" for n in ("preset", "steps", "data") if k.get(n) is not None)
        at = "" if t.get("step") is None else f" at step {t['step']}"
        warn = " **unfinished: the run has not reached its steps**" if t.get("unfinished") else ""
        return (f"- {arm}: given run {k['given']} (language={k['language']}, reasoning "
                f"{'on' if k['reasoning'] else 'off'}{', ' + made if made else ''}; checkpoint {t['run']}{at}){warn}")  # fmt: skip
    return f"- {arm}: trained here into {t['run']} ({t.get('step')} steps)"


def _setup_lines(results: dict[str, Any]) -> list[str]:
    c, d, p = results["config"], results["data"], results["planner"]
    planner = "none (flat arm only)" if p is None else p["spec"]
    if p is not None and p.get("accuracy"):
        planner += (
            " (exact-plan accuracy: " + ", ".join(f"{k} {v:.0%}" for k, v in p["accuracy"].items()) + ")"
        )
    steps = c["steps"] or "the preset's"
    lines = []
    if d is not None:
        lines += [f"- data: {d['path']} ({d['episodes']} tabletop-mixed episodes, {c['embodiment']})",
                  f"- training here: preset {c['preset']}, {steps} steps, one thread, the same data for every arm"]  # fmt: skip
    lines += [_arm_line(arm, a) for arm, a in results["arms"].items()]
    budgets = ", ".join(budget_label(results, b) for b in results["budgets"])
    lines += [
        f"- evaluation: {c['episodes_per_length']} held-out episode(s) per chain length, {c['embodiment']}"
        + (f", at most {c['max_steps']} steps each" if c["max_steps"] else ", the env's step limit"),
        f"- retry budgets of the hierarchical arms: {budgets}",
        f"- planner: {planner}",
        f"- monitor: {results['monitor']['spec']}",
        f"- wall time: {results['wall_seconds']:.0f} s",
    ]
    return lines


def _budget_sections(results: dict[str, Any], md: bool) -> list[str]:
    """Per budget: the main table, the long-horizon comparison, and the oracle rows apart."""
    fmt = markdown_table if md else table
    parts = []
    for budget in results["budgets"]:
        label = budget_label(results, budget)
        head = (
            f"## Success by chain length, {label}"
            if md
            else f"<h2>Success by chain length, {escape(label)}</h2>"
        )
        parts += [head, fmt(*success_rows(results, budget))]
        lines = horizon_lines(results, budget)
        if lines:
            parts.append(
                "\n".join(lines)
                if md
                else "<ul>" + "".join(f"<li>{escape(x[2:])}</li>" for x in lines) + "</ul>"
            )
        if not md:
            parts.append(plots([success_plot(results, budget)]))
        if results["budgets"][budget]["oracle"]:
            sub = f"Upper bound, not the learned stack: oracle planner + monitor, {label}"
            parts += [
                f"### {sub}" if md else f"<h3>{escape(sub)}</h3>",
                fmt(*success_rows(results, budget, True)),
            ]
    return parts


def summary_markdown(results: dict[str, Any]) -> str:
    """The headline tables and the notes a reader needs to trust them; every figure read from ``results``."""
    l_header, l_rows = latency_rows(results)
    oracle = any(b["oracle"] for b in results["budgets"].values())
    parts = [
        "# Reasoning ablation: flat vs hierarchical vs hierarchical + reasoning",
        "\n".join(_setup_lines(results)),
        *_budget_sections(results, md=True),
        JUDGE_NOTE,
        "## Retry budgets side by side",
        markdown_table(*budget_rows(results)),
        BUDGET_NOTE,
        *([ORACLE_NOTE] if oracle else []),
        "## Step latency (one torch thread)",
        markdown_table(l_header, l_rows),
        REUSE_NOTE,
        "## Monitor",
        results["monitor"]["note"],
    ]
    return "\n\n".join(parts) + "\n"


def success_plot(results: dict[str, Any], budget: str) -> str:
    """Success vs chain length of the main rows of ``budget`` (the oracle rows stay in their table)."""
    lengths = [str(n) for n in results["config"]["lengths"]]
    series, intervals = {}, {}
    for arm, r in results["budgets"][budget]["rows"].items():
        blocks = [r["by_length"].get(n) for n in lengths]
        series[arm] = [None if b is None else b["success"] for b in blocks]
        intervals[arm] = [None if b is None else b["success_ci95"] for b in blocks]
    return line_chart(f"success-vs-chain-length-{_slug(budget)}", f"Success vs chain length, {budget_label(results, budget)}",
                      lengths, series, intervals, y_label="success rate", x_label="chain length (subtasks)")  # fmt: skip


def report_html(results: dict[str, Any]) -> str:
    l_header, l_rows = latency_rows(results)
    oracle = any(b["oracle"] for b in results["budgets"].values())
    setup = "".join(f"<li>{escape(line[2:])}</li>" for line in _setup_lines(results))
    title = "Reasoning ablation: flat vs hierarchical vs hierarchical + reasoning"
    sections = [
        f"<ul>{setup}</ul>",
        *_budget_sections(results, md=False),
        f'<p class="muted">{escape(JUDGE_NOTE)}</p>',
        f"<h2>Retry budgets side by side</h2>{table(*budget_rows(results))}",
        f'<p class="muted">{escape(BUDGET_NOTE)}</p>',
        *([f'<p class="muted">{escape(ORACLE_NOTE)}</p>'] if oracle else []),
        f"<h2>Step latency (one torch thread)</h2>{table(l_header, l_rows)}",
        f'<p class="muted">{escape(REUSE_NOTE)}</p>',
        f"<h2>Monitor</h2><p>{escape(results['monitor']['note'])}</p>",
    ]
    return html_page(title, sections)


def _slug(budget: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", budget).strip("-")


def plot_path(out: Path, budget: str) -> Path:
    return out / f"success_vs_chain_length_{_slug(budget)}.svg"


def render_outputs(results: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write ``summary.md``, ``report.html`` and one plot per budget (``success_vs_chain_length_<budget>.svg``,
    for docs) from ``results``; return their paths."""
    paths = {"summary": out / "summary.md", "report": out / "report.html"}
    for budget in results["budgets"]:
        paths[f"plot {budget}"] = plot_path(out, budget)
        paths[f"plot {budget}"].write_text(success_plot(results, budget), encoding="utf-8")
    paths["summary"].write_text(summary_markdown(results))
    paths["report"].write_text(report_html(results), encoding="utf-8")
    return paths


def write_outputs(results: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write ``results.json`` and everything :func:`render_outputs` makes from it into ``out``."""
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return {"results": out / "results.json", **render_outputs(results, out)}


def rerender(out: str | Path) -> dict[str, Path]:
    """Rebuild summary.md, report.html and the plots from ``out/results.json`` alone (``--report-only``).
    Raises :class:`AblationError` when there is no results.json of this experiment's version."""
    out = Path(out)
    path = out / "results.json"
    results = json.loads(path.read_text()) if path.is_file() else None
    if (
        results is None
        or results.get("format") != RESULTS_FORMAT
        or results.get("version") != RESULTS_VERSION
    ):
        found = "none" if results is None else f"{results.get('format')} v{results.get('version')}"
        raise AblationError(
            f"{path}: expected results.json of {RESULTS_FORMAT} v{RESULTS_VERSION}, found {found}; run the "
            "experiment (without --report-only) to write it"
        )
    return render_outputs(results, out)
