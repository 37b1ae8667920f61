"""One client's state on the server: its own policy instance and, for simulated episodes, a mirror
of the client's scene.

Every connection gets a policy loaded anew from the spec, so a chunk in flight, a reasoning trace or
a hierarchical plan never leaks from one client to another. A :class:`Session` is driven by one
thread at a time (the server's inference thread).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from hivla.policies import RolloutPolicy, interject_method
from hivla.serving.protocol import Request, RequestError, reply


class Session:
    """Answers the requests of one connection with ``policy`` (a fresh :class:`RolloutPolicy`)."""

    def __init__(self, policy: RolloutPolicy) -> None:
        self.policy = policy
        self._env: Any = None
        self._env_key: tuple | None = None
        self.requests = 0

    def handle(self, request: Request, queued_s: float = 0.0) -> dict[str, Any]:
        """One request -> its reply. Raises :class:`RequestError` for a request that cannot be served."""
        start = time.perf_counter()
        if request.reset:
            self.policy.reset()
        if request.episode is not None:
            self._start_episode(request.episode)
        if request.sim_state is not None:
            self._mirror(request.sim_state)
        if request.interject is not None:
            try:
                interject_method(self.policy)(request.interject)
            except ValueError as err:
                raise RequestError(str(err)) from None
        infer = time.perf_counter()
        try:
            actions = self.policy.sample_actions(request.obs)  # float32[1, H, A]
        except (KeyError, ValueError, RuntimeError, TypeError) as err:
            raise RequestError(
                f"the policy could not act on this observation: {type(err).__name__}: {err}"
            ) from None
        done = time.perf_counter()
        actions = np.asarray(actions, dtype=np.float32)
        if actions.ndim != 3 or actions.shape[0] != 1:
            raise RuntimeError(
                f"policy {self.policy.name!r} returned actions of shape {actions.shape}, not (1, H, A)"
            )
        self.requests += 1
        timing = {
            "infer_ms": (done - infer) * 1000.0,
            "prepare_ms": (infer - start) * 1000.0,
            "queue_ms": queued_s * 1000.0,
        }
        return reply(actions, self.policy, timing)

    def _start_episode(self, episode: dict[str, Any]) -> None:
        from hivla.sim import make_env

        key = (
            episode["suite"],
            episode["embodiment"],
            tuple(sorted(episode["shifts"].items())),
            episode["max_steps"],
        )
        if key != self._env_key:
            self.close()
            try:
                self._env = make_env(
                    episode["suite"], episode["embodiment"], render=False, shifts=episode["shifts"],
                    max_steps=episode["max_steps"],
                )  # fmt: skip
            except (ValueError, KeyError) as err:  # unknown suite, embodiment or shift axis
                raise RequestError(f"cannot lay out episode {episode}: {err}") from None
            self._env_key = key
        self._env.reset(seed=episode["seed"])
        try:
            self.policy.start_episode(self._env, episode["seed"])
        except ValueError as err:  # e.g. a native-action policy and another embodiment
            raise RequestError(str(err)) from None

    def _mirror(self, state: dict[str, Any]) -> None:
        env = self._env
        if env is None:
            raise RequestError("'sim_state' needs an 'episode' first (the scene it belongs to)")
        current = env.get_state()
        for key in ("physics", "controller"):
            if state[key].shape != np.shape(current[key]):
                raise RequestError(
                    f"'sim_state.{key}' has {state[key].shape[0]} values; the episode's simulator has "
                    f"{np.shape(current[key])[0]}. Send the state of the episode announced in 'episode'."
                )
        env.set_state({**state, "spec": env.spec})

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
        self._env, self._env_key = None, None
