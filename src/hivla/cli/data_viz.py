"""Write one episode as an mp4 with the instruction, subtask and reasoning text overlaid."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass(frozen=True)
class Config:
    """Render an episode's cameras side by side with its annotations underneath."""

    root: tyro.conf.Positional[Path]
    """Dataset directory."""
    episode: int = 0
    out: Path = Path("episode.mp4")
    scale: int = 2
    """Upscale factor for the camera images."""

    def __post_init__(self) -> None:
        if self.scale < 1 or self.episode < 0:
            raise ValueError(f"scale must be >= 1 and episode >= 0, got {self.scale}, {self.episode}")


def run(cfg: Config, quiet: bool = False) -> dict:
    from hivla.data.viz import write_episode_video

    path = write_episode_video(cfg.root, cfg.episode, cfg.out, cfg.scale)
    if not quiet:
        print(f"wrote {path}")
    return {"video": str(path)}
