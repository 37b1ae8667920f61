"""HTML report and figure files of the world-model experiment (``results.json`` -> ``report.html``)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from hivla.reporting import (
    bar_chart,
    html_page,
    image_figure,
    line_chart,
    markdown_table,
    plots,
    strip_chart,
    table,
)
from hivla.world_model.events import VIOLATIONS


def _f(x: Any, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}g}" if isinstance(x, float) else str(x)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _ci(ci: Any, pct: bool = False) -> str:
    if not ci or ci[0] is None:
        return "–"
    fmt = _pct if pct else (lambda v: f"{v:.2f}")
    return f"[{fmt(ci[0])}, {fmt(ci[1])}]"


def _axes_levels(conditions: list[str]) -> tuple[list[str], list[str]]:
    axes = list(dict.fromkeys(c.split("=")[0] for c in conditions if c != "none"))
    levels = sorted({c.split("=")[1] for c in conditions if c != "none"})
    return axes, ["0", *levels]


def error_section(results: dict[str, Any]) -> tuple[str, dict[str, str]]:
    conditions = list(results["conditions"])
    header = ["condition", "episodes", "successes"]
    for m in results["models"]:
        header += [f"{m['kind']}: latent / copy-last", f"{m['kind']}: visual / copy-last", f"{m['kind']}: EE mm (copy-last)",
                   f"{m['kind']}: {results['spec']['veto']['veto']['check_steps'] or 8}-step / 1-step"]  # fmt: skip
        if m["kind"] == "latent":
            header.append("latent: pixel MSE (copy-last)")
    rows = []
    for c in conditions:
        row = [c, results["conditions"][c]["episodes"], results["conditions"][c]["successes"]]
        for m in results["models"]:
            e = m["errors"][c]
            row += [_f(e["latent_vs_copy_last"]), _f(e["visual_vs_copy_last"]),
                    f"{_f(e['state_mm'], 3)} ({_f(e['copy_last_state_mm'], 3)})",
                    _f(e["rollout"] / e["latent"] if e["latent"] else None)]  # fmt: skip
            if m["kind"] == "latent":
                row.append(f"{_f(e['pixel'])} ({_f(e['copy_last_pixel'])})")
        rows.append(row)
    axes, levels = _axes_levels(conditions)
    charts = {}
    for m in results["models"]:
        series = {}
        for axis in axes:
            series[axis] = [m["errors"]["none"]["latent_vs_copy_last"]] + [
                m["errors"].get(f"{axis}={lv}", {}).get("latent_vs_copy_last") for lv in levels[1:]
            ]
        charts[f"error-vs-shift-{m['kind']}"] = line_chart(
            f"error-vs-shift-{m['kind']}", f"{m['kind']}: one-step error / copy-last vs shift level", levels, series,
            y_label="error / copy-last", x_label="shift level (0 = none)", y_max=None, percent=False,
            reference=1.0,
        )  # fmt: skip
    html = (
        "<h2>Next-state prediction error under shifts</h2><p class='muted'>One-step error of the prediction "
        "in the model's target embedding of the real next frame, divided by the error of copying the current "
        "frame's embedding (below 1: the model knows how actions move things); the visual part alone; the "
        "end-effector position read from the predicted latent (mm, copy-last in brackets); the K-step open-loop "
        "error relative to the one-step error; and for the latent model the pixel MSE of the decoded prediction.</p>"
        + table(header, rows)
        + plots(list(charts.values()))
    )
    return html, charts


def correlation_section(results: dict[str, Any]) -> tuple[str, dict[str, str]]:
    rows = []
    for m in results["models"]:
        c = m["failure_correlation"]
        for name, v in c["measures"].items():
            rows.append([f"{m['kind']}: {name}", c["episodes"], c["failures"], _f(v["spearman"]), _ci(v["ci95"]),
                         _f(v["success_mean"]), _f(v["failure_mean"])])  # fmt: skip
    html = (
        "<h2>World-model error vs task failure</h2><p class='muted'>Spearman rank correlation between an "
        "episode's one-step error and its failure (1 = failed), pooled over all conditions, with a percentile "
        "bootstrap 95% interval; per episode: the mean error, the error relative to copy-last (surprise beyond "
        "how much moved) and the largest error.</p>"
        + table(
            [
                "model: per-episode error",
                "episodes",
                "failures",
                "Spearman ρ",
                "95% CI",
                "mean (successes)",
                "mean (failures)",
            ],
            rows,
        )
    )
    return html, {}


def axis_correlation_rows(results: dict[str, Any]) -> list[list[Any]]:
    """Per model and group (in distribution, each shift axis, all pooled): the headline measure's
    Spearman and Pearson with their intervals."""
    rows = []
    for m in results["models"]:
        c = m["failure_correlation"]
        groups = {**c.get("by_axis", {}), **c.get("by_axis_with_in_distribution", {}), "all conditions": c}
        for name, g in groups.items():
            v = g["measures"]["mean error"]
            rows.append([m["kind"], name, f"{g['failures']}/{g['episodes']}", _f(v["spearman"], 2), _ci(v["ci95"]),
                         _f(v.get("pearson"), 2), _ci(v.get("pearson_ci95"))])  # fmt: skip
    return rows


AXIS_HEADER = ["model", "episodes of", "failed/episodes", "Spearman ρ", "95% CI", "Pearson r", "95% CI"]


def axis_correlation_section(results: dict[str, Any]) -> str:
    return (
        "<h2>Error vs failure per shift axis</h2><p class='muted'>Policy: "
        f"{escape(str(results.get('policy', '–')))}. Per group of held-out episodes (in distribution; each "
        "shift axis over its levels; all pooled): Spearman and Pearson (point-biserial) correlation between an "
        "episode's mean one-step error and its failure, with percentile bootstrap 95% intervals; – where the "
        "group's episodes all succeed or all fail. Rows <i>axis + in distribution</i> pool an axis with the "
        "unshifted episodes: does the error rise with the shift and mark the failures it causes?</p>"
        + table(AXIS_HEADER, axis_correlation_rows(results))
    )


def replan_rows(replan: dict[str, Any]) -> list[list[Any]]:
    from hivla.experiments.world_model_validation.replan import ARMS

    rows = []
    for cond, s in replan["summary"].items():
        for arm in ARMS:
            b = s[arm]
            rows.append([f"{cond} / {arm}", b["episodes"], _pct(b["success"]["rate"]), _ci(b["success"]["ci95"], True),
                         _f(b["progress"]["mean"], 2), _ci(b["progress"]["ci95"]),
                         _f(b["wm_triggers_per_episode"]["mean"], 2), _ci(b["wm_triggers_per_episode"]["ci95"]),
                         _f(b["replans_per_episode"]["mean"], 2), _ci(b["replans_per_episode"]["ci95"])])  # fmt: skip
        rows.append([f"{cond} / Δ (trigger − none)", "", _f(s["delta_success"]["mean"], 2), _ci(s["delta_success"]["ci95"]),
                     _f(s["delta_progress"]["mean"], 2), _ci(s["delta_progress"]["ci95"]), "", "", "", ""])  # fmt: skip
    return rows


REPLAN_HEADER = ["condition / arm", "episodes", "success", "95% CI", "progress", "95% CI", "WM triggers / ep",
                 "95% CI", "replans / ep", "95% CI"]  # fmt: skip


def calibration_text(replan: dict[str, Any]) -> str:
    """One sentence on how the trigger's threshold was chosen (empty when it was given)."""
    c = replan.get("calibration")
    if not c:
        return ""
    if c["threshold"] is None:
        return (
            f"Threshold {replan['config']['threshold']:g} as given: calibration on {c['episodes']} episodes was not "
            f"possible ({c['failed_attempts']} of {c['attempts']} subtask attempts failed; it needs both outcomes)."
        )
    return (
        f"Threshold {c['threshold']:.3g} calibrated on {c['episodes']} in-distribution held-out episodes (seeds "
        f"{c['seeds'][0]}-{c['seeds'][1]}, success {_pct(c['success'])}): {c['failed_attempts']} of {c['attempts']} "
        f"subtask attempts failed; the trigger's rule at this threshold fires on {_pct(c['tpr'])} of the failed "
        f"and {_pct(c['fpr'])} of the successful attempts (Youden J {_f(c['j'], 2)}; AUROC of the attempt "
        f"score {_f(c['auroc'], 2)})."
    )


def replan_section(replan: dict[str, Any] | None) -> tuple[str, dict[str, str]]:
    if not replan:
        return "", {}
    from hivla.experiments.world_model_validation.replan import ARMS

    summary, cfg = replan["summary"], replan["config"]
    conds = list(summary)
    charts = {
        "replan-success": bar_chart(
            "replan-success", "Success with and without world-model-triggered replanning (95% Wilson CI)", conds,
            {a: [summary[c][a]["success"]["rate"] for c in conds] for a in ARMS},
            {a: [summary[c][a]["success"]["ci95"] for c in conds] for a in ARMS}, y_label="success",
        ),
    }  # fmt: skip
    html = (
        f"<h2>World-model-triggered replanning</h2><p class='muted'>{escape(cfg['suite'])}, {cfg['episodes']} "
        f"held-out episodes per condition and arm (same seeds); {escape(replan['arms'][ARMS[0]])} against the same "
        f"policy whose world model ({escape(str(replan.get('run')))}) retries, then replans, the current subtask when "
        f"its predicted success stays below {cfg['threshold']:g} for {cfg['patience']} chunks in a row. Progress: "
        "share of the chain completed. Δ: paired difference with a bootstrap 95% interval. "
        f"{escape(calibration_text(replan))}</p>"
        + table(REPLAN_HEADER, replan_rows(replan))
        + plots(list(charts.values()))
    )
    return html, charts


def scores_section(results: dict[str, Any]) -> str:
    rows = []
    for m in results["models"]:
        for split, s in m["scores"].items():
            ev = s["events"]
            rows.append([f"{m['kind']} / {split}", s["chunks"], *[f"{_f(ev[k]['auroc'])} ({ev[k]['positives']})" for k in VIOLATIONS],
                         f"{_f(s['any_violation']['auroc'])} ({s['any_violation']['positives']})",
                         f"{_f(s['outcome']['auroc'])} ({s['outcome']['positives']})"])  # fmt: skip
    return (
        "<h2>Imagined events and outcomes</h2><p class='muted'>AUROC of predictions from open-loop imagined "
        "chunks of the episode's own actions (positives in brackets): each violation within the chunk, any "
        "violation, and whether the current subtask completes (within the chunk or the outcome horizon after it).</p>"
        + table(["model / data", "chunks", *VIOLATIONS, "any violation", "subtask outcome"], rows)
    )


def frames_section(results: dict[str, Any], out: Path) -> str:
    figs = []
    for m in results["models"]:
        for label, name in m["frames"].items():
            png = (out / "figures" / name).read_bytes()
            figs.append(image_figure(png, f"{escape(m['name'])}, condition {escape(label)}"))
    return (
        "<h2>Real vs imagined frames</h2><p class='muted'>Per camera: real frames t..t+K (the window where the "
        "hand travels farthest in the longest episode), and the world model's open-loop imagination from frame t "
        "with the episode's actions: decoded by the latent model; for JEPA, which has no decoder, the held-out "
        "frame (any episode of the condition) whose embedding is nearest to the imagined one.</p>"
        + "".join(figs)
    )


def reward_section(results: dict[str, Any]) -> str:
    rows = []
    for m in results["models"]:
        r = m["implicit_reward"]
        if r:
            rows.append([m["name"], r["segments"], r["frames"], _f(r["spearman"]), _ci(r["ci95"])])
    if not rows:
        return ""
    return (
        "<h2>Implicit reward</h2><p class='muted'>Within each segment of a held-out episode (all conditions) "
        "that ends with a completed subtask: the Spearman correlation between the reward (minus the squared distance "
        "of a frame's embedding to its subtask kind's goal embedding, fitted on the training data) and minus the "
        "steps left; mean over segments with a bootstrap 95% interval.</p>"
        + table(["model", "segments", "frames", "mean Spearman ρ", "95% CI"], rows)
    )


def cem_section(results: dict[str, Any]) -> str:
    rows = []
    for m in results["models"]:
        r = m.get("cem_reach")
        if r:
            rows.append([m["name"], r["episodes"], r["steps"], _f(r["cem_mm"]["mean"]), _ci(r["cem_mm"]["ci95"]),
                         _f(r["stand_still_mm"]["mean"]), _ci(r["stand_still_mm"]["ci95"])])  # fmt: skip
    if not rows:
        return ""
    return (
        "<h2>Model-predictive control: CEM towards a goal observation</h2><p class='muted'>CEM in latent space "
        "(64 samples, 8 elites, 4 iterations, 8-step plans, 4 steps executed per plan) towards the embedding of the "
        "scene the scripted expert reaches in the same number of steps; final end-effector distance to the goal's "
        "(mm, mean and 95% CI) against standing still.</p>"
        + table(["model", "episodes", "steps", "CEM mm", "95% CI", "stand still mm", "95% CI"], rows)
    )


def veto_section(veto: dict[str, Any] | None) -> tuple[str, dict[str, str]]:
    if not veto:
        return "", {}
    summary = veto["summary"]
    arms = ("policy", "policy+veto")
    rows = []
    for cond, s in summary.items():
        for arm in arms:
            b = s[arm]
            rows.append([f"{cond} / {arm}", b["episodes"], _pct(b["success"]["rate"]), _ci(b["success"]["ci95"], True),
                         _pct(b["any_violation"]["rate"]), _ci(b["any_violation"]["ci95"], True),
                         _f(b["violations_per_episode"]["mean"]), _ci(b["violations_per_episode"]["ci95"]),
                         b["veto"]["wm_veto"], b["veto"]["wm_resample"], b["veto"]["wm_truncate"], b["veto"]["wm_retreat"]])  # fmt: skip
        rows.append([f"{cond} / Δ (veto − policy)", "", _f(s["delta_success"]["mean"]), _ci(s["delta_success"]["ci95"]),
                     _f(s["delta_any_violation"]["mean"]), _ci(s["delta_any_violation"]["ci95"]),
                     _f(s["delta_violations"]["mean"]), _ci(s["delta_violations"]["ci95"]), "", "", "", ""])  # fmt: skip
    conds = list(summary)
    charts = {
        "veto-violations": bar_chart(
            "veto-violations", "Violation steps per episode (95% CI)", conds,
            {a: [summary[c][a]["violations_per_episode"]["mean"] for c in conds] for a in arms},
            {a: [summary[c][a]["violations_per_episode"]["ci95"] for c in conds] for a in arms},
            y_label="steps / episode", y_max=None, percent=False,
        ),
        "veto-success": bar_chart(
            "veto-success", "Success rate (95% Wilson CI)", conds,
            {a: [summary[c][a]["success"]["rate"] for c in conds] for a in arms},
            {a: [summary[c][a]["success"]["ci95"] for c in conds] for a in arms}, y_label="success",
        ),
        "veto-any-violation": bar_chart(
            "veto-any-violation", "Episodes with a violation (95% Wilson CI)", conds,
            {a: [summary[c][a]["any_violation"]["rate"] for c in conds] for a in arms},
            {a: [summary[c][a]["any_violation"]["ci95"] for c in conds] for a in arms}, y_label="share of episodes",
        ),
    }  # fmt: skip
    cfg = veto["config"]
    html = (
        f"<h2>Safety veto under shifts</h2><p class='muted'>{escape(cfg['suite'])}, {cfg['episodes']} held-out "
        f"episodes per condition and arm (same seeds), policy {escape(str(veto.get('policy', cfg['policy'])))}; "
        f"veto threshold {cfg['veto']['threshold']}, {cfg['veto']['resamples']} resamples, then the least risky of holding or retreating upwards from the first unsafe step; world model "
        f"{escape(str(veto.get('run')))}. Violation steps: executed steps with any of {', '.join(VIOLATIONS)}. Δ: paired "
        "difference with a bootstrap 95% interval.</p>"
        + table(
            [
                "condition / arm",
                "episodes",
                "success",
                "95% CI",
                "any violation",
                "95% CI",
                "violations / ep",
                "95% CI",
                "vetoed",
                "resampled",
                "held",
                "retreated",
            ],
            rows,
        )
        + plots(list(charts.values()))
    )
    return html, charts


def markdown_summary(results: dict[str, Any]) -> str:
    """The headline tables as Markdown (``summary.md``; what BENCHMARKS.md quotes)."""
    parts = []
    header = ["condition", *[f"{m['kind']} error / copy-last (visual)" for m in results["models"]],
              *[f"{m['kind']} EE mm" for m in results["models"]], "copy-last EE mm"]  # fmt: skip
    rows = []
    for c in results["conditions"]:
        es = [m["errors"][c] for m in results["models"]]
        rows.append([c, *[f"{_f(e['latent_vs_copy_last'], 2)} ({_f(e['visual_vs_copy_last'], 2)})" for e in es],
                     *[_f(e["state_mm"], 3) for e in es], _f(es[0]["copy_last_state_mm"], 3)])  # fmt: skip
    parts.append(markdown_table(header, rows))
    rows = []
    for m in results["models"]:
        c = m["failure_correlation"]
        for name, v in c["measures"].items():
            rows.append(
                [m["kind"], name, f"{c['failures']}/{c['episodes']}", _f(v["spearman"], 2), _ci(v["ci95"])]
            )
    parts.append(
        markdown_table(
            ["model", "per-episode error", "failed/episodes", "Spearman ρ (error, failure)", "95% CI"], rows
        )
    )
    rows = []
    for m in results["models"]:
        for split, s in m["scores"].items():
            rows.append([m["kind"], split, _f(s["any_violation"]["auroc"], 3), _f(s["events"]["table_contact"]["auroc"], 3),
                         _f(s["events"]["collision"]["auroc"], 3), _f(s["outcome"]["auroc"], 3)])  # fmt: skip
    parts.append(
        markdown_table(
            ["model", "data", "AUROC any violation", "table contact", "collision", "subtask outcome"], rows
        )
    )
    rows = []
    for m in results["models"]:
        r, cem = m.get("implicit_reward"), m.get("cem_reach")
        rows.append([m["kind"], _f(r["spearman"], 2) if r else "–", _ci(r["ci95"]) if r else "–",
                     f"{_f(cem['cem_mm']['mean'], 3)} {_ci(cem['cem_mm']['ci95'])}" if cem else "–",
                     f"{_f(cem['stand_still_mm']['mean'], 3)}" if cem else "–"])  # fmt: skip
    parts.append(
        markdown_table(
            ["model", "implicit reward ρ", "95% CI", "CEM reach: final EE mm", "standing still mm"], rows
        )
    )
    parts.append(f"Policy whose rollouts are probed: {results.get('policy', '–')}")
    parts.append(markdown_table(AXIS_HEADER, axis_correlation_rows(results)))
    if results.get("replan"):
        arms = results["replan"]["arms"]
        parts.append("World-model-triggered replanning: " + "; ".join(f"{a}: `{v}`" for a, v in arms.items()))
        if results["replan"].get("calibration"):
            parts.append(calibration_text(results["replan"]))
        parts.append(markdown_table(REPLAN_HEADER, replan_rows(results["replan"])))
    if results.get("veto"):
        parts.append(f"Veto policy: {results['veto'].get('policy', '–')}")
        rows = []
        for cond, s in results["veto"]["summary"].items():
            p, v = s["policy"], s["policy+veto"]
            rows.append([cond, p["episodes"],
                         f"{_f(p['violations_per_episode']['mean'], 3)} {_ci(p['violations_per_episode']['ci95'])}",
                         f"{_f(v['violations_per_episode']['mean'], 3)} {_ci(v['violations_per_episode']['ci95'])}",
                         f"{_f(s['delta_violations']['mean'], 3)} {_ci(s['delta_violations']['ci95'])}",
                         f"{_pct(p['any_violation']['rate'])} → {_pct(v['any_violation']['rate'])}",
                         f"{_pct(p['success']['rate'])} {_ci(p['success']['ci95'], True)}",
                         f"{_pct(v['success']['rate'])} {_ci(v['success']['ci95'], True)}",
                         f"{_f(s['delta_success']['mean'], 2)} {_ci(s['delta_success']['ci95'])}",
                         f"{v['veto']['wm_veto']}/{v['veto']['wm_checked']}"])  # fmt: skip
        parts.append(markdown_table(["condition", "episodes / arm", "violation steps / ep (policy)", "(policy + veto)",
                          "Δ paired", "episodes with a violation", "success (policy)", "success (policy + veto)",
                          "Δ success", "chunks vetoed"], rows))  # fmt: skip
    return "\n\n".join(parts) + "\n"


def write_experiment_report(results: dict[str, Any], out: Path) -> Path:
    """Write ``report.html`` and the charts as ``figures/*.svg``; return the report path."""
    parts, charts = [], {}
    html, c = error_section(results)
    parts.append(html)
    charts.update(c)
    html, c = correlation_section(results)
    parts.append(html)
    for m in results["models"]:
        corr = m["failure_correlation"]
        charts[f"error-vs-failure-{m['kind']}"] = strip_chart(
            f"error-vs-failure-{m['kind']}", f"{m['kind']}: episode one-step error (ρ = {_f(corr['spearman'], 2)})",
            corr.get("errors", []), corr.get("failed", []), ["success", "failure"], x_label="mean one-step error",
        )  # fmt: skip
    parts.append(plots([v for k, v in charts.items() if k.startswith("error-vs-failure")]))
    parts.append(axis_correlation_section(results))
    parts += [
        scores_section(results),
        frames_section(results, out),
        reward_section(results),
        cem_section(results),
    ]
    html, c = veto_section(results.get("veto"))
    parts.append(html)
    charts.update(c)
    html, c = replan_section(results.get("replan"))
    parts.append(html)
    charts.update(c)
    for name, svg in charts.items():
        (out / "figures" / f"{name}.svg").write_text(svg)
    intro = (
        f"<p class='muted'>Preset {escape(results['spec']['name'])}; {len(results['conditions'])} conditions of "
        f"{escape(results['spec']['probe']['suite'])}; wall time {results['wall_seconds']:.0f} s.</p>"
    )
    (out / "summary.md").write_text(markdown_summary(results))
    path = out / "report.html"
    path.write_text(html_page("hivla world-model experiment", [intro, *parts]), encoding="utf-8")
    return path
