"""The survey's experiments, one sub-package each (``config``, ``run``, ``report``), built on the library.

- :mod:`~hivla.experiments.reasoning_ablation`: flat vs hierarchical vs hierarchical + reasoning VLAs,
  success by chain length and latency (``hivla experiment reasoning-ablation``).
- :mod:`~hivla.experiments.world_model_validation`: world-model prediction error under shifts, error
  vs task failure, imagined frames, implicit reward and the safety veto (``hivla experiment world-model``).
- :mod:`~hivla.experiments.shift_probe`: success under every shift axis and level, and each failure
  attributed to perception, reasoning, planning or control by oracle substitution and by trace
  diagnosis (``hivla experiment shift-probe``).
- :mod:`~hivla.experiments.latent_transfer`: latent actions from video across embodiments (probe
  matrix) and the data efficiency of latent pretraining (``hivla experiment latent-transfer``).
- :mod:`~hivla.experiments.sensing`: RGB vs RGB-D vs RGB-D + contact policies in distribution and
  under shifts, on the same seeds (``hivla experiment sensing``).
- :mod:`~hivla.experiments.cross_embodiment`: one universal-action policy on every body vs one per body
  vs zero-shot on a held-out body (``hivla experiment cross-embodiment``).

:mod:`~hivla.experiments.steps` holds what they share: a step run once per configuration, the success cell.

Library packages (``hivla.sim``, ``hivla.policies``, ``hivla.evaluation``, ...) never import from here,
and nothing here imports ``hivla.cli``: the CLI's ``experiment`` commands are thin wrappers.
``EXPERIMENTS`` maps each ``hivla experiment <name>`` to its sub-package; a new experiment adds a
sub-package with ``config``, ``run`` and ``report`` modules, a line here and a CLI command.
"""

from hivla.registry import Registry

EXPERIMENTS: Registry[str] = Registry("experiment")
EXPERIMENTS.add("reasoning-ablation", "hivla.experiments.reasoning_ablation")
EXPERIMENTS.add("world-model", "hivla.experiments.world_model_validation")
EXPERIMENTS.add("shift-probe", "hivla.experiments.shift_probe")
EXPERIMENTS.add("latent-transfer", "hivla.experiments.latent_transfer")
EXPERIMENTS.add("sensing", "hivla.experiments.sensing")
EXPERIMENTS.add("cross-embodiment", "hivla.experiments.cross_embodiment")
