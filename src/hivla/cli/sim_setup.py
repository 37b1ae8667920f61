"""Set up an external benchmark in its own interpreter (a venv the env worker runs in).

Examples:
  hivla sim setup metaworld                      # venv in $HIVLA_HOME/venvs/metaworld, pip install, check
  hivla sim setup libero --venv /opt/venvs/libero
  hivla sim setup metaworld --venv /work/venvs/metaworld --no-install   # record an existing venv
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass(frozen=True)
class Config:
    """Create a venv with the benchmark's pinned packages (pip, network), check that its env worker
    resets an episode, and record the interpreter so that its suites run there."""

    benchmark: tyro.conf.Positional[str]
    """metaworld | libero."""
    venv: Path | None = None
    """Where the venv goes (default: $HIVLA_HOME/venvs/<benchmark>, HIVLA_HOME defaulting to ~/.cache/hivla)."""
    install: bool = True
    """False: only check and record an existing venv."""


def run(cfg: Config, quiet: bool = False) -> dict:
    from hivla.sim.adapters.worker import hivla_home, setup_benchmark, setup_record

    venv = cfg.venv or hivla_home() / "venvs" / cfg.benchmark
    python, versions = setup_benchmark(cfg.benchmark, venv, install=cfg.install)
    if not quiet:
        print(f"{cfg.benchmark}: env worker {python} ({versions}); recorded in {setup_record()}")
    return {"benchmark": cfg.benchmark, "python": python, "versions": versions, "record": str(setup_record())}
