"""DaskRunner: where it runs, what it refuses, and how a node's failure reads."""

from __future__ import annotations

import operator
from pathlib import Path

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import node, pipeline

from netflix_dec.runners import THREADS_ENV, WORKERS_ENV, DaskRunner, NodeFailedError


def test_sizes_come_from_arguments_else_the_environment(monkeypatch):
    monkeypatch.setenv(WORKERS_ENV, "3")
    monkeypatch.setenv(THREADS_ENV, "2")
    runner = DaskRunner()
    assert (runner._n_workers, runner._threads_per_worker) == (3, 2)
    runner = DaskRunner(n_workers=2, threads_per_worker=1)
    assert (runner._n_workers, runner._threads_per_worker) == (2, 1)


def test_one_thread_per_worker_by_default(monkeypatch):
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    monkeypatch.delenv(THREADS_ENV, raising=False)
    runner = DaskRunner()
    assert (runner._n_workers, runner._threads_per_worker) == (None, 1)


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_size_names_its_source(monkeypatch, value):
    monkeypatch.setenv(WORKERS_ENV, value)
    with pytest.raises(ValueError, match=f"{WORKERS_ENV} must be a positive"):
        DaskRunner()
    with pytest.raises(ValueError, match="threads_per_worker must be a positive"):
        DaskRunner(n_workers=1, threads_per_worker=value)


def test_an_address_and_a_local_size_exclude_each_other():
    with pytest.raises(ValueError, match="Pass one or the other"):
        DaskRunner(address="tcp://127.0.0.1:8786", n_workers=2)


def test_the_scheduler_address_defaults_to_dasks_own_setting(monkeypatch):
    import dask

    with dask.config.set({"scheduler-address": "tcp://10.1.2.3:8786"}):
        assert DaskRunner()._address == "tcp://10.1.2.3:8786"


def test_an_in_memory_dataset_between_nodes_is_refused_before_anything_runs():
    steps = pipeline(
        [
            node(operator.neg, "a", "b", name="negate"),
            node(operator.abs, "b", "c", name="absolute"),
        ]
    )
    catalog = DataCatalog({"a": MemoryDataset(3)})
    with pytest.raises(ValueError, match=r"\['b'\] would be handed from one node"):
        DaskRunner(n_workers=1).run(steps, catalog)


@pytest.mark.slow
def test_a_failing_node_fails_the_run_naming_node_and_error(
    project_copy: Path, tmp_path: Path
):
    from kedro.framework.startup import bootstrap_project
    from kedro_datasets.json import JSONDataset

    bootstrap_project(project_copy)  # the workers load this project's settings
    steps = pipeline(
        [
            node(operator.truediv, ["one", "zero"], "ratio", name="divide"),
            node(operator.neg, "ratio", "negated", name="negate"),
        ]
    )
    catalog = DataCatalog(
        {
            "one": MemoryDataset(1.0),
            "zero": MemoryDataset(0.0),
            "ratio": JSONDataset(filepath=str(tmp_path / "ratio.json")),
            "negated": JSONDataset(filepath=str(tmp_path / "negated.json")),
        }
    )
    runner = DaskRunner(n_workers=1)
    with pytest.raises(NodeFailedError, match=r"Node 'divide' failed") as failure:
        runner.run(steps, catalog)
    assert "ZeroDivisionError" in str(failure.value)
    assert not (tmp_path / "negated.json").exists()
