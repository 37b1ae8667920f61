"""The msgpack-numpy wire format: byte-compatible with openpi-client's both ways, and decoding refuses
what is malformed or too large without allocating it (no pickle, no object arrays)."""

import msgpack
import numpy as np
import pytest
from openpi_client import msgpack_numpy as openpi

from hivla.serving.wire import WireError, WireLimits, pack, unpack


def _same(a, b):
    if isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b and type(a) is type(b)


MESSAGE = {
    "images": {"front": np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)},
    "state": np.linspace(-1, 1, 7, dtype=np.float32),
    "mask": np.array([True, False]),
    "ids": np.arange(4, dtype=np.int64).reshape(2, 2)[:, ::-1],  # not contiguous
    "scalar": np.float32(1.5),
    "instruction": "put the red cube in the bowl",
    "n": 3,
}


def test_hivla_and_openpi_read_each_other():
    _same(openpi.unpackb(pack(MESSAGE)), {**MESSAGE, "ids": np.ascontiguousarray(MESSAGE["ids"])})
    _same(unpack(openpi.packb(MESSAGE)), MESSAGE)
    assert unpack(openpi.packb(MESSAGE))["state"].flags.writeable


def _array(dtype="<f4", shape=(2,), data=b"\0" * 8, **extra):
    return msgpack.packb(
        {"x": {b"__ndarray__": True, b"dtype": dtype, b"shape": list(shape), b"data": data, **extra}}
    )


@pytest.mark.parametrize(
    ("message", "match"),
    [
        (_array(dtype="|O"), "not allowed"),
        (_array(dtype="|V8", shape=(1,)), "not allowed"),
        (_array(dtype="<U4", shape=(1,), data=b"\0" * 16), "not allowed"),
        (_array(dtype="nonsense"), "unknown array dtype|short numpy dtype"),
        (_array(shape=(3,)), "needs 12"),
        (_array(shape=(-1,)), "non-negative"),
        (_array(shape=(2**40, 2**40)), "exceeds the limit"),  # refused before any allocation
        (_array(shape=[1] * 20, data=b"\0" * 4), "at most 8"),
        (_array(data="text"), "raw bytes"),
        (openpi.packb({"x": np.zeros(3)})[:-5], "not a valid msgpack"),  # truncated
        (msgpack.packb(msgpack.ExtType(1, b"pickle")), "not a valid msgpack"),
        (msgpack.packb(list(range(5000))), "not a valid msgpack"),  # too many items
        (msgpack.packb("x" * 10_000), "not a valid msgpack"),  # too long a string
        (b"\xc1", "not a valid msgpack"),  # a byte msgpack never uses
        (b"\x91" * 5000 + b"\xc0", "not a valid msgpack"),  # nested too deep
    ],
)
def test_malformed_messages_raise_wire_error(message, match):
    with pytest.raises(WireError, match=match):
        unpack(message)


def test_message_size_limit_and_object_arrays_never_sent():
    with pytest.raises(WireError, match="exceeds the limit"):
        unpack(pack({"x": np.zeros(1000)}), WireLimits(max_message_bytes=1000))
    with pytest.raises(WireError, match="only numeric and boolean"):
        pack({"x": np.array([object()], dtype=object)})
