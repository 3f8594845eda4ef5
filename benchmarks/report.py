"""results.md from whichever JSON results exist, one section per benchmark."""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from benchmarks.harness import RESULTS, load, write_atomic


def write(benchmarks: Iterable[ModuleType]) -> None:
    """Rewrite results.md: the machine, then each benchmark's ``section``.

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
    for module, result in loaded:
        parts += module.section(result)
    write_atomic(RESULTS / "results.md", "\n".join(parts))
