"""A preset with the usual overrides applied: what ``hivla train`` and the experiments both train."""

from __future__ import annotations

import dataclasses
from typing import Any


def with_overrides(
    preset: str,
    *,
    data: str = "",
    steps: int = 0,
    batch_size: int = 0,
    head: str = "",
    action_space: str = "",
    eval_every: int = -1,
    eval_suite: str = "",
    threads: int = 0,
    language: str = "",
    reasoning: bool = False,
    localize: float = -1.0,
    cameras: tuple[str, ...] = (),
    data_keys: str = "",
    init: str = "",
    init_latent: str = "",
    lr: float = 0.0,
    augment_shift: int = -1,
    augment_colour: float = -1.0,
    camera_dropout: float = -1.0,
    paraphrase: float = -1.0,
    video_cache_mb: int = 0,
    input_norm: str = "",
    sensors: str = "",
    depth_encoder: str = "",
    proprio: str = "",
) -> Any:
    """The named preset's :class:`~hivla.configs.presets.ExperimentConfig` with overrides.

    Zero / empty / negative values keep the preset's: ``steps``, ``batch_size``, ``threads`` (0);
    ``head``, ``action_space``, ``language`` (""); ``eval_every``, ``localize`` (-1); ``eval_suite`` the suite of the in-training rollouts ("" keeps). ``data`` is the
    dataset path ("" trains on synthetic frames); ``cameras`` the policy's cameras (() keeps the
    preset's); ``data_keys`` maps a dataset's own column names (``hivla.data.keymap``); ``init`` a
    trained policy to start from (``TrainConfig.init``); ``init_latent`` latent-pretrained weights
    for a new policy (``TrainConfig.init_latent``); ``lr`` the peak learning rate (0 keeps);
    ``augment_shift``, ``augment_colour``, ``camera_dropout``, ``paraphrase`` the policy's training
    augmentations (-1 keeps; see ``VLAConfig``); ``video_cache_mb`` the decoded-frame budget per
    dataset (0 keeps; ``DataConfig``); ``input_norm`` the CNN's input normalization ("" keeps;
    ``VisionConfig``); ``sensors`` the sensor inputs of the policy, comma-separated ``depth`` (an RGB-D
    CNN) and ``contact`` (touch in the state token), "" keeps the preset's (``VLAConfig.depth``,
    ``VLAConfig.contact``); ``depth_encoder`` how depth is read, ``channel`` or ``points`` ("" keeps); ``proprio`` what
    the policy reads of the state, ``body`` or ``shared`` ("" keeps; ``VLAConfig.proprio``).
    Raises ``UnknownNameError`` for an unknown preset.
    """
    from hivla.configs.presets import get_preset

    exp = get_preset(preset)
    train = exp.train
    if steps:
        train = dataclasses.replace(train, steps=steps)
    if batch_size:
        train = dataclasses.replace(train, batch_size=batch_size)
    if eval_every >= 0:
        train = dataclasses.replace(train, eval_every=eval_every)
    if eval_suite:
        train = dataclasses.replace(train, eval=dataclasses.replace(train.eval, suite=eval_suite))
    if threads:
        train = dataclasses.replace(train, threads=threads)
    if init:
        train = dataclasses.replace(train, init=init)
    if init_latent:
        train = dataclasses.replace(train, init_latent=init_latent)
    if lr:
        train = dataclasses.replace(train, lr=lr)
    policy = exp.policy
    if head:
        mode = "autoregressive" if head == "fast" else policy.head.mode
        policy = dataclasses.replace(policy, head=dataclasses.replace(policy.head, kind=head, mode=mode))
    if action_space:
        policy = dataclasses.replace(policy, action_space=action_space)
    if proprio:
        policy = dataclasses.replace(policy, proprio=proprio)
    if language:
        policy = dataclasses.replace(policy, language_key=language)
    if reasoning:
        policy = dataclasses.replace(policy, reasoning=dataclasses.replace(policy.reasoning, enabled=True))
    if localize >= 0:
        policy = dataclasses.replace(policy, localize=localize)
    if cameras:
        policy = dataclasses.replace(policy, cameras=tuple(cameras))
    if input_norm:
        policy = dataclasses.replace(policy, vision=dataclasses.replace(policy.vision, input_norm=input_norm))
    if sensors:
        names = {n.strip() for n in sensors.split(",") if n.strip()}
        unknown = sorted(names - {"depth", "contact"})
        if unknown:
            raise ValueError(
                f"unknown policy sensors {unknown}; a policy reads depth and/or contact, e.g. --sensors depth,contact"
            )
        policy = dataclasses.replace(policy, depth="depth" in names, contact="contact" in names)
    if depth_encoder:
        policy = dataclasses.replace(policy, depth_encoder=depth_encoder)
    augment = {"augment_shift": augment_shift, "augment_colour": augment_colour}
    augment |= {"camera_dropout": camera_dropout, "paraphrase": paraphrase}
    policy = dataclasses.replace(policy, **{k: v for k, v in augment.items() if v >= 0})
    data_cfg = dataclasses.replace(exp.data, path=data, keys=data_keys)
    if video_cache_mb:
        data_cfg = dataclasses.replace(data_cfg, video_cache_mb=video_cache_mb)
    return dataclasses.replace(exp, policy=policy, train=train, data=data_cfg)
