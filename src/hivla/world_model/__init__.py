"""World dynamics models: action-conditioned predictors over an image + state encoder.

    from hivla.world_model import load_world_model
    wm = load_world_model("runs/wm")                  # a `hivla train-world-model` run
    z = wm.encode(obs)                                # float[B, D + S]
    zs = wm.rollout(z, chunk)                         # float[B, H, D + S] after each action
    zs, events = wm.imagine_events(z, chunk)          # + event probabilities float[B, H, E]

Two kinds share one interface (``WORLD_MODELS``): ``latent`` (decodes pixels) and ``jepa`` (EMA
target encoder, no pixel loss). Uses: outcome prediction (:mod:`.outcome`), a safety veto around
any policy (:mod:`.safety`), an implicit reward (:mod:`.reward`) and CEM planning (:mod:`.planning`).
"""

from hivla.world_model import jepa, latent  # noqa: F401  (register the kinds)
from hivla.world_model.checkpoint import load_world_model, save_world_model
from hivla.world_model.config import (
    MODEL_KINDS,
    WM_PRESETS,
    CollectSpec,
    WMDataConfig,
    WMExperimentConfig,
    WorldModelConfig,
    get_wm_preset,
)
from hivla.world_model.data import EpisodeArrays, WindowDataset
from hivla.world_model.events import EVENT_NAMES, VIOLATIONS
from hivla.world_model.jepa import JEPAWorldModel
from hivla.world_model.latent import LatentWorldModel
from hivla.world_model.model import WORLD_MODELS, WorldModel

__all__ = [
    "EVENT_NAMES",
    "MODEL_KINDS",
    "VIOLATIONS",
    "WM_PRESETS",
    "WORLD_MODELS",
    "CollectSpec",
    "EpisodeArrays",
    "JEPAWorldModel",
    "LatentWorldModel",
    "WMDataConfig",
    "WMExperimentConfig",
    "WindowDataset",
    "WorldModel",
    "WorldModelConfig",
    "get_wm_preset",
    "load_world_model",
    "save_world_model",
]
