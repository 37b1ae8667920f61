"""``hivla serve``: a websocket policy server speaking openpi's wire protocol.

A robot running ``openpi_client.websocket_client_policy.WebsocketClientPolicy`` unchanged connects,
reads the metadata the server sends first, then sends msgpack-numpy observations and receives
``{"actions": float32[H, A], "server_timing": ...}`` (see :mod:`hivla.serving.protocol`).

Safe by default: binds to 127.0.0.1; binding elsewhere needs an API key, checked from the
``Authorization: Api-Key <key>`` header openpi-client sends with ``api_key=``; every message is
bounded (:class:`~hivla.serving.wire.WireLimits`, and websockets refuses larger frames); nothing is
unpickled; a malformed request gets a text-frame error and the connection stays open; each
connection has its own policy instance; SIGTERM and SIGINT close every connection and stop cleanly.

Inference is serialized: one thread runs every request in arrival order, so several clients share
the CPU without oversubscribing it, and their waiting time is reported as ``queue_ms``.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from hivla.errors import HivlaError
from hivla.policies import RolloutPolicy, load_rollout_policy
from hivla.serving.protocol import RequestError, metadata, parse_request, sensor_keys
from hivla.serving.session import Session
from hivla.serving.wire import WireError, WireLimits, pack, require, unpack

log = logging.getLogger("hivla.serve")
INFERENCE = "serialized: one inference thread answers every request in arrival order (no batching)"


class ServeConfigError(HivlaError, ValueError):
    """Options of the server that would make it unsafe or cannot work."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServeConfig:
    """policy: a policy spec (see ``hivla.policies.load_rollout_policy``); host/port: where to listen
    (port 0: any free port); api_key: required from clients when set, and required to bind to
    anything but loopback; max_clients: connections at once; limits: bounds on each message."""

    policy: str
    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str | None = None
    max_clients: int = 16
    limits: WireLimits = field(default_factory=WireLimits)

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ServeConfigError(f"port must be within 0..65535 (0: any free port), got {self.port}")
        if self.max_clients < 1:
            raise ServeConfigError(f"max_clients must be >= 1, got {self.max_clients}")
        if self.api_key is not None and len(self.api_key) < 8:
            raise ServeConfigError("the API key must have at least 8 characters; pick a long random one")
        if not is_loopback(self.host) and not self.api_key:
            raise ServeConfigError(
                f"binding to {self.host!r} exposes the policy beyond this machine: set an API key "
                "(--api-key or the HIVLA_API_KEY environment variable), or bind to 127.0.0.1"
            )


@dataclass
class ServerStats:
    connections: int = 0
    requests: int = 0
    errors: int = 0
    rejected: int = 0


class PolicyServer:
    """Serves ``cfg.policy``; ``run()`` blocks until SIGTERM/SIGINT or :meth:`stop`."""

    def __init__(self, cfg: ServeConfig, load: Callable[[str], RolloutPolicy] = load_rollout_policy) -> None:
        self.cfg, self._load = cfg, load
        probe = load(cfg.policy)  # fail fast on a bad spec; its description is the metadata
        self.metadata = metadata(probe, cfg.limits, INFERENCE)
        self._packed_metadata = pack(self.metadata)
        self.needs_images = bool(probe.needs_images)
        self.needs_sensors = sensor_keys(probe)
        self.stats = ServerStats()
        self._active = 0
        self._executor: ThreadPoolExecutor | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def run(self, on_ready: Callable[[str], None] | None = None) -> ServerStats:
        """Listen until stopped; ``on_ready(url)`` once listening. Returns the counts of what happened."""
        asyncio.run(self._main(on_ready))
        return self.stats

    def stop(self) -> None:
        """Stop the server from any thread (as SIGTERM does)."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    async def _main(self, on_ready: Callable[[str], None] | None) -> None:
        ws_server = require("websockets.asyncio.server")
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._loop.add_signal_handler(sig, self._stop.set)
            except (RuntimeError, ValueError):  # not the main thread (tests): stop() still works
                pass
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hivla-infer")
        try:
            async with ws_server.serve(
                self._handle, self.cfg.host, self.cfg.port, process_request=self._check_request,
                max_size=self.cfg.limits.max_message_bytes, max_queue=4, compression=None,
                ping_interval=20, ping_timeout=60,
            ) as server:  # fmt: skip
                self.port = server.sockets[0].getsockname()[1]
                if on_ready is not None:
                    on_ready(f"ws://{self.cfg.host}:{self.port}")
                await self._stop.wait()
                log.info("stopping: closing %d connection(s)", self._active)
                server.close()
                await server.wait_closed()
        finally:
            self._executor.shutdown(wait=True)

    # -- handshake ---------------------------------------------------------------------------------
    def _check_request(self, connection: Any, request: Any) -> Any:
        import http

        if request.path == "/healthz":
            return connection.respond(http.HTTPStatus.OK, "OK\n")
        if self.cfg.api_key is not None:
            given = request.headers.get("Authorization", "")
            expected = f"Api-Key {self.cfg.api_key}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
                self.stats.rejected += 1
                log.warning("refused %s: missing or wrong API key", connection.remote_address)
                return connection.respond(
                    http.HTTPStatus.UNAUTHORIZED,
                    "missing or wrong API key: send the header 'Authorization: Api-Key <key>' "
                    "(openpi-client: WebsocketClientPolicy(..., api_key=KEY))\n",
                )
        if self._active >= self.cfg.max_clients:
            self.stats.rejected += 1
            return connection.respond(
                http.HTTPStatus.SERVICE_UNAVAILABLE,
                f"the server already has {self.cfg.max_clients} clients (--max-clients); try again later\n",
            )
        return None

    # -- one connection ----------------------------------------------------------------------------
    async def _infer(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self._loop.run_in_executor(self._executor, fn, *args)

    async def _handle(self, ws: Any) -> None:
        exceptions = require("websockets.exceptions")
        self._active += 1
        self.stats.connections += 1
        peer = ws.remote_address
        session: Session | None = None
        log.info("client %s connected (%d active)", peer, self._active)
        try:
            session = Session(await self._infer(self._load, self.cfg.policy))
            await ws.send(self._packed_metadata)
            async for message in ws:
                await ws.send(await self._answer(session, message))
        except exceptions.ConnectionClosed:
            pass
        finally:
            self._active -= 1
            if session is not None:
                await self._infer(session.close)
            log.info("client %s left after %d requests", peer, session.requests if session else 0)

    async def _answer(self, session: Session, message: Any) -> bytes | str:
        """The reply to one message: packed bytes, or a text frame ``error: ...``."""
        try:
            if isinstance(message, str):
                raise WireError("send binary msgpack frames, not text")
            request = parse_request(unpack(message, self.cfg.limits), self.needs_images, self.needs_sensors)
            submitted = time.perf_counter()
            out = await self._infer(_timed, session, request, submitted)
            self.stats.requests += 1
            return pack(out)
        except (WireError, RequestError) as err:
            self.stats.errors += 1
            return f"error: {err}"
        except Exception as err:  # a bug in a policy must not take the server down; log it in full
            self.stats.errors += 1
            log.exception("request failed")
            return f"error: internal error ({type(err).__name__}: {err}); the server log has the traceback"


def _timed(session: Session, request: Any, submitted: float) -> dict[str, Any]:
    return session.handle(request, queued_s=time.perf_counter() - submitted)
