"""Planner generalization splits: in-distribution, held-out paraphrases, longer chains, both."""

from __future__ import annotations

from hivla.planning.corpus import Example, sim_corpus
from hivla.planning.learned import LearnedPlanner, plan_accuracy

TRAIN_SEED_BASE = 0
EVAL_SEED_BASE = 5_000_000  # disjoint from every suite's train and held-out seeds


def training_corpus(n: int, max_chain: int) -> list[Example]:
    """Instructions with chains of 1..max_chain subtasks and the training paraphrases only."""
    return sim_corpus(range(TRAIN_SEED_BASE, TRAIN_SEED_BASE + n), tuple(range(1, max_chain + 1)))


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
