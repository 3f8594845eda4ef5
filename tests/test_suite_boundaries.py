"""The tests stand on their own: none imports the benchmarks package.

Benchmarks may import the tests' support module (tests/support.py), not the
other way round, so a test never breaks because a benchmark changed or went.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at module level or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_test_imports_the_benchmarks():
    offenders = {
        str(path.relative_to(TESTS)): sorted(
            name
            for name in _imported_modules(path)
            if name == "benchmarks" or name.startswith("benchmarks.")
        )
        for path in sorted(TESTS.rglob("*.py"))
    }
    offenders = {path: names for path, names in offenders.items() if names}
    assert offenders == {}, f"tests importing the benchmarks package: {offenders}"
