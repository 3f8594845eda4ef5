"""results.md keeps what people wrote by hand when a benchmark rewrites it."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from benchmarks import harness, report


def _benchmark(name: str, line: str) -> SimpleNamespace:
    return SimpleNamespace(RESULT=name, section=lambda result: [f"## {line}", ""])


def test_hand_written_notes_survive_a_rewrite(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(harness, "RESULTS", tmp_path)
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    machine = {"cpu": "x", "cores": 2, "memory_gb": 1, "avx2": True, "python": "3"}
    for name in ("speed", "serving"):
        (tmp_path / f"{name}.json").write_text(
            json.dumps({"machine": {**machine, "versions": {}}})
        )
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes/serving.md").write_text("Why serving missed its target.\n")
    (tmp_path / "notes/by_hand.md").write_text("## Measured by a script\n\nrows\n")
    benchmarks = [_benchmark("speed", "Speed"), _benchmark("serving", "Serving")]
    report.write(benchmarks)
    report.write(benchmarks)  # a second rewrite keeps them once
    text = (tmp_path / "results.md").read_text()
    assert text.count("Why serving missed its target.") == 1
    assert text.index("## Serving") < text.index("Why serving missed")
    assert text.index("## Speed") < text.index("## Serving")
    assert text.rstrip().endswith("rows")  # a note of no benchmark comes last
