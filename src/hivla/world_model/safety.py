"""A world-model safety veto around any policy: imagine each chunk before it runs; veto and repair it.

``WorldModelVeto(policy, world_model)`` has the policy seam (``sample_actions(obs) -> float32[B, H, A]``,
``reset()``), so it stacks under the chunk broker and the safety filter of ``hivla.evaluation``
like any policy. For each chunk it rolls the world model out over the steps that will execute
(``check_steps``, default the policy's ``execute_steps``), reads the event heads, and takes the
probability that a step causes any of ``events`` (table contact, collision, an object leaving the
workspace, a drop). Above ``threshold`` the chunk is vetoed and repaired:

1. ``resample``: ask the policy again (up to ``resamples`` times; stochastic policies such as flow
   or diffusion heads give a new chunk) and keep the first safe one;
2. ``edit``: from the safest chunk so far, two edits that keep the steps before the first unsafe
   one: ``hold`` still afterwards, or ``retreat`` (move up) afterwards, both with the gripper as it
   was; the world model imagines both and the least risky of the three is executed;
3. after ``max_holds`` repaired chunks in a row the safest chunk passes, so a wrong prediction
   cannot freeze the robot forever.

``interventions`` counts ``wm_checked``, ``wm_veto`` (chunks vetoed), ``wm_resample`` (fixed by
resampling), ``wm_truncate`` (held), ``wm_retreat`` (moved up) and ``wm_pass`` (executed anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from hivla.errors import HivlaError
from hivla.types import Observation
from hivla.world_model.events import EVENT_NAMES, VIOLATIONS
from hivla.world_model.model import WorldModel

VETO_KINDS: tuple[str, ...] = ("wm_checked", "wm_veto", "wm_resample", "wm_truncate", "wm_retreat", "wm_pass")
REPAIRS = ("edit", "none")
RETREAT_SPEED = 0.03  # metres per step upwards (the embodiments' largest translation step)


STOCHASTIC_HEADS = ("flow", "diffusion")  # sample from noise: asking again gives another chunk
DETERMINISTIC_HEADS = ("l1", "bins", "fast")  # regression or greedy decoding: the same chunk again


class DeterministicPolicyError(HivlaError, ValueError):
    """A veto that resamples around a policy whose chunks cannot change when asked again."""


def policy_sampling(policy: Any) -> tuple[str, str]:
    """Whether asking ``policy`` again for the same observation can give another chunk:
    ``("stochastic" | "deterministic" | "unknown", why)``. Looks through rollout adapters
    (``inner``), veto wrappers (``policy``) and hierarchical policies (``low``) for a trained VLA's
    action head; the fault-injecting expert is stochastic, the scripted expert deterministic."""
    seen = set()
    while policy is not None and id(policy) not in seen:
        seen.add(id(policy))
        head = getattr(getattr(getattr(policy, "config", None), "head", None), "kind", None)
        if head in STOCHASTIC_HEADS:
            return "stochastic", f"the {head} action head samples each chunk from noise"
        if head in DETERMINISTIC_HEADS:
            return "deterministic", f"the {head} action head returns the same chunk for the same observation"
        from hivla.policies.builtin import ExpertPolicy
        from hivla.world_model.faults import FaultyExpert

        if isinstance(policy, FaultyExpert):
            return "stochastic", "the fault-injecting expert draws a fresh fault each time it is asked"
        if isinstance(policy, ExpertPolicy):
            return "deterministic", "the scripted expert acts on the simulator state, the same each time"
        policy = next(
            (getattr(policy, k) for k in ("inner", "policy", "low") if getattr(policy, k, None) is not None),
            None,
        )
    return "unknown", "no action head found"


def require_stochastic(policy: Any, name: str = "the policy") -> str:
    """Raise :class:`DeterministicPolicyError` when ``policy`` is deterministic (see
    :func:`policy_sampling`); return the reason it can resample otherwise."""
    kind, why = policy_sampling(policy)
    if kind == "deterministic":
        raise DeterministicPolicyError(
            f"{name} cannot be vetoed by resampling: {why}, so a vetoed chunk comes back unchanged. "
            f"Expected a trained VLA with a stochastic head ({' or '.join(STOCHASTIC_HEADS)}); train one "
            "with `--head flow` (or diffusion), or pass faulty-expert for the scripted expert with injected faults"
        )
    return why


@dataclass(frozen=True)
class VetoConfig:
    """When to veto a chunk and how to repair it (see the module docstring)."""

    threshold: float = 0.3
    events: tuple[str, ...] = VIOLATIONS
    resamples: int = 2
    repair: str = "edit"
    max_holds: int = 3
    check_steps: int = 0  # 0: the policy's execute_steps

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")
        bad = [e for e in self.events if e not in EVENT_NAMES] or ([] if self.events else ["(none)"])
        if bad:
            raise ValueError(f"veto events must be a non-empty subset of {EVENT_NAMES}, got {self.events}")
        if self.repair not in REPAIRS:
            raise ValueError(f"repair must be one of {REPAIRS}, got {self.repair!r}")
        if self.resamples < 0 or self.max_holds < 0 or self.check_steps < 0:
            raise ValueError("resamples, max_holds and check_steps must be >= 0")


def _numpy_chunk(chunk: Any) -> np.ndarray:
    if hasattr(chunk, "detach"):
        chunk = chunk.detach().cpu().numpy()
    arr = np.asarray(chunk, dtype=np.float32)
    if arr.ndim != 3:
        raise ValueError(f"policy.sample_actions must return float[B, H, A], got shape {arr.shape}")
    return arr


class WorldModelVeto:
    """Wraps ``policy`` (``sample_actions``/``reset``, optional ``start_episode(env, seed)``).

    ``to_universal``/``from_universal`` convert one action between the policy's space and the
    world model's (universal actions unless the model was trained on native ones); by default
    they come from the env passed to ``start_episode`` when the policy speaks native actions.
    """

    needs_images = True

    def __init__(
        self,
        policy: Any,
        model: WorldModel,
        config: VetoConfig | None = None,
        to_universal: Callable[[np.ndarray], np.ndarray] | None = None,
        from_universal: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        self.policy, self.model, self.config = policy, model.eval(), config or VetoConfig()
        missing = [e for e in self.config.events if e not in model.config.events]
        if missing:
            raise ValueError(
                f"the world model has no heads for {missing}; it predicts {list(model.config.events)}"
            )
        self._event_idx = [model.config.events.index(e) for e in self.config.events]
        self._to_u, self._from_u = to_universal, from_universal
        for key in ("name", "action_space", "embodiments", "action_dim", "execute_steps", "image_size"):
            if hasattr(policy, key):
                setattr(self, key, getattr(policy, key))
        self.name = f"{getattr(policy, 'name', type(policy).__name__)}+wm-veto"
        self.interventions = dict.fromkeys(VETO_KINDS, 0)
        self.last_risk: np.ndarray | None = None
        self._holds = 0
        self._gripper: float | None = None

    # ---- episode ----------------------------------------------------------------------------------
    def start_episode(self, env: Any, seed: int) -> None:
        """Reset the counts; take the action conversions from ``env`` for a native-action policy."""
        hook = getattr(self.policy, "start_episode", None)
        if callable(hook):
            hook(env, seed)
        native_policy = getattr(self.policy, "action_space", "native") == "native"
        if native_policy and self.model.config.action_key == "action.universal":
            raw = getattr(env, "unwrapped", env)
            self._to_u, self._from_u = raw.to_universal, raw.from_universal
        self.interventions = dict.fromkeys(VETO_KINDS, 0)

    def reset(self) -> None:
        self.policy.reset()
        self._holds = 0
        self._gripper = None

    # ---- risk -------------------------------------------------------------------------------------
    def _universal(self, chunk: np.ndarray) -> np.ndarray:
        if self._to_u is None:
            return chunk
        return np.stack([[self._to_u(a) for a in row] for row in chunk]).astype(np.float32)  # (B, H, 7)

    @torch.no_grad()
    def step_risk(self, z: torch.Tensor, chunk: np.ndarray) -> np.ndarray:
        """Per-step probability float[B, h] that a step causes any veto event (first h = check steps)."""
        h = self._check_steps(chunk)
        actions = torch.from_numpy(self._universal(chunk[:, :h])).to(self.model.device)
        _, probs = self.model.imagine_events(z, actions)  # (B, h, E)
        p = probs[..., self._event_idx]
        return (1.0 - torch.prod(1.0 - p, dim=-1)).cpu().numpy()  # (B, h)

    def _check_steps(self, chunk: np.ndarray) -> int:
        k = self.config.check_steps or int(getattr(self, "execute_steps", 0) or chunk.shape[1])
        return max(1, min(k, chunk.shape[1]))

    # ---- policy seam ------------------------------------------------------------------------------
    def sample_actions(self, obs: Observation) -> np.ndarray:
        cfg = self.config
        chunk = _numpy_chunk(self.policy.sample_actions(obs))
        with torch.no_grad():
            z = self.model.encode(obs)
        if z.shape[0] != chunk.shape[0]:
            z = z.expand(chunk.shape[0], -1)
        risk = self.step_risk(z, chunk)
        self.interventions["wm_checked"] += 1
        self.last_risk = risk
        if risk.max() <= cfg.threshold:
            return self._accept(chunk)
        self.interventions["wm_veto"] += 1
        best, best_risk = chunk, risk
        for _ in range(cfg.resamples):
            candidate = _numpy_chunk(self.policy.sample_actions(obs))
            r = self.step_risk(z, candidate)
            if r.max() < best_risk.max():
                best, best_risk = candidate, r
            if r.max() <= cfg.threshold:
                self.interventions["wm_resample"] += 1
                return self._accept(candidate)
        if cfg.repair == "none" or self._holds >= cfg.max_holds:
            self.interventions["wm_pass"] += 1
            return self._accept(best)
        edits = {kind: self._edit(best, best_risk, kind) for kind in ("hold", "retreat")}
        risks = {kind: float(self.step_risk(z, c).max()) for kind, c in edits.items()}
        kind = min(risks, key=risks.get)
        if risks[kind] >= float(best_risk.max()):
            self.interventions["wm_pass"] += 1
            return self._accept(best)
        self.interventions["wm_truncate" if kind == "hold" else "wm_retreat"] += 1
        self._holds += 1
        self._remember_gripper(edits[kind])
        return edits[kind]

    def _accept(self, chunk: np.ndarray) -> np.ndarray:
        self._holds = 0
        self._remember_gripper(chunk)
        return chunk

    def _remember_gripper(self, chunk: np.ndarray) -> None:
        k = self._check_steps(chunk)
        self._gripper = float(self._universal(chunk[:1, k - 1 : k])[0, 0, -1])

    def _edit(self, chunk: np.ndarray, risk: np.ndarray, kind: str) -> np.ndarray:
        """Keep the steps before the first unsafe one; from there hold still or move up (``kind``),
        with the gripper command it had before."""
        first = int(np.argmax(risk[0] > self.config.threshold))
        before = self._universal(chunk[:1, first - 1 : first])[0, 0, -1] if first else self._gripper
        if before is None:  # nothing executed yet this episode: the chunk's own first command
            before = self._universal(chunk[:1, :1])[0, 0, -1]
        step = np.zeros(self.model.config.action_dim, np.float32)
        step[-1] = float(before)
        if kind == "retreat":
            step[2] = RETREAT_SPEED
        native = self._from_u(step) if self._from_u is not None else step
        out = chunk.copy()
        out[:, first:] = native
        return out
