"""A tiny learned planner, trained once per test process (words only, ~10 s on one thread)."""

import pytest

from hivla.planning import LearnedPlanner, PlannerConfig
from hivla.planning.evaluate import training_corpus


@pytest.fixture(scope="session")
def planner():
    p = LearnedPlanner(PlannerConfig(features="learned", steps=250, hidden_dim=48, embed_dim=32))
    p.fit(training_corpus(600, max_chain=3))
    return p
