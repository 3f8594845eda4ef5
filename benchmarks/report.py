"""results.md from whichever JSON results exist, one section per benchmark."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from benchmarks.harness import RESULTS, load, write_atomic


def write(benchmarks: Iterable[ModuleType]) -> None:
    """Rewrite results.md: the machine, then each benchmark's ``section``.

    Each section is followed by its hand-written note, when
    ``results/notes/<RESULT>.md`` exists (what a benchmark cannot say: why a
    target was missed, what was tried by hand); notes of no benchmark, such as
    a section measured by a script of its own, come last. A re-run rewrites
    the generated text only.

    Args:
        benchmarks: Benchmark modules in the order their sections appear; each
            has ``RESULT`` (its JSON file's name) and ``section(result)``.
    """
    loaded = [
        (module, result)
        for module in benchmarks
        if (result := load(module.RESULT)) is not None
    ]
    if not loaded:
        return
    first = loaded[0][1]["machine"]
    parts = [
        "# Benchmark results",
        "",
        "Written by `python benchmarks/run.py`; see benchmarks/README.md. The "
        "decisions behind the defaults, with the tables of the experiments that "
        "compared older commits, are in "
        "[docs/decisions/](../../docs/decisions/README.md).",
        "",
        f"Machine: {first['cpu']}, {first['cores']} cores, {first['memory_gb']} GB, AVX2: {first['avx2']}; Python {first['python']}.",
        "Versions: "
        + ", ".join(f"{k} {v}" for k, v in first["versions"].items())
        + ".",
        "",
    ]
    notes = {path.stem: path for path in sorted((RESULTS / "notes").glob("*.md"))}
    for module, result in loaded:
        parts += module.section(result)
        if (note := notes.pop(module.RESULT, None)) is not None:
            parts += _note(note)
    for note in notes.values():  # sections written only by hand
        parts += _note(note)
    write_atomic(RESULTS / "results.md", "\n".join(parts))


def _note(path: Path) -> list[str]:
    """A hand-written note (``results/notes/<RESULT>.md``), kept across re-runs."""
    return [*path.read_text(encoding="utf-8").rstrip("\n").split("\n"), ""]
