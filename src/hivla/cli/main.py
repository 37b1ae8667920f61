"""The ``hivla`` console command: dispatches ``hivla <command> [args]`` to one module per command.

Each command module defines a frozen dataclass ``Config`` (its docstring and field docs become the
``--help`` text through tyro) and ``run(cfg) -> dict``. The returned dict is printed as JSON with
``--json``; otherwise the command prints its own human-readable summary.
"""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass

from hivla import __version__


@dataclass(frozen=True)
class Command:
    name: str
    module: str
    summary: str


COMMANDS: tuple[Command, ...] = (
    Command("sim list", "hivla.cli.sim_list", "List suites, tasks, embodiments and shift axes."),
    Command(
        "sim rollout", "hivla.cli.sim_rollout", "Roll out a policy (e.g. the scripted expert) on a suite."
    ),
    Command("sim render", "hivla.cli.sim_render", "Write PNG frames of scenes and shift levels."),
    Command("eval", "hivla.cli.eval", "Evaluate a policy on a suite: metrics, failures, HTML report."),
    Command("report", "hivla.cli.report", "Rebuild an evaluation report; compare several runs."),
    Command("collect", "hivla.cli.collect", "Record scripted-expert episodes into a dataset."),
    Command("data info", "hivla.cli.data_info", "Summarize a dataset: episodes, frames, features, stats."),
    Command("data stats", "hivla.cli.data_stats", "Compute normalization statistics into meta/stats.json."),
    Command("data viz", "hivla.cli.data_viz", "Write an episode as mp4 with its text annotations overlaid."),
    Command("planner train", "hivla.cli.planner_train", "Train the learned planner; report generalization."),
    Command(
        "monitor train",
        "hivla.cli.monitor_train",
        "Train the subtask monitor on a dataset's subtask boundaries.",
    ),
    Command("plan", "hivla.cli.plan", "Plan an instruction into subtasks (learned planner or LLM endpoint)."),
    Command(
        "quickstart", "hivla.cli.quickstart", "The main job: collect -> train (quick) -> eval -> report."
    ),
    Command("train", "hivla.cli.train", "Train a VLA policy from a preset (debug | quick | default)."),
    Command(
        "train-world-model",
        "hivla.cli.train_world_model",
        "Train a world model (latent | jepa) from a preset.",
    ),
    Command(
        "experiment world-model",
        "hivla.cli.experiment_world_model",
        "World-model validation: errors under shifts, failure correlation, veto eval, report.",
    ),
    Command(
        "experiment reasoning-ablation",
        "hivla.cli.experiment_reasoning_ablation",
        "Flat vs hierarchical vs hierarchical+reasoning: success by chain length, latency, report.",
    ),
)


def _usage() -> str:
    width = max(len(c.name) for c in COMMANDS)
    lines = [
        f"hivla {__version__}: hierarchical vision-language-action robot policies.",
        "",
        "usage: hivla <command> [options]   (hivla <command> --help for its options)",
        "",
        "commands:",
        *(f"  {c.name:<{width}}  {c.summary}" for c in COMMANDS),
        "",
        "global options: --version, --json (print the command's result as JSON)",
    ]
    return "\n".join(lines)


def find_command(argv: list[str]) -> tuple[Command, list[str]]:
    """Match the longest command name at the start of argv; return it and the remaining args."""
    best: Command | None = None
    for cmd in COMMANDS:
        words = cmd.name.split()
        if argv[: len(words)] == words and (best is None or len(words) > len(best.name.split())):
            best = cmd
    if best is None:
        import difflib

        given = " ".join(a for a in argv[:2] if not a.startswith("-"))
        close = difflib.get_close_matches(given, [c.name for c in COMMANDS], n=1, cutoff=0.4)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise SystemExit(f"hivla: unknown command {given!r}.{hint}\n\n{_usage()}")
    return best, argv[len(best.name.split()) :]


def main(argv: list[str] | None = None) -> int:
    import tyro

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    if argv[0] == "--version":
        print(f"hivla {__version__}")
        return 0
    as_json = "--json" in argv
    argv = [a for a in argv if a != "--json"]
    cmd, rest = find_command(argv)
    module = importlib.import_module(cmd.module)
    cfg = tyro.cli(module.Config, args=rest, prog=f"hivla {cmd.name}", description=module.__doc__)
    result = module.run(cfg, quiet=as_json)
    if as_json:
        print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
