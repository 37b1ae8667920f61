"""Outputs of the reasoning ablation: ``results.json``, ``summary.md`` and a self-contained ``report.html``
(built with ``hivla.reporting``)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

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


def success_cell(block: dict[str, Any] | None) -> str:
    """``62% [45%, 77%] (8/13)`` for an outcome block; ``–`` when the length was not evaluated."""
    if block is None:
        return "–"
    lo, hi = block["success_ci95"]
    return f"{_pct(block['success'])} [{_pct(lo)}, {_pct(hi)}] ({block['successes']}/{block['episodes']})"


def success_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the arm x chain length table."""
    lengths = [str(n) for n in results["config"]["lengths"]]
    header = ["arm", *(f"chain {n}" for n in lengths), "avg completed length"]
    rows = []
    for arm, a in results["arms"].items():
        lo, hi = a["avg_len_ci95"]
        rows.append(
            [
                arm,
                *(success_cell(a["by_length"].get(n)) for n in lengths),
                f"{a['avg_len']:.2f} [{lo:.2f}, {hi:.2f}]",
            ]
        )
    return header, rows


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


def _setup_lines(results: dict[str, Any]) -> list[str]:
    c, d, p = results["config"], results["data"], results["planner"]
    planner = "none (flat arm only)" if p is None else p["spec"]
    if p is not None and p.get("accuracy"):
        planner += (
            " (exact-plan accuracy: " + ", ".join(f"{k} {v:.0%}" for k, v in p["accuracy"].items()) + ")"
        )
    steps = c["steps"] or "the preset's"
    return [
        f"- data: {d['path']} ({d['episodes']} tabletop-mixed episodes, {c['embodiment']})",
        f"- training: preset {c['preset']}, {steps} steps, one thread, the same data for every arm",
        f"- evaluation: {c['episodes_per_length']} held-out episode(s) per chain length"
        + (f", at most {c['max_steps']} steps each" if c["max_steps"] else ""),
        f"- planner: {planner}",
        f"- monitor: {results['monitor']['spec']}",
        f"- wall time: {results['wall_seconds']:.0f} s",
    ]


def summary_markdown(results: dict[str, Any]) -> str:
    """The headline tables and the notes a reader needs to trust them."""
    s_header, s_rows = success_rows(results)
    l_header, l_rows = latency_rows(results)
    parts = [
        "# Reasoning ablation: flat vs hierarchical vs hierarchical + reasoning",
        "\n".join(_setup_lines(results)),
        "## Success by chain length",
        markdown_table(s_header, s_rows),
        JUDGE_NOTE,
        "## Step latency (one torch thread)",
        markdown_table(l_header, l_rows),
        REUSE_NOTE,
        "## Monitor",
        results["monitor"]["note"],
    ]
    return "\n\n".join(parts) + "\n"


def success_plot(results: dict[str, Any]) -> str:
    lengths = [str(n) for n in results["config"]["lengths"]]
    series, intervals = {}, {}
    for arm, a in results["arms"].items():
        blocks = [a["by_length"].get(n) for n in lengths]
        series[arm] = [None if b is None else b["success"] for b in blocks]
        intervals[arm] = [None if b is None else b["success_ci95"] for b in blocks]
    return line_chart("success-vs-chain-length", "Success vs chain length", lengths, series, intervals,
                      y_label="success rate", x_label="chain length (subtasks)")  # fmt: skip


def report_html(results: dict[str, Any]) -> str:
    s_header, s_rows = success_rows(results)
    l_header, l_rows = latency_rows(results)
    setup = "".join(f"<li>{escape(line[2:])}</li>" for line in _setup_lines(results))
    title = "Reasoning ablation: flat vs hierarchical vs hierarchical + reasoning"
    sections = [
        f"<ul>{setup}</ul>",
        f"<h2>Success by chain length</h2>{table(s_header, s_rows)}",
        f'<p class="muted">{escape(JUDGE_NOTE)}</p>{plots([success_plot(results)])}',
        f"<h2>Step latency (one torch thread)</h2>{table(l_header, l_rows)}",
        f'<p class="muted">{escape(REUSE_NOTE)}</p>',
        f"<h2>Monitor</h2><p>{escape(results['monitor']['note'])}</p>",
    ]
    return html_page(title, sections)


def write_outputs(results: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write ``results.json``, ``summary.md``, ``report.html`` and the plot on its own
    (``success_vs_chain_length.svg``, for docs) into ``out``; return their paths."""
    paths = {"results": out / "results.json", "summary": out / "summary.md", "report": out / "report.html",
             "plot": out / "success_vs_chain_length.svg"}  # fmt: skip
    paths["plot"].write_text(success_plot(results), encoding="utf-8")
    paths["results"].write_text(json.dumps(results, indent=2))
    paths["summary"].write_text(summary_markdown(results))
    paths["report"].write_text(report_html(results), encoding="utf-8")
    return paths
