"""The main job on the built-in default: collect -> train -> evaluate -> report.

1. collect expert demonstrations on the simulator (`hivla collect`),
2. train the `quick` preset VLA on them (`hivla train`),
3. evaluate it on held-out seeds of the suite (`hivla eval`),
4. write the HTML report and print where it is (`hivla report`).

On 2 CPU cores the defaults finish in about 15 minutes. Every stage can be rerun on its own with the
command in brackets; `--resume` skips stages whose outputs are complete.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Config:
    """Collect a quick dataset, train the quick preset, evaluate on held-out seeds, write the report."""

    out: Path = Path("runs/quickstart")
    """Everything goes here: data/, policy/, eval/ (results.json, report.html)."""
    suite: str = "tabletop-single"
    embodiment: str = "floating"
    episodes: int = 600
    """Expert episodes to collect."""
    eval_episodes: int = 50
    """Held-out episodes to evaluate."""
    steps: int = 0
    """Training steps (0: the quick preset's)."""
    preset: str = "quick"
    reasoning: bool = False
    """Train the policy to write a grounded reasoning trace before its actions (``hivla train --reasoning``)."""
    workers: int = 2
    image_size: int = 64
    resume: bool = False
    """Reuse the dataset and the trained policy already in --out."""

    def __post_init__(self) -> None:
        if min(self.episodes, self.eval_episodes, self.workers) < 1 or self.steps < 0:
            raise ValueError("episodes, eval_episodes and workers must be >= 1 and steps >= 0")


def run(cfg: Config, quiet: bool = False) -> dict:
    from hivla.cli import train as train_cli
    from hivla.data.recorder import CollectConfig, collect
    from hivla.evaluation import EvalConfig, evaluate, write_report

    timings: dict[str, float] = {}
    data, policy_dir, eval_dir = cfg.out / "data", cfg.out / "policy", cfg.out / "eval"

    def stage(name: str, fn):
        start = time.time()
        if not quiet:
            print(f"[{name}]")
        value = fn()
        timings[name] = round(time.time() - start, 1)
        return value

    stage("collect", lambda: collect(CollectConfig(
        out=data, suite=cfg.suite, embodiment=cfg.embodiment, episodes=cfg.episodes, workers=cfg.workers,
        image_size=cfg.image_size, resume=cfg.resume and data.exists())))  # fmt: skip
    trained = policy_dir / "checkpoints" / "latest"
    if not (cfg.resume and trained.exists()):
        stage("train", lambda: train_cli.run(
            train_cli.Config(preset=cfg.preset, data=str(data), out=str(policy_dir), steps=cfg.steps, eval_every=0,
                             reasoning=cfg.reasoning),
            quiet=quiet))  # fmt: skip
    results = stage("evaluate", lambda: evaluate(EvalConfig(
        policy=str(policy_dir), suite=cfg.suite, embodiment=cfg.embodiment, episodes=cfg.eval_episodes,
        workers=cfg.workers, image_size=cfg.image_size)))  # fmt: skip
    report = stage("report", lambda: write_report(results, eval_dir))
    overall = results.metrics["overall"]
    summary = {
        "config": {k: str(v) for k, v in asdict(cfg).items()},
        "success": overall["success"],
        "success_ci95": overall["success_ci95"],
        "by_chain_length": {k: v["success"] for k, v in results.metrics["by_chain_length"].items()},
        "seconds": timings,
        "total_seconds": round(sum(timings.values()), 1),
        "report": str(report),
    }
    (cfg.out / "quickstart.json").write_text(json.dumps(summary, indent=2))
    if not quiet:
        lo, hi = overall["success_ci95"]
        print(f"\nheld-out success on {cfg.suite} ({cfg.embodiment}): {overall['success']:.1%} "
              f"[{lo:.1%}, {hi:.1%}] over {cfg.eval_episodes} episodes")  # fmt: skip
        print(
            f"time: {summary['total_seconds']:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())})"
        )
        print(f"report: {report}")
    return summary
