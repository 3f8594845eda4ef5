"""The package's own import graph has no circle (issue 28).

Every module under ``src/netflix_dec`` is parsed with :mod:`ast` (nothing is
imported or run), its imports of the package's own modules are collected,
module-level and function-level alike (a function-level import still makes a
circle, only a later one), and the circles are the graph's strongly connected
components of more than one module. Imports under ``if TYPE_CHECKING:`` do not
count: they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "netflix_dec"
SOURCE = Path(__file__).resolve().parents[1] / "src" / PACKAGE

# Circles that remain elsewhere and are another part of issue 28's to remove;
# the lead empties this once they are (it must never grow).
KNOWN_CIRCLES: list[frozenset[str]] = []  # none: keep it that way


def module_names(source: Path = SOURCE, package: str = PACKAGE) -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own)."""
    names = {}
    for path in sorted(source.rglob("*.py")):
        parts = [package, *path.relative_to(source).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every dotted name ``tree`` imports (``from a import b`` gives ``a.b``)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            found.update(f"{base}.{alias.name}".strip(".") for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the package's own modules it imports."""
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set()
        for imported in _imported(tree, name, path.name == "__init__.py"):
            # ``from a import b``: the submodule a.b if there is one, else a.
            target = imported
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
        graph[name] = targets
    return graph


def circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def _describe(circle: frozenset[str], graph: dict[str, set[str]]) -> str:
    ties = sorted(
        f"{source} -> {target}"
        for source in circle
        for target in graph[source] & circle
    )
    return f"{sorted(circle)}: " + ", ".join(ties)


def test_the_package_has_no_import_circle() -> None:
    graph = import_graph(module_names())
    new = [c for c in circles(graph) if c not in KNOWN_CIRCLES]
    assert not new, "Import circles in src/netflix_dec:\n" + "\n".join(
        _describe(circle, graph) for circle in new
    )


def test_the_encoders_import_no_kedro_and_no_storage() -> None:
    """The bottom of the house: the encoders stand on nothing of the project's above."""
    modules = module_names()
    graph = import_graph(modules)
    for name, path in modules.items():
        if not name.startswith(f"{PACKAGE}.encoders"):
            continue
        above = {
            target
            for target in graph[name]
            if not target.startswith((f"{PACKAGE}.encoders", f"{PACKAGE}.minilm"))
            and target != f"{PACKAGE}.memory"
        }
        assert not above, f"{name} imports {sorted(above)}"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        kedro = {n for n in _imported(tree, name, False) if n.split(".")[0] == "kedro"}
        assert not kedro, f"{name} imports {sorted(kedro)}"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # A module-level import one way and a function-level one back.
        (
            {"a.py": "import pkg.b\n", "b.py": "def f():\n    from pkg import a\n"},
            [frozenset({"pkg.a", "pkg.b"})],
        ),
        # Relative imports, through a package's __init__.
        (
            {
                "__init__.py": "from .sub import c\n",
                "sub/__init__.py": "",
                "sub/c.py": "from .. import d\n",
                "d.py": "from .sub.c import x\n",
            },
            [frozenset({"pkg.sub.c", "pkg.d"})],
        ),
        # TYPE_CHECKING imports never run: no circle.
        (
            {
                "a.py": "import pkg.b\n",
                "b.py": "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg.a import A\n",
            },
            [],
        ),
    ],
)
def test_the_circle_finder_sees_circles(
    tmp_path: Path, files: dict[str, str], expected: list[frozenset[str]]
) -> None:
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    graph = import_graph(module_names(tmp_path / "pkg", "pkg"))
    assert sorted(circles(graph), key=sorted) == expected


def test_every_feature_kind_the_parameters_accept_has_one_encoder() -> None:
    """``encoding.features`` and the encoder registry name the same kinds."""
    from typing import get_args

    from netflix_dec.encoders import ENCODERS
    from netflix_dec.params import EncodingParams

    accepted = get_args(EncodingParams.model_fields["features"].annotation)
    assert set(accepted) == set(ENCODERS)
    assert all(ENCODERS[kind].kind == kind for kind in ENCODERS)
