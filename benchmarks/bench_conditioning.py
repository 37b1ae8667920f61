"""Does a subtask-conditioned policy act on its subtask text? On recorded frames of one expert phase
(e.g. the carry of a place or stack), compare the policy's predicted hand motion over the executed
steps with the expert's, given the frame's own subtask text and given a swapped text ("pick up the
<object>"): the cosine of the summed xy motion and its length. Offline: the frames are the expert's
states, so this isolates the conditioning from closed-loop drift.

python benchmarks/bench_conditioning.py --policy runs/dagger/round_2/policy --data data/mixed_floating --phase carry
"""

from __future__ import annotations

import argparse
import re

import numpy as np
import torch

from hivla.data import ChunkDataset, LoaderConfig
from hivla.policies import load_policy

OBJECT = re.compile(r"(?:put|place|stack|push) the (\w+ \w+)")


def observation(sample: dict, text: str, embodiment: str) -> dict:
    images = {
        cam: (sample[f"observation.images.{cam}"][0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        for cam in ("front", "wrist")
    }  # HWC uint8 per camera
    return {"images": images, "state": sample["observation.state"][0].numpy(), "instruction": text,
            "embodiment": embodiment}  # fmt: skip


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-9))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policy", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--phase", default="carry", help="a word of the expert's reasoning trace (its phase)")
    parser.add_argument("--frames", type=int, default=80, help="frames sampled evenly from the phase")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    policy = load_policy(args.policy)
    steps = policy.config.execute_steps or policy.config.horizon
    data = ChunkDataset(args.data, LoaderConfig(horizon=policy.config.horizon, cameras=("front", "wrist")))
    reasoning = np.asarray(data.frames.columns["reasoning"]).astype(str)
    phase = [i for i, r in enumerate(reasoning) if args.phase in r]
    picked = phase[:: max(1, len(phase) // args.frames)][: args.frames]
    own, swapped, own_len, expert_len = [], [], [], []
    for i in picked:
        s = data[i]
        expert = s["action.universal"][:steps, :2].numpy().sum(0)  # (2,) xy over the executed steps
        m = OBJECT.search(s["subtask"])
        swap = f"pick up the {m.group(1)}" if m else "pick up the cube"
        emb = str(s.get("embodiment", policy.embodiments[0]))
        a = policy.sample_actions(observation(s, s["subtask"], emb))[0, :steps, :2].sum(0)
        b = policy.sample_actions(observation(s, swap, emb))[0, :steps, :2].sum(0)
        own.append(cosine(a, expert))
        swapped.append(cosine(b, expert))
        own_len.append(np.linalg.norm(a))
        expert_len.append(np.linalg.norm(expert))
    print(f"{len(picked)} of the {len(phase)} '{args.phase}' frames of {args.data}, {steps} executed steps")
    print(f"cosine of the xy motion with the expert's: own subtask text mean {np.mean(own):.2f} "
          f"(median {np.median(own):.2f}); 'pick up the <object>' instead {np.mean(swapped):.2f}")  # fmt: skip
    print(
        f"xy distance over {steps} steps: policy {100 * np.mean(own_len):.1f} cm, expert {100 * np.mean(expert_len):.1f} cm"
    )


if __name__ == "__main__":
    main()
