"""Interactive expert relabelling (DAgger, Ross et al. 2011): roll out the current policy, label every
state it visits with the scripted expert, add those episodes to the data, train again, evaluate.

Round 0 is the policy trained on the expert's own demonstrations (``init``, or trained here from
``data``). Round k >= 1:

1. **collect**: for each embodiment, ``episodes`` rollouts of round k-1's policy on training seeds
   of ``suite`` that no earlier round used. Per chunk window (the policy's executed steps) the
   expert drives with probability ``beta_k = beta * beta_decay ** (k - 1)``, the policy otherwise;
   every frame records the expert's label for the state (``ScriptedExpert.label``: action, subtask,
   reasoning trace) and the episode records ``hivla/source = dagger-k``. Failed rollouts are kept:
   their states are the ones the policy needs to learn to leave. Written by the crash-safe collector
   (:func:`hivla.data.recorder.collect`) in its worker processes.
2. **train**: fine-tune round k-1's policy (or, with ``scratch``, a new one) on ``data`` plus every
   round's episodes so far.
3. **evaluate**: the low level under the oracle planner and monitor on the same held-out seeds every
   round, so that success against round is the effect of the relabelled data.

Every phase leaves its output in ``out/round_k/`` and its summary in ``out/dagger.json``; ``resume``
continues a killed run at the phase it stopped in (the collector and the trainer resume exactly).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

STATE_FILE = "dagger.json"
SEED_OFFSET = 5000  # round k collects from training seed 5000 + (k - 1) * MAX_EPISODES on
MAX_EPISODES = 500


@dataclass(frozen=True)
class DaggerConfig:
    """One DAgger run; see the module docstring. ``data``: the expert datasets (comma-separated),
    ``init``: the round-0 policy (empty: trained here with ``preset`` on ``data``); ``steps``: training
    steps per round (0: the preset's); ``eval_episodes`` per embodiment and round (0: no evaluation);
    ``workers``, ``backend`` and ``address``: where the rollouts run (:mod:`hivla.utils.pool`)."""

    out: Path
    data: str
    preset: str = "standard"
    init: str = ""
    rounds: int = 2
    episodes: int = 100
    embodiments: tuple[str, ...] = ("floating",)
    suite: str = "tabletop-mixed"
    beta: float = 0.5
    beta_decay: float = 0.5
    steps: int = 0
    round0_steps: int = 0
    lr: float = 0.0
    scratch: bool = False
    eval_episodes: int = 20
    eval_suite: str = "tabletop-mixed"
    workers: int = 2
    threads: int = 0
    image_size: int = 64
    resume: bool = False
    backend: str = "local"
    address: str | None = None

    def __post_init__(self) -> None:
        from hivla.configs import PRESETS
        from hivla.sim import EMBODIMENTS, SUITES
        from hivla.utils.pool import check_backend

        check_backend(self.backend, self.address)
        PRESETS.get(self.preset)
        SUITES.get(self.suite)
        SUITES.get(self.eval_suite)
        for name in self.embodiments:
            EMBODIMENTS.get(name)
        if not self.data:
            raise ValueError("dagger needs the expert datasets (--data DIR[,DIR...]) that round 0 trains on")
        if self.rounds < 0 or not 1 <= self.episodes <= MAX_EPISODES or not self.embodiments:
            raise ValueError(
                f"need rounds >= 0, 1 <= episodes <= {MAX_EPISODES} and at least one embodiment; got "
                f"{self.rounds}, {self.episodes}, {self.embodiments}"
            )
        if not (0.0 <= self.beta <= 1.0 and 0.0 <= self.beta_decay <= 1.0):
            raise ValueError(f"beta and beta_decay must be within [0, 1], got {self.beta}, {self.beta_decay}")
        if min(self.steps, self.round0_steps, self.eval_episodes, self.threads) < 0 or self.lr < 0:
            raise ValueError("steps, round0_steps, eval_episodes, threads and lr must be >= 0")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")

    def beta_at(self, k: int) -> float:
        """The expert's share of control in round ``k`` >= 1."""
        return self.beta * self.beta_decay ** (k - 1)

    def identity(self) -> dict[str, Any]:
        """What must not change when a run is resumed (``rounds`` may grow)."""
        d = {
            k: v
            for k, v in asdict(self).items()
            if k not in ("out", "rounds", "resume", "workers", "threads", "backend", "address")
        }
        d["embodiments"] = list(self.embodiments)
        return d


# ---- relabelled rollouts (one recorder per collector worker) -------------------------------------
class RelabelRecorder:
    """Rolls out ``policy`` (a rollout spec) with the expert taking over whole chunk windows with
    probability ``beta``; records the expert's label for every visited state."""

    def __init__(self, policy: str, beta: float, collect_cfg: Any, env: Any) -> None:
        from hivla.evaluation.agent import Agent, Execution
        from hivla.policies import check_compatible, load_rollout_policy

        self.env, self.beta, self.spec = env, beta, policy
        self.source = collect_cfg.source
        rollout = load_rollout_policy(policy)
        check_compatible(rollout, env.embodiment.name)
        self.agent = Agent(rollout, env, Execution(execute_steps=rollout.execute_steps))
        self.window = self.agent.execution.execute_steps

    def __call__(self, seed: int) -> tuple[Any, bool]:
        from hivla.data.recorder import EpisodeBuilder
        from hivla.sim import ScriptedExpert

        env, agent = self.env, self.agent
        obs, info = env.reset(seed=seed)
        agent.start(seed)
        expert = ScriptedExpert(env)
        coin = np.random.default_rng([seed, 8191])
        episode = EpisodeBuilder(env, obs, info)
        expert_steps, expert_drives = 0, False
        while True:
            label, note = expert.label(obs)
            episode.add(obs, info, label, note)
            if episode.length % self.window == 0:  # a new chunk window (the first step included)
                drives = bool(coin.random() < self.beta)
                if expert_drives and not drives:
                    agent.executor.flush()  # the policy starts a fresh chunk where the expert left it
                expert_drives = drives
            executed = label if expert_drives else agent.act(obs)
            expert_steps += expert_drives
            if agent.stopped:
                executed = np.zeros_like(label)
            obs, reward, terminated, truncated, info = env.step(executed)
            episode.stepped(reward, terminated, truncated, info)
            if terminated or truncated or agent.stopped:
                break
        extra = {
            "source": self.source,
            "beta": self.beta,
            "policy": self.spec,
            "expert_steps": int(expert_steps),
        }
        return episode.build(seed, info, **extra), bool(info["success"])


def relabel_recorder(policy: str, beta: float, collect_cfg: Any, env: Any) -> RelabelRecorder:
    """``make_recorder`` for :func:`hivla.data.recorder.collect` (bind with ``functools.partial``)."""
    return RelabelRecorder(policy, beta, collect_cfg, env)


def low_level_spec(policy_dir: Path) -> str:
    """How a round's policy is rolled out: under the oracle planner and monitor when it is
    conditioned on the subtask, on the whole instruction otherwise."""
    from hivla.policies.base import read_policy_meta, resolve_checkpoint

    _, config = read_policy_meta(resolve_checkpoint(policy_dir))
    if getattr(config, "language_key", "task") == "subtask":
        return f"hierarchical:low={policy_dir},planner=oracle,monitor=oracle"
    return str(policy_dir)


# ---- the rounds ------------------------------------------------------------------------------------
Say = Callable[[str], None]


class DaggerRun:
    """The rounds of one run directory; ``run()`` does what is missing and returns the summary."""

    def __init__(self, cfg: DaggerConfig, say: Say = print, quiet: bool = False) -> None:
        self.cfg, self.say, self.quiet = cfg, say, quiet
        self.out = Path(cfg.out)
        self.state = self._open()

    def _open(self) -> dict[str, Any]:
        path = self.out / STATE_FILE
        if path.is_file():
            if not self.cfg.resume:
                raise FileExistsError(
                    f"{self.out} holds a DAgger run: pass --resume to continue it, or another --out"
                )
            state = json.loads(path.read_text())
            if state["config"] != self.cfg.identity():
                changed = sorted(
                    k for k in state["config"] if state["config"][k] != self.cfg.identity().get(k)
                )
                raise ValueError(f"cannot resume {self.out}: these settings differ from its run: {changed}")
            return state
        if self.out.exists() and any(self.out.iterdir()) and not self.cfg.resume:
            raise FileExistsError(f"{self.out} is not empty; choose a new --out")
        self.out.mkdir(parents=True, exist_ok=True)
        state = {"config": self.cfg.identity(), "rounds": []}
        self._save(state)
        return state

    def _save(self, state: dict[str, Any] | None = None) -> None:
        from hivla.data.meta import atomic_write_json

        atomic_write_json(self.out / STATE_FILE, state or self.state)

    def _round(self, k: int) -> dict[str, Any]:
        rounds = self.state["rounds"]
        while len(rounds) <= k:
            rounds.append({"round": len(rounds), "beta": self.cfg.beta_at(len(rounds)) if rounds else 1.0})
        return rounds[k]

    def run(self) -> dict[str, Any]:
        for k in range(self.cfg.rounds + 1):
            record = self._round(k)
            self._save()  # the round is under way
            if k > 0 and "data" not in record:
                record["data"] = self._collect(k)
                self._save()
            if "policy" not in record:
                record["policy"] = self._train(k)
                self._save()
            if self.cfg.eval_episodes and "eval" not in record:
                record["eval"] = self._evaluate(k, Path(record["policy"]))
                self._save()
            self._report_round(record)
        from hivla.training.dagger_report import write_summary

        summary = write_summary(self.out, self.state)
        return {"out": str(self.out), "rounds": self.state["rounds"], **summary}

    def _datasets(self, k: int) -> str:
        """The expert data plus every round's relabelled episodes up to round ``k``."""
        extra = [p for r in self.state["rounds"][1 : k + 1] for p in r["data"]]
        return ",".join([self.cfg.data, *extra])

    def _collect(self, k: int) -> list[str]:
        from functools import partial

        from hivla.data.recorder import CollectConfig, collect
        from hivla.utils.progress import JobProgress

        cfg, beta = self.cfg, self.cfg.beta_at(k)
        spec = low_level_spec(Path(self._round(k - 1)["policy"]))
        paths = []
        for emb in cfg.embodiments:
            out = self.out / f"round_{k}" / f"data_{emb}"
            ccfg = CollectConfig(
                out=out, suite=cfg.suite, embodiment=emb, episodes=cfg.episodes, workers=cfg.workers,
                image_size=cfg.image_size, resume=out.exists(), seed_offset=SEED_OFFSET + (k - 1) * MAX_EPISODES,
                max_failures=cfg.episodes, source=f"dagger-{k}", keep_failed=True, backend=cfg.backend,
                address=cfg.address,
            )  # fmt: skip
            name = f"dagger round {k}/{cfg.rounds} collect {emb} (beta {beta:.2f})"
            with JobProgress(name, cfg.episodes, "episodes", quiet=self.quiet) as bar:
                collect(ccfg, lambda kept, _dropped, bar=bar: bar.update(kept),
                        partial(relabel_recorder, spec, beta))  # fmt: skip
            paths.append(str(out))
        return paths

    def _train(self, k: int) -> str:
        from hivla.configs.overrides import with_overrides
        from hivla.training import main

        cfg = self.cfg
        out = self.out / f"round_{k}" / "policy"
        if k == 0 and cfg.init:
            return cfg.init
        init = "" if (k == 0 or cfg.scratch) else self._round(k - 1)["policy"]
        steps = cfg.round0_steps if k == 0 else cfg.steps
        exp = with_overrides(cfg.preset, data=self._datasets(k), steps=steps, threads=cfg.threads, eval_every=0,
                             init=init, lr=cfg.lr)  # fmt: skip
        if init:  # fine-tuning starts at the peak rate
            exp = dataclasses.replace(exp, train=dataclasses.replace(exp.train, warmup_steps=0))
        resume = (out / "checkpoints").is_dir()
        self.say(f"dagger round {k}/{cfg.rounds}: train {exp.train.steps} steps on {exp.data.path}"
                 + (f" from {init}" if init else ""))  # fmt: skip
        main(exp, out, resume=resume, quiet=self.quiet)
        return str(out)

    def _evaluate(self, k: int, policy: Path) -> dict[str, Any]:
        from hivla.evaluation import EvalConfig, SuccessTally, evaluate, write_report
        from hivla.utils.progress import JobProgress

        cfg, spec = self.cfg, low_level_spec(policy)
        out: dict[str, Any] = {}
        for emb in cfg.embodiments:
            ecfg = EvalConfig(policy=spec, suite=cfg.eval_suite, embodiment=emb, episodes=cfg.eval_episodes,
                              workers=cfg.workers, videos=1, backend=cfg.backend, address=cfg.address)  # fmt: skip
            name = f"dagger round {k}/{cfg.rounds} evaluate {emb}"
            with JobProgress(name, cfg.eval_episodes, "episodes", quiet=self.quiet) as bar:
                results = evaluate(ecfg, progress=SuccessTally(bar))
            where = self.out / f"round_{k}" / f"eval_{emb}"
            write_report(results, where)
            overall = results.metrics["overall"]
            out[emb] = {
                "success": overall["success"], "success_ci95": overall["success_ci95"],
                "progress": overall["progress"], "episodes": overall["episodes"],
                "avg_len": results.metrics["calvin"]["avg_len"], "results": str(where / "results.json"),
            }  # fmt: skip
        return out

    def _report_round(self, record: dict[str, Any]) -> None:
        evals = record.get("eval", {})
        text = ", ".join(f"{emb} {e['success']:.1%}" for emb, e in evals.items()) or "not evaluated"
        self.say(
            f"dagger round {record['round']}/{self.cfg.rounds} (beta {record['beta']:.2f}): success {text}"
        )
