"""External benchmarks behind hivla's harness: the adapter interface, the env worker, the suites.

See ``docs/external_benchmarks.md``. Registering a suite imports nothing of its benchmark: the
benchmark's package is imported only when an env of the suite is made, in this interpreter or in
the env worker of another (``worker.py``).
"""

from hivla.sim.adapters.base import (
    EXTERNAL_SUITES,
    Backend,
    BenchmarkUnavailableError,
    ExternalSuite,
    ExternalTask,
    RobotSpec,
    register_suite,
)
from hivla.sim.adapters.libero_suites import register_libero_suites
from hivla.sim.adapters.metaworld_suites import register_metaworld_suites

register_metaworld_suites()
register_libero_suites()

__all__ = [
    "EXTERNAL_SUITES",
    "Backend",
    "BenchmarkUnavailableError",
    "ExternalSuite",
    "ExternalTask",
    "RobotSpec",
    "register_suite",
]
