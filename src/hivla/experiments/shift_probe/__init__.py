"""Where the stack fails under distribution shift (``hivla experiment shift-probe``).

``config`` (policies, axes, levels, thresholds), ``attribution`` (the two methods on episode
records), ``probe`` (the logging and oracle-feeding wrapper around a policy), ``run`` (evaluate,
substitute, attribute), ``report`` (summary.md, report.html).
"""

from hivla.experiments.shift_probe.config import ProbeConfig
from hivla.experiments.shift_probe.run import run_probe

__all__ = ["ProbeConfig", "run_probe"]
