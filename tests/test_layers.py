"""The package's layers (issue 16): every module imports, imports point down the layers
``util < data < theory < metrics < applications < record < book < runs`` (same layer
allowed) and no two modules import each other, directly or through others. Imports inside
functions count: they are the same dependency, only deferred."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import aligned_latents

LAYERS = ("util", "data", "theory", "metrics", "applications", "record", "book", "runs")
PACKAGE = Path(aligned_latents.__file__).parent
ALLOWED_CIRCLES: set[frozenset[str]] = set()


def module_name(path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str) -> set[str]:
    """The package's modules that module ``name`` imports (at top level or in a function)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                found.add(target)
    return found


GRAPH = {name: imported(name) for name in MODULES}


def layer(name: str) -> int | None:
    parts = name.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 else None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_imports(name):
    importlib.import_module(name)


def test_no_upward_import():
    upward = sorted(f"{a} -> {b}" for a, targets in GRAPH.items() for b in targets
                    if layer(a) is not None and layer(b) is not None and layer(b) > layer(a))
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_no_import_circle():
    circles = []
    for start in sorted(GRAPH):
        stack, seen = [(start, (start,))], {start}
        while stack:
            node, path = stack.pop()
            for nxt in sorted(GRAPH[node]):
                if nxt == start and frozenset(path) not in ALLOWED_CIRCLES:
                    circles.append(" -> ".join(path + (start,)))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + (nxt,)))
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_graph_sees_imports():
    """The parser finds both a top-level and an in-function import (so the tests above can
    fail): ``runs.cli`` depends on ``runs.params``."""
    assert "aligned_latents.runs.params" in GRAPH["aligned_latents.runs.cli"]
