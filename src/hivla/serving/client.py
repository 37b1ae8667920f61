"""The robot side of ``hivla serve``: :class:`RemotePolicy`, a :class:`RolloutPolicy` whose actions come
from a policy server over a websocket, so ``hivla eval --remote ws://HOST:PORT`` (or the policy spec
``ws://HOST:PORT``) runs the same harness, metrics and report as a local policy.

It speaks the same protocol as ``openpi-client`` (metadata first, msgpack-numpy observations,
``actions`` float32[H, A] back) and adds what a simulated episode needs: the ``episode`` it starts
(suite, embodiment, seed, shifts) and the simulator's state with every request, so that policies
reading the scene (the scripted expert, hierarchical policies) act on the server as they would
locally. The API key, if the server wants one, comes from the ``HIVLA_API_KEY`` environment variable.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from hivla.errors import HivlaError
from hivla.policies.runtime import RolloutPolicy
from hivla.policies.specs import register_rollout_policy
from hivla.serving.protocol import sim_state_of
from hivla.serving.wire import WireLimits, pack, require, unpack
from hivla.types import Observation

API_KEY_ENV = "HIVLA_API_KEY"


class RemoteError(HivlaError, RuntimeError):
    """The policy server refused a request, or cannot be reached."""


class RemotePolicy(RolloutPolicy):
    """A policy served by ``hivla serve`` at ``url`` (``ws://HOST:PORT``)."""

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        self.url, self.timeout = url, timeout
        self._key = api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None
        self._ws: Any = None
        self.server_metadata = self._connect()
        desc = self.server_metadata.get("policy", {})
        self.name = f"{desc.get('name', 'policy')}@{url}"
        self.action_space = desc.get("action_space", "native")
        self.embodiments = tuple(desc.get("embodiments") or ())
        self.any_embodiment = bool(desc.get("any_embodiment", False))  # a shared-proprioception policy
        self.action_dim = desc.get("action_dim")
        self.execute_steps = int(desc.get("execute_steps") or 1)
        self.image_size = desc.get("image_size")
        observation = self.server_metadata.get("observation", {})
        self.needs_images = bool(observation.get("needs_images", True))
        self.sensors = tuple(desc.get("sensors") or ())  # the env sensors the harness must turn on
        self.sensor_keys = tuple(observation.get("sensors") or ())  # what each request carries
        self._env: Any = None
        self._pending: dict[str, Any] = {}
        self._last: dict[str, Any] = {}
        self.round_trip_ms: list[float] = []

    def _connect(self) -> dict[str, Any]:
        client = require("websockets.sync.client")
        exceptions = require("websockets.exceptions")
        headers = {"Authorization": f"Api-Key {self._key}"} if self._key else None
        try:
            self._ws = client.connect(
                self.url, additional_headers=headers, compression=None, max_size=None,
                open_timeout=self.timeout,
            ).__enter__()  # entered by hand: the connection lives as long as the policy  # fmt: skip
        except exceptions.InvalidStatus as err:
            raise RemoteError(
                f"policy server {self.url} refused the connection: HTTP {err.response.status_code} "
                f"{err.response.body.decode(errors='replace').strip()}"
                + (f" (set {API_KEY_ENV})" if err.response.status_code == 401 else "")
            ) from None
        except (OSError, exceptions.InvalidURI, exceptions.InvalidHandshake) as err:
            raise RemoteError(
                f"cannot reach a policy server at {self.url}: {err}. Start one with `hivla serve POLICY "
                "--port PORT` and pass its ws://HOST:PORT"
            ) from None
        meta = unpack(self._ws.recv(timeout=self.timeout))
        if not isinstance(meta, dict):
            raise RemoteError(f"{self.url} sent no metadata map on connect; is it a policy server?")
        return meta

    # -- RolloutPolicy ----------------------------------------------------------------------------------
    def start_episode(self, env: Any, seed: int) -> None:
        self._env = env
        self._pending["episode"] = {
            "suite": env.suite.name, "embodiment": env.embodiment.name, "seed": int(seed),
            "shifts": dict(env.shifts), "max_steps": env.max_steps_override,
        }  # fmt: skip

    def reset(self) -> None:
        self._pending["reset"] = True
        self._last = {}

    def interject(self, text: str) -> None:
        """Sent with the next request; the server's policy replans (or says it cannot)."""
        self._pending["interject"] = str(text)

    def infer(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request map, return the reply map; a server error raises :class:`RemoteError`."""
        start = time.perf_counter()
        self._ws.send(pack(request))
        answer = self._ws.recv(timeout=self.timeout)
        self.round_trip_ms.append((time.perf_counter() - start) * 1000.0)
        if isinstance(answer, str):
            raise RemoteError(f"policy server {self.url}: {answer}")
        return unpack(answer, WireLimits(max_message_bytes=2**30, max_array_bytes=2**30))

    def sample_actions(self, obs: Observation) -> np.ndarray:
        request: dict[str, Any] = {"state": np.asarray(obs["state"], dtype=np.float32)}
        if self.needs_images:
            request["images"] = {c: np.asarray(img) for c, img in obs["images"].items()}
        request["instruction"] = str(obs.get("instruction", ""))
        for key in self.sensor_keys:
            if key not in obs:
                raise RemoteError(
                    f"the policy at {self.url} reads {key!r}, which this observation lacks: run the env with "
                    f"sensors {', '.join(self.sensors)} (hivla eval turns them on from the server's metadata)"
                )
            request[key] = obs[key]
        if self._env is not None:
            request["embodiment"] = self._env.embodiment.name
            request["sim_state"] = sim_state_of(self._env)
        request.update(self._pending)
        self._pending = {}
        self._last = self.infer(request)
        return np.asarray(self._last["actions"], dtype=np.float32)[None]  # (1, H, A)

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None

    # -- what the server's policy reported with its last reply -----------------------------------------
    @property
    def reasoning(self) -> str | None:
        return self._last.get("reasoning")

    @property
    def plan_subtask(self) -> str | None:
        return self._last.get("plan_subtask")

    @property
    def plan_subtasks(self) -> list[str] | None:
        return self._last.get("plan_subtasks")

    @property
    def looking_at(self) -> dict[str, tuple[float, float]] | None:
        value = self._last.get("looking_at")
        return None if value is None else {c: (float(u), float(v)) for c, (u, v) in value.items()}


@register_rollout_policy("ws:")
def _load_ws(spec: str) -> RemotePolicy:
    return RemotePolicy(spec)


@register_rollout_policy("wss:")
def _load_wss(spec: str) -> RemotePolicy:
    return RemotePolicy(spec)
