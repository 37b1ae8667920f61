"""Fixtures shared with the world-model library tests: fault-injecting expert episodes, tiny trained models."""

from ...world_model.conftest import episodes, trained  # noqa: F401
