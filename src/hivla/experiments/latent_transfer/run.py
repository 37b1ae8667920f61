"""The latent-transfer experiment (``hivla experiment latent-transfer``): how well latent actions
learned from video transfer across embodiments, and what latent pretraining buys a VLA.

1. Data, per embodiment: expert episodes with actions (``data/<E>``, the probes' data; the target's are
   the fine-tuning pool) and video-only episodes from other seeds (``video/<E>``). The human-hand
   stand-in's labelled episodes only ever score probes: nothing trains on its actions.
2. Latent action models (``lam/all``: videos of every embodiment; ``lam/others``: all but the target),
   aligned to universal actions (``align_weight``) on the labelled robot episodes they may see.
3. Alignment matrix (``lam/all``): linear and MLP probes from latent to the universal action, fitted on
   embodiment A's episodes and scored on held-out episodes of every B (R² per dimension, gripper
   sign accuracy); decoded examples (frame t, predicted t+k, true t+k) per embodiment.
4. Data efficiency on the target: VLAs fine-tuned on a fraction of its labelled episodes without
   pretraining, after latent pretraining on every embodiment's videos, and on the other
   embodiments' videos only; closed-loop success on held-out seeds (Wilson 95% intervals).

Everything lands in ``out``; a rerun reuses every finished dataset, training and evaluation whose
configuration matches (a killed training resumes). Writes results.json, summary.md, report.html.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hivla.experiments.latent_transfer.config import (
    DONE_FILE,
    RESULTS_FORMAT,
    RESULTS_VERSION,
    VIDEO_SEED_OFFSET,
    VIDEO_SOURCES,
    TransferConfig,
)
from hivla.experiments.steps import read_json, run_once

Log = Callable[[str], None]


# ---- data ----------------------------------------------------------------------------------------
def labelled_root(cfg: TransferConfig, emb: str) -> Path:
    return Path(cfg.out) / "data" / emb


def video_root(cfg: TransferConfig, emb: str) -> Path:
    return Path(cfg.out) / "video" / emb


def ensure_dataset(cfg: TransferConfig, emb: str, video_only: bool, log: Log) -> dict[str, Any]:
    """``video/<emb>`` or ``data/<emb>``: reused when it holds enough episodes, else recorded (resumed)."""
    from hivla.data.recorder import CollectConfig, collect

    sizes = cfg.resolved
    root = video_root(cfg, emb) if video_only else labelled_root(cfg, emb)
    want = sizes.video_episodes if video_only else sizes.labelled_episodes
    have = int((read_json(root / "meta" / "info.json") or {}).get("total_episodes", 0))
    kind = "video-only" if video_only else "labelled"
    if have >= want:
        log(f"data: {root} ({have} {kind} episodes, reused)")
        return {"path": str(root), "episodes": have, "video_only": video_only}
    log(f"data: recording {want} {kind} {cfg.suite} episodes of {emb} into {root}")
    ccfg = CollectConfig(
        out=root, suite=cfg.suite, embodiment=emb, episodes=want, workers=cfg.collect_workers,
        image_size=sizes.image_size, max_steps=sizes.collect_max_steps, resume=root.exists(),
        seed_offset=VIDEO_SEED_OFFSET if video_only else 0, video_only=video_only, backend=cfg.backend,
        address=cfg.address,
    )  # fmt: skip
    out = collect(ccfg)
    return {"path": str(root), "episodes": out["episodes"], "video_only": video_only}


def source_embodiments(cfg: TransferConfig, source: str) -> tuple[str, ...]:
    return cfg.embodiments if source == "all" else cfg.others


# ---- latent action models ------------------------------------------------------------------------
def lam_paths(cfg: TransferConfig, source: str) -> tuple[str, ...]:
    """What the latent action model of ``source`` reads: the videos, plus (for the alignment) the
    labelled episodes of the robots among its embodiments, never a human stand-in's actions."""
    from hivla.sim import EMBODIMENTS

    embs = source_embodiments(cfg, source)
    paths = [str(video_root(cfg, e)) for e in embs]
    if cfg.align_weight > 0:
        paths += [str(labelled_root(cfg, e)) for e in embs if not EMBODIMENTS.get(e).human_stand_in]
    return tuple(paths)


def ensure_lam(cfg: TransferConfig, source: str, log: Log) -> dict[str, Any]:
    """Train the latent action model of ``source`` into ``lam/<source>`` (reused, or resumed)."""
    from hivla.latent_actions.config import LATENT_PRESETS
    from hivla.latent_actions.trainer import train

    sizes, run_dir = cfg.resolved, Path(cfg.out) / "lam" / source
    exp = LATENT_PRESETS.get(sizes.lam_preset)
    tcfg = dataclasses.replace(
        exp.train, threads=cfg.threads, **({"steps": sizes.lam_steps} if sizes.lam_steps else {})
    )
    exp = dataclasses.replace(
        exp, model=dataclasses.replace(exp.model, align_weight=cfg.align_weight),
        data=dataclasses.replace(exp.data, paths=lam_paths(cfg, source)), train=tcfg,
    )  # fmt: skip
    key = {
        "preset": sizes.lam_preset,
        "steps": tcfg.steps,
        "align_weight": cfg.align_weight,
        "paths": list(exp.data.paths),
    }

    def work(resume: bool) -> dict[str, Any]:
        r = train(exp, run_dir, resume=resume, quiet=True)
        return {"val": r["val"], "samples": r["samples"], "samples_with_actions": r["samples_with_actions"]}

    return run_once(run_dir, key, f"latent action model ({source})", work, log, DONE_FILE)


# ---- alignment matrix ----------------------------------------------------------------------------
def probe_features(cfg: TransferConfig, lam: Any, emb: str) -> dict[str, Any]:
    """Latents and actions of ``data/<emb>``'s frame pairs, split by episode into probe fit / score sets."""
    from hivla.data import split_episodes
    from hivla.latent_actions.data import FramePairDataset
    from hivla.latent_actions.probe import pair_features

    data = FramePairDataset(labelled_root(cfg, emb), lam.cfg)
    episodes = data.clips.clip_episodes()
    _, val_eps = split_episodes(sorted(set(episodes.tolist())), cfg.resolved.probe_val_fraction, seed=0)
    val = np.isin(episodes, val_eps)
    x, y = pair_features(lam, data)
    return {
        "data": data,
        "fit": (x[~val], y[~val]),
        "score": (x[val], y[val]),
        "val_index": np.flatnonzero(val),
    }


def alignment_matrix(features: dict[str, dict[str, Any]], probe_cfg: Any) -> dict[str, Any]:
    """probe kind -> fitted-on A -> scored-on B -> R² per dimension, mean R², gripper accuracy."""
    from hivla.latent_actions.probe import PROBES, Probe, score

    out: dict[str, Any] = {}
    for kind in PROBES:
        out[kind] = {}
        for a, fa in features.items():
            probe = Probe(kind, probe_cfg).fit(*fa["fit"])
            out[kind][a] = {b: score(probe, *fb["score"]) for b, fb in features.items()}
    return out


def decoded_examples(lam: Any, features: dict[str, dict[str, Any]], count: int) -> dict[str, Any]:
    """Per embodiment: ``count`` held-out pairs as uint8 frames (t, predicted t+k, true t+k), and the
    prediction error over all its held-out pairs next to copying frame t."""
    import torch

    rows, errors = {}, {}
    for emb, f in features.items():
        idx = f["val_index"]
        if not len(idx):
            continue
        frames = torch.stack([f["data"][int(i)]["frames"] for i in idx])  # (N, 2, 3, s, s)
        with torch.no_grad():
            pred = lam.predict(frames[:, 0], lam.encode(frames))  # (N, 3, s, s)
        errors[emb] = {
            "recon_mse": float((pred - frames[:, 1]).pow(2).mean()),
            "copy_mse": float((frames[:, 0] - frames[:, 1]).pow(2).mean()),
            "pairs": len(idx),
        }
        pick = np.linspace(0, len(idx) - 1, min(count, len(idx))).round().astype(int)
        to_u8 = lambda x: (x.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)  # noqa: E731
        rows[emb] = [[to_u8(frames[i, 0]), to_u8(pred[i]), to_u8(frames[i, 1])] for i in pick]
    return {"frames": rows, "errors": errors}


# ---- pretraining and fine-tuning -----------------------------------------------------------------
def ensure_pretrained(cfg: TransferConfig, source: str, lam_run: Path, log: Log) -> dict[str, Any]:
    """Latent pretraining of the VLA on ``source``'s videos into ``pretrain/<source>``."""
    from hivla.configs.presets import PRESETS
    from hivla.latent_actions.pretrain import LatentPretrainConfig, policy_for, pretrain

    sizes, run_dir = cfg.resolved, Path(cfg.out) / "pretrain" / source
    tcfg = dataclasses.replace(PRESETS.get(sizes.vla_preset).train, eval_every=0, threads=cfg.threads,
                               **({"steps": sizes.pretrain_steps} if sizes.pretrain_steps else {}))  # fmt: skip
    data = tuple(str(video_root(cfg, e)) for e in source_embodiments(cfg, source))
    pcfg = LatentPretrainConfig(lam=str(lam_run), data=data, policy=policy_for(sizes.vla_preset, cfg.target),
                                embodiment=cfg.target, train=tcfg)  # fmt: skip
    key = {
        "preset": sizes.vla_preset,
        "steps": tcfg.steps,
        "lam": str(lam_run),
        "data": list(data),
        "target": cfg.target,
    }

    def work(resume: bool) -> dict[str, Any]:
        r = pretrain(None if resume else pcfg, run_dir, resume=resume, quiet=True)
        return {"val": r["val"], "samples": r["samples"], "majority_code_acc": r["majority_code_acc"]}

    return run_once(run_dir, key, f"latent pretraining ({source})", work, log, DONE_FILE)


def labelled_counts(cfg: TransferConfig) -> list[int]:
    """Episodes fine-tuned on per fraction (at least one), distinct and increasing."""
    n = cfg.resolved.labelled_episodes
    return sorted({max(1, int(round(f * n))) for f in cfg.resolved.fractions})


def point_name(cfg: TransferConfig, count: int) -> str:
    """The directory of one curve point under ``finetune/<arm>`` and ``evals/<arm>``: ``n<count>``, or
    ``n<count>-s<steps>`` when the fine-tuning steps are set, so a sweep over steps keeps every point
    and reuses the rest of the run (data, latent models, pretraining)."""
    steps = cfg.resolved.finetune_steps
    return f"n{count}-s{steps}" if steps else f"n{count}"


def ensure_finetuned(cfg: TransferConfig, arm: str, count: int, log: Log) -> dict[str, Any]:
    """The VLA of ``arm`` trained on the target's first ``count`` labelled episodes
    (``finetune/<arm>/<point_name>``)."""
    from hivla.configs.overrides import with_overrides
    from hivla.data import DatasetMeta
    from hivla.training import main as train
    from hivla.training.datasets import RecordedVLADataset

    sizes, run_dir = cfg.resolved, Path(cfg.out) / "finetune" / arm / point_name(cfg, count)
    root = labelled_root(cfg, cfg.target)
    init = str(Path(cfg.out) / "pretrain" / VIDEO_SOURCES[arm]) if arm in VIDEO_SOURCES else ""
    exp = with_overrides(sizes.vla_preset, data=str(root), steps=sizes.finetune_steps, eval_every=0,
                         threads=cfg.threads, init_latent=init)  # fmt: skip
    episodes = tuple(int(e["episode_index"]) for e in DatasetMeta.load(root).episodes[:count])
    key = {"preset": sizes.vla_preset, "steps": exp.train.steps, "data": str(root), "episodes": list(episodes),
           "init_latent": init}  # fmt: skip

    def work(resume: bool) -> dict[str, Any]:
        dataset = RecordedVLADataset(root, exp.policy, episodes=episodes)
        r = train(exp, run_dir, resume=resume, dataset=dataset, quiet=True)
        return {"final_loss": r["final_loss"], "loaded_tensors": r.get("loaded_tensors")}

    return run_once(run_dir, key, f"fine-tune {arm} on {count} episode(s)", work, log, DONE_FILE)


def ensure_eval(cfg: TransferConfig, arm: str, count: int, run: str, log: Log) -> dict[str, Any]:
    """Held-out closed-loop episodes of a fine-tuned VLA on the target (``evals/<arm>/<point_name>``)."""
    from hivla.evaluation import EvalConfig, evaluate_or_reuse

    sizes, where = cfg.resolved, Path(cfg.out) / "evals" / arm / point_name(cfg, count)
    ecfg = EvalConfig(policy=run, suite=cfg.suite, embodiment=cfg.target, episodes=sizes.eval_episodes,
                      workers=cfg.workers, videos=0, max_steps=sizes.max_steps, backend=cfg.backend,
                      address=cfg.address)  # fmt: skip
    results, reused = evaluate_or_reuse(ecfg, where)
    o = results.metrics["overall"]
    log(
        f"eval {arm} n={count}: reused"
        if reused
        else f"eval {arm} n={count}: {o['successes']}/{o['episodes']} successes"
    )
    return o


# ---- the experiment ------------------------------------------------------------------------------
def run_experiment(cfg: TransferConfig, log: Log = print) -> dict[str, Any]:
    """Record, train, probe, fine-tune and evaluate; write results.json, summary.md and report.html."""
    import torch

    from hivla.experiments.latent_transfer.report import write_outputs
    from hivla.latent_actions import load_latent_model

    torch.set_num_threads(1)
    start = time.perf_counter()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    data = {e: {"labelled": ensure_dataset(cfg, e, False, log), "video": ensure_dataset(cfg, e, True, log)}
            for e in cfg.embodiments}  # fmt: skip
    sources = ["all"] + (["others"] if "latent-others" in cfg.arms else [])
    lams = {s: ensure_lam(cfg, s, log) for s in sources}
    lam = load_latent_model(out / "lam" / "all")
    features = {e: probe_features(cfg, lam, e) for e in cfg.embodiments}
    log("alignment matrix: fitting linear and MLP probes")
    matrix = alignment_matrix(features, cfg.resolved.probe)
    examples = decoded_examples(lam, features, cfg.resolved.examples)
    pretrained = {
        s: ensure_pretrained(cfg, s, out / "lam" / s, log)
        for s in sorted({VIDEO_SOURCES[a] for a in cfg.arms if a in VIDEO_SOURCES})
    }
    curves: dict[str, dict[str, Any]] = {}
    for arm in cfg.arms:
        curves[arm] = {}
        for count in labelled_counts(cfg):
            trained = ensure_finetuned(cfg, arm, count, log)
            curves[arm][str(count)] = {"train": trained, **ensure_eval(cfg, arm, count, trained["run"], log)}
    results = {
        "format": RESULTS_FORMAT, "version": RESULTS_VERSION, "config": _config_dict(cfg), "data": data,
        "lams": lams, "matrix": matrix, "reconstruction": examples["errors"], "pretrained": pretrained,
        "labelled_counts": labelled_counts(cfg), "curves": curves, "wall_seconds": round(time.perf_counter() - start, 1),
    }  # fmt: skip
    write_outputs(results, out, examples["frames"])
    return results


def _config_dict(cfg: TransferConfig) -> dict[str, Any]:
    d = dataclasses.asdict(cfg)
    d["sizes"] = dataclasses.asdict(cfg.resolved)
    return json.loads(json.dumps(d))  # tuples -> lists
