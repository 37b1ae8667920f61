"""List the built-in benchmark: suites, subtask kinds, embodiments and distribution-shift axes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    """List suites, tasks, embodiments and shift axes."""


def run(cfg: Config, quiet: bool = False) -> dict:
    from rich.console import Console
    from rich.table import Table

    from hivla.sim import EMBODIMENTS, SHIFT_AXES, SUITES, TASK_KINDS

    result = {
        "suites": {
            n: {"version": s.version, "chain_lengths": list(s.chain_lengths), "description": s.description,
                "train_seeds": len(s.train_seeds), "heldout_seeds": len(s.heldout_seeds)}
            for n, s in SUITES.items()
        },
        "tasks": list(TASK_KINDS),
        "embodiments": {
            n: {"description": e.description, "native_action": list(e.action_names)} for n, e in EMBODIMENTS.items()
        },
        "shift_axes": {n: {"changes": a.changes, "levels": [1, 2, 3]} for n, a in SHIFT_AXES.items()},
    }  # fmt: skip
    if quiet:
        return result
    console = Console()
    for title, rows, cols in (
        ("suites", [(n, v["version"], str(v["chain_lengths"]), v["description"]) for n, v in result["suites"].items()],
         ("name", "version", "chain lengths", "description")),
        ("embodiments", [(n, v["description"], ", ".join(v["native_action"])) for n, v in result["embodiments"].items()],
         ("name", "description", "native action")),
        ("shift axes (levels 1-3)", [(n, v["changes"]) for n, v in result["shift_axes"].items()], ("axis", "changes")),
        ("subtask kinds", [(t,) for t in TASK_KINDS], ("kind",)),
    ):  # fmt: skip
        table = Table(title=title)
        for col in cols:
            table.add_column(col)
        for row in rows:
            table.add_row(*row)
        console.print(table)
    return result
