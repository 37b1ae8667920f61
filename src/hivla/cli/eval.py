"""Evaluate a policy on a benchmark suite: parallel rollouts on held-out seeds, metrics with 95%
Wilson intervals, failure categories, safety interventions, latency, and an HTML report with videos.

Examples:
  hivla eval --policy expert --suite tabletop-mixed --episodes 50 --workers 2
  hivla eval --policy runs/my-vla --suite tabletop-mixed --episodes 500 --workers 64 --backend ray --address auto
  hivla eval --policy runs/my-vla --suite tabletop-chain-3 --embodiment arm6 --shift lighting=2 camera=1
  hivla eval --policy runs/my-vla --suite tabletop-single --episodes 20 --shift all   # robustness table
  hivla eval --policy hierarchical:low=subtask-expert,planner=oracle,monitor=oracle --suite tabletop-chain-2
  hivla eval --policy hierarchical:low=runs/sub,planner=learned:runs/planner --interject 20:"open the drawer"
  hivla eval --remote ws://127.0.0.1:8000 --suite tabletop-single --episodes 20   # a `hivla serve` server
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Config:
    """Evaluate a policy (built-in name, run/checkpoint directory, or package.module:factory)."""

    policy: str = "expert"
    """Built-in (expert | random | subtask-expert), a run/checkpoint directory, package.module:factory, or
    hierarchical:low=RUN_OR_BUILTIN,planner=oracle|learned:DIR|llm:URL,monitor=oracle|DIR."""
    remote: str | None = None
    """Drive the simulator through a policy server (`hivla serve`) at ws://HOST:PORT instead of
    --policy; its API key, if it wants one, from the HIVLA_API_KEY environment variable."""
    suite: str = "tabletop-single"
    """Suite name (see `hivla sim list`)."""
    embodiment: str = "floating"
    """Embodiment name: arm6 | arm5 | floating | panda | ur5 | mobile (see `hivla sim list`)."""
    episodes: int = 20
    """Episodes per shift condition (seeds from the suite's list, in order)."""
    shift: tuple[str, ...] = ()
    """Distribution shifts as axis=level, e.g. --shift lighting=2 camera=1; `all` runs every axis at
    levels 1, 2 and 3 (one condition each), all=L every axis at level L; mixed with axis=level items,
    the union of the conditions (each once). The summary then gives each axis and level's success
    relative to the unshifted baseline, with a paired bootstrap 95% interval."""
    shift_mode: str = "each"
    """each: the unshifted baseline plus one condition per shift; combined: all shifts at once."""
    workers: int = 1
    """Episodes run at once: worker processes (or Ray tasks in flight with --backend ray), each with
    its own simulators and copy of the policy."""
    backend: str = "local"
    """Where the episodes run: local (this machine's processes) | ray (tasks on a Ray cluster; needs
    pip install -e '.[ray]'; docs/scaling.md)."""
    address: str | None = None
    """Ray cluster to use with --backend ray: auto (the cluster this machine belongs to) or
    ray://HOST:PORT (Ray Client); default: start Ray on this machine."""
    split: str = "heldout"
    """Seed list: heldout | train."""
    first_seed_index: int = 0
    """Start at this index of the seed list."""
    image_size: int | None = None
    """Camera size in px; default: the policy's training size, else 128."""
    execute_steps: int | None = None
    """Actions of each predicted chunk to execute before querying again; default: the policy's."""
    ensemble: float | None = None
    """Temporal ensembling (ACT) with weight m instead of open-loop chunks, e.g. 0.01."""
    videos: int = 2
    """Success videos and failure videos (each) to embed in the report; 0 for none."""
    max_steps: int | None = None
    """Step limit per episode; default 90 per subtask."""
    interject: tuple[str, ...] = ()
    """Human interjections STEP:TEXT given to the policy at that env step, e.g. 20:"open the drawer"
    (hierarchical policies replan). Success is still judged against the env's own task."""
    out: Path | None = None
    """Output directory (results.json, videos/, report.html); default eval/<policy>-<suite>-<embodiment>,
    or <run>/eval/<suite>-<embodiment> for a run directory."""


def default_out(cfg: Config) -> Path:
    if Path(cfg.policy).is_dir():
        return Path(cfg.policy) / "eval" / f"{cfg.suite}-{cfg.embodiment}"
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", cfg.policy).strip("_")
    return Path("eval") / f"{name}-{cfg.suite}-{cfg.embodiment}"


def run(cfg: Config, quiet: bool = False) -> dict:
    from hivla.evaluation import EvalConfig, SuccessTally, evaluate, write_report
    from hivla.policies import ActionSpaceError, InterjectionError, PolicyLoadError
    from hivla.registry import UnknownNameError
    from hivla.serving.client import RemoteError

    if cfg.remote is not None:
        if not cfg.remote.startswith(("ws://", "wss://")):
            raise SystemExit(f"hivla eval: --remote must be ws://HOST:PORT (or wss://), got {cfg.remote!r}")
        if cfg.policy != Config.policy:
            raise SystemExit(
                f"hivla eval: give either --policy ({cfg.policy}) or --remote ({cfg.remote}), not both: "
                "the server at --remote already serves its policy"
            )
        cfg = replace(cfg, policy=cfg.remote)
    try:
        ecfg = EvalConfig(
            policy=cfg.policy, suite=cfg.suite, embodiment=cfg.embodiment, episodes=cfg.episodes,
            shifts=cfg.shift, shift_mode=cfg.shift_mode, workers=cfg.workers, split=cfg.split,
            first_seed_index=cfg.first_seed_index, image_size=cfg.image_size,
            execute_steps=cfg.execute_steps, ensemble=cfg.ensemble, videos=cfg.videos, max_steps=cfg.max_steps,
            interjections=cfg.interject, backend=cfg.backend, address=cfg.address,
        )  # fmt: skip
    except (ValueError, UnknownNameError) as err:
        raise SystemExit(f"hivla eval: {err}") from None
    total = len(ecfg.conditions()) * ecfg.episodes
    try:
        from hivla.utils.progress import JobProgress

        name = f"eval {cfg.policy} on {cfg.suite} / {cfg.embodiment}"
        with JobProgress(name, total, "episodes", quiet=quiet, success="0/0") as progress:
            results = evaluate(ecfg, progress=SuccessTally(progress))
    except (ActionSpaceError, PolicyLoadError, InterjectionError, FileNotFoundError, RemoteError) as err:
        raise SystemExit(f"hivla eval: {err}") from None
    out = cfg.out or default_out(cfg)
    report = write_report(results, out)
    if not quiet:
        print_summary(results)
        print(f"results: {out / 'results.json'}\nreport:  {report}")
    return {
        "out": str(out),
        "results": str(out / "results.json"),
        "report": str(report),
        "policy": results.policy,
        "config": results.config,
        "metrics": results.metrics,
    }


def print_summary(results) -> None:
    """Tables of success by chain length and shift, failures and latency."""
    from rich.console import Console
    from rich.table import Table

    m = results.metrics
    console = Console()
    table = Table(title=f"{results.label}: {m['episodes']} episodes")
    for col in ("group", "episodes", "success", "95% CI", "progress"):
        table.add_column(col)
    groups = [(f"chain {k}", b) for k, b in m["by_chain_length"].items()]
    by_task = m.get("by_task") or {}  # results of older versions have none
    groups += [(f"task {k}", b) for k, b in by_task.items() if len(by_task) > 1]
    robust = m.get("robustness") or {}
    in_table = {f"{a}={lvl}" for a, levels in robust.get("axes", {}).items() for lvl in levels}
    groups += [
        (f"shift {k}", b) for k, b in m["by_shift"].items() if len(m["by_shift"]) > 1 and k not in in_table
    ]
    for name, b in [*groups, ("all", m["overall"])]:
        lo, hi = b["success_ci95"]
        table.add_row(
            name, str(b["episodes"]), f"{b['success']:.1%}", f"[{lo:.1%}, {hi:.1%}]", f"{b['progress']:.2f}"
        )
    console.print(table)
    if robust:
        console.print(robustness_table(robust))
    fails = ", ".join(f"{c} {r['count']}" for c, r in m["failures"].items() if r["count"])
    lat = m["latency"]
    console.print(f"avg completed length {m['calvin']['avg_len']:.2f}; failures: {fails or 'none'}")
    console.print(
        f"action latency median {lat['step_ms']['median']:.2f} ms, p95 {lat['step_ms']['p95']:.2f} ms; "
        f"safety interventions: {sum(k['count'] for k in m['safety']['by_kind'].values())} "
        f"over {m['safety']['steps']} steps"
    )


def robustness_table(robust: dict):
    """A rich table: shift axes (rows) x levels (columns), each cell the success ratio to the
    unshifted baseline with its 95% interval and the successes, e.g. ``0.83 [0.61, 1.05]  5/6``."""
    from rich.table import Table

    base = robust["baseline"]
    levels = sorted({int(lvl) for lv in robust["axes"].values() for lvl in lv})
    table = Table(
        title=f"Success relative to no shift (none: {base['successes']}/{base['episodes']})",
        caption=f"ratio [95% CI: {robust['method']}]  successes/episodes",
    )
    table.add_column("axis")
    for lvl in levels:
        table.add_column(f"level {lvl}")
    for axis, by_level in robust["axes"].items():
        cells = []
        for lvl in levels:
            b = by_level.get(str(lvl))
            if b is None:
                cells.append("–")
                continue
            ratio = "–" if b["ratio"] is None else f"{b['ratio']:.2f}"
            ci = "" if b["ratio_ci95"] is None else " [{:.2f}, {:.2f}]".format(*b["ratio_ci95"])
            cells.append(f"{ratio}{ci}  {b['successes']}/{b['episodes']}")
        table.add_row(axis, *cells)
    return table
