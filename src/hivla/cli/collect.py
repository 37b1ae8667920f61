"""Record scripted-expert episodes into a dataset (LeRobot v3 layout + hivla annotations).

Examples:

    hivla collect --suite tabletop-mixed --embodiment arm6 --episodes 200 --workers 2 --out data/mixed
    hivla collect --suite tabletop-mixed --episodes 5000 --workers 64 --backend ray --address auto --out data/big
    hivla collect --embodiment hand --video-only --episodes 200 --out data/hand_video   # no actions
    hivla collect --sensors depth,contact --episodes 50 --out data/rgbd   # + depth (mm) and touch
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Config:
    """Record N successful expert episodes; failed ones are dropped and counted. Each episode is
    committed atomically, so a killed run leaves only whole episodes; --resume continues it."""

    out: Path
    """Dataset directory (created)."""
    suite: str = "tabletop-single"
    """Suite name (see `hivla sim list`)."""
    embodiment: str = "floating"
    """Embodiment name: arm6 | arm5 | floating | hand (the human-hand stand-in) | panda | ur5 | mobile (a wheeled
    base; the only one for tabletop-mobile); see `hivla sim list`."""
    episodes: int = 10
    """Successful episodes wanted in total (with --resume, including those already recorded)."""
    workers: int = 1
    """Episodes recorded at once: worker processes (or Ray tasks in flight with --backend ray), each
    with its own simulator. Episodes are committed in seed order, so the dataset does not depend on it."""
    backend: str = "local"
    """Where the episodes run: local (this machine's processes) | ray (tasks on a Ray cluster; needs
    pip install -e '.[ray]'; docs/scaling.md)."""
    address: str | None = None
    """Ray cluster to use with --backend ray: auto (the cluster this machine belongs to) or
    ray://HOST:PORT (Ray Client); default: start Ray on this machine."""
    shift: tuple[str, ...] = ()
    """Distribution shifts as axis=level, e.g. --shift lighting=2 camera=1."""
    resume: bool = False
    """Continue a run in --out (killed or finished) up to --episodes."""
    image_size: int = 128
    codec: str = "libx264"
    """Video encoder (PyAV/FFmpeg name): libx264 | h264 | libsvtav1 | ..."""
    crf: int = 20
    """Video quality (constant rate factor; lower is better, 0 lossless for libx264)."""
    max_steps: int | None = None
    """Step limit per episode (default: the env's, 90 per subtask)."""
    max_failures: int = 100
    """Give up after this many failed episodes in one run."""
    action_noise: float = 0.0
    """Drift the executed hand motion by noise of this scale (metres per step) while recording the
    expert's clean actions (DART), so the data shows recoveries; 0: none."""
    video_only: bool = False
    """Record videos without actions (absent, not zero), state or simulator annotations, as videos of
    people are: for latent actions (`hivla latent train`), refused by `hivla train`."""
    sensors: str = ""
    """Optional sensors to record, comma-separated: depth (per camera, uint16 millimetres, lossless to
    0.5 mm, with the camera pose) and contact (finger forces, touch flags, hand wrench); see
    `hivla sim list` and docs/sensing.md. Default: none (RGB only)."""


def run(cfg: Config, quiet: bool = False) -> dict:
    from hivla.data.recorder import CollectConfig, collect
    from hivla.data.video import VideoConfig
    from hivla.sim import parse_sensors
    from hivla.utils.progress import JobProgress

    ccfg = CollectConfig(
        out=cfg.out, suite=cfg.suite, embodiment=cfg.embodiment, episodes=cfg.episodes,
        workers=cfg.workers, shifts=cfg.shift, image_size=cfg.image_size, resume=cfg.resume,
        max_steps=cfg.max_steps, max_failures=cfg.max_failures, video=VideoConfig(cfg.codec, cfg.crf),
        action_noise=cfg.action_noise, video_only=cfg.video_only, backend=cfg.backend, address=cfg.address,
        sensors=parse_sensors(cfg.sensors),
    )  # fmt: skip
    name = f"collect {cfg.suite}/{cfg.embodiment}"
    with JobProgress(name, cfg.episodes, "episodes", quiet=quiet, dropped=0) as progress:
        first = True

        def update(kept: int, dropped: int) -> None:
            nonlocal first
            if first and cfg.resume:  # episodes of the earlier run are not part of this run's rate
                progress.begin_at(max(kept - 1, 0))
            first = False
            progress.update(kept, dropped=dropped)

        out = collect(ccfg, on_progress=update)
    if not quiet:
        print(
            f"{out['episodes']} {'video-only ' if cfg.video_only else ''}episodes ({out['new_episodes']} new, "
            f"{out['frames']} frames) in {out['out']}; "
            f"dropped {out['dropped']} failed expert episodes"
        )
    return out
