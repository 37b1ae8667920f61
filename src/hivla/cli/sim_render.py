"""Write PNG frames of scenes and shift levels (front and wrist cameras side by side)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Config:
    """Render the first frame of a few seeds, nominal and under each shift axis at the given levels."""

    out: Path = Path("docs/images")
    suite: str = "tabletop-mixed"
    embodiment: str = "floating"
    seeds: tuple[int, ...] = (1_060_000, 1_060_001, 1_060_002)
    axes: tuple[str, ...] = ("lighting", "table", "camera", "object_colour", "distractors", "placement")
    levels: tuple[int, ...] = (1, 3)
    image_size: int = 160


def run(cfg: Config, quiet: bool = False) -> dict:
    import numpy as np

    from hivla.reporting.images import save_png
    from hivla.sim import make_env

    written: list[str] = []

    def frame(shifts: dict[str, int], seed: int, name: str) -> None:
        env = make_env(cfg.suite, cfg.embodiment, image_size=cfg.image_size, shifts=shifts)
        try:
            obs, _ = env.reset(seed=seed)
            image = np.concatenate([obs["images"]["front"], obs["images"]["wrist"]], axis=1)
            written.append(str(save_png(image, cfg.out / name)))
        finally:
            env.close()

    for seed in cfg.seeds:
        frame({}, seed, f"scene_{cfg.embodiment}_{seed}.png")
    for axis in cfg.axes:
        for level in cfg.levels:
            frame({axis: level}, cfg.seeds[0], f"shift_{axis}_{level}.png")
    if not quiet:
        print("\n".join(written))
    return {"written": written}
