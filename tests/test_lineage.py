"""Which run made each input: the lineage rules, on hand-made ledger records."""

from __future__ import annotations

from pathlib import Path

from netflix_dec.storage.ledger import FileStamp, Ledger, RunRecord, new_record
from netflix_dec.storage.lineage import (
    CONTENT,
    VERSION,
    Input,
    digest,
    file_input,
    made_with,
    sources,
    stale_inputs,
)


def _record(run_id: str, **fields) -> RunRecord:
    return new_record(run_id).model_copy(update={"state": "complete", **fields})


def test_sources_follow_every_step_back_and_stop_at_cycles():
    made_from = {
        "clean": {"raw"},
        "features": {"clean"},
        "clusters": {"features", "clean"},
        "summary": {"clusters"},
        "a": {"b"},
        "b": {"a"},
    }
    found = sources(made_from)
    assert found["summary"] == {"clusters", "features", "clean", "raw"}
    assert found["clean"] == {"raw"}
    assert found["a"] == {"b"}  # a cycle ends, without the dataset itself


def test_digest_is_of_the_content_not_the_file(tmp_path: Path):
    one, two, other = tmp_path / "1", tmp_path / "2", tmp_path / "3"
    one.write_bytes(b"same bytes")
    two.write_bytes(b"same bytes")
    other.write_bytes(b"other bytes")
    assert digest(one) == digest(two) != digest(other)


def test_a_summary_of_other_clusters_is_stale():
    first = _record(
        "run-1",
        versions={"summary": "run-1"},
        files={"clusters": FileStamp(path="c.csv", size=1, mtime_ns=1, digest="aa")},
    )
    second = _record(
        "run-2",
        files={"clusters": FileStamp(path="c.csv", size=2, mtime_ns=2, digest="bb")},
    )
    inputs = {
        "summary": Input("summary", VERSION + "run-1", first, "summary.json/run-1"),
        "clusters": Input("clusters", CONTENT + "bb", second, "c.csv"),
    }
    [problem] = stale_inputs(inputs, {"summary": {"clusters"}})
    assert "summary (summary.json/run-1) was made by run run-1" in problem
    assert "another clusters than the one there now (c.csv" in problem
    assert "made by run-2" in problem
    # The same clusters (by content, whichever run wrote them) are fine.
    same = {**inputs, "clusters": Input("clusters", CONTENT + "aa", second, "c.csv")}
    assert stale_inputs(same, {"summary": {"clusters"}}) == []
    # Without the dependency there is nothing to compare.
    assert stale_inputs(inputs, {"summary": set()}) == []


def test_what_a_run_read_counts_like_what_it_wrote():
    reader = _record("run-3", inputs={"model": VERSION + "run-1"})
    assert made_with(reader, "model") == VERSION + "run-1"
    writer = _record("run-4", versions={"model": "run-4"})
    assert made_with(writer, "model") == VERSION + "run-4"
    old = _record(  # a record from before digests: unknown, never a false alarm
        "run-0", files={"clusters": FileStamp(path="c.csv", size=1, mtime_ns=1)}
    )
    assert made_with(old, "clusters") is None
    assert made_with(writer, "clusters") is None


def test_a_pinned_older_model_does_not_go_with_the_latest_calibration():
    latest = _record("run-2", versions={"model": "run-2", "calibration": "run-2"})
    inputs = {
        "model": Input("model", VERSION + "run-1", _record("run-1"), "model/run-1"),
        "calibration": Input("calibration", VERSION + "run-2", latest, "cal/run-2"),
    }
    problems = stale_inputs(inputs, {"calibration": {"model"}})
    assert len(problems) == 1 and "calibration (cal/run-2)" in problems[0]


def test_a_file_is_known_only_as_the_run_that_completed_recorded_it(tmp_path: Path):
    ledger = Ledger(tmp_path)
    recorded = FileStamp(path="c.csv", size=3, mtime_ns=7, digest="cc")
    ledger.write(_record("2026-01-01T00.00.00.000Z", files={"clusters": recorded}))
    failed = _record("2026-01-02T00.00.00.000Z", files={"clusters": recorded})
    ledger.write(failed.model_copy(update={"state": "failed"}))
    records = ledger.records()
    same = FileStamp(path="c.csv", size=3, mtime_ns=7)
    made = file_input("clusters", same, records)
    assert made is not None and made.what == CONTENT + "cc"
    assert made.made_by.run_id == "2026-01-01T00.00.00.000Z"
    touched = FileStamp(path="c.csv", size=3, mtime_ns=8)  # rewritten since
    assert file_input("clusters", touched, records) is None
    assert file_input("points", same, records) is None
