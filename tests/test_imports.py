"""The house's rules on imports: every module imports, no import cycles in ``src/`` (lazy imports
inside functions count too; ``if TYPE_CHECKING`` blocks and a module's use of its own package's
``__init__`` do not), and the library imports neither the CLI nor the experiments."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "hivla"
TOP_LEVEL_ONLY = ("hivla.cli", "hivla.experiments")  # may import the library, never the reverse


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path) -> set[str]:
    """hivla modules that ``path`` imports anywhere (lazy imports included, type-checking ones not)."""
    nodes = _code_nodes(ast.parse(path.read_text()))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {_owning_module(name) for name in found if name.startswith("hivla")} - {None}


def _code_nodes(tree: ast.Module):
    """Every node of the module except those under ``if TYPE_CHECKING:``."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _owning_module(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _packages_of(module: str) -> set[str]:
    """The packages whose ``__init__`` runs before ``module`` does (``a`` and ``a.b`` for ``a.b.c``)."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))} & set(MODULES)


def _edges(module: str) -> set[str]:
    """What importing ``module`` runs: what it imports and those modules' packages, less itself and
    the packages it lies in (a package re-exporting its own modules is how packages work)."""
    imported = imports_of(MODULES[module])
    imported |= {p for m in imported for p in _packages_of(m)}
    return imported - {module} - _packages_of(module)


def test_no_import_cycles():
    graph = {m: _edges(m) for m in MODULES}
    cycles: list[list[str]] = []
    state: dict[str, str] = {}  # "open" while on the current path, "done" after

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for module in MODULES:
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles in src/: " + "; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("module", [m for m in MODULES if not m.startswith(TOP_LEVEL_ONLY)])
def test_library_modules_never_import_the_cli_or_the_experiments(module):
    bad = sorted(m for m in imports_of(MODULES[module]) if m.startswith(TOP_LEVEL_ONLY))
    assert not bad, f"{module} imports {bad}: the library must not depend on the CLI or the experiments"


def test_every_module_imports_in_a_fresh_interpreter():
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
    skip = ("hivla.models.hf_vlm",)  # needs the [hf] extra; imported lazily by the vision encoders
    modules = [m for m in MODULES if not m.startswith(skip)]
    result = subprocess.run(
        [sys.executable, "-c", code, *modules], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
