"""Re-render a recorded dataset under new looks (lighting, table, colours, camera jitter, distractors).

Example: hivla data synthesize data/mixed --out data/mixed_synth --variations 2 --workers 2
then train on both: hivla train --preset standard --data data/mixed,data/mixed_synth
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass(frozen=True)
class Config:
    """Render every episode of DATASET again under sampled visual variations from the training pools
    (never the evaluation shift levels; see docs/robustness.md) and write them as a new dataset with
    the same actions, states and annotations. The dataset must have been recorded by `hivla collect`
    or `hivla dagger` with the simulator positions (`sim.qpos`)."""

    source: tyro.conf.Positional[Path]
    """Recorded dataset to re-render."""
    out: Path
    """New dataset directory (created) holding only the re-rendered episodes."""
    variations: int = 2
    """New looks per source episode."""
    workers: int = 1
    """Worker processes, each with its own simulator and renderer."""
    seed: int = 0
    """Seed of the looks (each episode and variation draws from its own stream)."""
    episodes: int | None = None
    """Re-render only the first N source episodes (default: all)."""
    distractors: bool = True
    """Add 0-2 look-only objects that no subtask mentions, clear of the objects and hand."""
    resume: bool = False
    """Continue a killed run in --out."""


def run(cfg: Config, quiet: bool = False) -> dict:
    from hivla.data.meta import DatasetMeta
    from hivla.data.synthesis import SynthesizeConfig, synthesize
    from hivla.utils.progress import JobProgress, format_seconds

    scfg = SynthesizeConfig(
        source=cfg.source, out=cfg.out, variations=cfg.variations, workers=cfg.workers, seed=cfg.seed,
        episodes=cfg.episodes, distractors=cfg.distractors, resume=cfg.resume,
    )  # fmt: skip
    n_source = len(DatasetMeta.load(cfg.source).episodes)
    total = min(n_source, cfg.episodes or n_source) * cfg.variations
    with JobProgress(f"synthesize {cfg.source}", total, "episodes", quiet=quiet) as progress:
        first = True

        def update(done: int, _total: int) -> None:
            nonlocal first
            if first and cfg.resume:
                progress.begin_at(max(done - 1, 0))
            first = False
            progress.update(done)

        out = synthesize(scfg, on_progress=update)
    if not quiet:
        print(
            f"{out['episodes']} episodes ({out['new_episodes']} new, {out['frames']} frames, "
            f"{out['bytes'] / 1e6:.1f} MB) in {out['out']}; "
            f"{format_seconds(out['seconds'])} ({out['seconds_per_episode']:.2f} s per episode)"
        )
    return out
