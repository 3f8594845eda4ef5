"""NodeTimingHooks: where a run's time goes, nodes and dataset input/output."""

from __future__ import annotations

import time

from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import node

from netflix_dec.timing import NodeTimingHooks


def _identity(x):
    return x


def test_the_record_splits_time_into_nodes_loads_and_saves():
    hooks = NodeTimingHooks()
    step = node(_identity, "a", "b", name="step", namespace="demo")
    hooks.before_pipeline_run()
    hooks.before_dataset_loaded("a")
    time.sleep(0.02)
    hooks.after_dataset_loaded("a")
    hooks.before_node_run(step)
    time.sleep(0.01)
    hooks.after_node_run(step)
    hooks.before_dataset_saved("b")
    time.sleep(0.03)
    hooks.after_dataset_saved("b")
    hooks.before_dataset_loaded("a")  # a second load adds to the first
    time.sleep(0.02)
    hooks.after_dataset_loaded("a")

    record = hooks.record(total=1.0)

    assert record["seconds"] == 1.0
    assert [n["node"] for n in record["nodes"]] == ["demo.step"]
    assert record["nodes"][0]["pipeline"] == "demo"
    by_name = {d["dataset"]: d for d in record["datasets"]}
    assert set(by_name) == {"a", "b"}
    assert by_name["a"]["load_seconds"] >= 0.04
    assert by_name["a"]["save_seconds"] == 0.0
    assert by_name["b"]["save_seconds"] >= 0.03
    assert record["load_seconds"] == by_name["a"]["load_seconds"]
    assert record["save_seconds"] == by_name["b"]["save_seconds"]
    assert record["node_seconds"] >= 0.01
    # Slowest dataset first.
    assert record["datasets"][0]["dataset"] == "a"


def test_an_end_without_a_start_is_ignored_and_a_new_run_starts_afresh():
    hooks = NodeTimingHooks()
    hooks.before_pipeline_run()
    hooks.after_dataset_saved("never_started")
    hooks.before_dataset_loaded("x")
    hooks.after_dataset_loaded("x")
    assert [d["dataset"] for d in hooks.record(0.5)["datasets"]] == ["x"]

    hooks.before_pipeline_run()
    assert hooks.record(0.1)["datasets"] == []


def test_the_record_is_saved_to_run_timings():
    hooks = NodeTimingHooks()
    catalog = DataCatalog({"run_timings": MemoryDataset()})
    hooks.before_pipeline_run()
    hooks.before_dataset_loaded("x")
    hooks.after_dataset_loaded("x")
    hooks.after_pipeline_run(catalog)
    saved = catalog.load("run_timings")
    assert saved["datasets"][0]["dataset"] == "x"
    assert set(saved) >= {"seconds", "node_seconds", "load_seconds", "save_seconds"}
