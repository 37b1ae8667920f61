"""Episode records and evaluation results, saved as versioned JSON plus one mp4 per kept video."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_FORMAT = "hivla.eval"
RESULTS_VERSION = 1
RESULTS_FILE = "results.json"


@dataclass
class EpisodeRecord:
    """One evaluated episode. ``step_ms``/``query_ms`` and ``video`` stay in memory (not in JSON)."""

    condition: str
    seed: int
    instruction: str
    subtasks: list[str]
    task_kinds: list[str]
    chain_length: int
    completed: int
    success: bool
    progress: float
    steps: int
    failure: str | None = None
    failed_subtask: str | None = None
    safety_stop: bool = False
    interventions: dict[str, int] = field(default_factory=dict)
    queries: int = 0
    interjections: list[dict[str, Any]] = field(default_factory=list)  # step, text, plan before/after
    step_ms: list[float] = field(default_factory=list, repr=False)
    query_ms: list[float] = field(default_factory=list, repr=False)
    video: bytes | None = field(default=None, repr=False)
    video_path: str | None = None  # relative to the results directory, once saved

    @property
    def outcome(self) -> str:
        return "success" if self.success else (self.failure or "failure")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("step_ms", "query_ms", "video"):
            d.pop(key)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EpisodeRecord:
        return cls(**d)


def run_info(wall_seconds: float) -> dict[str, Any]:
    """Where and when the evaluation ran."""
    from hivla import __version__

    return {
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "hivla": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "wall_seconds": wall_seconds,
    }


@dataclass
class EvalResults:
    """Everything one evaluation produced. ``source`` is the directory it was loaded from."""

    config: dict[str, Any]
    policy: dict[str, Any]
    metrics: dict[str, Any]
    episodes: list[EpisodeRecord]
    info: dict[str, Any]
    source: Path | None = None

    @property
    def label(self) -> str:
        c = self.config
        shifts = f" [{', '.join(c['shifts'])}]" if c.get("shifts") else ""
        return f"{self.policy['name']} on {c['suite']} / {c['embodiment']}{shifts}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RESULTS_FORMAT,
            "version": RESULTS_VERSION,
            "config": self.config,
            "policy": self.policy,
            "info": self.info,
            "metrics": self.metrics,
            "episodes": [e.to_dict() for e in self.episodes],
        }

    def video_bytes(self, episode: EpisodeRecord) -> bytes | None:
        """The episode's mp4, from memory or from the saved file."""
        if episode.video is not None:
            return episode.video
        if episode.video_path and self.source is not None:
            path = self.source / episode.video_path
            return path.read_bytes() if path.is_file() else None
        return None

    def save(self, out_dir: str | Path) -> Path:
        """Write ``results.json`` and ``videos/*.mp4`` into ``out_dir``; returns the JSON path."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for ep in self.episodes:
            data = self.video_bytes(ep)
            if data is None:
                continue
            rel = f"videos/{ep.condition.replace('=', '').replace('+', '_')}_{ep.seed}_{ep.outcome}.mp4"
            (out / "videos").mkdir(exist_ok=True)
            (out / rel).write_bytes(data)
            ep.video_path = rel
        path = out / RESULTS_FILE
        path.write_text(json.dumps(self.to_dict(), indent=1))
        self.source = out
        return path

    @classmethod
    def load(cls, path: str | Path) -> EvalResults:
        """Load from a results directory (or its ``results.json``)."""
        path = Path(path)
        file = path / RESULTS_FILE if path.is_dir() else path
        if not file.is_file():
            raise FileNotFoundError(
                f"no evaluation results at {file}; expected a directory written by `hivla eval --out DIR` "
                f"(it holds {RESULTS_FILE})"
            )
        d = json.loads(file.read_text())
        if d.get("format") != RESULTS_FORMAT or d.get("version") != RESULTS_VERSION:
            raise ValueError(
                f"{file} is not {RESULTS_FORMAT} version {RESULTS_VERSION} results "
                f"(format={d.get('format')!r}, version={d.get('version')!r}); re-run `hivla eval` to regenerate it"
            )
        episodes = [EpisodeRecord.from_dict(e) for e in d["episodes"]]
        return cls(d["config"], d["policy"], d["metrics"], episodes, d["info"], source=file.parent)
