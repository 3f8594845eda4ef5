"""A run is one transaction: one at a time, and a killed run's outputs are never used.

The kills are real: a subprocess runs a pipeline and ends itself with
``os._exit`` right after a dataset is saved, as ``kill -9`` would, leaving its
record in the ledger ``running`` and no cleanup done.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io.core import DatasetError, Version

from netflix_dec.catalogue import ENV_VAR
from netflix_dec.datasets import AtomicDataset
from netflix_dec.storage.ledger import (
    LEDGER_DIR,
    LOCK_WAIT_VAR,
    IncompleteRunError,
    Ledger,
    RunLockedError,
    RunRecord,
    lock_wait,
)
from netflix_dec.storage.lineage import StaleInputError
from tests.support import kedro_env

from .conftest import finished_fast_run, run_kedro_session

_KILLED_RUN = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from kedro.framework.hooks import hook_impl
    import netflix_dec.settings as settings

    class KillAfterSave:
        @hook_impl
        def after_dataset_saved(self, dataset_name):
            if dataset_name == sys.argv[1]:
                os._exit(9)

    settings.HOOKS = (*settings.HOOKS, KillAfterSave())
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(Path.cwd())
    params = {"dec_clustering": {"n_clusters": int(sys.argv[2])}}
    with KedroSession.create(
        project_path=Path.cwd(), env="fast", runtime_params=params
    ) as session:
        session.run(pipeline_names=["dec_clustering"])
    """
)


def _kill_after(root: Path, dataset: str, n_clusters: int) -> None:
    """Run dec_clustering in a fresh process killed just after ``dataset`` is saved."""
    result = subprocess.run(
        [sys.executable, "-c", _KILLED_RUN, dataset, str(n_clusters)],
        check=False,
        cwd=root,
        env={**kedro_env(), "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 9, result.stderr[-3000:]


def _catalog(root: Path):
    bootstrap_project(root)
    session = KedroSession.create(project_path=root, env="fast")
    return session.load_context().catalog


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A scratch project after one complete `kedro run --env fast` (8 clusters)."""
    return finished_fast_run(tmp_path_factory.mktemp("transaction"))


@pytest.fixture
def project(trained: Path, tmp_path: Path, monkeypatch) -> Path:
    """A private copy of :func:`trained` as the working directory."""
    root = shutil.copytree(trained, tmp_path / "project")
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv("NEW_TITLES_CSV", raising=False)
    monkeypatch.chdir(root)
    return root


def _complete_runs(root: Path) -> list[RunRecord]:
    ledger = Ledger(root / LEDGER_DIR)
    return [record for record in ledger.records() if record.state == "complete"]


def test_a_second_run_refuses_at_once_and_touches_nothing(project: Path):
    before = {
        path: path.stat().st_mtime_ns
        for path in (project / "data").rglob("*")
        if path.is_file()
    }
    with (
        _hold_lock(project / LEDGER_DIR, 60) as process,
        pytest.raises(RunLockedError) as refused,
    ):
        run_kedro_session(project, ["data_processing"], env="fast")
    message = str(refused.value)
    assert f"process {process.pid}" in message
    assert "2099-01-01T00.00.00.000Z" in message
    assert "run.lock" in message and "delete" in message
    after = {
        path: path.stat().st_mtime_ns
        for path in (project / "data").rglob("*")
        if path.is_file()
    }
    assert after == before
    # The holder is gone, so the lock is free again.
    run_kedro_session(project, ["data_processing"], env="fast")
    assert len(_complete_runs(project)) == 2


@contextlib.contextmanager
def _holder(script: str, *args: str) -> Iterator[subprocess.Popen]:
    """Another process running ``script``, once it has printed "held" (the lock).

    The process is killed when the ``with`` block ends, however it ends.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if process.stdout.readline().strip() != "held":
            pytest.fail("the holder process did not take the run lock")
        yield process
    finally:
        process.kill()
        process.wait()


def _hold_lock(folder: Path, seconds: float) -> contextlib.AbstractContextManager:
    """Another process holding the run lock for ``seconds``, then exiting.

    It writes the time it lets go (``released``, nanoseconds) beside the lock.
    """
    return _holder(
        f"""
        import sys, time
        from pathlib import Path
        from netflix_dec.storage.ledger import RunLock, new_record
        lock = RunLock(Path(sys.argv[1]))  # held while referenced
        lock.acquire(new_record("2099-01-01T00.00.00.000Z"))
        print("held", flush=True)
        time.sleep({seconds})
        (Path(sys.argv[1]) / "released").write_text(str(time.time_ns()))
        lock.release()
        """,
        str(folder),
    )


def test_a_run_told_to_wait_runs_once_the_holder_is_done(project: Path, monkeypatch):
    """How an orchestrator's side-by-side tasks take turns on one project."""
    monkeypatch.setenv(LOCK_WAIT_VAR, "120")
    runs = len(_complete_runs(project))
    with _hold_lock(project / LEDGER_DIR, 3):
        run_kedro_session(project, ["data_processing"], env="fast")
    assert len(_complete_runs(project)) == runs + 1
    # Its first output was written after the holder let go, not beside it.
    released = int((project / LEDGER_DIR / "released").read_text())
    written = project / "data/02_intermediate/validated_titles.csv"
    assert written.stat().st_mtime_ns > released


def test_a_run_that_waited_for_a_run_killed_mid_write_names_that_run(
    project: Path, monkeypatch
):
    """Files the holder wrote while this run waited are the holder's, not this run's."""
    killed = """
        import os, sys, time
        from pathlib import Path
        from netflix_dec.storage.ledger import Ledger, RunLock, new_record
        folder, clusters = Path(sys.argv[1]), Path(sys.argv[2])
        lock, record = RunLock(folder), new_record("2099-01-01T00.00.00.000Z")
        lock.acquire(record)
        Ledger(folder).write(record)
        print("held", flush=True)
        time.sleep(2)  # the other run is waiting by now
        clusters.write_text(clusters.read_text() + "\\n")  # half-way through a save
        os._exit(9)  # killed: the record stays "running"
        """
    monkeypatch.setenv(LOCK_WAIT_VAR, "120")
    clusters = project / "data/07_model_output/clusters.csv"
    with (
        _holder(killed, str(project / LEDGER_DIR), str(clusters)),
        pytest.raises(IncompleteRunError) as refused,
    ):
        run_kedro_session(project, ["visualization"], env="fast")
    message = str(refused.value)
    assert "07_model_output/clusters.csv" in message
    assert "was written by run 2099-01-01T00.00.00.000Z" in message
    assert message.count("was written by run") == message.count("2099-01-01")


def test_a_run_that_waited_in_vain_names_the_holder_and_the_wait(
    project: Path, monkeypatch
):
    monkeypatch.setenv(LOCK_WAIT_VAR, "1.5")
    runs = len(_complete_runs(project))
    with (
        _hold_lock(project / LEDGER_DIR, 60),
        pytest.raises(RunLockedError, match=r"Waited 1.5 s\. .*2099-01-01"),
    ):
        run_kedro_session(project, ["data_processing"], env="fast")
    assert len(_complete_runs(project)) == runs


@pytest.mark.parametrize("value", ["soon", "-1", "inf", "nan"])
def test_a_lock_wait_that_is_not_seconds_is_refused_naming_the_variable(value):
    with pytest.raises(ValueError, match=f"{LOCK_WAIT_VAR}='{value}': expected"):
        lock_wait({LOCK_WAIT_VAR: value})


def test_no_lock_wait_unless_asked():
    assert lock_wait({}) == 0.0 and lock_wait({LOCK_WAIT_VAR: " "}) == 0.0
    assert lock_wait({LOCK_WAIT_VAR: "90"}) == 90.0


def test_a_run_killed_after_its_model_save_is_invisible(project: Path):
    [first] = _complete_runs(project)
    _kill_after(project, "dec_model", n_clusters=5)
    versions = sorted(
        p.name for p in (project / "data/06_models/dec_model.keras").iterdir()
    )
    assert len(versions) == 2  # the killed run did save its model
    catalog = _catalog(project)
    for name in ("dec_model", "dec_calibration", "cluster_summary", "text_encoder"):
        assert catalog.get(name).resolve_load_version() == first.run_id, name
    # assign runs with the complete run's model, calibration and encoder.
    data = project / "data"
    shutil.copy2(data / "03_primary/clean_titles.csv", data / "01_raw/new_titles.csv")
    run_kedro_session(project, ["assign"], env="fast")
    assigned = pd.read_csv(data / "07_model_output/assigned_titles.csv")
    clusters = pd.read_csv(data / "07_model_output/clusters.csv")
    assert assigned["show_id"].tolist() == clusters["show_id"].tolist()
    assert (assigned["cluster"] == clusters["cluster"]).mean() > 0.99
    # The next run found the killed one and says it failed.
    killed = [
        r for r in Ledger(project / LEDGER_DIR).records() if r.run_id != first.run_id
    ]
    assert [r.state for r in killed[:1]] == ["failed"]


def test_a_run_killed_after_its_clusters_save_stops_the_visualization(project: Path):
    _kill_after(project, "clusters", n_clusters=5)
    clusters = pd.read_csv(project / "data/07_model_output/clusters.csv")
    assert clusters["cluster"].nunique() <= 5  # the killed run's file
    with pytest.raises(IncompleteRunError) as refused:
        run_kedro_session(project, ["visualization"], env="fast")
    assert "clusters" in str(refused.value)
    assert "07_model_output/clusters.csv" in str(refused.value)
    points = json.loads((project / "data/07_model_output/points.json").read_text())
    assert points["meta"]["n_clusters"] == 8  # untouched


def test_a_summary_of_clusters_a_later_run_replaced_stops_the_visualization(
    project: Path,
):
    # A complete run that rewrites the clusters but not their summary, names
    # or points: same titles, same row counts, other clusters.
    bootstrap_project(project)
    with KedroSession.create(
        project_path=project,
        env="fast",
        runtime_params={"dec_clustering": {"n_clusters": 5}},
    ) as session:
        session.run(
            pipeline_names=["dec_clustering"],
            to_nodes=["dec_clustering.assign_clusters"],
        )
    assert len(_complete_runs(project)) == 2
    clusters = pd.read_csv(project / "data/07_model_output/clusters.csv")
    assert clusters["cluster"].nunique() <= 5
    with pytest.raises(StaleInputError) as refused:
        run_kedro_session(project, ["visualization"], env="fast")
    message = str(refused.value)
    assert "cluster_summary" in message and "07_model_output/clusters.csv" in message
    points = json.loads((project / "data/07_model_output/points.json").read_text())
    assert points["meta"]["n_clusters"] == 8  # untouched
    # The run that refused is recorded as failed, and a full run mends it.
    assert len(_complete_runs(project)) == 2


def test_inputs_rewritten_with_the_same_bytes_still_go_together(project: Path):
    run_kedro_session(project, ["data_processing"], env="fast")
    [first, second] = _complete_runs(project)
    assert first.files["clean_titles"].digest == second.files["clean_titles"].digest
    assert first.files["clean_titles"] != second.files["clean_titles"]  # a new file
    run_kedro_session(project, ["visualization"], env="fast")
    [*_, third] = _complete_runs(project)
    assert (
        third.inputs["clean_titles"] == "content " + second.files["clean_titles"].digest
    )
    assert third.inputs["cluster_summary"] == "version " + first.run_id


def test_an_explicit_version_of_an_incomplete_run_is_refused(tmp_path: Path):
    ledger = Ledger(tmp_path / LEDGER_DIR)
    ledger.folder.mkdir()
    ok, bad = "2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"
    for version in (ok, bad):
        AtomicDataset(
            filepath=str(tmp_path / "data/report.json"),
            dataset="json.JSONDataset",
            version=Version(None, version),
        ).save({"version": version})
    record = RunRecord(
        run_id=bad, state="running", pid=1, host="h", started="x", started_ns=0
    )
    ledger.write(record)
    latest = AtomicDataset(
        filepath=str(tmp_path / "data/report.json"),
        dataset="json.JSONDataset",
        version=Version(None, None),
    )
    assert latest.load() == {"version": ok}
    pinned = AtomicDataset(
        filepath=str(tmp_path / "data/report.json"),
        dataset="json.JSONDataset",
        version=Version(bad, None),
    )
    with pytest.raises(DatasetError, match="did not complete"):
        pinned.load()
    ledger.write(record.model_copy(update={"state": "complete"}))
    assert latest.load() == {"version": bad}
    assert pinned.load() == {"version": bad}


def test_version_paths_are_kedros():
    """has_version builds Kedro's layout itself; this fails if Kedro's changes."""
    dataset = AtomicDataset(
        filepath="data/x.json", dataset="json.JSONDataset", version=Version(None, "v1")
    )
    assert dataset.version_path("v1") == dataset._get_save_path()
    assert dataset.is_versioned
