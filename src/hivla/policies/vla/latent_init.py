"""Weights of a VLA pretrained on latent actions (LAPA, Ye et al. 2024), and how a new policy starts
from them.

``hivla latent pretrain`` trains the VLA's encoders and backbone to predict latent action codes from
images and instruction (``hivla.latent_actions.pretrain``) and writes checkpoint directories:

    latent_vla.json      {"format": "hivla.latent_vla", "format_version", "config": VLAConfig,
                          "tokens", "codebook_size", ...}
    model.safetensors    ``vla.<VLAModel weight>`` and ``latent_head.<weight>``

:func:`init_from_latent` copies the ``vla.*`` weights, except the action head's, into a new
:class:`VLAPolicy` (``hivla train --init-latent``); its action head starts new.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from hivla.checkpoints import CheckpointFormat, load_weights
from hivla.errors import HivlaError

LATENT_VLA_FORMAT = CheckpointFormat(
    "hivla.latent_vla", 1, "latent_vla.json", "latent-pretrained VLA checkpoint", "`hivla latent pretrain`"
)
WEIGHTS_FILE = "model.safetensors"
VLA_PREFIX = "vla."
NEW_AT_FINE_TUNING = ("head.",)  # the action head is learned with actions


class LatentInitError(HivlaError, ValueError):
    """Latent-pretrained weights that do not fit the policy being trained."""


def resolve_latent_pretrained(path: str | Path) -> Path:
    """A latent-pretrained checkpoint, or the latest one of a ``hivla latent pretrain`` run."""
    return LATENT_VLA_FORMAT.resolve(path, "`hivla latent pretrain`")


def init_from_latent(policy: torch.nn.Module, path: str | Path) -> dict[str, Any]:
    """Copy the pretrained encoder and backbone weights of ``path`` into ``policy`` (a VLAPolicy,
    whose ``model`` is a ``VLAModel``); the action head (and whatever the pretraining did not have,
    e.g. an embodiment embedding) keeps its new initialization. Raises :class:`LatentInitError` when
    a pretrained weight has another shape in the policy (another architecture) or the backbone is
    not covered. Returns what was loaded."""
    ckpt = resolve_latent_pretrained(path)
    LATENT_VLA_FORMAT.read_meta(ckpt)
    pretrained = {
        k.removeprefix(VLA_PREFIX): v
        for k, v in load_weights(ckpt / WEIGHTS_FILE).items()
        if k.startswith(VLA_PREFIX) and not k.removeprefix(VLA_PREFIX).startswith(NEW_AT_FINE_TUNING)
    }
    own = policy.model.state_dict()
    wrong = [k for k, v in pretrained.items() if k in own and tuple(own[k].shape) != tuple(v.shape)]
    missing_backbone = [k for k in own if k.startswith("backbone.") and k not in pretrained]
    if wrong or missing_backbone:
        raise LatentInitError(
            f"{ckpt}: the latent-pretrained weights do not fit this policy (shapes differ for {wrong[:4]}, "
            f"backbone weights missing: {missing_backbone[:4]}); pretrain and fine-tune with the same "
            "preset, cameras and language (`hivla latent pretrain --preset P` then `hivla train --preset P`)"
        )
    loaded = {k: v for k, v in pretrained.items() if k in own}
    policy.model.load_state_dict(loaded, strict=False)
    return {"init_latent": str(ckpt), "loaded_tensors": len(loaded), "new_tensors": len(own) - len(loaded)}
