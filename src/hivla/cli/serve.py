"""Serve a policy to robots over a websocket, speaking openpi's wire protocol: a robot running
openpi-client's WebsocketClientPolicy unchanged (or `hivla eval --remote`) gets action chunks.

The server sends its metadata on connect, then answers each msgpack-numpy observation with
{"actions": float32[horizon, action_dim], "server_timing": ...}. It binds to 127.0.0.1 unless told
otherwise; binding elsewhere needs an API key (clients send `Authorization: Api-Key <key>`). Each
client has its own policy instance; inference is serialized on one thread. SIGTERM stops it cleanly.

Examples:
  hivla serve runs/my-vla --port 8000
  hivla serve onnx:runs/my-vla/export/onnx-int8 --port 8000       # after hivla export --int8
  hivla serve hierarchical:low=runs/sub,planner=learned:runs/planner,monitor=oracle
  HIVLA_API_KEY=$(openssl rand -hex 16) hivla serve runs/my-vla --host 0.0.0.0
  hivla eval --remote ws://127.0.0.1:8000 --suite tabletop-single --episodes 20   # the robot side
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import tyro

API_KEY_ENV = "HIVLA_API_KEY"


@dataclass(frozen=True)
class Config:
    """Serve a policy over a websocket (openpi's protocol)."""

    policy: tyro.conf.Positional[str]
    """Policy spec: a run/checkpoint directory, onnx:EXPORT_DIR, a built-in (expert | random |
    subtask-expert), hierarchical:low=...,planner=...,monitor=..., or package.module:factory."""
    host: str = "127.0.0.1"
    """Address to listen on; anything but loopback needs an API key."""
    port: int = 8000
    """Port to listen on (0: any free port, printed when listening)."""
    api_key: str | None = None
    """Key clients must send as `Authorization: Api-Key <key>`; default: the HIVLA_API_KEY environment
    variable (keeps the key out of the process list), else none."""
    max_clients: int = 16
    """Clients connected at once; more are refused with HTTP 503."""
    max_message_mb: float = 16.0
    """Largest message accepted, in MB; larger ones close that client's connection."""
    threads: int = 0
    """Torch and onnxruntime threads for inference (0: all cores)."""

    def __post_init__(self) -> None:
        if self.max_message_mb * 2**20 < 1024:
            raise ValueError(f"--max-message-mb must allow at least 1 kB, got {self.max_message_mb}")
        if self.threads < 0:
            raise ValueError(f"--threads must be >= 0 (0: all cores), got {self.threads}")


def run(cfg: Config, quiet: bool = False) -> dict:
    import logging

    from hivla.serving.server import PolicyServer, ServeConfig
    from hivla.serving.wire import WireLimits
    from hivla.utils.threads import limit_threads

    limit_threads(cfg.threads or None)
    limit = int(cfg.max_message_mb * 2**20)
    scfg = ServeConfig(
        policy=cfg.policy, host=cfg.host, port=cfg.port, api_key=cfg.api_key or os.environ.get(API_KEY_ENV) or None,
        max_clients=cfg.max_clients, limits=WireLimits(max_message_bytes=limit, max_array_bytes=limit),
    )  # fmt: skip
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    server = PolicyServer(scfg)

    def ready(url: str) -> None:
        key = "API key required" if scfg.api_key else "no API key"
        line = f"hivla serve: {cfg.policy} listening on {url} ({key}); Ctrl-C or SIGTERM stops"
        print(line, file=sys.stderr if quiet else sys.stdout, flush=True)

    stats = server.run(on_ready=ready)
    if not quiet:
        print(
            f"hivla serve: stopped after {stats.connections} connection(s), {stats.requests} request(s), "
            f"{stats.errors} error reply(ies), {stats.rejected} refused handshake(s)",
            flush=True,
        )
    return {"policy": cfg.policy, "port": server.port, **vars(stats)}
