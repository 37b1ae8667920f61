"""What travels between a robot and ``hivla serve``: the metadata, a request, a reply.

On connect the server sends its metadata (:func:`metadata`). Each request is one observation, as
``openpi-client`` sends it, with optional control keys (all optional but ``state``):

- ``images``: ``{camera: uint8[H, W, 3]}``; ``state``: float[S]; ``instruction`` (or openpi's
  ``prompt``): the task in words; ``embodiment``: which robot, for multi-embodiment policies;
- the sensors a policy reads besides RGB (the metadata's ``observation.sensors`` names what this
  server's policy needs; docs/sensing.md): ``depth``: ``{camera: float[H, W]}`` metres;
  ``camera_params``: ``{camera: {"intrinsics": float[3, 3], "extrinsics": float[4, 4]}}`` (a
  point-cloud policy); ``contact``: float[10], the touch readings (``hivla.types.CONTACT_NAMES``);
- ``reset``: true at the start of an episode (the policy forgets its chunk, trace and plan);
- ``episode``: ``{suite, embodiment, seed, shifts, max_steps}`` of a simulated episode: the server
  lays out the same scene so that policies that read the scene (the scripted expert, a hierarchical
  policy's object list, oracle planners and monitors) can act; implies ``reset``;
- ``sim_state``: the simulator's state (``physics``, ``controller``, ``steps``, ``subtask_index``,
  ``button_pressed``), mirrored before acting, for policies with privileged state;
- ``interject``: a human interjection given to the policy before it acts (hierarchical policies
  replan).

The reply is ``{"actions": float32[H, A], "server_timing": {...}, "policy_timing": {...}}`` plus the
policy's ``reasoning``, ``plan_subtask``, ``plan_subtasks`` and ``looking_at`` when it has them.
A request that cannot be served gets a text frame ``"error: ..."`` instead (``openpi-client``
raises it as a server error) and the connection stays open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hivla.errors import HivlaError

PROTOCOL = "openpi-msgpack-numpy"
PROTOCOL_VERSION = 1
OBS_KEYS = ("images", "state", "instruction", "prompt", "embodiment")
SENSOR_KEYS = ("depth", "camera_params", "contact")
CONTROL_KEYS = ("reset", "episode", "sim_state", "interject")
EPISODE_KEYS = ("suite", "embodiment", "seed", "shifts", "max_steps")
SIM_STATE_KEYS = ("physics", "controller", "steps", "subtask_index", "button_pressed")
MAX_CAMERAS = 8
MAX_TEXT = 512


class RequestError(HivlaError, ValueError):
    """A request the server cannot act on; its message goes back to the client."""


@dataclass(frozen=True)
class Request:
    """One parsed request: the observation the policy sees and the control keys."""

    obs: dict[str, Any]
    reset: bool = False
    episode: dict[str, Any] | None = None
    sim_state: dict[str, Any] | None = None
    interject: str | None = None


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise RequestError(
            f"{key!r} must be a string of at most {MAX_TEXT} characters, got {type(value).__name__}"
        )
    return value


def _array(value: Any, key: str, kinds: str, ndim: int) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype.kind not in kinds or value.ndim != ndim:
        got = f"{value.dtype}{list(value.shape)}" if isinstance(value, np.ndarray) else type(value).__name__
        raise RequestError(f"{key!r} must be a {ndim}-D numpy array of kind {kinds!r}, got {got}")
    if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
        raise RequestError(f"{key!r} contains NaN or inf; send finite values")
    return value


def _images(value: Any, needs_images: bool) -> dict[str, np.ndarray]:
    if not isinstance(value, dict) or len(value) > MAX_CAMERAS:
        raise RequestError(
            f"'images' must be a map of at most {MAX_CAMERAS} cameras to uint8[H, W, 3] arrays"
        )
    out = {}
    for cam, img in value.items():
        if not isinstance(cam, str):
            raise RequestError(f"camera names must be strings, got {type(cam).__name__}")
        img = _array(img, f"images.{cam}", "u", 3)
        if img.dtype != np.uint8 or img.shape[-1] != 3 or (needs_images and min(img.shape[:2]) < 1):
            raise RequestError(f"image {cam!r} must be uint8[H, W, 3], got {img.dtype}{list(img.shape)}")
        out[cam] = img
    return out


def parse_request(msg: Any, needs_images: bool = True, needs: tuple[str, ...] = ()) -> Request:
    """A decoded message -> :class:`Request`. ``needs``: the sensor keys (:data:`SENSOR_KEYS`) the
    policy reads, which the request must carry (:func:`sensor_keys`). Raises :class:`RequestError`
    saying what is wrong."""
    if not isinstance(msg, dict):
        raise RequestError(f"a request must be a map (an observation dict), got {type(msg).__name__}")
    known = OBS_KEYS + SENSOR_KEYS + CONTROL_KEYS
    unknown = [k for k in msg if k not in known]
    if unknown:
        shown = ", ".join(repr(k)[:40] for k in unknown[:5])
        raise RequestError(f"unknown request keys {shown}; expected {', '.join(known)}")
    if "state" not in msg:
        raise RequestError("the observation needs 'state' (float[S], the robot's proprioception)")
    obs: dict[str, Any] = {"state": _array(msg["state"], "state", "fiu", 1).astype(np.float32)}
    if "images" in msg:
        obs["images"] = _images(msg["images"], needs_images)
    elif needs_images:
        raise RequestError("this policy reads images: send 'images': {camera: uint8[H, W, 3]}")
    text = msg.get("instruction", msg.get("prompt", ""))
    obs["instruction"] = _text(text, "instruction")
    if "embodiment" in msg:
        obs["embodiment"] = _text(msg["embodiment"], "embodiment")
    obs.update(_sensors(msg, needs))
    reset = msg.get("reset", False)
    if not isinstance(reset, bool):
        raise RequestError(f"'reset' must be true or false, got {type(reset).__name__}")
    episode = _episode(msg["episode"]) if "episode" in msg else None
    sim_state = _sim_state(msg["sim_state"]) if "sim_state" in msg else None
    interject = _text(msg["interject"], "interject") if "interject" in msg else None
    return Request(obs, reset or episode is not None, episode, sim_state, interject)


SENSOR_FORMS = {
    "depth": "{camera: float32[H, W]} metres along each camera's optical axis",
    "camera_params": '{camera: {"intrinsics": float32[3, 3], "extrinsics": float32[4, 4] camera-to-world}}',
    "contact": "float32[10], the touch readings (hivla.types.CONTACT_NAMES)",
}


def sensor_keys(policy: Any) -> tuple[str, ...]:
    """The sensor keys a request to ``policy`` must carry: ``depth`` (and ``camera_params`` for a
    point-cloud policy) and ``contact``, from the sensors it declares."""
    sensors = tuple(getattr(policy, "sensors", ()) or ())
    points = getattr(_config_of(policy), "depth_encoder", "channel") == "points"
    keys = (("depth",) if "depth" in sensors else ()) + (
        ("camera_params",) if "depth" in sensors and points else ()
    )
    return keys + (("contact",) if "contact" in sensors else ())


def _camera_map(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) > MAX_CAMERAS or not all(isinstance(c, str) for c in value):
        raise RequestError(
            f"{key!r} must be a map of at most {MAX_CAMERAS} camera names to {SENSOR_FORMS[key]}"
        )
    return value


def _sensors(msg: dict[str, Any], needs: tuple[str, ...]) -> dict[str, Any]:
    """The request's sensor readings, checked: the ones the policy needs must be there."""
    missing = [k for k in needs if k not in msg]
    if missing:
        raise RequestError(
            "this policy reads " + "; ".join(f"{k!r}: {SENSOR_FORMS[k]}" for k in missing) + ": send them"
        )
    out: dict[str, Any] = {}
    if "depth" in msg:
        out["depth"] = {
            c: _array(d, f"depth.{c}", "f", 2) for c, d in _camera_map(msg["depth"], "depth").items()
        }
    if "camera_params" in msg:
        params = {}
        for cam, p in _camera_map(msg["camera_params"], "camera_params").items():
            if not isinstance(p, dict) or sorted(p) != ["extrinsics", "intrinsics"]:
                raise RequestError(
                    f"camera_params.{cam} must be a map with exactly 'intrinsics' (float32[3, 3]) and "
                    "'extrinsics' (float32[4, 4], camera to world)"
                )
            k = _array(p["intrinsics"], f"camera_params.{cam}.intrinsics", "f", 2)
            e = _array(p["extrinsics"], f"camera_params.{cam}.extrinsics", "f", 2)
            if k.shape != (3, 3) or e.shape != (4, 4):
                raise RequestError(
                    f"camera_params.{cam}: intrinsics must be 3x3 and extrinsics 4x4, got {list(k.shape)} and "
                    f"{list(e.shape)}"
                )
            params[cam] = {"intrinsics": k.astype(np.float32), "extrinsics": e.astype(np.float32)}
        out["camera_params"] = params
    if "contact" in msg:
        from hivla.types import CONTACT_NAMES

        contact = _array(msg["contact"], "contact", "f", 1)
        if contact.shape != (len(CONTACT_NAMES),):
            raise RequestError(
                f"'contact' must be {SENSOR_FORMS['contact']}, got {list(contact.shape)} values"
            )
        out["contact"] = contact.astype(np.float32)
    return out


def _int(value: Any, key: str, low: int, high: int) -> int:
    if isinstance(value, np.integer):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise RequestError(f"{key!r} must be an integer in {low}..{high}, got {value!r:.40}")
    return value


def _episode(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or any(k not in EPISODE_KEYS for k in value):
        raise RequestError(f"'episode' must be a map with keys among {', '.join(EPISODE_KEYS)}")
    for key in ("suite", "embodiment", "seed"):
        if key not in value:
            raise RequestError(f"'episode' needs {key!r} (the simulated episode to lay out)")
    shifts = value.get("shifts") or {}
    if not isinstance(shifts, dict) or len(shifts) > 16:
        raise RequestError("'episode.shifts' must be a map axis -> level")
    max_steps = value.get("max_steps")
    return {
        "suite": _text(value["suite"], "episode.suite"),
        "embodiment": _text(value["embodiment"], "episode.embodiment"),
        "seed": _int(value["seed"], "episode.seed", 0, 2**32 - 1),
        "shifts": {_text(k, "shift axis"): _int(v, f"shift {k}", 0, 3) for k, v in shifts.items()},
        "max_steps": None if max_steps is None else _int(max_steps, "episode.max_steps", 1, 100_000),
    }


def _sim_state(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or sorted(value) != sorted(SIM_STATE_KEYS):
        raise RequestError(f"'sim_state' must be a map with exactly the keys {', '.join(SIM_STATE_KEYS)}")
    if not isinstance(value["button_pressed"], bool):
        raise RequestError("'sim_state.button_pressed' must be true or false")
    return {
        "physics": _array(value["physics"], "sim_state.physics", "f", 1).astype(np.float64),
        "controller": _array(value["controller"], "sim_state.controller", "f", 1).astype(np.float64),
        "steps": _int(value["steps"], "sim_state.steps", 0, 10**7),
        "subtask_index": _int(value["subtask_index"], "sim_state.subtask_index", 0, 64),
        "button_pressed": value["button_pressed"],
    }


def sim_state_of(env: Any) -> dict[str, Any]:
    """The ``sim_state`` of a request from a simulator (``env.get_state()`` without its episode spec,
    which the server rebuilds from the ``episode`` seed)."""
    state = env.get_state()
    return {
        "physics": np.asarray(state["physics"], dtype=np.float64),
        "controller": np.asarray(state["controller"], dtype=np.float64),
        "steps": int(state["steps"]),
        "subtask_index": int(state["subtask_index"]),
        "button_pressed": bool(state["button_pressed"]),
    }


def reply(actions: np.ndarray, policy: Any, timing: dict[str, float]) -> dict[str, Any]:
    """The reply to one request: ``actions`` float32[H, A] (the batch row of float32[1, H, A])."""
    chunk = np.asarray(actions, dtype=np.float32)
    chunk = chunk[0] if chunk.ndim == 3 else chunk  # (H, A)
    out: dict[str, Any] = {
        "actions": chunk,
        "server_timing": {k: float(v) for k, v in timing.items()},
        "policy_timing": {"infer_ms": float(timing["infer_ms"])},
    }
    for key in ("reasoning", "plan_subtask", "plan_subtasks", "looking_at"):
        value = getattr(policy, key, None)
        if value is not None:
            out[key] = {c: list(uv) for c, uv in value.items()} if key == "looking_at" else value
    return out


def _config_of(policy: Any) -> Any:
    """The config of the trained policy that reads the observation (a checkpoint's, an export's, or
    a hierarchical policy's low level), or None for policies without one (the built-ins)."""
    low = getattr(policy, "low", None)
    for obj in (policy, getattr(policy, "inner", None), low, getattr(low, "inner", None)):
        config = getattr(obj, "config", None)
        if getattr(config, "cameras", None) is not None:
            return config
    return None


def metadata(policy: Any, limits: Any, inference: str) -> dict[str, Any]:
    """What the server sends on connect: the policy, the observation it reads, its actions, limits."""
    from hivla import __version__

    described = policy.describe()
    config = _config_of(policy)
    cameras = list(getattr(config, "cameras", ()) or ())
    size = policy.image_size
    state_dim = getattr(config, "state_dim", None)
    action_names = None
    if policy.action_space == "native" and len(policy.embodiments) == 1:
        from hivla.sim import EMBODIMENTS

        action_names = list(EMBODIMENTS.get(policy.embodiments[0]).action_names)
    return {
        "server": "hivla",
        "hivla_version": __version__,
        "protocol": PROTOCOL,
        "protocol_version": PROTOCOL_VERSION,
        "policy": described,
        "observation": {
            "images": {"cameras": cameras, "shape": [size, size, 3] if size else None, "dtype": "uint8"},
            "needs_images": bool(policy.needs_images),
            "state": {"dim": state_dim, "dtype": "float32"},
            "instruction": "str (or 'prompt')",
            "embodiment": "str, optional: "
            + (
                ", ".join(policy.embodiments)
                if policy.embodiments and not policy.any_embodiment
                else "any embodiment"
            ),
            "sensors": {k: SENSOR_FORMS[k] for k in sensor_keys(policy)},
        },
        "action": {
            "space": policy.action_space,
            "dim": policy.action_dim,
            "names": action_names,
            "execute_steps": policy.execute_steps,
            "shape": "[horizon, action_dim]",
        },
        "control_keys": list(CONTROL_KEYS),
        "limits": {
            "max_message_bytes": limits.max_message_bytes,
            "max_array_bytes": limits.max_array_bytes,
        },
        "inference": inference,
    }
