"""DaskRunner: where it runs, what it refuses, and how a node's failure reads."""

from __future__ import annotations

import operator
from pathlib import Path

import numpy as np
import pandas as pd
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


# ---- end to end: the fast environment, 4 shards, a 2-worker local cluster ------

PIPELINES = ["data_processing", "encoding", "dec_clustering"]


def _fast_run(
    parent: Path, steps: list[tuple[list[str], DaskRunner | None]], shards: int
) -> Path:
    """Sessions of the fast environment in a new scratch project, one per step."""
    from netflix_dec.catalogue import ENV_VAR

    from .conftest import make_project_copy, run_kedro_session

    root = make_project_copy(parent)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(ENV_VAR, raising=False)
        patch.chdir(root)
        for pipelines, runner in steps:
            run_kedro_session(
                root, pipelines, "fast", {"encoding": {"shards": shards}}, runner
            )
    return root


@pytest.fixture(scope="module")
def sequential_and_dask(tmp_path_factory) -> tuple[Path, Path, dict, dict]:
    """The same pipelines run sequentially (1 shard) and on Dask (4 shards).

    The Dask run goes through a scheduler address, on one 2-worker cluster, in
    two sessions: when the data_processing plots still occupy one worker, the
    scheduler rightly gives every shard of the small sample to the other.
    """
    from distributed import Client, LocalCluster

    from netflix_dec.runners import _PLUGIN_NAME as PLUGIN

    sequential = _fast_run(
        tmp_path_factory.mktemp("sequential"), [(PIPELINES, None)], shards=1
    )
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        runners = [DaskRunner(address=cluster.scheduler_address) for _ in range(2)]
        dask = _fast_run(
            tmp_path_factory.mktemp("dask"),
            [(PIPELINES[:1], runners[0]), (PIPELINES[1:], runners[1])],
            shards=4,
        )
        with Client(cluster) as client:
            hooks = client.run(
                lambda dask_worker: sorted(
                    type(hook).__name__
                    for hook in dask_worker.plugins[PLUGIN].hook_manager.get_plugins()
                )
            )
    return sequential, dask, runners[0].node_workers | runners[1].node_workers, hooks


def _features(root: Path):
    from netflix_dec.datasets import NumpyDataset

    features = NumpyDataset(filepath=str(root / "data/04_feature/features.npz")).load()
    return features.toarray() if hasattr(features, "toarray") else features


@pytest.mark.slow
def test_four_shards_on_dask_equal_the_sequential_run(sequential_and_dask):
    sequential, dask, _, _ = sequential_and_dask
    shards = sorted((dask / "data/04_feature/shards").glob("*.npz"))
    assert [path.stem for path in shards] == [f"{i:04d}-of-0004" for i in range(4)]
    np.testing.assert_allclose(_features(dask), _features(sequential), atol=1e-6)
    clusters = {
        root: pd.read_csv(root / "data/07_model_output/clusters.csv")
        for root in (sequential, dask)
    }
    pd.testing.assert_frame_equal(
        clusters[dask][["show_id", "cluster"]],
        clusters[sequential][["show_id", "cluster"]],
    )


@pytest.mark.slow
def test_the_shards_ran_on_both_workers(sequential_and_dask):
    _, _, node_workers, _ = sequential_and_dask
    shards = {
        name: worker
        for name, worker in node_workers.items()
        if name.endswith(".encode_shard")
    }
    assert sorted(shards) == [f"encoding.shard_{i}.encode_shard" for i in range(4)]
    assert len(set(shards.values())) == 2, shards
    assert "dec_clustering.train_dec" in node_workers  # every pipeline ran on Dask


@pytest.mark.slow
def test_workers_run_nodes_with_the_projects_hooks(sequential_and_dask):
    from netflix_dec.settings import HOOKS

    _, _, _, hooks = sequential_and_dask
    assert len(hooks) == 2
    project_hooks = {type(hook).__name__ for hook in HOOKS}
    for names in hooks.values():
        assert project_hooks <= set(names), names


def test_local_workers_get_this_process_thread_settings(monkeypatch):
    """Dask's nanny would start workers with one BLAS/OpenMP thread each."""
    import dask

    from netflix_dec.runners import THREAD_VARIABLES, worker_environ

    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    environ = worker_environ()
    assert not set(THREAD_VARIABLES) & set(environ)
    default = dask.config.get("distributed.nanny.pre-spawn-environ")
    assert {k: v for k, v in default.items() if k not in THREAD_VARIABLES} == environ
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert worker_environ()["OMP_NUM_THREADS"] == "3"


def test_the_workers_hook_manager_has_every_installed_plugins_hooks():
    """Every distribution with Kedro hooks is there when none is disabled."""
    from importlib.metadata import entry_points

    from netflix_dec.runners import PLUGIN_HOOKS, project_hook_manager

    installed = {point.dist.name for point in entry_points(group=PLUGIN_HOOKS)}
    assert installed  # kedro-mlflow, kedro-viz, ... declare hooks
    manager = project_hook_manager([], ())
    registered = {
        distribution.project_name
        for plugin, distribution in manager.list_plugin_distinfo()
        if manager.is_registered(plugin)
    }
    assert registered == installed


def test_the_workers_hook_manager_has_the_projects_hooks_and_no_disabled_plugin():
    from netflix_dec.runners import CLIENT_ONLY_PLUGINS, project_hook_manager
    from netflix_dec.settings import DISABLE_HOOKS_FOR_PLUGINS, HOOKS

    disabled = (*DISABLE_HOOKS_FOR_PLUGINS, *CLIENT_ONLY_PLUGINS)
    manager = project_hook_manager(HOOKS, disabled)
    assert all(manager.is_registered(hook) for hook in HOOKS)
    plugins = {
        dist.project_name
        for plugin, dist in manager.list_plugin_distinfo()
        if manager.is_registered(plugin)
    }
    assert not plugins & {"kedro-mlflow", "kedro_mlflow", *CLIENT_ONLY_PLUGINS}
    assert manager.hook.before_node_run.get_hookimpls()  # Kedro's specs are in
