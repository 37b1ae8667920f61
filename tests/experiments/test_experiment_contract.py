"""Every registered experiment has its config, run and report modules and a `hivla experiment` command."""

import importlib

import pytest

from hivla.cli.main import COMMANDS
from hivla.experiments import EXPERIMENTS


@pytest.mark.parametrize("name", EXPERIMENTS.names())
def test_every_experiment_is_a_subpackage_with_config_run_report(name):
    package = EXPERIMENTS.get(name)
    for part in ("config", "run", "report"):
        module = importlib.import_module(f"{package}.{part}")
        assert module.__doc__, f"{package}.{part} has no docstring"


@pytest.mark.parametrize("name", EXPERIMENTS.names())
def test_every_experiment_has_a_command(name):
    assert f"experiment {name}" in {c.name for c in COMMANDS}


def test_every_experiment_command_is_registered():
    commands = {c.name.removeprefix("experiment ") for c in COMMANDS if c.name.startswith("experiment ")}
    assert commands == set(EXPERIMENTS.names())
