"""Interactive expert relabelling (DAgger): rounds of policy rollouts labelled by the scripted expert,
retraining and evaluation.

Examples:

    hivla dagger --data data/mixed_floating,data/mixed_arm6 --embodiments floating arm6 --out runs/dagger
    hivla dagger --data D --init runs/low --rounds 3 --episodes 200 --beta 0.5 --steps 2000 --out runs/dagger
    hivla dagger --data D --init runs/low --out runs/dagger --resume      # after a kill: continues the phase
    hivla dagger --data D --init runs/low --out runs/dagger --workers 32 --backend ray --address auto

The run directory gets ``round_0/`` (the policy trained on ``--data``, or ``--init``), ``round_k/``
(``data_<embodiment>/``: relabelled episodes in the dataset layout, ``hivla/source = dagger-k``;
``policy/``; ``eval_<embodiment>/``), ``dagger.json`` (the state), ``summary.md`` and
``success_by_round.svg``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Config:
    """Run DAgger rounds: roll out, relabel with the expert, retrain, evaluate."""

    data: str
    """The expert datasets round 0 trains on, comma-separated (e.g. one per embodiment)."""
    out: Path = Path("runs/dagger")
    preset: str = "standard"
    """Training preset of every round (the standard preset: the subtask-conditioned low level)."""
    init: str = ""
    """The round-0 policy (a run directory); empty: train it here on --data."""
    rounds: int = 2
    """Relabelling rounds after round 0."""
    episodes: int = 100
    """Relabelled rollouts per round and embodiment."""
    embodiments: tuple[str, ...] = ("floating",)
    suite: str = "tabletop-mixed"
    """Suite the rollouts are collected on (training seeds no earlier round used)."""
    beta: float = 0.5
    """Round 1's probability that the expert drives a chunk window (mixed rollouts); 0: the policy alone."""
    beta_decay: float = 0.5
    """beta of round k = beta * beta_decay^(k-1)."""
    steps: int = 0
    """Training steps of each round >= 1 (0: the preset's)."""
    round0_steps: int = 0
    """Training steps of round 0 when it is trained here (0: the preset's)."""
    lr: float = 0.0
    """Peak learning rate of the rounds (0: the preset's)."""
    scratch: bool = False
    """Train each round's policy from scratch instead of fine-tuning the previous round's."""
    eval_episodes: int = 20
    """Held-out episodes per embodiment and round (the same seeds every round; 0: no evaluation)."""
    eval_suite: str = "tabletop-mixed"
    workers: int = 2
    """Rollouts and evaluation episodes run at once (worker processes, or Ray tasks in flight)."""
    backend: str = "local"
    """Where the rollouts and evaluations run: local (this machine's processes) | ray (tasks on a Ray cluster; needs
    pip install -e '.[ray]'; docs/scaling.md)."""
    address: str | None = None
    """Ray cluster to use with --backend ray: auto (the cluster this machine belongs to) or
    ray://HOST:PORT (Ray Client); default: start Ray on this machine."""
    threads: int = 0
    """Torch threads for training (0: all cores)."""
    image_size: int = 64
    """Camera size of the rollouts (the expert data's)."""
    resume: bool = False
    """Continue the run in --out where it stopped (a round's collection and training resume exactly)."""


def run(cfg: Config, quiet: bool = False) -> dict:
    from hivla.training.dagger import DaggerConfig, DaggerRun

    dcfg = DaggerConfig(**{k: getattr(cfg, k) for k in DaggerConfig.__dataclass_fields__})
    result = DaggerRun(dcfg, say=(lambda _: None) if quiet else print, quiet=quiet).run()
    if not quiet:
        print(f"summary: {result['summary']}\nplot:    {result['plot']}")
    return result
