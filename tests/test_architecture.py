"""The package structure follows the flow of docs/architecture.md: every module imports only
modules of its own stage or of stages below it, in-function imports included, and no two
modules import each other round a circle. A new back-edge fails here, naming it."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Lowest first. A module belongs to the stage of its longest matching prefix.
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("records", ("casefund._version", "casefund.errors", "casefund.records", "casefund.synthetic")),
    ("io", ("casefund.io",)),
    ("payers", ("casefund.payers", "casefund.units")),
    ("facts", ("casefund.facts",)),
    ("rules", ("casefund.rules",)),
    ("engine", ("casefund.engine",)),
    ("allocate", ("casefund.allocate",)),
    ("reports", ("casefund.reports",)),
    ("evaluation", ("casefund.evaluation", "casefund.queries", "casefund.explain")),
    (
        "services",
        (
            "casefund.scaleout",
            "casefund.live",
            "casefund.events",
            "casefund.simulate",
            "casefund.audit",
        ),
    ),
    ("entry", ("casefund.api", "casefund.cli", "casefund")),
]


def _module(path: Path) -> str:
    parts = list(path.with_suffix("").relative_to(SRC).parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _stage(module: str) -> int:
    best, found = -1, -1
    for rank, (_name, prefixes) in enumerate(STAGES):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), rank
    assert found >= 0, f"{module} belongs to no stage: add it to STAGES"
    return found


def _imports(path: Path, module: str) -> set[str]:
    """Every casefund module ``path`` imports, anywhere in it (functions included)."""
    found = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("casefund")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.startswith("casefund"):
                found.add(target)
                # `from casefund.x import y` may import the submodule casefund.x.y
                for alias in node.names:
                    candidate = f"{target}.{alias.name}"
                    if _exists(candidate):
                        found.add(candidate)
    return found


def _exists(module: str) -> bool:
    path = SRC.joinpath(*module.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in sorted(SRC.rglob("*.py")):
        module = _module(path)
        graph[module] |= {m for m in _imports(path, module) if m != module and _exists(m)}
    return graph


def test_no_module_imports_a_higher_stage() -> None:
    back = [
        f"{a} ({STAGES[_stage(a)][0]}) imports {b} ({STAGES[_stage(b)][0]})"
        for a, targets in _graph().items()
        for b in sorted(targets)
        if _stage(b) > _stage(a) and not b.startswith(a + ".")
    ]
    assert back == []


def test_no_modules_import_each_other_round_a_circle() -> None:
    graph = _graph()
    # A package's __init__ importing its own submodules is not a circle of the design.
    edges = {a: {b for b in targets if not b.startswith(a + ".")} for a, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert circles == []


def test_no_function_is_longer_than_80_lines() -> None:
    long = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 80:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} {length}")
    assert long == []


def test_the_orchestrator_stays_thin() -> None:
    lines = (SRC / "casefund" / "evaluation.py").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 160
