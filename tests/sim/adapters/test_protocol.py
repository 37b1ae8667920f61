"""The env worker's wire format: frames of JSON and raw arrays round-trip, no pickle."""

from __future__ import annotations

import io

import numpy as np
import pytest

from hivla.sim.adapters import worker_server as wire


def _round_trip(message):
    buf = io.BytesIO()
    wire.write_message(buf, message)
    buf.seek(0)
    out = wire.read_message(buf)
    assert buf.read() == b""  # the frame was consumed exactly
    return out


def test_nested_arrays_of_every_dtype_round_trip():
    arrays = {
        "u8": np.arange(24, dtype=np.uint8).reshape(2, 4, 3),
        "f32": np.linspace(-1, 1, 7, dtype=np.float32),
        "f64": np.array([[np.pi, -0.0], [1e-300, 5.0]]),
        "i64": np.array([2**40, -3]),
        "b": np.array([True, False, True]),
        "scalar": np.array(3.5),
        "empty": np.zeros((0, 0, 3), np.uint8),
    }
    message = {
        "ok": True,
        "result": {"obs": {"images": arrays, "state": [arrays["f32"], 2, "text"]}, "x": None},
    }
    out = _round_trip(message)
    got = out["result"]["obs"]["images"]
    for key, arr in arrays.items():
        assert got[key].dtype == arr.dtype and got[key].shape == arr.shape
        np.testing.assert_array_equal(got[key], arr)
    assert out["result"]["obs"]["state"][1:] == [2, "text"] and out["result"]["x"] is None
    np.testing.assert_array_equal(out["result"]["obs"]["state"][0], arrays["f32"])


def test_other_dtypes_travel_as_a_supported_one():
    out = _round_trip(
        {"a": np.array([1, 2], np.int16), "f": np.array([0.5], np.float16), "g": np.float32(2.5)}
    )
    assert out["a"].dtype == np.int64 and out["f"].dtype == np.float64 and out["g"] == 2.5


def test_a_truncated_frame_is_an_eof_error():
    buf = io.BytesIO()
    wire.write_message(buf, {"a": np.ones(100)})
    with pytest.raises(EOFError, match="closed the pipe"):
        wire.read_message(io.BytesIO(buf.getvalue()[:-8]))


def test_an_unknown_dtype_in_a_header_is_refused():
    header = b'{"a": {"__array__": 0}, "arrays": [{"dtype": "object", "shape": [1]}]}'
    frame = len(header).to_bytes(4, "big") + header + b"\0" * 8
    with pytest.raises(ValueError, match="dtype 'object'"):
        wire.read_message(io.BytesIO(frame))


def test_serve_answers_errors_and_closes():
    from pathlib import Path

    backend = str(Path(__file__).with_name("reach_backend.py"))
    requests = io.BytesIO()
    for op, args in (
        ("step", {"action": np.zeros(3)}),  # before hello: an error reply, not a crash
        ("hello", {"suite": "x", "image_size": 64, "cameras": ["top"]}),
        ("reset", {"task": "reach-up", "seed": 1}),  # the backend raises: an error reply
        ("reset", {"task": "reach-left", "seed": 1}),
        ("close", {}),
    ):
        wire.write_message(requests, {"op": op, "args": args})
    requests.seek(0)
    replies = io.BytesIO()
    wire.serve(backend, requests, replies)
    replies.seek(0)
    out = [wire.read_message(replies) for _ in range(5)]
    assert not out[0]["ok"] and "no hello" in out[0]["error"]
    assert out[1]["ok"] and out[1]["result"]["protocol"] == wire.PROTOCOL_VERSION
    assert not out[2]["ok"] and out[2]["kind"] == "ValueError" and "reach-up" in out[2]["error"]
    assert out[3]["ok"] and out[3]["result"]["obs"]["images"]["top"].shape == (64, 64, 3)
    assert out[4] == {"ok": True, "result": None}
