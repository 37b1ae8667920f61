"""Planner generalization splits: in-distribution, held-out paraphrases, longer chains, both."""

from __future__ import annotations

from hivla.planning.corpus import Example, label_example, sim_corpus
from hivla.planning.learned import LearnedPlanner, plan_accuracy

TRAIN_SEED_BASE = 0
EVAL_SEED_BASE = 5_000_000  # disjoint from every suite's train and held-out seeds


def training_corpus(n: int, max_chain: int, paraphrases: int = 0, seed: int = 0) -> list[Example]:
    """Instructions with chains of 1..max_chain subtasks and the training paraphrases only.

    Each sampled instruction already draws its templates and connectors from the training ones;
    ``paraphrases`` > 0 adds that many rewordings of each (``hivla.transforms.paraphrase.rephrase``,
    training wordings only, rng ``seed``), so every scene is seen in several wordings."""
    corpus = sim_corpus(range(TRAIN_SEED_BASE, TRAIN_SEED_BASE + n), tuple(range(1, max_chain + 1)))
    if paraphrases < 0:
        raise ValueError(f"paraphrases must be >= 0 (extra rewordings per instruction), got {paraphrases}")
    if not paraphrases:
        return corpus
    import numpy as np

    from hivla.transforms.paraphrase import rephrase

    rng = np.random.default_rng(seed)
    extra = [
        label_example(rephrase(e.instruction, rng), e.subtasks) for e in corpus for _ in range(paraphrases)
    ]
    return corpus + [e for e in extra if e is not None]


def generalization_splits(n: int, max_chain: int) -> dict[str, list[Example]]:
    seen = tuple(range(1, max_chain + 1))
    longer = tuple(range(max_chain + 1, 6)) or (5,)
    seeds = range(EVAL_SEED_BASE, EVAL_SEED_BASE + n)
    return {
        "in_distribution": sim_corpus(seeds, seen),
        "heldout_paraphrases": sim_corpus(seeds, seen, heldout_paraphrases=True),
        "longer_chains": sim_corpus(seeds, longer),
        "longer_chains_heldout_paraphrases": sim_corpus(seeds, longer, heldout_paraphrases=True),
    }


def evaluate_planner(planner: LearnedPlanner, n: int = 300, max_chain: int = 3) -> dict[str, float]:
    """Exact-match plan accuracy on each split."""
    return {
        name: plan_accuracy(planner, examples)
        for name, examples in generalization_splits(n, max_chain).items()
    }
