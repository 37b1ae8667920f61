"""How well a policy trained with ``localize`` finds its target at the first frame of pick episodes.

At the first frame the hand is far from the object and the object is small in both images: the
hardest moment to localize, and the one that decides where the first chunk goes. For train and
held-out seeds of ``tabletop-single`` this prints, per camera, the distance (px) between the
policy's localizing keypoint and the target's true image position, and the error (cm) of the
target's offset from the hand that the policy's target token reads out.

python benchmarks/bench_localization.py RUN [--episodes 20]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from hivla.policies import load_policy
from hivla.sim import make_env
from hivla.sim.suites import SUITES
from hivla.types import CAMERAS


def first_frame_errors(policy, env, seeds, episodes: int) -> tuple[dict[str, list[float]], list[float]]:
    """(keypoint error px per camera, offset error cm) over the first ``episodes`` pick seeds."""
    pixels: dict[str, list[float]] = {c: [] for c in policy.config.cameras}
    offsets: list[float] = []
    half = policy.config.image_size / 2.0
    for seed in seeds:
        obs, info = env.reset(seed=seed)
        if info["task_kinds"][0] != "pick":
            continue
        target = env.object_pos(env.spec.subtasks[0].obj)
        inputs, _ = policy.processor.prepare_obs(obs, None)
        with torch.no_grad():
            _, _, feats = policy.model.perceive_with_features(inputs)
            seen = policy.model.target_keypoints(feats)[0].numpy()  # (C, 2)
            token = policy.model.located_target(feats, inputs["state"])[:, 0]
            guess_cm = policy.model.offset_readout(token)[0].numpy() * 10.0
        truth = env.project(target)
        for i, cam in enumerate(policy.config.cameras):
            row = truth[CAMERAS.index(cam)]
            if row[2]:
                pixels[cam].append(float(np.hypot(*(seen[i] - row[:2])) * half))
        offsets.append(float(np.linalg.norm(guess_cm - (target - env.embodiment.ee_pos()) * 100.0)))
        if len(offsets) >= episodes:
            break
    return pixels, offsets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run", help="a policy run directory trained with localize > 0")
    parser.add_argument("--episodes", type=int, default=20, help="pick episodes per split")
    args = parser.parse_args()
    torch.set_num_threads(1)
    policy = load_policy(args.run).eval()
    if not policy.config.localize:
        raise SystemExit(f"{args.run} was trained without localize; nothing to measure")
    env = make_env("tabletop-single", policy.config.embodiments[0], image_size=policy.config.image_size)
    suite = SUITES.get("tabletop-single")
    print("| split | " + " | ".join(f"{c} keypoint px (median, <4 px)" for c in policy.config.cameras)
          + " | offset cm (median) |")  # fmt: skip
    print("|---" * (len(policy.config.cameras) + 2) + "|")
    for split, seeds in (("train", suite.train_seeds), ("held-out", suite.heldout_seeds)):
        pixels, offsets = first_frame_errors(policy, env, seeds, args.episodes)
        cells = [f"{np.median(v):.1f}, {np.mean(np.array(v) < 4):.0%}" if v else "-" for v in pixels.values()]
        print(f"| {split} | " + " | ".join(cells) + f" | {np.median(offsets):.1f} |")
    env.close()


if __name__ == "__main__":
    main()
