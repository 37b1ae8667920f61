"""Markdown tables of robustness under shifts from saved evaluations (``hivla eval --shift all``).

For each run: success in distribution, then per axis and level the successes and the ratio to in
distribution with its paired bootstrap interval (``metrics.robustness``), one column per run so
policies evaluated on the same seeds sit side by side; then, per level, how many axes reach a ratio
of at least ``--target``.

    python benchmarks/robustness_table.py eval/base eval/synth --names base synth --target 0.9
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def load(path: str) -> dict:
    p = Path(path)
    return json.loads((p / "results.json" if p.is_dir() else p).read_text())["metrics"]


def cell(block: dict) -> str:
    lo, hi = block["ratio_ci95"] if block.get("ratio_ci95") else (float("nan"), float("nan"))
    ratio = block.get("ratio")
    shown = "–" if ratio is None else f"{ratio:.2f} [{lo:.2f}, {hi:.2f}]"
    return f"{block['successes']}/{block['episodes']} · {shown}"


def table(runs: dict[str, dict], target: float) -> str:
    names = list(runs)
    lines = ["| condition | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    base = [runs[n]["by_shift"]["none"] for n in names]
    lines.append(
        "| in distribution | " + " | ".join(f"{b['successes']}/{b['episodes']}" for b in base) + " |"
    )
    axes = sorted({a for m in runs.values() for a in m["robustness"].get("axes", {})})
    levels = sorted(
        {lv for m in runs.values() for a in m["robustness"]["axes"].values() for lv in a}, key=int
    )
    for axis in axes:
        for level in levels:
            cells = [runs[n]["robustness"]["axes"].get(axis, {}).get(level) for n in names]
            lines.append(f"| {axis}={level} | " + " | ".join(cell(c) if c else "" for c in cells) + " |")
    for level in levels:
        counts = []
        for n in names:
            blocks = [a[level] for a in runs[n]["robustness"]["axes"].values() if level in a]
            ok = sum(1 for b in blocks if b.get("ratio") is not None and round(b["ratio"], 9) >= target)
            counts.append(f"{ok}/{len(blocks)}")
        lines.append(f"| axes with ratio ≥ {target} at level {level} | " + " | ".join(counts) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="evaluation directories (or results.json files)")
    ap.add_argument("--names", nargs="*", default=None, help="column names (default: directory names)")
    ap.add_argument("--target", type=float, default=0.9, help="ratio to in distribution counted as robust")
    args = ap.parse_args()
    names = args.names or [Path(r).name for r in args.runs]
    if len(names) != len(args.runs):
        ap.error(f"--names gives {len(names)} names for {len(args.runs)} runs")
    print(table({n: load(r) for n, r in zip(names, args.runs, strict=True)}, args.target))


if __name__ == "__main__":
    main()
