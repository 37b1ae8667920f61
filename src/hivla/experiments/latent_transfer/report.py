"""Outputs of the latent-transfer experiment: ``results.json``, ``summary.md`` and a self-contained
``report.html`` (``hivla.reporting``): the alignment matrices as heat maps, the data-efficiency
curves with Wilson intervals, decoded latent examples. Every figure printed is computed here from
the results."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from hivla.experiments.latent_transfer.config import ARM_LABELS
from hivla.experiments.steps import success_cell
from hivla.reporting import (
    frame_grid,
    heatmap_chart,
    html_page,
    image_figure,
    line_chart,
    markdown_table,
    plots,
    png_bytes,
    table,
)
from hivla.types import UNIVERSAL_ACTION_NAMES

PROBE_NOTE = (
    "Probes map the latent action of a frame pair (t, t+k) (its quantized codes' vectors) to the mean "
    "universal action between the frames. Fitted on embodiment A's episodes, scored on held-out episodes "
    "of B. Motion R²: 1 - squared error / variance on B, summed over dx..drz each divided by its action "
    "range (a dimension that hardly varies on B weighs little); per-dimension R² in the tables (– where a "
    "dimension does not vary on B); gripper: how often the sign of the predicted gripper command is right."
)
SUCCESS_NOTE = (
    "Closed-loop success on held-out seeds of the target embodiment (the env's own task predicate), "
    "95% Wilson score intervals. Every arm fine-tunes the same preset for the same steps on the same first "
    "n labelled episodes."
)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _num(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _counts(results: dict[str, Any]) -> list[str]:
    return [str(n) for n in results["labelled_counts"]]


def count_label(results: dict[str, Any], n: str) -> str:
    total = results["config"]["sizes"]["labelled_episodes"]
    return f"{n} ({_pct(int(n) / total)})"


def efficiency_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    counts = _counts(results)
    header = ["arm", *(f"{count_label(results, n)} episodes" for n in counts)]
    rows = [
        [ARM_LABELS[arm], *(success_cell(c.get(n)) for n in counts)] for arm, c in results["curves"].items()
    ]
    return header, rows


def target_lines(results: dict[str, Any]) -> list[str]:
    """The issue's target, computed: with the fewest labels, latent pretraining's success against no
    pretraining (points) and against no pretraining with every label (ratio)."""
    curves, counts = results["curves"], _counts(results)
    if "scratch" not in curves or len(counts) < 1:
        return ["(no scratch arm: the target comparison needs it)"]
    few, full = counts[0], counts[-1]
    base_few, base_full = curves["scratch"][few]["success"], curves["scratch"][full]["success"]
    lines = []
    for arm in ("latent-all", "latent-others"):
        if arm not in curves:
            continue
        s = curves[arm][few]["success"]
        ratio = "n/a (no success with every label)" if base_full == 0 else f"{s / base_full:.2f}"
        lines.append(
            f"- {ARM_LABELS[arm]}, {count_label(results, few)} labelled episodes: success {_pct(s)} vs "
            f"{_pct(base_few)} without pretraining ({100 * (s - base_few):+.0f} points; target >= +15); "
            f"{ratio} of the success without pretraining on all {full} episodes ({_pct(base_full)}; target >= 0.80)"
        )
    return lines


def matrix_values(
    results: dict[str, Any], kind: str, metric: str
) -> tuple[list[str], list[list[float | None]]]:
    m = results["matrix"][kind]
    names = list(m)
    return names, [[m[a][b][metric] for b in names] for a in names]


def per_dim_rows(results: dict[str, Any], kind: str) -> tuple[list[str], list[list[str]]]:
    header = [
        "fitted on → scored on",
        *(f"R² {d}" for d in UNIVERSAL_ACTION_NAMES),
        "motion R²",
        "gripper acc",
        "pairs",
    ]
    rows = []
    for a, scored in results["matrix"][kind].items():
        for b, s in scored.items():
            rows.append([f"{a} → {b}", *(_num(s["r2"][d]) for d in UNIVERSAL_ACTION_NAMES), _num(s["r2_motion"]),
                         _pct(s["gripper_acc"]), str(s["samples"])])  # fmt: skip
    return header, rows


def lam_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = [
        "videos",
        "frame pairs",
        "with actions",
        "val recon MSE",
        "val copy MSE",
        "perplexity",
        "codes used",
    ]
    rows = []
    for source, lam in results["lams"].items():
        v = lam.get("val") or {}
        rows.append([source, str(lam["samples"]), str(lam["samples_with_actions"]), _num(v.get("val/recon_mse"), 5),
                     _num(v.get("val/copy_mse"), 5), _num(v.get("val/perplexity")), _num(v.get("val/codes_used"))])  # fmt: skip
    return header, rows


def recon_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["embodiment", "held-out pairs", "predicted t+k MSE", "copying frame t MSE", "ratio"]
    rows = [[e, str(r["pairs"]), _num(r["recon_mse"], 5), _num(r["copy_mse"], 5),
             _num(r["recon_mse"] / r["copy_mse"] if r["copy_mse"] > 0 else None)]
            for e, r in results["reconstruction"].items()]  # fmt: skip
    return header, rows


def pretrain_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["videos", "coded frames", "val code accuracy", "commonest code"]
    rows = [[s, str(p["samples"]), _num((p.get("val") or {}).get("val/latent_acc")), _num(p["majority_code_acc"])]
            for s, p in results["pretrained"].items()]  # fmt: skip
    return header, rows


def _setup_lines(results: dict[str, Any]) -> list[str]:
    c, z = results["config"], results["config"]["sizes"]
    points = [p for curve in results["curves"].values() for p in curve.values()]
    finetune = {p["train"]["key"]["steps"] for p in points}
    pretrain = {p["key"]["steps"] for p in results["pretrained"].values()}
    return [
        f"- preset {c['preset']}; target embodiment {c['target']}; embodiments {', '.join(c['embodiments'])}; suite {c['suite']}",
        f"- data per embodiment: {z['labelled_episodes']} labelled episodes, {z['video_episodes']} video-only episodes",
        f"- latent action model: preset {z['lam_preset']}, alignment weight {c['align_weight']}",
        f"- VLA: preset {z['vla_preset']}, latent pretraining {_steps(pretrain)}, fine-tuning {_steps(finetune)}; "
        f"evaluation: {z['eval_episodes']} held-out episode(s) per point"
        + (f", at most {z['max_steps']} steps each" if z["max_steps"] else ""),
        f"- wall time: {results['wall_seconds']:.0f} s",
    ]


def _steps(values: set[int]) -> str:
    return "–" if not values else " / ".join(f"{v:,} steps" for v in sorted(values))


def summary_markdown(results: dict[str, Any]) -> str:
    parts = ["# Latent actions across embodiments", "\n".join(_setup_lines(results)),
             "## Latent action models", markdown_table(*lam_rows(results)),
             "## Predicting frame t+k, per embodiment (held-out pairs)", markdown_table(*recon_rows(results))]  # fmt: skip
    for kind in results["matrix"]:
        names, r2 = matrix_values(results, kind, "r2_motion")
        _, grip = matrix_values(results, kind, "gripper_acc")
        header = ["fitted on \\ scored on", *names]
        rows = [
            [a, *(f"{_num(r)} ({_pct(g)})" for r, g in zip(r2[i], grip[i], strict=True))]
            for i, a in enumerate(names)
        ]
        parts += [
            f"## Alignment matrix, {kind} probe: motion R² (gripper accuracy)",
            markdown_table(header, rows),
        ]
    parts += [PROBE_NOTE, "## Latent pretraining", markdown_table(*pretrain_rows(results)),
              "## Data efficiency on the target", markdown_table(*efficiency_rows(results)), SUCCESS_NOTE,
              "## Target check", "\n".join(target_lines(results))]  # fmt: skip
    return "\n\n".join(parts) + "\n"


def efficiency_plot(results: dict[str, Any]) -> str:
    counts = _counts(results)
    series = {ARM_LABELS[a]: [c[n]["success"] for n in counts] for a, c in results["curves"].items()}
    intervals = {ARM_LABELS[a]: [c[n]["success_ci95"] for n in counts] for a, c in results["curves"].items()}
    return line_chart("data-efficiency", "Success vs labelled episodes", [count_label(results, n) for n in counts],
                      series, intervals, y_label="success rate", x_label="labelled target episodes")  # fmt: skip


def matrix_plots(results: dict[str, Any]) -> list[str]:
    out = []
    for kind in results["matrix"]:
        names, r2 = matrix_values(results, kind, "r2_motion")
        _, grip = matrix_values(results, kind, "gripper_acc")
        out.append(heatmap_chart(f"r2-{kind}", f"Motion R², {kind} probe", names, names, r2,
                                 x_label="scored on", y_label="fitted on", vmin=0.0, vmax=1.0))  # fmt: skip
        out.append(heatmap_chart(f"gripper-{kind}", f"Gripper accuracy, {kind} probe", names, names, grip,
                                 x_label="scored on", y_label="fitted on", vmin=0.5, vmax=1.0, fmt="{:.0%}"))  # fmt: skip
    return out


def examples_figure(frames: dict[str, list[list[np.ndarray]]]) -> str:
    if not frames:
        return "<p>(no held-out pairs to decode)</p>"
    rows = [[f for triple in triples for f in triple] for triples in frames.values()]
    grid = frame_grid(rows, list(frames), scale=2)
    caption = "Each embodiment's held-out pairs, in threes: frame t, frame t+k as predicted from frame t and the latent, the true frame t+k."
    return image_figure(png_bytes(grid), escape(caption))


def report_html(results: dict[str, Any], frames: dict[str, list[list[np.ndarray]]]) -> str:
    setup = "".join(f"<li>{escape(line[2:])}</li>" for line in _setup_lines(results))
    target = "".join(
        f"<li>{escape(line[2:])}</li>" for line in target_lines(results) if line.startswith("- ")
    )
    sections = [
        f"<ul>{setup}</ul>",
        f"<h2>Latent action models</h2>{table(*lam_rows(results))}",
        f"<h2>Decoded latent actions</h2>{table(*recon_rows(results))}{examples_figure(frames)}",
        f'<h2>Alignment matrix</h2>{plots(matrix_plots(results))}<p class="muted">{escape(PROBE_NOTE)}</p>',
        *(
            f"<h3>{kind} probe, per dimension</h3>{table(*per_dim_rows(results, kind))}"
            for kind in results["matrix"]
        ),
        f"<h2>Latent pretraining</h2>{table(*pretrain_rows(results))}",
        f"<h2>Data efficiency on the target</h2>{table(*efficiency_rows(results))}{plots([efficiency_plot(results)])}",
        f'<p class="muted">{escape(SUCCESS_NOTE)}</p><h2>Target check</h2><ul>{target}</ul>',
    ]
    return html_page("Latent actions across embodiments", sections)


def write_outputs(
    results: dict[str, Any], out: Path, frames: dict[str, list[list[np.ndarray]]]
) -> dict[str, Path]:
    """Write ``results.json``, ``summary.md``, ``report.html`` and the decoded examples
    (``latent_examples.png``) into ``out``; return their paths."""
    paths = {"results": out / "results.json", "summary": out / "summary.md", "report": out / "report.html",
             "examples": out / "latent_examples.png"}  # fmt: skip
    paths["results"].write_text(json.dumps(results, indent=2, default=str))
    paths["summary"].write_text(summary_markdown(results))
    paths["report"].write_text(report_html(results, frames), encoding="utf-8")
    if frames:
        rows = [[f for triple in triples for f in triple] for triples in frames.values()]
        paths["examples"].write_bytes(png_bytes(frame_grid(rows, list(frames), scale=2)))
    return paths
