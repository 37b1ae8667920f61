"""Where a benchmark's backend runs: in this interpreter, or in an env worker process of another one.

Resolution, for a benchmark NAME (``metaworld``, ``libero``, ...):

1. ``HIVLA_<NAME>_PYTHON`` names an interpreter: the backend runs there (env worker);
2. else the interpreter recorded by ``hivla sim setup NAME`` (in ``$HIVLA_HOME/benchmarks.json``,
   ``HIVLA_HOME`` defaulting to ``~/.cache/hivla``);
3. else, when the benchmark's package imports in this interpreter, in process;
4. else :class:`BenchmarkUnavailableError` saying how to set it up.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hivla.sim.adapters import worker_server as wire
from hivla.sim.adapters.base import BenchmarkUnavailableError, ExternalSuite


class WorkerError(RuntimeError):
    """The env worker reported an error or died."""


def hivla_home() -> Path:
    return Path(os.environ.get("HIVLA_HOME") or Path.home() / ".cache" / "hivla")


def setup_record() -> Path:
    return hivla_home() / "benchmarks.json"


def recorded_pythons() -> dict[str, str]:
    path = setup_record()
    return json.loads(path.read_text()) if path.is_file() else {}


def record_python(benchmark: str, python: str) -> None:
    """Remember ``python`` as the interpreter of ``benchmark`` (what ``hivla sim setup`` writes)."""
    path = setup_record()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = recorded_pythons()
    data[benchmark] = str(python)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    tmp.replace(path)


def resolve_python(suite: ExternalSuite) -> str | None:
    """The interpreter that runs ``suite``'s backend; None means this one (in process)."""
    var = f"HIVLA_{suite.benchmark.upper()}_PYTHON"
    python = os.environ.get(var) or recorded_pythons().get(suite.benchmark)
    if python:
        if not Path(python).exists():
            raise BenchmarkUnavailableError(
                f"the interpreter {python} set for {suite.benchmark} (by {var} or `hivla sim setup "
                f"{suite.benchmark}`) does not exist; run `hivla sim setup {suite.benchmark}` again "
                f"or point {var} at a Python with {' '.join(suite.package)}"
            )
        return python
    if importlib.util.find_spec(suite.import_name) is not None:
        return None
    raise BenchmarkUnavailableError(
        f"suite {suite.name} needs the {suite.benchmark} package ({' '.join(suite.package)}), which does "
        f"not import in this interpreter. Install it with `hivla sim setup {suite.benchmark}` (a separate "
        f"venv, since it pins its own MuJoCo), or set {var} to a Python that has it"
        + (f", or `pip install 'hivla[{suite.benchmark}]'` here if its pins fit" if suite.benchmark else "")
        + "."
    )


class InProcessBackend:
    """The backend object made in this interpreter (the benchmark's package imports here)."""

    def __init__(self, suite: ExternalSuite, options: dict[str, Any]) -> None:
        module = wire.load_backend_module(str(suite.backend_path))
        self.backend = module.make(**options)
        self.where = f"in process (Python {sys.version.split()[0]})"

    def call(self, op: str, **args: Any) -> Any:
        return getattr(self.backend, op)(**args)

    def close(self) -> None:
        self.backend.close()


class WorkerBackend:
    """The backend in an env worker process of interpreter ``python`` (protocol: ``worker_server``)."""

    def __init__(self, suite: ExternalSuite, options: dict[str, Any], python: str) -> None:
        server = Path(wire.__file__).resolve()
        env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl"), "OMP_NUM_THREADS": "1"}
        env.pop("PYTHONPATH", None)  # the worker's interpreter keeps its own packages
        self.proc = subprocess.Popen(
            [python, str(server), str(suite.backend_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.python = python
        hello = self.call("hello", **options)
        if hello.get("protocol") != wire.PROTOCOL_VERSION:
            self.close()
            raise WorkerError(
                f"the env worker of {python} speaks protocol {hello.get('protocol')}, hivla speaks "
                f"{wire.PROTOCOL_VERSION}; run `hivla sim setup {suite.benchmark}` again"
            )
        self.where = f"env worker ({python}, Python {hello.get('python')})"

    def call(self, op: str, **args: Any) -> Any:
        if self.proc.poll() is not None:
            raise WorkerError(f"the env worker ({self.python}) exited with code {self.proc.returncode}")
        try:
            wire.write_message(self.proc.stdin, {"op": op, "args": args})
            reply = wire.read_message(self.proc.stdout)
        except (EOFError, BrokenPipeError) as exc:
            code = self.proc.wait(timeout=10)
            raise WorkerError(
                f"the env worker ({self.python}) died during {op!r} (exit code {code}); its stderr "
                "above says why"
            ) from exc
        if not reply.get("ok"):
            kind = reply.get("kind", "Error")
            raise (ValueError if kind == "ValueError" else WorkerError)(
                f"env worker ({self.python}) {op}: {kind}: {reply.get('error')}"
            )
        return reply.get("result")

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.call("close")
            except (WorkerError, ValueError, OSError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


def open_backend(suite: ExternalSuite, options: dict[str, Any]) -> InProcessBackend | WorkerBackend:
    """The backend of ``suite`` wherever it runs (see the module docstring)."""
    python = resolve_python(suite)
    if python is None:
        return InProcessBackend(suite, options)
    return WorkerBackend(suite, options, python)


def benchmark_requirements(benchmark: str) -> tuple[str, ...]:
    """The pip requirements of ``benchmark`` (those of its registered suites)."""
    from hivla.sim.adapters.base import EXTERNAL_SUITES

    reqs = {r for _, s in EXTERNAL_SUITES.items() if s.benchmark == benchmark for r in s.package}
    if not reqs:
        known = sorted({s.benchmark for _, s in EXTERNAL_SUITES.items()})
        raise BenchmarkUnavailableError(f"unknown benchmark {benchmark!r}; known: {', '.join(known)}")
    return tuple(sorted(reqs))


def setup_benchmark(
    benchmark: str, venv: Path, python: str = sys.executable, install: bool = True
) -> tuple[str, dict[str, Any]]:
    """Make a venv at ``venv`` with ``benchmark``'s packages (pip, network), check that one of its
    suites resets there through the env worker, and record its interpreter; return that interpreter
    and the benchmark's package versions there.

    ``install=False`` only checks and records an existing venv.
    """
    reqs = benchmark_requirements(benchmark)
    venv_python = Path(venv) / "bin" / "python"
    if install:
        if not venv_python.exists():
            subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv_python), "-m", "pip", "install", "--upgrade", *reqs], check=True)
    if not venv_python.exists():
        raise BenchmarkUnavailableError(
            f"{venv_python} does not exist; run without --no-install to create it"
        )
    versions = check_worker(benchmark, str(venv_python))
    record_python(benchmark, str(venv_python))
    return str(venv_python), versions


def check_worker(benchmark: str, python: str) -> dict[str, Any]:
    """Start an env worker of ``python`` for the first suite of ``benchmark``, reset one episode,
    and return the backend's package versions. Raises WorkerError when it cannot."""
    from hivla.sim.adapters.base import EXTERNAL_SUITES

    suite = next(s for _, s in EXTERNAL_SUITES.items() if s.benchmark == benchmark)
    options = {**dict(suite.options), "suite": suite.name, "image_size": 64, "cameras": []}
    backend = WorkerBackend(suite, options, python)
    try:
        backend.call("reset", task=suite.tasks[0].name, seed=int(suite.heldout_seeds[0]))
        return dict(backend.call("info"))
    finally:
        backend.close()
