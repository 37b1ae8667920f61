"""Roll out a policy on a benchmark suite and print success and progress by chain length.

Examples:
  hivla sim rollout --suite tabletop-mixed --embodiment arm6 --episodes 50 --workers 2
  hivla sim rollout --suite metaworld-mt10 --embodiment sawyer --episodes 100   # success per task
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Config:
    """Roll out a policy (the scripted expert, or random) on a suite's held-out seeds."""

    suite: str = "tabletop-mixed"
    """Suite name (see `hivla sim list`)."""
    embodiment: str = "floating"
    """Embodiment name: arm6 | arm5 | floating | hand | panda, ur5 (need hivla[robots]); an external suite's robot (e.g. sawyer) for its suites."""
    policy: str = "expert"
    """expert (an external suite: its benchmark's scripted policy) | random."""
    episodes: int = 20
    workers: int = 1
    """Worker processes, each with its own simulator."""
    shift: tuple[str, ...] = ()
    """Distribution shifts as axis=level, e.g. --shift lighting=2 camera=1."""
    split: str = "heldout"
    """Seed list: heldout | train."""
    video: Path | None = None
    """Write the first few episodes (both cameras side by side) to this mp4."""
    video_episodes: int = 3
    image_size: int = 128


def run(cfg: Config, quiet: bool = False) -> dict:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from hivla.evaluation.reference import RolloutConfig, iter_rollouts, summarize

    rcfg = RolloutConfig(
        suite=cfg.suite, embodiment=cfg.embodiment, policy=cfg.policy, episodes=cfg.episodes,
        workers=cfg.workers, shifts=cfg.shift, split=cfg.split, image_size=cfg.image_size,
    )  # fmt: skip
    keep = cfg.video_episodes if cfg.video else 0
    results = []
    with Progress(disable=quiet, transient=True) as progress:
        task = progress.add_task(f"{cfg.policy} on {cfg.suite} / {cfg.embodiment}", total=cfg.episodes)
        for r in iter_rollouts(rcfg, keep_frames=keep):
            results.append(r)
            progress.advance(task)
    summary = summarize(results)
    out = {"config": {k: str(v) for k, v in vars(cfg).items()}, **summary}
    if cfg.video:
        from hivla.utils.video import write_mp4

        frames = [f for r in results if r.frames for f in r.frames]
        out["video"] = str(write_mp4(frames, cfg.video, fps=10))
    if not quiet:
        table = Table(title=f"{cfg.policy} on {cfg.suite} ({cfg.embodiment}), {cfg.episodes} episodes")
        for col in ("chain length", "episodes", "success", "95% CI", "progress"):
            table.add_column(col)
        rows = [*summary["by_chain_length"].items(), ("all", summary["overall"])]
        for name, b in rows:
            lo, hi = b["success_ci95"]
            table.add_row(
                name,
                str(b["episodes"]),
                f"{b['success']:.1%}",
                f"[{lo:.1%}, {hi:.1%}]",
                f"{b['progress']:.2f}",
            )
        Console().print(table)
        if summary["by_task"] and len(summary["by_task"]) > 1:
            tasks = Table(title="by task")
            for col in ("task", "episodes", "success", "95% CI"):
                tasks.add_column(col)
            for name, b in summary["by_task"].items():
                lo, hi = b["success_ci95"]
                tasks.add_row(name, str(b["episodes"]), f"{b['success']:.1%}", f"[{lo:.1%}, {hi:.1%}]")
            Console().print(tasks)
        if cfg.video:
            print(f"video: {out['video']}")
    return out
