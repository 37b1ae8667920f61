"""Train the learned planner (instruction -> subtasks) and report how it generalizes.

It trains on instructions with chains of 1..max-chain subtasks and the training paraphrases, then
reports exact-match plan accuracy on unseen seeds: in distribution, with the held-out paraphrases,
with longer chains than any in training, and both.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Config:
    """Train the learned planner and write it (with metrics.json) to --out."""

    out: Path = Path("runs/planner")
    features: str = "minilm"
    """minilm (frozen all-MiniLM-L6-v2 features + learned words; extra 'pretrained') | learned (words only)."""
    examples: int = 3000
    """Training instructions sampled from the simulator."""
    max_chain: int = 3
    """Longest chain in training; longer chains are held out for evaluation."""
    paraphrases: int = 0
    """Extra rewordings of each training instruction with the training templates and connectors
    (each instruction already draws its own; the held-out wordings are never used)."""
    steps: int = 800
    eval_examples: int = 300
    seed: int = 0
    resume: bool = False
    """Continue the training run in --out (its checkpoints/) exactly where it stopped."""

    def __post_init__(self) -> None:
        if self.paraphrases < 0:
            raise ValueError(
                f"--paraphrases must be >= 0 (extra rewordings per instruction), got {self.paraphrases}"
            )


def run(cfg: Config, quiet: bool = False) -> dict:
    import time

    from hivla.planning.evaluate import evaluate_planner, training_corpus
    from hivla.planning.learned import LearnedPlanner, PlannerConfig
    from hivla.utils.threads import limit_threads

    limit_threads()
    start = time.time()
    planner = LearnedPlanner(PlannerConfig(features=cfg.features, steps=cfg.steps, seed=cfg.seed))
    corpus = training_corpus(cfg.examples, cfg.max_chain, paraphrases=cfg.paraphrases, seed=cfg.seed)
    losses = planner.fit(corpus, log_every=0 if quiet else 100, out=cfg.out, resume=cfg.resume)
    planner.save(cfg.out)
    metrics = evaluate_planner(planner, cfg.eval_examples, cfg.max_chain)
    result = {"config": {k: str(v) for k, v in asdict(cfg).items()}, "final_loss": losses[-1] if losses else None,
              "accuracy": metrics, "seconds": round(time.time() - start, 1), "out": str(cfg.out)}  # fmt: skip
    (cfg.out / "metrics.json").write_text(json.dumps(result, indent=2))
    if not quiet:
        for name, acc in metrics.items():
            print(f"{name:>36}: {acc:.1%}")
        print(f"planner saved to {cfg.out} ({result['seconds']} s)")
    return result
