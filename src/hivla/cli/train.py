"""Train a VLA policy from a named preset (debug | quick | standard | default) on a recorded dataset.

Examples:

    hivla train --preset quick --data data/pick --out runs/pick
    hivla train --preset quick --data data/pick --out runs/pick --resume
    hivla train --preset quick --data data/mixed --out runs/low --language subtask --reasoning
    hivla train --preset debug --out runs/smoke               # no --data: synthetic frames
    hivla train --preset quick --data data/rgbd --sensors depth,contact --out runs/rgbd   # RGB-D + touch
    hivla train --preset quick --data data/rgbd --sensors depth --depth-encoder points --out runs/pc
    hivla train --preset standard --data data/mixed_floating,data/mixed_arm6 --out runs/std \
        --language subtask --action-space universal             # one policy, two embodiments
    hivla train --preset quick --data data/mixed,runs/dagger/round_1/data --init runs/low --out runs/ft
    hivla train --preset quick --data data/few --init-latent runs/latent-vla --out runs/lapa   # after latent pretraining
    hivla train --preset standard --data data/mixed --out runs/robust \
        --augment-colour 0.3 --camera-dropout 0.1 --paraphrase 0.5     # robustness augmentations
    hivla train --preset quick --data lerobot/ds --out runs/lr --action-space native \
        --cameras front --data-keys front=observation.images.laptop   # a LeRobot v3 dataset
    torchrun --nproc_per_node 2 -m hivla.cli.main train --preset quick --data D --out R   # DDP
    accelerate launch --multi_gpu --num_processes 4 -m hivla.cli.main train --preset default --data D --out R
        # 4 GPUs: --batch-size is global; --resume works on any number of processes (docs/scaling.md)

The run directory gets ``experiment.json``, ``checkpoints/step_*/`` (safetensors + config JSON +
assets; ``checkpoints/latest`` names the newest), ``tensorboard/`` and ``metrics.jsonl``. Load the
result with ``hivla.policies.load_policy(RUN)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AUGMENTATIONS = ("augment_shift", "augment_colour", "camera_dropout", "paraphrase")


@dataclass(frozen=True)
class Config:
    """Train a VLA policy. Zero / empty overrides keep the preset's value."""

    preset: str = "quick"
    """Named preset: debug (seconds), quick (minutes on 2 CPU cores), standard (the hierarchical low level
    for every embodiment, <= 2 h on 2 CPU cores), default (one GPU)."""
    data: str = ""
    """Dataset directory (LeRobot v3 layout: written by `hivla collect` or by LeRobot), or several
    separated by commas, read as one (e.g. one per embodiment with --action-space universal); empty
    trains on synthetic frames."""
    data_keys: str = ""
    """Dataset columns the policy reads when they are not named as hivla names them, as
    comma-separated INPUT=COLUMN with INPUT one of front, wrist (cameras), state, action, e.g.
    front=observation.images.laptop,state=observation.state (see docs/dataset_format.md)."""
    video_cache_mb: int = 0
    """Decoded video frames kept in memory per dataset, in MB (0 keeps the preset's 1024). Raise it
    when a dataset's decoded frames do not fit (64 px, 2 cameras: about 25 MB per 1,000 frames), or
    every batch decodes its episodes again."""
    cameras: str = ""
    """Override the policy's cameras, comma-separated subset of front,wrist (e.g. front for a
    one-camera dataset)."""
    out: str = "runs/vla"
    """Run directory (checkpoints, logs)."""
    resume: bool = False
    """Continue the run in --out from its latest checkpoint (same preset and overrides)."""
    steps: int = 0
    """Override the number of optimization steps."""
    batch_size: int = 0
    """Override the global batch size."""
    head: str = ""
    """Override the action head: flow | diffusion | l1 | bins | fast."""
    action_space: str = ""
    """Override the action space: native | universal."""
    proprio: str = ""
    """What the policy reads of the state: body (all of it, per embodiment) | shared (the hand pose
    and gripper every body shares: a universal-action policy then drives bodies it never saw)."""
    eval_every: int = -1
    """Run simulator rollouts every K steps (0 disables; -1 keeps the preset's)."""
    eval_suite: str = ""
    """Suite of those rollouts (empty keeps the preset's, a built-in one); data of an external suite
    needs its own, e.g. --eval-suite metaworld-mt10."""
    threads: int = 0
    """Torch threads per process (0: all cores of the process; pass 1 per job when several share the machine)."""
    language: str = ""
    """Language input: task (the whole instruction, a flat policy) or subtask (the current subtask,
    the low level of a hierarchical policy); empty keeps the preset's."""
    reasoning: bool = False
    """Generate a grounded reasoning trace before the actions (Embodied Chain-of-Thought)."""
    init: str = ""
    """Start from this trained policy (run or checkpoint directory: weights, configuration and
    normalization) and fine-tune it on --data; the preset's optimization settings still apply."""
    init_latent: str = ""
    """Start a new policy's encoders and backbone from latent pretraining (a `hivla latent pretrain`
    run or checkpoint, same preset); the action head learns from --data."""
    lr: float = 0.0
    """Override the peak learning rate."""
    localize: float = -1.0
    """Weight of the auxiliary loss that puts the CNN's first keypoint on the target object in each
    image (0 disables; -1 keeps the preset's)."""
    input_norm: str = ""
    """The CNN's input normalization: fixed (pixels - 0.5) or image (each image and channel
    standardized by its own mean and spread, less sensitive to light intensity and tint); empty keeps
    the preset's."""
    augment_shift: int = -1
    """Training images shifted by up to this many pixels (0 disables; -1 keeps the preset's)."""
    augment_colour: float = -1.0
    """Training colour jitter: brightness, contrast and saturation factors in [1 - a, 1 + a], per
    sample and camera, a < 1 (0 disables; -1 keeps the preset's)."""
    camera_dropout: float = -1.0
    """Probability per training sample and camera of blanking that camera's image, never all cameras
    of a sample; needs two cameras (0 disables; -1 keeps the preset's)."""
    paraphrase: float = -1.0
    """Probability per training sample of rephrasing its text (task or subtask) with a random
    training paraphrase of the simulator's templates; held-out ones never (0 disables; -1 keeps)."""
    sensors: str = ""
    """Sensor inputs of the policy, comma-separated: depth (each camera's depth as a fourth CNN
    channel) and contact (finger forces and hand wrench in the state token). The data must hold them
    (`hivla collect --sensors depth,contact`); evaluation makes its envs with them. Empty keeps the preset's."""
    depth_encoder: str = ""
    """How a depth policy reads depth: channel (a fourth CNN input channel) or points (each camera's
    world point cloud, back-projected with the camera's intrinsics and pose, into a PointNet token);
    empty keeps the preset's (channel)."""

    def __post_init__(self) -> None:
        from hivla.configs import PRESETS

        preset = PRESETS.get(self.preset)  # unknown names list the presets
        if self.localize > 0 and preset.policy.vision.keypoints < 1:
            raise ValueError(
                f"--localize needs a CNN with spatial-softmax keypoints; preset {self.preset!r} has none "
                "(the quick preset has them)"
            )
        from hivla.policies.vla.configuration_vla import LANGUAGE_KEYS

        if self.language not in ("", *LANGUAGE_KEYS):
            raise ValueError(
                f"language must be 'task' or 'subtask' (empty keeps the preset's), got {self.language!r}"
            )
        if self.data_keys:
            from hivla.data.keymap import KeyMap

            KeyMap.parse(self.data_keys)
        if self.init_latent:
            from hivla.policies.vla.latent_init import resolve_latent_pretrained

            resolve_latent_pretrained(self.init_latent)
        if self.init:
            from hivla.policies.base import resolve_checkpoint

            resolve_checkpoint(self.init)  # a clear error for a directory with no policy
            given = [f"--{n.replace('_', '-')}" for n in AUGMENTATIONS if getattr(self, n) >= 0]
            given += ["--input-norm"] if self.input_norm else []
            given += ["--sensors"] if self.sensors else []
            given += ["--depth-encoder"] if self.depth_encoder else []
            if given:
                raise ValueError(
                    f"{', '.join(given)} with --init: a fine-tuned policy keeps the configuration of --init, "
                    "its training augmentations and input normalization included; drop these options, or train a new policy with them"
                )
        if min(self.steps, self.batch_size, self.threads, self.lr, self.video_cache_mb) < 0:
            raise ValueError(
                "steps, batch_size, threads, lr and video_cache_mb must be >= 0 (0 keeps the preset's value)"
            )
        experiment(self)  # the policy's own checks (augmentations, cameras, ...) as option errors


def experiment(cfg: Config) -> Any:
    """The preset with the command-line overrides applied."""
    from hivla.configs.overrides import with_overrides

    return with_overrides(
        cfg.preset, data=cfg.data, steps=cfg.steps, batch_size=cfg.batch_size, head=cfg.head,
        action_space=cfg.action_space, eval_every=cfg.eval_every, eval_suite=cfg.eval_suite, threads=cfg.threads,
        language=cfg.language, reasoning=cfg.reasoning, localize=cfg.localize,
        cameras=tuple(c.strip() for c in cfg.cameras.split(",")) if cfg.cameras else (),
        data_keys=cfg.data_keys, init=cfg.init, init_latent=cfg.init_latent, lr=cfg.lr, augment_shift=cfg.augment_shift,
        augment_colour=cfg.augment_colour, camera_dropout=cfg.camera_dropout, paraphrase=cfg.paraphrase,
        video_cache_mb=cfg.video_cache_mb, input_norm=cfg.input_norm, sensors=cfg.sensors,
        depth_encoder=cfg.depth_encoder, proprio=cfg.proprio,
    )  # fmt: skip


def run(cfg: Config, quiet: bool = False) -> dict[str, Any]:
    import os

    from hivla.training import main

    result = main(experiment(cfg), cfg.out, resume=cfg.resume, quiet=quiet)
    result.pop("losses", None)
    if not quiet and os.environ.get("RANK", "0") == "0":  # once under torchrun / accelerate launch
        print(
            f"trained {result['step']} steps: final loss {result['final_loss']:.4f}, "
            f"{result['samples_per_s']:.1f} samples/s; checkpoint {result['checkpoint']}"
        )
    return result
