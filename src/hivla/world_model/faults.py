"""A chunking scripted expert with injected execution faults: a stand-in for an imperfect policy.

The world-model experiments need a policy that sometimes does unsafe things (dives into the table,
sweeps objects away, lets go of what it holds) and usually does the right thing. No trained VLA
on a 2-core CPU is good enough to serve, so :class:`FaultyExpert` looks ``horizon`` steps ahead
with the scripted expert (on a saved and restored copy of the simulator state, without rendering)
and, with probability ``fault_rate`` per chunk, corrupts the chunk from a random step on:

| fault     | what the corrupted steps do                                   |
|-----------|---------------------------------------------------------------|
| dive      | move straight down at full speed                              |
| sweep     | move sideways at full speed in a random direction, and down   |
| release   | open the gripper                                              |

Faults are drawn from a generator seeded by (episode seed, step, how often this step was asked),
so two runs that reach the same step the same way see the same fault, and asking again
(``sample_actions``) at the same step is a fresh sample: the stochasticity a world-model veto can
exploit by resampling. The expert's own bookkeeping (its
phase timers) is rewound to match the steps actually executed since the previous look-ahead, so
asking again before anything ran yields the same expert chunk. Use it anywhere a policy is
expected, e.g. ``hivla eval --policy hivla.world_model.faults:faulty_expert``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hivla.policies import RolloutPolicy
from hivla.sim.embodiments import MAX_TRANSLATION
from hivla.types import Observation

FAULT_KINDS: tuple[str, ...] = ("dive", "sweep", "release")


@dataclass(frozen=True)
class FaultConfig:
    """``fault_rate``: probability that a chunk is corrupted; ``kinds``: which faults are drawn."""

    horizon: int = 8
    fault_rate: float = 0.3
    kinds: tuple[str, ...] = FAULT_KINDS

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {self.horizon}")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be within [0, 1], got {self.fault_rate}")
        unknown = [k for k in self.kinds if k not in FAULT_KINDS]
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds must be a non-empty subset of {FAULT_KINDS}, got {self.kinds}")


def corrupt(chunk: np.ndarray, kind: str, start: int, rng: np.random.Generator) -> np.ndarray:
    """A copy of a universal chunk float[H, 7] with steps ``start``.. corrupted by fault ``kind``."""
    out = chunk.copy()
    step = MAX_TRANSLATION
    if kind == "dive":
        out[start:, 0:2] = 0.0
        out[start:, 2] = -step
    elif kind == "sweep":
        angle = rng.uniform(0.0, 2.0 * np.pi)
        out[start:, 0:3] = (step * np.cos(angle), step * np.sin(angle), -0.5 * step)
    elif kind == "release":
        out[start:, 6] = -1.0
    else:
        raise ValueError(f"unknown fault {kind!r}; available: {', '.join(FAULT_KINDS)}")
    return out


class FaultyExpert(RolloutPolicy):
    """Scripted-expert chunks (native actions of the env's embodiment) with random faults.

    ``sample_actions(obs) -> float32[1, H, A]``; ``last_fault`` names the fault of the latest
    chunk (None if clean). Needs ``start_episode(env, seed)`` (the evaluation harness calls it).
    """

    name = "faulty-expert"
    needs_images = False

    def __init__(self, config: FaultConfig | None = None) -> None:
        self.config = config or FaultConfig()
        self.execute_steps = self.config.horizon
        self.env: Any = None
        self._expert: Any = None
        self._seed = 0
        self._asked: tuple[int, int] = (-1, 0)  # (env step, queries at that step)
        self.last_fault: str | None = None
        self.faults = dict.fromkeys(FAULT_KINDS, 0)
        self._lookahead: tuple[int, list[tuple]] | None = None  # (env step at start, expert state per step)

    def start_episode(self, env: Any, seed: int) -> None:
        from hivla.sim.expert import ScriptedExpert

        self.env = getattr(env, "unwrapped", env)  # look ahead on the real env, never on a proxy
        self._expert = ScriptedExpert(self.env)
        self._lookahead = None
        self._seed = int(seed)
        self._asked = (-1, 0)
        self.faults = dict.fromkeys(FAULT_KINDS, 0)

    def reset(self) -> None:
        if self._expert is not None:
            self._expert.reset()
        self.last_fault = None
        self._lookahead = None
        self._asked = (-1, 0)

    def _rewind_expert(self) -> None:
        """Put the expert where it was after as many look-ahead steps as the env has executed."""
        if self._lookahead is None:
            return
        start, states = self._lookahead
        executed = self.env.steps - start
        if 0 <= executed < len(states):
            self._expert.set_state(states[executed])

    def expert_chunk(self) -> np.ndarray:
        """The expert's next ``horizon`` universal actions float32[H, U] (U = 7, 10 with a base), found by a look-ahead on a
        saved copy of the simulator state (restored before returning)."""
        if self.env is None:
            raise RuntimeError("FaultyExpert.start_episode(env, seed) must run before sample_actions")
        self._rewind_expert()
        env, saved, render = self.env, self.env.get_state(), self.env.render_images
        env.render_images = False
        actions: list[np.ndarray] = []
        states = [self._expert.get_state()]
        try:
            for _ in range(self.config.horizon):
                universal = self._expert.universal_action()
                actions.append(universal)
                *_, terminated, truncated, _ = env.step(env.from_universal(universal))
                states.append(self._expert.get_state())
                if terminated or truncated:
                    break
        finally:
            env.set_state(saved)
            env.render_images = render
        self._lookahead = (saved["steps"], states)
        hold = np.zeros_like(actions[-1])  # 7 values, or 10 with a wheeled base's part (still)
        hold[6] = actions[-1][6]
        actions += [hold] * (self.config.horizon - len(actions))
        return np.stack(actions).astype(np.float32)  # (H, U)

    def sample_actions(self, obs: Observation) -> np.ndarray:
        chunk = self.expert_chunk()
        step = int(self.env.steps)
        self._asked = (step, self._asked[1] + 1 if self._asked[0] == step else 0)
        rng = np.random.default_rng([self._seed, 4711, step, self._asked[1]])
        self.last_fault = None
        if rng.random() < self.config.fault_rate:
            kind = self.config.kinds[int(rng.integers(len(self.config.kinds)))]
            start = int(rng.integers(0, max(1, self.config.horizon // 2)))
            chunk = corrupt(chunk, kind, start, rng)
            self.last_fault = kind
            self.faults[kind] += 1
        native = np.stack([self.env.from_universal(a) for a in chunk])  # (H, A)
        return native[None].astype(np.float32)  # (1, H, A)


def faulty_expert() -> FaultyExpert:
    """Factory for ``--policy hivla.world_model.faults:faulty_expert`` (default fault settings)."""
    return FaultyExpert()
