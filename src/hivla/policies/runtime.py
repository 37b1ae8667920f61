"""The runtime policy seam: what every rollout drives (evaluation, collection, serving, experiments).

Every policy is seen through :class:`RolloutPolicy`: ``sample_actions(obs) -> float32[1, H, A]`` and
``reset()`` (the seam of ``hivla.actions.chunking``), plus what a rollout must know before it
starts: which action space the policy speaks (``"native"`` actions of the embodiment(s) it was
trained on, or the ``"universal"`` space every embodiment converts from: 7 values, 10 with a base), its action size,
whether it looks at images, and how many actions of a chunk to execute. :class:`PolicyAdapter`
wraps any policy object (a trained checkpoint) into one; :func:`check_compatible` says whether it
can drive an embodiment. Built-in policies live in :mod:`.builtin`, the spec loader in :mod:`.specs`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from hivla.errors import HivlaError
from hivla.types import MOBILE_UNIVERSAL_ACTION_DIM, UNIVERSAL_ACTION_DIM, UNIVERSAL_ACTION_DIMS, Observation

ACTION_SPACES = ("native", "universal")


class ActionSpaceError(HivlaError, ValueError):
    """The policy's actions cannot drive the requested embodiment."""


class PolicyLoadError(HivlaError, ValueError):
    """The policy spec names nothing that can be loaded."""


class InterjectionError(HivlaError, ValueError):
    """The policy cannot take a human interjection."""


class RolloutPolicy:
    """Base class of what every rollout drives. Subclasses override ``sample_actions``.

    Attributes:
        name: shown in results and reports.
        action_space: ``"native"`` or ``"universal"``.
        embodiments: embodiments whose native actions the policy was trained on; ``()`` = any
            (policies that read the env's action space, like the built-ins).
        action_dim: size A of each action, or None when it follows the env's embodiment.
        needs_images: False lets the harness skip rendering when no video is recorded.
        execute_steps: actions of each chunk to execute before querying again.
        image_size: camera size the policy was trained on, or None for any.
        sensors: the env's optional sensors the policy reads (``hivla.sim.sensors``: "depth",
            "contact"); the harness makes its envs with them. () = RGB and state only.
        any_embodiment: a universal-action policy that reads only the proprioception every body
            shares (``VLAConfig.proprio='shared'``) drives bodies beyond ``embodiments`` (zero-shot).
    """

    name: str = "policy"
    action_space: str = "native"
    embodiments: tuple[str, ...] = ()
    action_dim: int | None = None
    needs_images: bool = True
    execute_steps: int = 1
    image_size: int | None = None
    sensors: tuple[str, ...] = ()
    any_embodiment: bool = False

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
            "sensors": list(self.sensors),
            "any_embodiment": self.any_embodiment,
        }


class PolicyAdapter(RolloutPolicy):
    """Adapts a policy object (e.g. from ``hivla.policies.load_policy``) to :class:`RolloutPolicy`.

    Read from the policy, then from its ``config``: ``action_space`` ("native" | "universal"),
    ``embodiments`` (or one ``embodiment``), ``action_dim`` (0 = unknown), ``execute_steps``
    (else ``horizon``, the whole chunk), ``image_size`` and ``sensors``; optional ``reasoning`` and
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
        self.sensors = tuple(_declared(policy, "sensors", ()) or ())
        self.any_embodiment = bool(_declared(policy, "any_embodiment", False))
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


def interject_method(policy: RolloutPolicy) -> Callable[[str], None]:
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


def check_compatible(policy: RolloutPolicy, embodiment: str) -> None:
    """Raise :class:`ActionSpaceError` if ``policy`` cannot drive ``embodiment``'s action space."""
    from hivla.sim import embodiment_info

    emb = embodiment_info(embodiment)
    native = f"{len(emb.action_names)} values [{', '.join(emb.action_names)}]"
    trained = ", ".join(policy.embodiments)
    if policy.action_space == "universal":
        if policy.action_dim not in (None, *UNIVERSAL_ACTION_DIMS):
            raise ActionSpaceError(
                f"policy {policy.name!r} says it outputs universal actions but its action size is "
                f"{policy.action_dim}; universal actions have {UNIVERSAL_ACTION_DIM} values "
                f"({MOBILE_UNIVERSAL_ACTION_DIM} with a wheeled base's part). "
                "Fix the checkpoint's action_space or action_dim."
            )
        if policy.embodiments and embodiment not in policy.embodiments and not policy.any_embodiment:
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


def as_rollout_policy(policy: Any, name: str | None = None) -> RolloutPolicy:
    """A :class:`RolloutPolicy` as is, or any policy object wrapped in :class:`PolicyAdapter`."""
    if isinstance(policy, RolloutPolicy):
        return policy
    return PolicyAdapter(policy, name or type(policy).__name__)
