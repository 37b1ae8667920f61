"""Request latency of a served policy: local calls vs `hivla serve` over loopback, 1 and several
clients, for the torch checkpoint, its ONNX fp32 export and its ONNX int8 export; sizes on disk and,
with ``--episodes``, success on the same held-out seeds.

For each backend (torch ``RUN``, its ONNX fp32 and int8 exports in a temporary directory), measured
in one run, the backends timed in turn round after round (``--rounds``) so that they share the
machine's load alike:

- local: ``policy.sample_actions(obs)`` in this process, p50/p95 over ``--requests`` calls;
- success (``--episodes``): ``hivla eval`` on the same held-out seeds, the policy in this process
  (local) and driven through the server (remote, as ``hivla eval --remote``);
- overhead: with one client, each round trip less the server's time in the policy (its
  ``prepare_ms`` and ``infer_ms``): what the protocol costs (msgpack encoding and decoding on both
  sides, websockets, loopback, the hand-off to the inference thread), measured on the same requests
  and so not moved by the machine's load shifting between rows;
- remote: a `hivla serve` process (``--threads`` torch/onnxruntime threads) on 127.0.0.1, queried by
  1, then each count of ``--clients`` clients at once (one thread and one connection each, every
  client sending ``--requests`` observations in turn): round-trip p50/p95 and requests per second in
  all. The server serializes inference, so requests/s stays about flat with more clients while each
  client's latency grows with the queue (``queue_ms`` in the replies).

Without ``--run`` a ``quick``-preset policy is trained for one step on synthetic frames (latency
depends on the architecture, not on the weights; success then means nothing, so ``--episodes``
needs ``--run``).

    python benchmarks/bench_serving.py --run runs/quick --threads 1 --clients 1 4 16 --episodes 50
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro

from hivla.policies import load_rollout_policy
from hivla.serving.client import RemotePolicy
from hivla.serving.onnx import example_observation, export_onnx
from hivla.utils.threads import limit_threads


@dataclass(frozen=True)
class Config:
    """Latency of local vs served policies (torch, ONNX fp32, ONNX int8)."""

    run: Path | None = None  # a trained run (torch checkpoint); default: a quick-preset policy after one step
    requests: int = 200  # per client and backend
    rounds: int = 5  # the backends are timed in turn, round after round
    clients: tuple[int, ...] = (1, 4, 16)
    threads: int = 1  # torch / onnxruntime threads, here and in the server
    episodes: int = 0  # held-out episodes per backend for success (needs --run)
    suite: str = "tabletop-single"
    embodiment: str = "floating"


def pct(values: list[float]) -> str:
    a = np.asarray(values)
    return f"{np.percentile(a, 50):7.2f} {np.percentile(a, 95):7.2f}"


def train_quick(out: Path, threads: int) -> Path:
    cmd = [sys.executable, "-m", "hivla.cli.main", "train", "--preset", "quick", "--steps", "1",
           "--threads", str(threads), "--out", str(out)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out


def local_latency(policy, obs: dict, n: int) -> list[float]:
    """``n`` calls of ``policy.sample_actions(obs)`` in this process, in ms."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        policy.sample_actions(obs)
        times.append((time.perf_counter() - start) * 1000.0)
    return times


class Server:
    def __init__(self, spec: str, threads: int) -> None:
        cmd = [sys.executable, "-m", "hivla.cli.main", "serve", spec, "--port", "0", "--threads", str(threads),
               "--max-clients", "64"]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in self.proc.stdout:
            if "listening on " in line:
                self.url = line.split("listening on ")[1].split()[0]
                return
        raise RuntimeError(f"hivla serve {spec} did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


def remote_round(url: str, request: dict, clients: int, n: int) -> tuple[list[float], float, list[float]]:
    """``clients`` connections each sending ``n`` requests at once -> (round trips in ms, seconds,
    overheads in ms: each round trip less the server's own time acting on it, queue included)."""
    policies = [RemotePolicy(url) for _ in range(clients)]
    for p in policies:  # warm-up
        p.infer(request)
        p.round_trip_ms.clear()
    serving_ms: list[float] = []

    def drive(p: RemotePolicy) -> None:
        for _ in range(n):
            timing = p.infer(request)["server_timing"]
            serving_ms.append(timing["prepare_ms"] + timing["infer_ms"])

    threads = [threading.Thread(target=drive, args=(p,)) for p in policies]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    trips = [ms for p in policies for ms in p.round_trip_ms]
    for p in policies:
        p.close()
    # the round trips of one client are in its order; the server times interleave across clients
    overheads = [t - s for t, s in zip(trips, serving_ms, strict=True)] if clients == 1 else []
    return trips, seconds, overheads


def success(spec: str, cfg: Config) -> str:
    from hivla.evaluation import EvalConfig, evaluate

    ecfg = EvalConfig(
        policy=spec, suite=cfg.suite, embodiment=cfg.embodiment, episodes=cfg.episodes, videos=0
    )
    m = evaluate(ecfg).metrics["overall"]
    return f"{m['successes']}/{m['episodes']} ({m['success']:.0%})"


def main(cfg: Config) -> None:
    limit_threads(cfg.threads)
    if cfg.episodes and cfg.run is None:
        raise SystemExit(
            "--episodes needs --run (a trained policy): an untrained one succeeds by chance only"
        )
    tmp = Path(tempfile.mkdtemp(prefix="bench_serving_"))
    run = cfg.run or train_quick(tmp / "run", cfg.threads)
    sizes = {}
    for name, int8 in (("onnx", False), ("onnx-int8", True)):
        meta = export_onnx(run, tmp / name, int8=int8)
        sizes[name] = (meta["bytes"], meta["parity"]["max_abs_normalized"])
        sizes["torch"] = (meta["checkpoint_bytes"], 0.0)
    specs = {"torch": str(run), "onnx": f"onnx:{tmp / 'onnx'}", "onnx-int8": f"onnx:{tmp / 'onnx-int8'}"}
    policies = {name: load_rollout_policy(spec) for name, spec in specs.items()}
    obs = example_observation(policies["torch"].inner.config)
    request = {"images": obs["images"], "state": obs["state"], "instruction": obs["instruction"]}
    per_round = max(1, cfg.requests // cfg.rounds)
    local: dict[str, list[float]] = {name: [] for name in specs}
    for policy in policies.values():  # warm-up
        local_latency(policy, obs, 5)
    for _ in range(cfg.rounds):  # the backends in turn, round after round: the machine's load is shared
        for name, policy in policies.items():
            local[name] += local_latency(policy, obs, per_round)
    servers = {name: Server(spec, cfg.threads) for name, spec in specs.items()}
    remote: dict[tuple[str, int], tuple[list[float], float]] = {}
    overhead: dict[str, list[float]] = {name: [] for name in specs}
    try:
        for k in cfg.clients:
            for _ in range(cfg.rounds):
                for name, server in servers.items():
                    trips, seconds, extra = remote_round(server.url, request, k, per_round)
                    overhead[name] += extra
                    old_trips, old_seconds = remote.get((name, k), ([], 0.0))
                    remote[name, k] = (old_trips + trips, old_seconds + seconds)
    finally:
        for server in servers.values():
            server.stop()
    print(
        f"run {run}; {per_round * cfg.rounds} requests per client in {cfg.rounds} rounds; "
        f"{cfg.threads} thread(s); inference serialized; latencies p50 p95 in ms"
    )
    head = f"{'backend':<10} {'MB':>6} {'max|d|':>8}  {'local':>15}  {'overhead':>15}"
    head += "".join(f"  {f'{k} client(s), req/s':>24}" for k in cfg.clients)
    print(head + ("  success (local, remote)" if cfg.episodes else ""))
    for name, spec in specs.items():
        size, diff = sizes[name]
        row = f"{name:<10} {size / 2**20:6.2f} {diff:8.1e}  {pct(local[name]):>15}  {pct(overhead[name]):>15}"
        for k in cfg.clients:
            trips, seconds = remote[name, k]
            row += f"  {pct(trips)} {len(trips) / seconds:8.1f}"
        if cfg.episodes:  # the same held-out seeds, the policy in this process, then through a server
            server = Server(spec, cfg.threads)
            try:
                row += f"  {success(spec, cfg)}, {success(server.url, cfg)}"
            finally:
                server.stop()
        print(row, flush=True)


if __name__ == "__main__":
    main(tyro.cli(Config))
