"""The world-model validation experiment (``hivla experiment world-model``).

1. Held-out episodes of the policy chosen on the command line (a trained VLA, ``expert``, a
   hierarchical spec, or the scripted expert with injected faults) per shift axis and level
   (render shifts: lighting, table, camera, object colour, distractors; and placement; the same
   held-out seeds in every condition).
2. For each trained world model: next-state prediction errors per condition (vs copy-last),
   imagined-event and outcome AUROCs, and the Spearman and Pearson correlations (bootstrap 95%
   intervals) between an episode's one-step error and its task failure, in distribution, per
   shift axis and pooled.
3. Real vs imagined frames (decoded by the latent model; for JEPA, the held-out frame whose
   embedding is nearest to the imagined one).
4. The implicit reward's rank correlation with the steps left until the subtask completes.
5. A stochastic policy (a flow or diffusion VLA) with and without the world-model veto under each shift.
6. A hierarchical policy with and without world-model-triggered replanning, closed loop.

Writes ``results.json``, ``summary.md``, ``report.html`` and ``figures/`` into the output directory;
the rollouts (probe episodes, veto and replanning rows) are kept under it and reused by a rerun.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hivla.experiments.world_model_validation.config import ExperimentSpec, ProbeConfig
from hivla.world_model.config import CollectSpec
from hivla.world_model.data import EpisodeArrays
from hivla.world_model.model import WorldModel


# ---- data ----------------------------------------------------------------------------------------
def probe_episodes(
    cfg: ProbeConfig, log: Callable[[str], None], cache_dir: Path | None = None
) -> dict[str, list[EpisodeArrays]]:
    """condition -> held-out episodes of ``cfg.policy`` (same seeds in every condition); with
    ``cache_dir``, each condition's episodes are saved there and reused when made the same way."""
    from hivla.experiments.world_model_validation.cache import load_cached_episodes, save_episodes, what_made
    from hivla.world_model.config import FAULTY_EXPERT
    from hivla.world_model.sources import collect_episodes

    out = {}
    for label in cfg.conditions():
        spec = CollectSpec(
            suite=cfg.suite, embodiment=cfg.embodiment, episodes=cfg.episodes, image_size=cfg.image_size,
            fault_rate=cfg.fault_rate if cfg.policy == FAULTY_EXPERT else 0.0, policy=cfg.policy,
            shifts=() if label == "none" else (label,), workers=cfg.workers, backend=cfg.backend,
            address=cfg.address,
        )  # fmt: skip
        key = {**what_made(dataclasses.asdict(spec)), "split": "heldout"}
        path = None if cache_dir is None else cache_dir / f"{label.replace('=', '')}.npz"
        cached = None if path is None else load_cached_episodes(path, key)
        if cached is not None:
            out[label] = cached
            log(f"  {label}: {len(cached)} held-out episodes reused from {path}")
            continue
        start = time.perf_counter()
        out[label] = collect_episodes(spec, split="heldout")
        if path is not None:
            save_episodes(path, key, out[label])
        log(f"  {label}: {cfg.episodes} held-out episodes in {time.perf_counter() - start:.0f} s")
    return out


# ---- per model -----------------------------------------------------------------------------------
def model_errors(model: WorldModel, data: dict[str, list[EpisodeArrays]]) -> tuple[dict[str, Any], list[Any]]:
    """(summary per condition, every episode's errors with its condition)."""
    from hivla.world_model.metrics import episode_errors, summarize_errors

    per, all_errors = {}, []
    for label, eps in data.items():
        errs = [episode_errors(model, ep) for ep in eps]
        for e in errs:
            e.info["condition"] = label
        per[label] = summarize_errors(errs)
        all_errors += errs
    return per, all_errors


ERROR_MEASURES = {
    "mean error": lambda e: float(e.latent.mean()),
    "error / copy-last": lambda e: float(e.latent.sum() / max(e.copy_last.sum(), 1e-12)),
    "max error": lambda e: float(e.latent.max()),
}


def _correlations(errors: list[Any], n_boot: int) -> dict[str, Any]:
    """Per error measure: Spearman and Pearson of (error, failure) with bootstrap 95% intervals."""
    from hivla.evaluation.stats import bootstrap_ci, pearson, spearman

    fail = np.array([0.0 if e.success else 1.0 for e in errors])
    measures = {}
    for name, fn in ERROR_MEASURES.items():
        x = np.array([fn(e) for e in errors])
        measures[name] = {
            "spearman": spearman(x, fail),
            "ci95": list(bootstrap_ci(x, fail, n_boot=n_boot)),
            "pearson": pearson(x, fail),
            "pearson_ci95": list(bootstrap_ci(x, fail, stat=pearson, n_boot=n_boot)),
            "success_mean": float(x[fail == 0].mean()) if (fail == 0).any() else None,
            "failure_mean": float(x[fail == 1].mean()) if (fail == 1).any() else None,
        }
    return {"episodes": len(errors), "failures": int(fail.sum()), "measures": measures}


def axis_of(condition: str) -> str:
    """``lighting=2`` -> ``lighting``; ``none`` -> ``in distribution``."""
    return "in distribution" if condition == "none" else condition.split("=")[0]


def failure_correlation(errors: list[Any], n_boot: int) -> dict[str, Any]:
    """Spearman and Pearson (an episode's one-step error, its failure) with bootstrap 95% intervals,
    pooled over all conditions and per group (``by_axis``: in distribution, then each shift axis
    over its levels; ``by_axis_with_in_distribution``: each axis with the unshifted episodes), for three per-episode error measures (``ERROR_MEASURES``): the mean error (the
    headline ``spearman``), the error relative to copy-last (how surprised the model is beyond how
    much moved), and the peak error. Undefined (None) where a group's episodes all succeed or all fail."""
    pooled = _correlations(errors, n_boot)
    groups: dict[str, list[Any]] = {}
    for e in errors:
        groups.setdefault(axis_of(e.info.get("condition", "none")), []).append(e)
    by_axis = {name: _correlations(group, n_boot) for name, group in groups.items()}
    in_dist = groups.get("in distribution", [])
    with_in_distribution = {  # does error rise with the shift and predict the failures it causes?
        f"{name} + in distribution": _correlations(in_dist + group, n_boot)
        for name, group in groups.items()
        if name != "in distribution" and in_dist
    }
    fail = np.array([0.0 if e.success else 1.0 for e in errors])
    head = pooled["measures"]["mean error"]
    return {
        **pooled,
        "spearman": head["spearman"],
        "ci95": head["ci95"],
        "pearson": head["pearson"],
        "pearson_ci95": head["pearson_ci95"],
        "by_axis": by_axis,
        "by_axis_with_in_distribution": with_in_distribution,
        "errors": [ERROR_MEASURES["mean error"](e) for e in errors],
        "failed": fail.astype(int).tolist(),
    }


@torch.no_grad()
def frame_rows(
    model: WorldModel, ep: EpisodeArrays, start: int, steps: int, bank: list[EpisodeArrays]
) -> tuple[list[list[np.ndarray]], list[str]]:
    """Per camera, a row of real frames t..t+steps and a row of imagined ones (open loop from t with
    the episode's actions): decoded by the latent model; for models without a decoder, the frame
    of ``bank`` whose target embedding is nearest to the imagined latent."""
    from hivla.world_model.metrics import encode_episode

    z, _, frames = encode_episode(model, ep)  # frames (N, C, 3, s, s)
    chunk = torch.from_numpy(ep.action[start : start + steps])[None]
    zs = torch.cat([z[start : start + 1], model.rollout(z[start : start + 1], chunk)[0]])  # (steps+1, D+S)

    def to_img(x: torch.Tensor) -> np.ndarray:
        return (x.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()

    if hasattr(model, "decode"):
        imagined = model.decode(zs)  # (steps+1, C, 3, s, s)
        label = "imagined"
    else:
        keys, imgs = zip(*[encode_episode(model, other)[1:] for other in bank], strict=True)
        keys_t, imgs_t = torch.cat(keys), torch.cat(imgs)  # (M, D+S), (M, C, 3, s, s)
        nearest = torch.stack([((keys_t - zk) ** 2).mean(-1).argmin() for zk in zs])
        imagined = imgs_t[nearest]
        label = "nearest"
    rows, labels = [], []
    for c, cam in enumerate(model.config.cameras):
        rows += [[to_img(frames[start + k, c]) for k in range(steps + 1)], [to_img(f[c]) for f in imagined]]
        labels += [f"{cam}: real", f"{cam}: {label}"]
    return rows, labels


def busiest_start(ep: EpisodeArrays, steps: int) -> int:
    """The start of the ``steps``-step window where the end effector travels farthest."""
    moves = np.linalg.norm(np.diff(ep.state[:, :3], axis=0), axis=-1)  # (N-1,)
    totals = np.convolve(moves, np.ones(steps), mode="valid")  # (N-steps,)
    return int(np.argmax(totals)) if len(totals) else 0


def reward_check(
    model: WorldModel, train_eps: list[EpisodeArrays], test_eps: list[EpisodeArrays], n_boot: int
) -> dict[str, Any]:
    """Does the implicit reward rise as a subtask nears completion? Within every segment of a
    held-out episode that ends with a completed subtask, the Spearman correlation between each
    frame's reward (towards its subtask kind's goal embedding) and minus the steps left; the mean
    over segments with a bootstrap 95% interval over segments."""
    from hivla.evaluation.stats import spearman
    from hivla.world_model.events import EVENT_NAMES
    from hivla.world_model.metrics import encode_episode
    from hivla.world_model.reward import LatentGoalReward, SubtaskGoals

    goals = SubtaskGoals.fit(model, train_eps)
    done = EVENT_NAMES.index("subtask_done")
    per_segment, frames = [], 0
    for ep in test_eps:
        kinds, index = ep.info.get("subtask_kinds"), ep.info.get("subtask_index")
        if kinds is None or index is None:
            continue
        _, tgt, _ = encode_episode(model, ep)
        begin = 0
        for end in np.flatnonzero(np.nan_to_num(ep.events[: ep.transitions, done]) > 0):
            kind = kinds[min(int(index[begin]), len(kinds) - 1)]
            if kind in goals.goals and end - begin >= 3:
                reward = LatentGoalReward(model, goals.goals[kind]).from_latents(tgt[begin : end + 1]).numpy()
                rho = spearman(reward, -np.arange(end - begin, -1, -1, dtype=np.float64))
                if np.isfinite(rho):
                    per_segment.append(rho)
                    frames += int(end - begin + 1)
            begin = end + 1
    if not per_segment:
        return {"segments": 0, "frames": 0, "spearman": None, "ci95": [None, None]}
    rng = np.random.default_rng(0)
    x = np.asarray(per_segment)
    boots = [x[rng.integers(0, len(x), len(x))].mean() for _ in range(n_boot)]
    return {
        "segments": len(x),
        "frames": frames,
        "spearman": float(x.mean()),
        "ci95": [float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))],
        "goals": sorted(goals.goals),
    }


def cem_reach(
    model: WorldModel, suite: str, episodes: int, steps: int = 12, image_size: int = 64
) -> dict[str, Any]:
    """CEM as a policy of its own: reach a goal observation (the scene after ``steps`` expert steps,
    found by a look-ahead and restored) within ``steps`` steps; final end-effector distance to the
    goal's, against standing still."""
    from hivla.evaluation.config import suite_seeds
    from hivla.sim import ScriptedExpert, make_env
    from hivla.world_model.planning import CEMConfig, CEMPolicy

    env = make_env(suite, image_size=image_size)
    policy = CEMPolicy(
        model, CEMConfig(horizon=8, samples=64, elites=8, iterations=4, risk_weight=0.5), execute_steps=4
    )
    cem, still = [], []
    try:
        for seed in suite_seeds(suite, "heldout", 0, episodes):
            obs, info = env.reset(seed=seed)
            saved, expert = env.get_state(), ScriptedExpert(env)
            goal_obs = obs
            for _ in range(steps):
                goal_obs, *_, info = env.step(expert.act(goal_obs, info)[0])
            goal_ee = env.embodiment.ee_pos()
            env.set_state(saved)
            start_ee = env.embodiment.ee_pos()
            policy.start_episode(env, seed)
            policy.reset()
            policy.set_goal_observation(goal_obs)
            obs = env.observation()
            for t in range(steps):
                if t % policy.execute_steps == 0:
                    chunk = policy.sample_actions(obs)[0]
                obs, *_ = env.step(chunk[t % policy.execute_steps])
            cem.append(float(np.linalg.norm(env.embodiment.ee_pos() - goal_ee)))
            still.append(float(np.linalg.norm(start_ee - goal_ee)))
    finally:
        env.close()
    from hivla.evaluation.stats import mean_ci

    return {"episodes": episodes, "steps": steps, "cem_mm": mean_ci(1000 * np.array(cem)),
            "stand_still_mm": mean_ci(1000 * np.array(still))}  # fmt: skip


def evaluate_model(
    run: str,
    data: dict[str, list[EpisodeArrays]],
    spec: ExperimentSpec,
    figures: Path,
    log: Callable[[str], None],
) -> dict[str, Any]:
    from hivla.reporting.images import frame_grid, save_png
    from hivla.world_model.checkpoint import load_world_model
    from hivla.world_model.metrics import prediction_scores
    from hivla.world_model.sources import load_episodes
    from hivla.world_model.trainer import load_run_config

    model = load_world_model(run)
    name = f"{model.kind} ({Path(run).name})"
    log(f"evaluating {name}")
    per_condition, errors = model_errors(model, data)
    shifted = [ep for label, eps in data.items() if label != "none" for ep in eps]
    scores = {"none": prediction_scores(model, data["none"], spec.veto.veto.check_steps or 8)}
    if shifted:
        scores["shifted"] = prediction_scores(model, shifted, spec.veto.veto.check_steps or 8)
    corr = failure_correlation(errors, spec.probe.bootstrap)
    reward = None
    try:
        exp = load_run_config(run)
        train_eps = []
        if exp.data.path and Path(exp.data.path).is_dir():
            train_eps = load_episodes(exp.data.path, model.config.action_key, 40)
        held_out = [ep for eps in data.values() for ep in eps]
        try:
            reward = reward_check(model, train_eps, held_out, spec.probe.bootstrap)
            reward["goals_from"] = "training data"
        except ValueError:  # no completed subtask there: goals from the unshifted held-out episodes
            shifted_eps = [ep for label, eps in data.items() if label != "none" for ep in eps]
            reward = reward_check(model, data["none"], shifted_eps, spec.probe.bootstrap)
            reward["goals_from"] = "unshifted held-out episodes (tested on the shifted ones)"
    except (FileNotFoundError, ValueError) as err:
        log(f"  implicit reward check skipped: {err}")
    images = {}
    for label in ("none", next((lb for lb in data if lb != "none"), None)):
        if label is None:
            continue
        ep = max(data[label], key=lambda e: e.transitions)
        start = min(busiest_start(ep, spec.frame_steps), max(0, ep.transitions - spec.frame_steps))
        rows, labels = frame_rows(model, ep, start, spec.frame_steps, data[label])
        path = figures / f"frames-{model.kind}-{label.replace('=', '')}.png"
        save_png(frame_grid(rows, labels), path)
        images[label] = path.name
    reach = cem_reach(model, spec.probe.suite, spec.cem_episodes) if spec.cem_episodes else None
    return {"run": str(run), "name": name, "kind": model.kind, "errors": per_condition, "scores": scores,
            "failure_correlation": corr, "implicit_reward": reward, "frames": images, "cem_reach": reach}  # fmt: skip


# ---- main ----------------------------------------------------------------------------------------
def describe_policy(spec: str, fault_rate: float) -> str:
    """A label for the report: what the policy spec names and how it samples."""
    from hivla.world_model.config import FAULTY_EXPERT

    if spec == FAULTY_EXPERT:
        return f"scripted expert with injected faults (fault rate {fault_rate:g}; acts on privileged state)"
    from hivla.world_model.safety import policy_sampling
    from hivla.world_model.sources import make_policy

    kind, why = policy_sampling(make_policy(spec))
    return f"{spec} ({kind}: {why})"


def run_experiment(
    runs: list[str],
    spec: ExperimentSpec,
    out: str | Path,
    veto_run: str | None = None,
    quiet: bool = False,
    replan_run: str | None = None,
) -> dict[str, Any]:
    """Run every part of the experiment for the trained world models ``runs``; write the report.
    The veto uses ``veto_run`` and the replan trigger ``replan_run`` (each by default ``runs[0]``).

    Raises ``DeterministicPolicyError`` before any rollout when the veto's policy cannot resample."""
    from hivla.experiments.world_model_validation.report import write_experiment_report

    if not runs:
        raise ValueError("pass at least one trained world model (a `hivla train-world-model` run directory)")
    if spec.run_veto:
        from hivla.experiments.world_model_validation.veto import check_veto_policy

        check_veto_policy(spec.veto)
    from hivla.utils.threads import limit_threads

    limit_threads(1)  # small models: one thread; more only oversubscribe shared cores (see BENCHMARKS.md)
    out = Path(out)
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        if not quiet:
            print(msg, flush=True)

    start = time.perf_counter()
    log(
        f"collecting held-out episodes of {spec.probe.policy} ({spec.probe.suite}, "
        f"{len(spec.probe.conditions())} conditions)"
    )
    data = probe_episodes(spec.probe, log, out / "cache" / "probe")
    models = [evaluate_model(r, data, spec, figures, log) for r in runs]
    target, replan_target = veto_run or runs[0], replan_run or runs[0]
    veto = replan = None
    if spec.run_veto:
        from hivla.experiments.world_model_validation.veto import run_veto_eval

        log(
            f"veto evaluation of {spec.veto.policy} with {target}: {len(spec.veto.conditions)} conditions x "
            f"{spec.veto.episodes} episodes x 2 arms"
        )
        veto = run_veto_eval(target, spec.veto, cache_dir=out / "cache")
        log(f"  {veto['reused']} of {len(veto['episodes'])} episodes reused")
        veto["run"] = str(target)
        veto["policy"] = describe_policy(spec.veto.policy, spec.veto.fault_rate)
    if spec.replan.policy:
        from hivla.experiments.world_model_validation.replan import run_replan_eval

        log(
            f"world-model-triggered replanning with {replan_target}: {len(spec.replan.conditions)} conditions x "
            f"{spec.replan.episodes} episodes x 2 arms"
        )
        replan = run_replan_eval(replan_target, spec.replan, cache_dir=out / "cache")
        log(f"  {replan['reused']} of {len(replan['episodes'])} episodes reused")
        replan["run"] = str(replan_target)
    results = {
        "format": "hivla.world_model.experiment",
        "version": 2,
        "policy": describe_policy(spec.probe.policy, spec.probe.fault_rate),
        "spec": dataclasses.asdict(spec),
        "conditions": {
            k: {"episodes": len(v), "successes": int(sum(e.success for e in v))} for k, v in data.items()
        },
        "models": models,
        "veto": veto,
        "replan": replan,
        "wall_seconds": time.perf_counter() - start,
    }
    results = _clean(results)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    write_experiment_report(results, out)
    log(f"wrote {out / 'report.html'} in {results['wall_seconds']:.0f} s")
    return results


def _clean(o: Any) -> Any:
    """JSON-safe copy: numpy scalars and arrays to Python, NaN/inf to None, tuples to lists."""
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_clean(v) for v in o]
    if isinstance(o, np.ndarray):
        return _clean(o.tolist())
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float) and not np.isfinite(o):
        return None
    return o
