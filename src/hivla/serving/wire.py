"""The wire format of openpi's policy servers: msgpack with numpy arrays as tagged maps.

An array travels as the map ``{b"__ndarray__": True, b"data": <raw bytes>, b"dtype": "<f4",
b"shape": [d0, d1, ...]}`` and a numpy scalar as ``{b"__npgeneric__": True, b"data": value,
b"dtype": "<f4"}`` (the encoding of openpi-client's ``msgpack_numpy``, so a robot running
``openpi-client`` unchanged talks to ``hivla serve``). Decoding never falls back to pickle: only
plain numeric and boolean dtypes are accepted, the byte count must match the shape, and the sizes of
the whole message, of every string, binary, list and map, and of every array are bounded by
:class:`WireLimits`. Anything else raises :class:`WireError`.

msgpack is imported on first use (extra ``serve``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hivla.errors import HivlaError

ARRAY_TAG, SCALAR_TAG = b"__ndarray__", b"__npgeneric__"
# numeric and boolean kinds only: no object ("O"), void/structured ("V"), string or datetime dtypes
ALLOWED_KINDS = ("b", "i", "u", "f")
EXTRA = "pip install 'hivla[serve]'"


class WireError(HivlaError, ValueError):
    """A message that is not a well-formed msgpack-numpy message within the limits."""


class MissingExtraError(HivlaError, ImportError):
    """An optional dependency of serving or export is not installed."""


def require(module: str, extra: str = "serve") -> Any:
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"{module} is not installed; it is needed to {_NEEDS.get(extra, 'serve policies')}. "
            f"Install it with: pip install 'hivla[{extra}]'"
        ) from None


_NEEDS = {"serve": "serve policies over websockets", "export": "export and run ONNX policies"}


@dataclass(frozen=True)
class WireLimits:
    """Bounds on one decoded message.

    max_message_bytes: the encoded message (the websocket frame) in bytes.
    max_array_bytes: the raw data of any one array.
    max_items: entries of any one list or map.
    max_string: characters of any one string.
    max_ndim: dimensions of any one array.
    """

    max_message_bytes: int = 16 * 2**20
    max_array_bytes: int = 8 * 2**20
    max_items: int = 1024
    max_string: int = 4096
    max_ndim: int = 8

    def __post_init__(self) -> None:
        for name in ("max_message_bytes", "max_array_bytes", "max_items", "max_string", "max_ndim"):
            if getattr(self, name) < 1:
                raise ValueError(f"WireLimits.{name} must be >= 1, got {getattr(self, name)}")


def _encode(obj: Any) -> Any:
    if isinstance(obj, np.ndarray | np.generic) and obj.dtype.kind not in ALLOWED_KINDS:
        raise WireError(
            f"cannot send an array of dtype {obj.dtype}: only numeric and boolean arrays travel "
            "(never object arrays or pickles)"
        )
    if isinstance(obj, np.ndarray):
        data = np.ascontiguousarray(obj)
        return {
            ARRAY_TAG: True,
            b"data": data.tobytes(),
            b"dtype": data.dtype.str,
            b"shape": list(data.shape),
        }
    if isinstance(obj, np.generic):
        return {SCALAR_TAG: True, b"data": obj.item(), b"dtype": obj.dtype.str}
    if isinstance(obj, tuple):
        return list(obj)
    raise WireError(
        f"cannot encode a {type(obj).__name__}: send dicts, lists, numbers, strings, numpy arrays"
    )


def pack(obj: Any) -> bytes:
    """Encode ``obj`` (dicts, lists, numbers, strings, bytes, numpy arrays and scalars) to bytes."""
    msgpack = require("msgpack")
    return msgpack.packb(obj, default=_encode, use_bin_type=True)


def _dtype(value: Any) -> np.dtype:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str) or len(value) > 8:
        raise WireError(f"array dtype must be a short numpy dtype string like '<f4', got {value!r:.40}")
    try:
        dtype = np.dtype(value)
    except TypeError:
        raise WireError(f"unknown array dtype {value!r}; expected e.g. '<f4', '|u1', '|b1'") from None
    if dtype.kind not in ALLOWED_KINDS:
        raise WireError(f"array dtype {value!r} is not allowed: only numeric and boolean arrays are accepted")
    return dtype


def _decode_hook(limits: WireLimits):
    def hook(obj: dict) -> Any:
        if obj.get(ARRAY_TAG) is True:
            dtype = _dtype(obj.get(b"dtype"))
            shape, data = obj.get(b"shape"), obj.get(b"data")
            if not isinstance(shape, list | tuple) or len(shape) > limits.max_ndim:
                raise WireError(
                    f"array shape must be a list of at most {limits.max_ndim} sizes, got {shape!r:.60}"
                )
            if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
                raise WireError(f"array shape must hold non-negative integers, got {shape!r:.60}")
            if not isinstance(data, bytes):
                raise WireError("array data must be raw bytes")
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes > limits.max_array_bytes:
                raise WireError(
                    f"array of {nbytes} bytes exceeds the limit of {limits.max_array_bytes} bytes"
                )
            if nbytes != len(data):
                raise WireError(
                    f"array data has {len(data)} bytes; shape {list(shape)} of {dtype} needs {nbytes}"
                )
            return np.frombuffer(data, dtype=dtype).reshape(shape).copy()  # writable, owns its memory
        if obj.get(SCALAR_TAG) is True:
            dtype, value = _dtype(obj.get(b"dtype")), obj.get(b"data")
            if not isinstance(value, bool | int | float):
                raise WireError(f"numpy scalar data must be a number, got {type(value).__name__}")
            try:
                return dtype.type(value)
            except (OverflowError, ValueError) as err:
                raise WireError(f"numpy scalar {value!r} does not fit dtype {dtype}: {err}") from None
        return obj

    return hook


def unpack(data: bytes | bytearray | memoryview, limits: WireLimits | None = None) -> Any:
    """Decode one message. Raises :class:`WireError` for anything malformed or over the limits."""
    msgpack = require("msgpack")
    limits = limits or WireLimits()
    if not isinstance(data, bytes | bytearray | memoryview):
        raise WireError(f"expected a binary msgpack message, got {type(data).__name__}")
    if len(data) > limits.max_message_bytes:
        raise WireError(f"message of {len(data)} bytes exceeds the limit of {limits.max_message_bytes} bytes")
    try:
        return msgpack.unpackb(
            data,
            object_hook=_decode_hook(limits),
            raw=False,
            strict_map_key=False,  # openpi tags arrays with bytes keys
            max_str_len=limits.max_string,
            max_bin_len=limits.max_array_bytes,
            max_array_len=limits.max_items,
            max_map_len=limits.max_items,
            max_ext_len=0,  # no extension types
        )
    except WireError:
        raise
    except Exception as err:  # hostile bytes: msgpack's ExtraData, FormatError, StackError, bad UTF-8...
        raise WireError(f"not a valid msgpack message: {type(err).__name__}: {err}"[:300]) from None
