"""Where an experiment that records, trains and evaluates runs its work: the options its command
shares with every such experiment (inherited by the command's ``Config``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ExperimentRunOptions:
    """Workers, threads and the pool backend of an experiment's recordings, trainings and evaluations."""

    workers: int = 1
    """Evaluation episodes run at once: worker processes (or Ray tasks)."""
    collect_workers: int = 1
    """Recording worker processes (or Ray tasks in flight)."""
    threads: int = 1
    """Torch threads of every training (the trainings run one at a time; 0: the machine's cores)."""
    backend: str = "local"
    """Where the evaluations and the recordings run: local (this machine's processes) | ray (tasks on a Ray
    cluster; needs pip install -e '.[ray]'; docs/scaling.md)."""
    address: str | None = None
    """Ray cluster to use with --backend ray: auto or ray://HOST:PORT; default: start Ray on this machine."""

    def run_options(self) -> dict[str, Any]:
        """These options as keyword arguments of the experiment's own config (``RunOptions``)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(ExperimentRunOptions)}


def with_size_overrides(sizes: Any, cfg: Any, names: Iterable[str]) -> Any:
    """The preset's ``sizes`` with each of ``names`` the command ``cfg`` sets (zero / empty keeps the preset's)."""
    return dataclasses.replace(sizes, **{k: getattr(cfg, k) for k in names if getattr(cfg, k)})
