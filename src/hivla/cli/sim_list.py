"""List the benchmarks: built-in and external suites, subtask kinds, embodiments, shift axes and sensors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    """List suites, tasks, embodiments, shift axes and sensors."""


def run(cfg: Config, quiet: bool = False) -> dict:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from hivla.sim import EMBODIMENTS, EXTERNAL_SUITES, SENSORS, SHIFT_AXES, SUITES, TASK_KINDS, gym_id
    from hivla.sim.benchmarks import embodiments_of

    robots = {s.robot.name: s.robot for _, s in EXTERNAL_SUITES.items()}
    result = {
        "suites": {
            n: {"version": s.version, "chain_lengths": list(s.chain_lengths), "description": s.description,
                "train_seeds": len(s.train_seeds), "heldout_seeds": len(s.heldout_seeds), "gym_id": gym_id(n),
                "embodiments": embodiments_of(n)}
            for n, s in SUITES.items()
        },
        "external_suites": {
            n: {"version": s.version, "benchmark": s.benchmark, "tasks": len(s.tasks), "embodiment": s.robot.name,
                "cameras": dict(s.cameras), "scripted_policy": s.scripted, "description": s.description,
                "train_seeds": len(s.train_seeds), "heldout_seeds": len(s.heldout_seeds), "gym_id": gym_id(n),
                "needs": list(s.package)}
            for n, s in EXTERNAL_SUITES.items()
        },
        "tasks": list(TASK_KINDS),
        "embodiments": {
            **{n: {"description": e.description, "native_action": list(e.action_names), "missing": e.missing(),
                   "universal_action": list(e().universal_names)}
               for n, e in EMBODIMENTS.items()},
            **{n: {"description": r.description, "native_action": list(r.action_names)} for n, r in robots.items()},
        },
        "shift_axes": {n: {"changes": a.changes, "levels": [1, 2, 3]} for n, a in SHIFT_AXES.items()},
        "sensors": {n: {"key": s.key, "shape": s.shape, "units": s.units, "description": s.description}
                    for n, s in SENSORS.items()},
    }  # fmt: skip
    if quiet:
        return result
    console = Console()
    for title, rows, cols in (
        ("suites", [(n, v["version"], str(v["chain_lengths"]), v["description"],
                     "all" if len(v["embodiments"]) == len(EMBODIMENTS) else ", ".join(v["embodiments"]))
                    for n, v in result["suites"].items()],
         ("name", "version", "chain lengths", "description", "embodiments")),
        ("external suites (embodiment = the benchmark's robot)",
         [(n, v["benchmark"], str(v["tasks"]), v["embodiment"], "yes" if v["scripted_policy"] else "no", v["description"])
          for n, v in result["external_suites"].items()],
         ("name", "benchmark", "tasks", "embodiment", "scripted", "description")),
        ("embodiments", [(n, v["description"] + (f" [not installed: {v['missing']}]" if v.get("missing") else ""),
                          ", ".join(v["native_action"])) for n, v in result["embodiments"].items()],
         ("name", "description", "native action")),
        ("shift axes (levels 1-3)", [(n, v["changes"]) for n, v in result["shift_axes"].items()], ("axis", "changes")),
        ("subtask kinds", [(t,) for t in TASK_KINDS], ("kind",)),
        ("sensors of the built-in suites (--sensors; none by default)",
         [(n, v["key"], v["shape"], v["units"], v["description"]) for n, v in result["sensors"].items()],
         ("name", "observation key", "shape", "units", "description")),
    ):  # fmt: skip
        table = Table(title=title)
        for col in cols:
            table.add_column(col)
        for row in rows:
            table.add_row(*(escape(cell) for cell in row))  # descriptions say hivla[robots]
        console.print(table)
    return result
