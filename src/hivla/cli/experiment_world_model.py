"""World-model validation on a policy's rollouts: prediction error per shift axis and level, error vs
task failure (Spearman and Pearson per shift axis), imagined events and outcomes, real vs imagined
frames, the implicit reward, the safety veto on a stochastic policy, and world-model-triggered
replanning in a hierarchical policy.

Examples::

    hivla experiment world-model --runs runs/wm --policy runs/vla-flow --out runs/wm-experiment
    hivla experiment world-model --runs runs/wm \
        --policy hierarchical:low=runs/vla-l1,planner=oracle,monitor=oracle \
        --veto-policy hierarchical:low=runs/vla-flow,planner=oracle,monitor=oracle \
        --hierarchical hierarchical:low=runs/vla-flow,planner=oracle,monitor=oracle --out runs/wm-experiment
    hivla experiment world-model --runs runs/wm-jepa --policy faulty-expert --preset debug --out /tmp/wm-exp

``--policy faulty-expert`` is the scripted expert with injected faults (it acts on privileged state).
The veto needs a policy whose chunks change when asked again (a flow or diffusion head); a
deterministic one (l1, bins, fast, the scripted expert) is refused: pass --no-veto or another
--veto-policy. Writes ``results.json``, ``summary.md``, ``report.html`` (self-contained) and
``figures/`` into ``--out``; rollouts are kept under ``--out/cache`` and a rerun reuses them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Config:
    """Run the world-model experiment on trained world models (`hivla train-world-model` runs)."""

    runs: tuple[str, ...] = ()
    """World-model run (or checkpoint) directories to evaluate, e.g. one latent and one JEPA model."""
    policy: str = ""
    """Policy whose held-out rollouts feed the error/failure correlation: a trained VLA run directory,
    expert, hierarchical:..., or faulty-expert (the scripted expert with injected faults)."""
    veto_policy: str = ""
    """Policy evaluated with and without the veto (default: --policy); needs a flow or diffusion head."""
    hierarchical: str = ""
    """A hierarchical:... spec evaluated with and without world-model-triggered replanning (empty: skip)."""
    suite: str = ""
    """Override the suite of every part (probe, veto, replanning), e.g. tabletop-single."""
    axes: tuple[str, ...] = ()
    """Override the probed shift axes (`hivla sim list`), e.g. lighting table camera object_colour."""
    levels: tuple[int, ...] = ()
    """Override the probed shift levels (1..3)."""
    replan_episodes: int = 0
    """Override the replanning evaluation's episodes per condition and arm."""
    wm_threshold: float = 0.0
    """Override the replan trigger's threshold (predicted subtask success below it triggers)."""
    wm_patience: int = 0
    """Override how many chunks in a row the prediction must stay below the threshold."""
    wm_calibration_episodes: int = -1
    """Choose the replan trigger's threshold on this many in-distribution held-out episodes after the
    evaluated ones (the threshold that best separates failed from successful subtask attempts;
    overrides --wm-threshold); 0: use the threshold as given; -1: the preset's."""
    preset: str = "quick"
    """Experiment size: debug (seconds), quick (minutes on 2 CPU cores), default (a workstation)."""
    out: str = "runs/wm-experiment"
    """Output directory (results.json, report.html, figures/)."""
    veto_run: str = ""
    """World model used by the safety veto (default: the first of --runs); it needs violation labels
    (fault-injecting expert rollouts), which `hivla collect` data lacks."""
    replan_run: str = ""
    """World model used by the replan trigger (default: the first of --runs)."""
    veto: bool = True
    """Run the with/without-veto evaluation (--no-veto skips it)."""
    episodes: int = 0
    """Override the held-out episodes per shift condition."""
    veto_episodes: int = 0
    """Override the veto evaluation's episodes per condition and arm."""
    veto_events: tuple[str, ...] = ()
    """Override the events the veto guards against (default: all violations). A world model trained on
    `hivla collect` data knows only object_out (and subtask_done): pass --veto-events object_out."""
    threshold: float = 0.0
    """Override the veto threshold (probability of a violation within the executed steps)."""
    workers: int = 0
    """Override the rollouts run at once (worker processes, or Ray tasks in flight)."""
    backend: str = "local"
    """Where the rollouts run: local (this machine's processes) | ray (tasks on a Ray cluster; needs
    pip install -e '.[ray]'; docs/scaling.md)."""
    address: str | None = None
    """Ray cluster to use with --backend ray: auto (the cluster this machine belongs to) or
    ray://HOST:PORT (Ray Client); default: start Ray on this machine."""

    def __post_init__(self) -> None:
        from hivla.experiments.world_model_validation.config import EXPERIMENT_PRESETS

        EXPERIMENT_PRESETS.get(self.preset)
        if not self.runs:
            raise ValueError(
                "pass --runs RUN [RUN ...]: trained world models (`hivla train-world-model --out RUN`)"
            )
        if not self.policy:
            raise ValueError(
                "pass --policy: the policy whose rollouts are probed (a trained VLA run directory, expert, "
                "hierarchical:..., or faulty-expert for the scripted expert with injected faults)"
            )
        if min(self.replan_episodes, self.wm_patience) < 0 or not 0.0 <= self.wm_threshold < 1.0:
            raise ValueError("replan_episodes and wm_patience must be >= 0 and wm_threshold within [0, 1)")
        if self.wm_calibration_episodes < -1:
            raise ValueError(
                f"wm_calibration_episodes must be >= 0 (or -1: the preset's), got {self.wm_calibration_episodes}"
            )

        from hivla.utils.pool import check_backend

        check_backend(self.backend, self.address)
        if min(self.episodes, self.veto_episodes, self.workers) < 0 or not 0.0 <= self.threshold < 1.0:
            raise ValueError("episodes, veto_episodes and workers must be >= 0 and threshold within [0, 1)")


def spec(cfg: Config) -> Any:
    """The preset with the command-line overrides applied."""
    from hivla.experiments.world_model_validation.config import EXPERIMENT_PRESETS

    s = EXPERIMENT_PRESETS.get(cfg.preset)
    probe = dataclasses.replace(s.probe, policy=cfg.policy)
    veto = dataclasses.replace(s.veto, policy=cfg.veto_policy or cfg.policy)
    replan = dataclasses.replace(s.replan, policy=cfg.hierarchical)
    if cfg.suite:
        probe = dataclasses.replace(probe, suite=cfg.suite)
        veto = dataclasses.replace(veto, suite=cfg.suite)
        replan = dataclasses.replace(replan, suite=cfg.suite)
    if cfg.axes:
        probe = dataclasses.replace(probe, axes=tuple(cfg.axes))
    if cfg.levels:
        probe = dataclasses.replace(probe, levels=tuple(cfg.levels))
    if cfg.replan_episodes:
        replan = dataclasses.replace(replan, episodes=cfg.replan_episodes)
    if cfg.wm_threshold:
        replan = dataclasses.replace(replan, threshold=cfg.wm_threshold)
    if cfg.wm_patience:
        replan = dataclasses.replace(replan, patience=cfg.wm_patience)
    if cfg.wm_calibration_episodes >= 0:
        replan = dataclasses.replace(replan, calibration_episodes=cfg.wm_calibration_episodes)
    if cfg.episodes:
        probe = dataclasses.replace(probe, episodes=cfg.episodes)
    if cfg.veto_episodes:
        veto = dataclasses.replace(veto, episodes=cfg.veto_episodes)
    if cfg.threshold:
        veto = dataclasses.replace(veto, veto=dataclasses.replace(veto.veto, threshold=cfg.threshold))
    if cfg.veto_events:
        veto = dataclasses.replace(veto, veto=dataclasses.replace(veto.veto, events=tuple(cfg.veto_events)))
    if cfg.workers:
        probe = dataclasses.replace(probe, workers=cfg.workers)
        veto = dataclasses.replace(veto, workers=cfg.workers)
        replan = dataclasses.replace(replan, workers=cfg.workers)
    probe = dataclasses.replace(probe, backend=cfg.backend, address=cfg.address)
    veto = dataclasses.replace(veto, backend=cfg.backend, address=cfg.address)
    replan = dataclasses.replace(replan, backend=cfg.backend, address=cfg.address)
    return dataclasses.replace(s, probe=probe, veto=veto, replan=replan, run_veto=cfg.veto)


def run(cfg: Config, quiet: bool = False) -> dict[str, Any]:
    from hivla.experiments.world_model_validation.run import run_experiment

    results = run_experiment(
        list(cfg.runs), spec(cfg), cfg.out, veto_run=cfg.veto_run or None, quiet=quiet,
        replan_run=cfg.replan_run or None,
    )  # fmt: skip
    return {
        "out": cfg.out,
        "report": f"{cfg.out}/report.html",
        "policy": results["policy"],
        "failure_correlation": {m["name"]: m["failure_correlation"]["spearman"] for m in results["models"]},
        "veto": None if results["veto"] is None else {
            k: {a: v[a]["violations_per_episode"]["mean"] for a in ("policy", "policy+veto")}
            for k, v in results["veto"]["summary"].items()
        },
        "replan_success": None if results["replan"] is None else {
            k: {a: v[a]["success"]["rate"] for a in v if a.startswith("hierarchical")}
            for k, v in results["replan"]["summary"].items()
        },
        "wall_seconds": results["wall_seconds"],
    }  # fmt: skip
