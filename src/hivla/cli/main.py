"""The ``hivla`` console command: dispatches ``hivla <command> [args]`` to one module per command.

Each command module defines a frozen dataclass ``Config`` (its docstring and field docs become the
``--help`` text through tyro) and ``run(cfg) -> dict``. The returned dict is printed as JSON with
``--json``; otherwise the command prints its own human-readable summary.

Errors the user can fix (:class:`hivla.errors.HivlaError`: unknown names, bad or corrupt files,
incompatible checkpoints; a missing or existing path; an option its config refuses) are printed as
one message, ``hivla <command>: <message>``, with exit code 2. Anything else is a bug and keeps its
traceback; ``--debug`` (or ``HIVLA_DEBUG=1``) shows the traceback of every error.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from dataclasses import dataclass

from hivla import __version__
from hivla.errors import HivlaError

USER_ERRORS = (HivlaError, FileNotFoundError, FileExistsError, NotADirectoryError)
EXIT_USER_ERROR = 2


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
    Command(
        "sim setup", "hivla.cli.sim_setup", "Install an external benchmark in its own venv (env worker)."
    ),
    Command("eval", "hivla.cli.eval", "Evaluate a policy on a suite: metrics, failures, HTML report."),
    Command("serve", "hivla.cli.serve", "Serve a policy to robots over a websocket (openpi's protocol)."),
    Command(
        "export", "hivla.cli.export", "Export a trained policy to ONNX (optionally int8) for onnxruntime."
    ),
    Command("report", "hivla.cli.report", "Rebuild an evaluation report; compare several runs."),
    Command("collect", "hivla.cli.collect", "Record scripted-expert episodes into a dataset."),
    Command("data info", "hivla.cli.data_info", "Summarize a dataset: episodes, frames, features, stats."),
    Command("data stats", "hivla.cli.data_stats", "Compute normalization statistics into meta/stats.json."),
    Command(
        "data synthesize",
        "hivla.cli.data_synthesize",
        "Re-render a dataset under new looks (more data, no expert time).",
    ),
    Command("data import libero", "hivla.cli.data_import_libero", "Convert LIBERO's HDF5 demonstrations."),
    Command("data viz", "hivla.cli.data_viz", "Write an episode as mp4 with its text annotations overlaid."),
    Command("planner train", "hivla.cli.planner_train", "Train the learned planner; report generalization."),
    Command(
        "monitor train",
        "hivla.cli.monitor_train",
        "Train the subtask monitor on datasets' subtask boundaries.",
    ),
    Command(
        "monitor eval",
        "hivla.cli.monitor_eval",
        "Score a subtask monitor on datasets: frame- and event-level precision/recall.",
    ),
    Command("plan", "hivla.cli.plan", "Plan an instruction into subtasks (learned planner or LLM endpoint)."),
    Command(
        "quickstart", "hivla.cli.quickstart", "The main job: collect -> train (quick) -> eval -> report."
    ),
    Command(
        "dagger",
        "hivla.cli.dagger",
        "Interactive relabelling: roll out, label with the expert, retrain, evaluate.",
    ),
    Command(
        "train", "hivla.cli.train", "Train a VLA policy from a preset (debug | quick | standard | default)."
    ),
    Command(
        "train-world-model",
        "hivla.cli.train_world_model",
        "Train a world model (latent | jepa) from a preset.",
    ),
    Command(
        "latent train",
        "hivla.cli.latent_train",
        "Train the latent action model on any dataset's video (optionally aligned to actions).",
    ),
    Command(
        "latent pretrain",
        "hivla.cli.latent_pretrain",
        "Pretrain a VLA on latent actions of videos (then `hivla train --init-latent`).",
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
    Command(
        "experiment shift-probe",
        "hivla.cli.experiment_shift_probe",
        "Success under each shift axis and level; failures attributed to perception/reasoning/planning/control.",
    ),
    Command(
        "experiment latent-transfer",
        "hivla.cli.experiment_latent_transfer",
        "Latent actions across embodiments: probe matrix, data efficiency of latent pretraining, report.",
    ),
    Command(
        "experiment sensing",
        "hivla.cli.experiment_sensing",
        "RGB vs RGB-D vs RGB-D + contact policies in distribution and under shifts, same seeds, report.",
    ),
    Command(
        "experiment cross-embodiment",
        "hivla.cli.experiment_cross_embodiment",
        "One policy across bodies: joint vs per-body vs zero-shot on a held-out body, success table, report.",
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
        "global options: --version, --json (print the command's result as JSON),",
        "                --debug (a traceback for every error, not only for bugs)",
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
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    if argv[0] == "--version":
        print(f"hivla {__version__}")
        return 0
    as_json, debug = "--json" in argv, "--debug" in argv or os.environ.get("HIVLA_DEBUG") == "1"
    argv = [a for a in argv if a not in ("--json", "--debug")]
    cmd, rest = find_command(argv)
    try:
        result = _run(cmd, rest, as_json)
    except USER_ERRORS as err:
        if debug:
            raise
        print(f"hivla {cmd.name}: {_message(err)}", file=sys.stderr)
        return EXIT_USER_ERROR
    if as_json:
        print(json.dumps(result, indent=2, default=str))
    return 0


def _run(cmd: Command, args: list[str], as_json: bool) -> dict:
    """Parse ``args`` into the command's Config and run it. A Config that refuses its options
    (``ValueError`` from its ``__post_init__``) is a user error like any :data:`USER_ERRORS`."""
    import tyro

    module = importlib.import_module(cmd.module)
    try:
        cfg = tyro.cli(module.Config, args=args, prog=f"hivla {cmd.name}", description=module.__doc__)
    except ValueError as err:
        raise _OptionError(str(err)) from err
    return module.run(cfg, quiet=as_json)


class _OptionError(HivlaError):
    """An option the command's config refused."""


def _message(err: BaseException) -> str:
    return str(err) or type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
