"""`hivla serve` as a real process: openpi-client drives it unchanged; malformed requests get error
replies while the connection and the server stay up; API keys; size limits; clients isolated;
SIGTERM stops it cleanly; a fuzz of 10,000 hostile messages with memory bounded."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from openpi_client.websocket_client_policy import WebsocketClientPolicy
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from hivla.serving.wire import pack, unpack


def observation(meta: dict, seed: int = 0) -> dict:
    """A well-formed observation for the served policy, from its metadata."""
    rng = np.random.default_rng(seed)
    images = meta["observation"]["images"]
    shape = tuple(images["shape"])
    return {
        "images": {c: rng.integers(0, 256, shape, dtype=np.uint8) for c in images["cameras"]},
        "state": rng.normal(size=meta["observation"]["state"]["dim"]).astype(np.float32),
        "prompt": "put the red cube in the bowl",
    }


def test_openpi_client_drives_hivla_serve(debug_run, serve):
    with serve(str(debug_run)) as server:
        client = WebsocketClientPolicy(host=server.url)
        meta = client.get_server_metadata()
        assert meta["server"] == "hivla" and meta["protocol"] == "openpi-msgpack-numpy"
        assert meta["action"]["space"] == "native" and meta["action"]["dim"] == 5  # floating hand
        for seed in range(3):
            out = client.infer(observation(meta, seed))
            assert (
                out["actions"].shape == (4, 5) and out["actions"].dtype == np.float32
            )  # (horizon, action_dim)
            assert np.isfinite(out["actions"]).all()
            assert out["server_timing"]["infer_ms"] > 0 and out["policy_timing"]["infer_ms"] > 0
        assert server.stop() == 0  # SIGTERM: connections closed, clean exit
    assert "stopped after 1 connection(s), 3 request(s)" in server.output


def test_malformed_requests_get_text_errors_and_the_connection_stays_up(debug_run, serve):
    with serve(str(debug_run)) as server, connect(server.url, max_size=None) as ws:
        meta = unpack(ws.recv())
        good = observation(meta)
        bad = [
            b"\x93\x01",  # truncated msgpack
            "a text frame",
            pack([1, 2, 3]),  # not a map
            pack({**good, "pickle": b"cos\nsystem\n"}),  # unknown key
            pack({k: v for k, v in good.items() if k != "state"}),
            pack({**good, "state": np.full(good["state"].shape, np.nan, np.float32)}),
            pack({**good, "images": {c: img.astype(np.float32) for c, img in good["images"].items()}}),
            pack({**good, "images": {"front": good["images"]["front"]}}),  # a camera missing
            pack({**good, "state": np.zeros(3, np.float32)}),  # wrong size: the policy refuses
            pack({**good, "episode": {"suite": "no-such-suite", "embodiment": "floating", "seed": 1}}),
            pack({**good, "interject": "open the drawer"}),  # a flat policy takes no interjection
        ]
        for message in bad:
            ws.send(message)
            answer = ws.recv(timeout=30)
            assert isinstance(answer, str) and answer.startswith("error: "), answer
            ws.send(pack(good))  # the same connection still serves
            assert unpack(ws.recv(timeout=30))["actions"].shape == (4, 5)


def test_api_key_required_and_checked(debug_run, serve):
    key = "k" * 24
    with serve(str(debug_run), env={"HIVLA_API_KEY": key}) as server:
        for wrong in (None, "wrong-key-0123456789"):
            with pytest.raises(InvalidStatus) as err:
                WebsocketClientPolicy(host=server.url, api_key=wrong)
            assert err.value.response.status_code == 401
        client = WebsocketClientPolicy(host=server.url, api_key=key)
        assert client.infer(observation(client.get_server_metadata()))["actions"].shape == (4, 5)


def test_binding_beyond_loopback_needs_an_api_key():
    proc = subprocess.run(
        [sys.executable, "-m", "hivla.cli.main", "serve", "expert", "--host", "0.0.0.0"],
        capture_output=True, text=True, timeout=120, env={k: v for k, v in os.environ.items() if k != "HIVLA_API_KEY"},
    )  # fmt: skip
    assert proc.returncode == 2 and "set an API key" in proc.stderr


def test_oversized_message_closes_only_that_connection(debug_run, serve):
    with serve(str(debug_run), "--max-message-mb", "0.05") as server:
        good_client = WebsocketClientPolicy(host=server.url)
        meta = good_client.get_server_metadata()
        assert meta["limits"]["max_message_bytes"] == int(0.05 * 2**20)
        with connect(server.url, max_size=None) as ws:
            ws.recv()
            with pytest.raises(ConnectionClosed) as err:
                ws.send(pack({**observation(meta), "state": np.zeros(100_000, np.float32)}))  # 400 kB
                ws.recv(timeout=30)
            assert err.value.rcvd.code == 1009  # message too big
        assert good_client.infer(observation(meta))["actions"].shape == (4, 5)


def test_two_clients_have_their_own_episodes(serve):
    """Two robots run the scripted expert through one server, steps interleaved, each on its own seed:
    every action equals the local expert's on that episode (the server keeps one scene per client)."""
    from hivla.policies import ExpertPolicy
    from hivla.serving.client import RemotePolicy
    from hivla.sim import make_env

    def local_actions(seed: int, steps: int) -> list[np.ndarray]:
        env, policy = make_env(render=False), ExpertPolicy()
        obs, _ = env.reset(seed=seed)
        policy.start_episode(env, seed)
        policy.reset()
        out = []
        for _ in range(steps):
            action = policy.sample_actions(obs)[0, 0]
            out.append(action)
            obs, *_ = env.step(action)
        return out

    steps, seeds = 12, (3, 11)
    expected = {s: local_actions(s, steps) for s in seeds}
    with serve("expert") as server:
        robots = {}
        for seed in seeds:
            env, policy = make_env(render=False), RemotePolicy(server.url)
            obs, _ = env.reset(seed=seed)
            policy.start_episode(env, seed)
            policy.reset()
            robots[seed] = [env, policy, obs]
        for t in range(steps):
            for seed, robot in robots.items():
                env, policy, obs = robot
                action = policy.sample_actions(obs)[0, 0]
                np.testing.assert_allclose(action, expected[seed][t], atol=1e-6)
                robot[2] = env.step(action)[0]
        for _, policy, _ in robots.values():
            policy.close()


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))


def hostile_messages(good: dict, rng: np.random.Generator, n: int):
    """``n`` malformed or hostile messages of many kinds (bytes or text frames)."""
    valid = pack(good)
    state = good["state"]
    makers = [
        lambda: rng.bytes(int(rng.integers(0, 200))),  # random bytes
        lambda: valid[: int(rng.integers(0, len(valid)))],  # truncated msgpack
        lambda: "text frame " * int(rng.integers(0, 5)),
        lambda: pack(int(rng.integers(-(2**60), 2**60))),
        lambda: pack({**good, f"key{rng.integers(1000)}": 1}),  # unknown keys
        lambda: pack({**good, "state": state * np.nan}),  # NaN
        lambda: pack(
            {**good, "images": {c: np.full((32, 32, 3), np.nan, np.float32) for c in good["images"]}}
        ),
        lambda: pack({**good, "state": "not an array"}),
        lambda: pack({**good, "instruction": 12}),
        lambda: pack({**good, "reset": "yes"}),
        lambda: pack({**good, "sim_state": {"physics": np.zeros(3)}}),
        lambda: pack({**good, "episode": {"suite": "tabletop-single", "embodiment": "arm6", "seed": -1}}),
        lambda: pack(
            {
                **good,
                "images": {c: np.zeros((int(rng.integers(1, 200)), 1, 3), np.uint8) for c in good["images"]},
            }
        ),
        lambda: pack({**good, "state": np.zeros(int(rng.integers(0, 64)), np.float32)}),
        lambda: pack(
            {"state": {b"__ndarray__": True, b"dtype": "<f4", b"shape": [2**31, 2**31], b"data": b""}}
        ),
        lambda: pack({"state": {b"__ndarray__": True, b"dtype": "|O", b"shape": [1], b"data": b"\0" * 8}}),
        lambda: pack([good] * 3),
        lambda: pack({**good, "images": {str(i): good["images"]["front"] for i in range(20)}}),
        lambda: bytes(valid[:10]) + rng.bytes(50) + bytes(valid[60:]),  # corrupted in the middle
    ]
    for i in range(n):
        yield makers[i % len(makers)]()


def test_fuzz_10000_hostile_messages_server_keeps_serving(debug_run, serve):
    rng = np.random.default_rng(0)
    with serve(str(debug_run), "--max-message-mb", "1") as server:
        good_client = WebsocketClientPolicy(host=server.url)
        meta = good_client.get_server_metadata()
        good = observation(meta)
        ws = connect(server.url, max_size=None).__enter__()
        ws.recv()
        answers = {"error": 0, "actions": 0, "closed": 0}
        rss = []
        for i, message in enumerate(hostile_messages(good, rng, 10_000)):
            try:
                ws.send(message)
                answer = ws.recv(timeout=30)
                answers["error" if isinstance(answer, str) else "actions"] += 1
            except ConnectionClosed:  # the server may close a hostile connection; reconnect
                answers["closed"] += 1
                ws = connect(server.url, max_size=None).__enter__()
                ws.recv()
            if i % 500 == 0:  # a well-formed client is served throughout
                assert good_client.infer(good)["actions"].shape == (4, 5)
                rss.append(_rss_kb(server.proc.pid))
        ws.close()
        assert good_client.infer(good)["actions"].shape == (4, 5)
        print(f"fuzz: {answers}; server RSS {rss[0]} -> {rss[1]} -> {rss[-1]} kB")
        assert answers["error"] >= 9000, answers
        assert rss[-1] - rss[1] < 50_000, f"server memory grew from {rss[1]} kB to {rss[-1]} kB"
        assert server.stop() == 0
