"""World-model-triggered replanning: the evaluator -> replan edge of the hierarchical policy.

Before a chunk of the low-level policy runs, :class:`WorldModelReplanTrigger` imagines it with a
trained world model and reads the predicted probability that the current subtask completes
(:class:`hivla.world_model.outcome.OutcomePredictor`: the ``subtask_done`` event over the imagined
steps, then the outcome head). When that probability stays below ``threshold`` for ``patience``
chunks in a row, the trigger fires and :class:`~hivla.planning.hierarchical.HierarchicalPolicy`
treats the subtask as failed before it fails: it retries the subtask, then replans the rest, within
the same ``max_retries`` / ``max_replans`` budget as a failure its monitor reports.

In a spec string: ``hierarchical:low=RUN,wm=WM_RUN,wm_threshold=0.2,wm_patience=2``.

The threshold can be chosen from data: run the policy with a trigger that only records
(:class:`RecordingReplanTrigger`), cut the predictions into subtask attempts that succeeded or
failed (:func:`attempt_predictions`), and take the threshold that best separates them
(:func:`calibrate_threshold`: Youden's J of the firing rule over attempts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hivla.types import Observation


@dataclass(frozen=True)
class ReplanTriggerConfig:
    """Fire when P(the current subtask completes) < ``threshold`` for ``patience`` chunks in a row;
    ``check_steps``: how many steps of each chunk are imagined (0: the low level's execute_steps)."""

    threshold: float = 0.2
    patience: int = 2
    check_steps: int = 0

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"wm_threshold must be within (0, 1), got {self.threshold}")
        if self.patience < 1 or self.check_steps < 0:
            raise ValueError(
                f"wm_patience must be >= 1 and check_steps >= 0, got {self.patience}, {self.check_steps}"
            )


class WorldModelReplanTrigger:
    """``check(obs, chunk) -> bool``: whether the world model predicts that the current subtask fails.

    ``chunk`` float[B, H, A] is in the low-level policy's action space; it is converted to the world
    model's (universal or native) with the env given to ``start_episode``. ``last_prob`` holds the
    latest prediction and ``fired`` how often the trigger fired this episode.
    """

    def __init__(self, model: Any, config: ReplanTriggerConfig | None = None) -> None:
        from hivla.world_model.outcome import OutcomePredictor

        self.model, self.config = model, config or ReplanTriggerConfig()
        self.predictor = OutcomePredictor(model)
        self._convert: Any = None
        self._execute_steps = 1
        self.last_prob: float | None = None
        self.fired = 0
        self._low_in_a_row = 0

    @classmethod
    def load(cls, run: str, config: ReplanTriggerConfig | None = None) -> WorldModelReplanTrigger:
        """The trigger on the world model of a ``hivla train-world-model`` run (or checkpoint) directory."""
        from hivla.world_model.checkpoint import load_world_model

        return cls(load_world_model(run), config)

    def start_episode(self, env: Any, low: Any) -> None:
        """Take the action conversion from ``env`` for the low-level policy ``low``; reset the counts."""
        raw = getattr(env, "unwrapped", env)
        policy_universal = getattr(low, "action_space", "native") == "universal"
        model_universal = self.model.config.action_key == "action.universal"
        if policy_universal == model_universal:
            self._convert = None
        else:
            self._convert = raw.from_universal if policy_universal else raw.to_universal
        self._execute_steps = int(getattr(low, "execute_steps", 0) or 1)
        self.fired = 0
        self.reset()

    def reset(self) -> None:
        """A new subtask (or a retry of it): forget the predictions so far."""
        self._low_in_a_row = 0
        self.last_prob = None

    def _model_actions(self, chunk: Any) -> np.ndarray:
        arr = np.asarray(chunk.detach().cpu().numpy() if hasattr(chunk, "detach") else chunk, np.float32)
        if arr.ndim != 3:
            raise ValueError(f"the low-level policy must return chunks float[B, H, A], got shape {arr.shape}")
        steps = self.config.check_steps or self._execute_steps
        arr = arr[:1, : max(1, min(steps, arr.shape[1]))]  # (1, h, A)
        if self._convert is not None:
            arr = np.stack([[self._convert(a) for a in row] for row in arr]).astype(np.float32)
        return arr

    def predict(self, obs: Observation, chunk: Any) -> float:
        """P(the current subtask completes) if the first check steps of ``chunk`` run from ``obs``."""
        return float(self.predictor.predict(obs, self._model_actions(chunk))[0])

    def check(self, obs: Observation, chunk: Any) -> bool:
        """Record the prediction for ``chunk``; True when the trigger fires (counts then restart)."""
        self.last_prob = self.predict(obs, chunk)
        self._low_in_a_row = self._low_in_a_row + 1 if self.last_prob < self.config.threshold else 0
        if self._low_in_a_row < self.config.patience:
            return False
        self._low_in_a_row = 0
        self.fired += 1
        return True


class RecordingReplanTrigger(WorldModelReplanTrigger):
    """A trigger that never fires and records every prediction with the length of ``policy.history``
    at that moment (``records``: list of (history length, P(success))), to calibrate a threshold on the
    episodes the policy runs without the trigger acting."""

    def __init__(self, model: Any, config: ReplanTriggerConfig | None, policy: Any) -> None:
        super().__init__(model, config)
        self.policy = policy
        self.records: list[tuple[int, float]] = []

    def start_episode(self, env: Any, low: Any) -> None:
        super().start_episode(env, low)
        self.records = []

    def check(self, obs: Observation, chunk: Any) -> bool:
        self.last_prob = self.predict(obs, chunk)
        self.records.append((len(self.policy.history), self.last_prob))
        return False


def attempt_predictions(
    records: Sequence[tuple[int, float]], history: Sequence[tuple[str, str]], success: bool
) -> list[tuple[list[float], bool]]:
    """Cut an episode's recorded predictions into subtask attempts: ``[(predictions, failed), ...]``.

    ``records``: (length of the hierarchical policy's history when predicted, P(success)); an attempt
    ends at the first ``done`` or ``failed`` event recorded after its predictions, or at the episode's
    end (failed unless the episode succeeded).
    """
    ends = [i for i, (event, _) in enumerate(history) if event in ("done", "failed")]
    attempts: dict[int, list[float]] = {}
    for at, prob in records:
        end = next((i for i in ends if i >= at), len(history))
        attempts.setdefault(end, []).append(float(prob))
    return [
        (probs, history[end][0] == "failed" if end < len(history) else not success)
        for end, probs in sorted(attempts.items())
    ]


def attempt_score(predictions: Sequence[float], patience: int) -> float:
    """The largest threshold at which the trigger would *not* fire during the attempt: the lowest,
    over every ``patience`` consecutive predictions, of their highest (inf if too few to fire)."""
    if len(predictions) < patience:
        return math.inf
    return min(max(predictions[i : i + patience]) for i in range(len(predictions) - patience + 1))


def calibrate_threshold(attempts: Sequence[tuple[Sequence[float], bool]], patience: int) -> dict[str, Any]:
    """The threshold in (0, 1) whose firing rule (fire when ``patience`` predictions in a row are below
    it) best separates failed from successful attempts: the largest Youden J = TPR - FPR (failed
    attempts are the positives; a tie goes to the lower threshold, which fires less).

    Returns threshold, j, tpr, fpr, auroc (of the attempt score against failure), the numbers of
    attempts and failed attempts. Raises ValueError when the attempts are all failed or all successful.
    """
    from hivla.evaluation.stats import auroc

    scores = [attempt_score(p, patience) for p, _ in attempts]
    failed = [bool(f) for _, f in attempts]
    n_pos, n_neg = sum(failed), len(failed) - sum(failed)
    if not n_pos or not n_neg:
        raise ValueError(
            f"cannot calibrate the replan trigger on {len(attempts)} subtask attempts of which {n_pos} failed: "
            "it needs failed and successful attempts; run more calibration episodes"
        )
    finite = sorted({s for s in scores if math.isfinite(s)})
    # candidates: just above each attempt score (that attempt then fires), clipped into (0, 1)
    candidates = [min(max(b + 1e-6, 1e-6), 1.0 - 1e-6) for b in finite] or [0.5]
    best: dict[str, Any] | None = None
    for thr in candidates:
        fires = [s < thr for s in scores]
        tpr = sum(f and y for f, y in zip(fires, failed, strict=True)) / n_pos
        fpr = sum(f and not y for f, y in zip(fires, failed, strict=True)) / n_neg
        if best is None or tpr - fpr > best["j"] + 1e-12:
            best = {"threshold": thr, "j": tpr - fpr, "tpr": tpr, "fpr": fpr}
    clipped = [min(s, 1.0) for s in scores]  # a lower score means a likelier failure
    return {
        **best,
        "auroc": auroc([-s for s in clipped], [float(f) for f in failed]),
        "attempts": len(attempts),
        "failed_attempts": n_pos,
    }
