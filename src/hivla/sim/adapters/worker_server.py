"""The env worker: runs one benchmark backend in another Python interpreter, serving hivla over pipes.

This file imports only the standard library and NumPy so that it runs in any interpreter that has
the benchmark installed (e.g. a venv with MetaWorld's pinned MuJoCo), without hivla installed there:

    /path/to/venv/bin/python worker_server.py BACKEND_FILE

Protocol (version 1; requests on the worker's stdin, replies on its stdout, logs on its stderr).
Every message is one frame::

    uint32 big-endian N | N bytes of UTF-8 JSON (the header) | array payloads, back to back

The header holds the message as JSON, where every NumPy array is replaced by ``{"__array__": i}``
and described in ``header["arrays"][i] = {"dtype": ..., "shape": [...]}``; payload i follows the
previous one and holds the array's C-order bytes (little-endian; dtypes bool, uint8, int64,
float32, float64). Requests are ``{"op": NAME, "args": {...}}``; the first is ``hello`` (args: the
backend options), the last ``close``. Every other op calls the backend method of that name with the
args as keywords (``reset``, ``step``, ``expert``, ``info``). A reply is ``{"ok": true, "result":
...}`` or ``{"ok": false, "error": message, "kind": exception class name}``. No pickle anywhere.

A backend file defines ``make(**options)`` returning an object with those methods (see
``hivla.sim.adapters.base.Backend``).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import struct
import sys
import traceback
from typing import Any, BinaryIO

import numpy as np

PROTOCOL_VERSION = 1
DTYPES = ("bool", "uint8", "int64", "float32", "float64")
OPS = ("reset", "step", "expert", "info")


def _strip(value: Any, arrays: list[np.ndarray]) -> Any:
    """``value`` with every array replaced by a reference into ``arrays`` (appended)."""
    if isinstance(value, np.ndarray):
        arr = value if value.flags.c_contiguous else value.copy(order="C")  # keeps 0-d arrays 0-d
        if arr.dtype.name not in DTYPES:
            arr = arr.astype(np.float64 if arr.dtype.kind == "f" else np.int64)
        arrays.append(arr)
        return {"__array__": len(arrays) - 1}
    if isinstance(value, dict):
        return {str(k): _strip(v, arrays) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strip(v, arrays) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _restore(value: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return arrays[int(value["__array__"])]
        return {k: _restore(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v, arrays) for v in value]
    return value


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    """Write one frame (see the module docstring) and flush."""
    arrays: list[np.ndarray] = []
    body = _strip(message, arrays)
    body["arrays"] = [{"dtype": a.dtype.name, "shape": list(a.shape)} for a in arrays]
    header = json.dumps(body, allow_nan=True).encode("utf-8")
    stream.write(struct.pack(">I", len(header)) + header)
    for a in arrays:
        stream.write(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes())
    stream.flush()


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    buf = io.BytesIO()
    while buf.tell() < n:
        chunk = stream.read(n - buf.tell())
        if not chunk:
            raise EOFError(f"the other side closed the pipe after {buf.tell()} of {n} bytes")
        buf.write(chunk)
    return buf.getvalue()


def read_message(stream: BinaryIO) -> dict[str, Any]:
    """Read one frame; raises EOFError when the pipe is closed."""
    (n,) = struct.unpack(">I", _read_exact(stream, 4))
    body = json.loads(_read_exact(stream, n).decode("utf-8"))
    arrays = []
    for spec in body.pop("arrays", []):
        if spec["dtype"] not in DTYPES:
            raise ValueError(f"array dtype {spec['dtype']!r} is not one of {DTYPES}")
        dtype = np.dtype(spec["dtype"]).newbyteorder("<")
        shape = tuple(int(s) for s in spec["shape"])
        count = int(np.prod(shape)) if shape else 1
        data = _read_exact(stream, count * dtype.itemsize)
        arrays.append(np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("=")))
    return _restore(body, arrays)


def load_backend_module(path: str):
    """Import a backend file by path (it need not be on ``sys.path``)."""
    spec = importlib.util.spec_from_file_location(f"hivla_backend_{os.getpid()}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load a backend from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def serve(backend_file: str, inp: BinaryIO, out: BinaryIO) -> None:
    """Answer requests until ``close`` or end of input."""
    module = load_backend_module(backend_file)
    backend = None
    while True:
        try:
            request = read_message(inp)
        except EOFError:
            break
        op, args = request.get("op"), request.get("args") or {}
        try:
            if op == "hello":
                backend = module.make(**args)
                result: Any = {"protocol": PROTOCOL_VERSION, "python": sys.version.split()[0]}
            elif op == "close":
                if backend is not None:
                    backend.close()
                write_message(out, {"ok": True, "result": None})
                break
            elif op in OPS and backend is not None:
                result = getattr(backend, op)(**args)
            else:
                raise ValueError(
                    f"unknown op {op!r} (or no hello yet); expected hello, close or one of {OPS}"
                )
            write_message(out, {"ok": True, "result": result})
        except Exception as exc:  # the error goes back to hivla, which raises it there
            traceback.print_exc(file=sys.stderr)
            write_message(out, {"ok": False, "error": str(exc), "kind": type(exc).__name__})


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: python worker_server.py BACKEND_FILE")
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]  # no shadowing by our files
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints of the benchmark go to stderr
    sys.stdout = sys.stderr
    serve(sys.argv[1], sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
