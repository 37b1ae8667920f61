"""Policies the harness can evaluate: built-ins by name, checkpoints by directory, objects by adapter.

Every policy is seen through :class:`EvalPolicy`: ``sample_actions(obs) -> float32[1, H, A]`` and
``reset()`` (the seam of ``hivla.actions.chunking``), plus what the harness must know before it
rolls out: which action space the policy speaks (``"native"`` actions of the embodiment(s) it was
trained on, or the 7-D ``"universal"`` space every embodiment converts from), its action size,
whether it looks at images, and how many actions of a chunk to execute.

``load_eval_policy(spec)`` resolves, in order: a registered name (``expert``, ``random``), a
``hierarchical:low=...,planner=...,monitor=...`` spec (``hivla.planning.spec``), an existing
run/checkpoint directory (``hivla.policies.load_policy``, imported lazily), or
``package.module:factory`` (a callable returning a policy; useful for plug-ins and tests).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hivla.registry import Registry
from hivla.types import UNIVERSAL_ACTION_DIM, Observation

ACTION_SPACES = ("native", "universal")


class ActionSpaceError(ValueError):
    """The policy's actions cannot drive the requested embodiment."""


class PolicyLoadError(ValueError):
    """The policy spec names nothing that can be loaded."""


class InterjectionError(ValueError):
    """The policy cannot take a human interjection."""


class EvalPolicy:
    """Base class of what the harness drives. Subclasses override ``sample_actions``.

    Attributes:
        name: shown in results and reports.
        action_space: ``"native"`` or ``"universal"``.
        embodiments: embodiments whose native actions the policy was trained on; ``()`` = any
            (policies that read the env's action space, like the built-ins).
        action_dim: size A of each action, or None when it follows the env's embodiment.
        needs_images: False lets the harness skip rendering when no video is recorded.
        execute_steps: actions of each chunk to execute before querying again.
        image_size: camera size the policy was trained on, or None for any.
    """

    name: str = "policy"
    action_space: str = "native"
    embodiments: tuple[str, ...] = ()
    action_dim: int | None = None
    needs_images: bool = True
    execute_steps: int = 1
    image_size: int | None = None

    def start_episode(self, env: Any, seed: int) -> None:
        """Called before every episode with the env (already reset) and the episode seed."""

    def sample_actions(self, obs: Observation) -> Any:  # float32[1, H, A]
        raise NotImplementedError

    def reset(self) -> None:
        """Forget episode state (called by the chunk executor at every episode start)."""

    @property
    def reasoning(self) -> str | None:
        """The latest reasoning text, if the policy produces one."""
        return None

    @property
    def plan_subtask(self) -> str | None:
        """The subtask the policy itself believes it is on (hierarchical policies), if any."""
        return None

    @property
    def looking_at(self) -> dict[str, tuple[float, float]] | None:
        """Where the policy located its target in each camera at its latest query, ``{camera: (u, v)}``
        with u, v in -1..1 across the image (policies trained with ``localize``), if any."""
        return None

    @property
    def plan_subtasks(self) -> list[str] | None:
        """The texts of the policy's whole current plan (hierarchical policies), if any."""
        return None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "action_space": self.action_space,
            "embodiments": list(self.embodiments),
            "action_dim": self.action_dim,
            "execute_steps": self.execute_steps,
            "image_size": self.image_size,
        }


EVAL_POLICIES: Registry[Callable[[], EvalPolicy]] = Registry("evaluation policy")


@EVAL_POLICIES.register("expert")
class ExpertPolicy(EvalPolicy):
    """The scripted expert (privileged state); its annotation is the reasoning text."""

    name = "expert"
    needs_images = False

    def __init__(self) -> None:
        self._expert = None
        self._reasoning: str | None = None

    def start_episode(self, env: Any, seed: int) -> None:
        from hivla.sim.expert import ScriptedExpert

        self._expert = ScriptedExpert(env)

    def reset(self) -> None:
        self._reasoning = None
        if self._expert is not None:
            self._expert.reset()

    def sample_actions(self, obs: Observation) -> np.ndarray:
        if self._expert is None:
            raise RuntimeError("ExpertPolicy.start_episode(env, seed) must run before sample_actions")
        action, annotation = self._expert.act(obs)
        self._reasoning = annotation.text()
        return np.asarray(action, dtype=np.float32)[None, None]  # (1, 1, A)

    @property
    def reasoning(self) -> str | None:
        return self._reasoning


@EVAL_POLICIES.register("random")
class RandomPolicy(EvalPolicy):
    """Uniform random native actions, drawn from a generator seeded by the episode seed."""

    name = "random"
    needs_images = False

    def __init__(self) -> None:
        self._low = self._high = None
        self._rng = np.random.default_rng(0)

    def start_episode(self, env: Any, seed: int) -> None:
        self._low, self._high = env.action_space.low, env.action_space.high
        self._rng = np.random.default_rng(seed)

    def sample_actions(self, obs: Observation) -> np.ndarray:
        if self._low is None:
            raise RuntimeError("RandomPolicy.start_episode(env, seed) must run before sample_actions")
        return self._rng.uniform(self._low, self._high).astype(np.float32)[None, None]  # (1, 1, A)


class PolicyAdapter(EvalPolicy):
    """Adapts a policy object (e.g. from ``hivla.policies.load_policy``) to :class:`EvalPolicy`.

    Read from the policy, then from its ``config``: ``action_space`` ("native" | "universal"),
    ``embodiments`` (or one ``embodiment``), ``action_dim`` (0 = unknown), ``execute_steps``
    (else ``horizon``, the whole chunk) and ``image_size``; optional ``reasoning`` and
    ``plan_subtask`` (str or a method returning one). Observations gain an ``embodiment`` key
    (the env's) so that multi-embodiment policies know which robot they drive.
    """

    def __init__(self, policy: Any, name: str = "policy") -> None:
        for method in ("sample_actions", "reset"):
            if not callable(getattr(policy, method, None)):
                raise TypeError(
                    f"policy {name!r} has no {method}(); expected an object with sample_actions(obs) -> "
                    "float32[B, H, A] and reset()"
                )
        self.inner, self.name = policy, name
        space = _declared(policy, "action_space", "native")
        if space not in ACTION_SPACES:
            raise ValueError(f"policy {name!r}: action_space must be one of {ACTION_SPACES}, got {space!r}")
        self.action_space = space
        embodiments = _declared(policy, "embodiments", None) or _declared(policy, "embodiment", None) or ()
        self.embodiments = (embodiments,) if isinstance(embodiments, str) else tuple(embodiments)
        self.action_dim = int(_declared(policy, "action_dim", 0)) or None
        self.execute_steps = int(_declared(policy, "execute_steps", 0) or _declared(policy, "horizon", 1))
        self.image_size = int(_declared(policy, "image_size", 0)) or None
        self._embodiment: str | None = None

    def start_episode(self, env: Any, seed: int) -> None:
        self._embodiment = env.embodiment.name
        hook = getattr(self.inner, "start_episode", None)
        if callable(hook):
            hook(env, seed)

    def sample_actions(self, obs: Observation) -> Any:
        if self._embodiment is not None:
            obs = {**obs, "embodiment": self._embodiment}  # a new dict: the env's obs is not mutated
        torch = sys.modules.get("torch")
        if torch is None:
            return self.inner.sample_actions(obs)
        with torch.no_grad():
            return self.inner.sample_actions(obs)

    def reset(self) -> None:
        self.inner.reset()

    @property
    def reasoning(self) -> str | None:
        return _text(getattr(self.inner, "reasoning", None))

    @property
    def plan_subtask(self) -> str | None:
        return _text(getattr(self.inner, "plan_subtask", None))

    @property
    def looking_at(self) -> dict[str, tuple[float, float]] | None:
        value = getattr(self.inner, "looking_at", None)
        return (
            None
            if value is None or callable(value)
            else {str(c): (float(u), float(v)) for c, (u, v) in value.items()}
        )

    @property
    def plan_subtasks(self) -> list[str] | None:
        value = getattr(self.inner, "plan_subtasks", None)
        value = value() if callable(value) else value
        return None if value is None else [str(t) for t in value]


def _declared(policy: Any, key: str, default: Any) -> Any:
    for source in (policy, getattr(policy, "config", None)):
        value = getattr(source, key, None) if source is not None else None
        if value is not None and not callable(value):
            return value
    return default


def _text(value: Any) -> str | None:
    value = value() if callable(value) else value
    return None if value is None else str(value)


def interject_method(policy: EvalPolicy) -> Callable[[str], None]:
    """``policy.interject`` (or that of the object a :class:`PolicyAdapter` wraps).

    Raises :class:`InterjectionError` naming the policy when it has none.
    """
    for obj in (policy, getattr(policy, "inner", None)):
        method = getattr(obj, "interject", None)
        if callable(method):
            return method
    raise InterjectionError(
        f"policy {policy.name!r} cannot take interjections: it has no interject(text) method. "
        "Interject into a hierarchical policy (e.g. --policy hierarchical:low=RUN,planner=oracle), "
        "or drop --interject."
    )


def as_eval_policy(policy: Any, name: str | None = None) -> EvalPolicy:
    """An :class:`EvalPolicy` as is, or any policy object wrapped in :class:`PolicyAdapter`."""
    if isinstance(policy, EvalPolicy):
        return policy
    return PolicyAdapter(policy, name or type(policy).__name__)


def load_eval_policy(spec: str) -> EvalPolicy:
    """A registered name, a hierarchical spec, a run/checkpoint directory, or ``module:factory``
    -> :class:`EvalPolicy`. Raises :class:`PolicyLoadError` for a spec naming nothing loadable."""
    if spec in EVAL_POLICIES:
        return EVAL_POLICIES.get(spec)()
    if spec.startswith("hierarchical:"):
        from hivla.planning.spec import HierarchicalSpecError, load_hierarchical

        try:
            return load_hierarchical(spec)
        except HierarchicalSpecError as err:
            raise PolicyLoadError(str(err)) from None
    path = Path(spec)
    if path.is_dir():
        return _load_checkpoint(path)
    if ":" in spec and not path.exists():
        module_name, _, attr = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as err:
            raise PolicyLoadError(
                f"policy {spec!r}: cannot import {attr!r} from module {module_name!r} ({err}); "
                "expected package.module:factory naming a callable that returns a policy"
            ) from None
        return as_eval_policy(factory(), name=spec)
    raise PolicyLoadError(
        f"unknown policy {spec!r}: not a built-in ({', '.join(EVAL_POLICIES.names())}), not an existing "
        "run/checkpoint directory, not hierarchical:low=...,planner=...,monitor=... and not "
        "package.module:factory. Pass one of those "
        "(a typo in the run directory's path is the usual cause)."
    )


def _load_checkpoint(path: Path) -> EvalPolicy:
    try:
        from hivla.policies import load_policy
    except ImportError as err:
        raise PolicyLoadError(
            f"cannot load the checkpoint in {path}: hivla.policies.load_policy is not available "
            f"in this install ({err}). Use a built-in policy ({', '.join(EVAL_POLICIES.names())}) "
            "or update hivla."
        ) from None
    return as_eval_policy(load_policy(path), name=str(path))


def check_compatible(policy: EvalPolicy, embodiment: str) -> None:
    """Raise :class:`ActionSpaceError` if ``policy`` cannot drive ``embodiment``'s action space."""
    from hivla.sim import EMBODIMENTS

    emb = EMBODIMENTS.get(embodiment)
    native = f"{len(emb.action_names)} values [{', '.join(emb.action_names)}]"
    trained = ", ".join(policy.embodiments)
    if policy.action_space == "universal":
        if policy.action_dim not in (None, UNIVERSAL_ACTION_DIM):
            raise ActionSpaceError(
                f"policy {policy.name!r} says it outputs universal actions but its action size is "
                f"{policy.action_dim}; universal actions have {UNIVERSAL_ACTION_DIM} values. "
                "Fix the checkpoint's action_space or action_dim."
            )
        if policy.embodiments and embodiment not in policy.embodiments:
            raise ActionSpaceError(
                f"policy {policy.name!r} (universal actions) was trained on embodiment(s) {trained} and reads "
                f"their proprioception; embodiment {embodiment!r} was not among them. Evaluate with "
                f"--embodiment {policy.embodiments[0]}, or train with {embodiment} data as well."
            )
        return
    if policy.embodiments and embodiment not in policy.embodiments:
        raise ActionSpaceError(
            f"policy {policy.name!r} outputs native actions of embodiment(s) {trained}, which cannot drive "
            f"embodiment {embodiment!r} (native action: {native}). A native-action policy only drives the "
            f"embodiment(s) it was trained on: evaluate with --embodiment {policy.embodiments[0]}, or "
            "train on universal actions to drive any embodiment."
        )
    if policy.action_dim is not None and policy.action_dim != len(emb.action_names):
        raise ActionSpaceError(
            f"policy {policy.name!r} outputs native actions of size {policy.action_dim}"
            f"{f' (trained on {trained})' if trained else ''}, but embodiment {embodiment!r} takes "
            f"{native}. Evaluate on the embodiment the policy was trained on, or train on universal "
            "actions to drive any embodiment."
        )
