"""Run the project's pipelines on a Dask cluster: ``--runner netflix_dec.runners.DaskRunner``.

Kedro's own runners place nodes on the threads or processes of one machine. This
runner hands every node to a ``distributed`` scheduler instead, so that the nodes
that do not depend on each other (the encoding shards, for example) run on
different workers, on this machine (a ``LocalCluster``, the default) or on a
cluster that already runs elsewhere (a scheduler address).

Usage::

    kedro run --runner netflix_dec.runners.DaskRunner
    kedro run --runner netflix_dec.runners.DaskRunner --runner-params n_workers=2,threads_per_worker=1
    kedro run --runner netflix_dec.runners.DaskRunner --runner-params address=tcp://10.0.0.5:8786

Without ``--runner-params`` the local cluster's size comes from the environment
variables ``NETFLIX_DEC_DASK_WORKERS`` and ``NETFLIX_DEC_DASK_THREADS``, and a
scheduler address from Dask's own ``DASK_SCHEDULER_ADDRESS``.

What a worker needs (docs/scaling.md): this package and its dependencies
installed, and the datasets' paths readable and writable from it (the project
directory at the same path, a shared file system, or object-store paths in the
catalogue). Every dataset one node hands to another must therefore be a file:
the runner refuses a pipeline that passes an in-memory dataset between nodes,
before any node runs.

Each worker loads the project's settings and registers its hooks once
(``ProjectOnWorker``), so node and dataset hooks run where the node runs; the
pipeline hooks run here, in the process that started the run.
"""

from __future__ import annotations

import logging
import os
import resource
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.runner import AbstractRunner, Task

try:
    import dask
    from distributed import Client, LocalCluster, WorkerPlugin, as_completed
except ImportError as _error:  # pragma: no cover - depends on the install
    raise ImportError(
        'DaskRunner needs Dask\'s distributed package: pip install -e ".[dask]"'
    ) from _error

if TYPE_CHECKING:
    from collections.abc import Iterable

    from distributed import Worker
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node
    from pluggy import PluginManager

logger = logging.getLogger(__name__)

WORKERS_ENV = "NETFLIX_DEC_DASK_WORKERS"
THREADS_ENV = "NETFLIX_DEC_DASK_THREADS"
_PLUGIN_NAME = "netflix-dec-kedro-project"
# Plugins whose hooks gather a run's record in the client process (kedro-viz's
# dataset statistics need its catalogue hook, which workers never see).
CLIENT_ONLY_PLUGINS = ("kedro-viz",)


_PRE_SPAWN = "distributed.nanny.pre-spawn-environ"
# Thread counts of the native libraries (OpenMP, MKL, OpenBLAS).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
# The entry point under which installed plugins declare their Kedro hooks.
PLUGIN_HOOKS = "kedro.hooks"


def worker_environ() -> dict[str, Any]:
    """The environment Dask's nanny gives a local worker: this process's threads.

    Dask starts workers with one OpenMP, MKL and OpenBLAS thread each
    (``distributed.nanny.pre-spawn-environ``); a product or a KMeans summed by
    one thread rounds differently from the same one summed by two, so the same
    seed once gave another cluster to 1 of 6,131 real titles than a sequential
    run (the fast environment's autoencoder; with today's nodes, one thread
    gives the same clusters on that file, measured 2026-12-02, but nothing
    promises it). Workers get this process's settings for those variables
    instead (unset where it has none), so a seed gives the same clusters under
    either runner.
    The nanny's other settings stay.
    """
    environ = dict(dask.config.get(_PRE_SPAWN, default={}) or {})
    for name in THREAD_VARIABLES:
        if name in os.environ:
            environ[name] = os.environ[name]
        else:
            environ.pop(name, None)
    return environ


class NodeFailedError(RuntimeError):
    """A node raised on a Dask worker; the message names the node and the error."""


class ProjectOnWorker(WorkerPlugin):
    """A Dask worker plugin that makes a worker run nodes as ``kedro run`` does.

    On each worker (including workers that join later) it configures the Kedro
    project from its installed package, so ``settings`` are the project's, sets
    up the project's logging, moves to the project directory when the worker can
    see it (relative catalogue paths then resolve as on the client), and builds
    a hook manager with the project's hooks and the installed plugins' hooks.
    """

    def __init__(
        self,
        package_name: str,
        project_path: str,
        logging_config: dict[str, Any] | None,
    ) -> None:
        self.package_name = package_name
        self.project_path = project_path
        self.logging_config = logging_config
        self.hook_manager: PluginManager | None = None

    def setup(self, worker: Worker) -> None:
        from kedro.framework.project import (
            configure_logging,
            configure_project,
            settings,
        )

        configure_project(self.package_name)
        if self.logging_config:
            configure_logging(self.logging_config)
        if Path(self.project_path).is_dir():
            os.chdir(self.project_path)
        else:
            logger.warning(
                "Worker %s cannot see the project directory %s: relative dataset "
                "paths resolve against %s.",
                worker.address,
                self.project_path,
                Path.cwd(),
            )
        self.hook_manager = project_hook_manager(
            settings.HOOKS, (*settings.DISABLE_HOOKS_FOR_PLUGINS, *CLIENT_ONLY_PLUGINS)
        )

    def teardown(self, worker: Worker) -> None:
        self.hook_manager = None


def project_hook_manager(
    hooks: Iterable[Any], disabled_plugins: Iterable[str]
) -> PluginManager:
    """A hook manager with ``hooks`` and the installed plugins' but ``disabled_plugins``.

    What a ``KedroSession`` builds, for a process that runs nodes without one:
    Kedro's hook specifications (``kedro.framework.hooks._create_hook_manager``,
    which Kedro exports), the project's hooks, then the hooks installed plugins
    declare under Kedro's ``kedro.hooks`` entry point, through pluggy's own API.
    Kedro's process runner would build one per node inside
    ``Task(parallel=True)`` and also register the hooks of
    :data:`CLIENT_ONLY_PLUGINS` on the workers.
    """
    from kedro.framework.hooks import _create_hook_manager

    hook_manager = _create_hook_manager()
    for hook in hooks:
        if not hook_manager.is_registered(hook):
            hook_manager.register(hook)
    hook_manager.load_setuptools_entrypoints(PLUGIN_HOOKS)
    disabled = set(disabled_plugins)
    for plugin, distribution in hook_manager.list_plugin_distinfo():
        if distribution.project_name in disabled:
            hook_manager.unregister(plugin=plugin)
    return hook_manager


def _run_node(
    node: Node,
    catalog: CatalogProtocol,
    is_async: bool,
    run_id: str | None,
) -> dict[str, Any]:
    """Run one node on the worker this task landed on (a Dask task)."""
    from distributed import get_worker

    worker = get_worker()
    project = worker.plugins[_PLUGIN_NAME]
    started = time.perf_counter()
    try:
        Task(
            node=node,
            catalog=catalog,
            is_async=is_async,
            hook_manager=project.hook_manager,
            run_id=run_id,
        ).execute()
    except Exception as error:
        # Said here, on the worker: the nodes that depend on this one fail with
        # the same exception, and the client may hear of one of them first.
        raise NodeFailedError(
            f"Node '{node.name}' failed on Dask worker {worker.address}: "
            f"{type(error).__name__}: {error}"
        ) from error
    return {
        "node": node.name,
        "worker": worker.address,
        "seconds": round(time.perf_counter() - started, 3),
        # The worker process's peak so far (Linux reports KiB).
        "worker_peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
    }


def _positive_int(value: Any, source: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1 or str(number) != str(value).strip():
        raise ValueError(f"{source} must be a positive whole number, got {value!r}.")
    return number


class DaskRunner(AbstractRunner):
    """Run nodes as Dask tasks, on a new local cluster or an existing scheduler.

    A node is submitted as soon as the nodes it reads from are done, to the
    worker with the fewest of this run's nodes, so independent nodes (the
    encoding shards) run side by side. A node's failure cancels what has not
    run and fails the run with the node's name and error. ``node_workers``
    records which worker ran each node; ``node_records`` also the node's
    seconds and the worker's peak memory.
    """

    def __init__(
        self,
        address: str | None = None,
        n_workers: int | None = None,
        threads_per_worker: int | None = None,
        is_async: bool = False,
    ) -> None:
        """Say where to run.

        Args:
            address: A running scheduler, such as ``tcp://10.0.0.5:8786``; by
                default Dask's ``DASK_SCHEDULER_ADDRESS``, else a new
                ``LocalCluster`` on this machine for the length of the run.
            n_workers: Worker processes of the local cluster (default
                ``NETFLIX_DEC_DASK_WORKERS``, else Dask's choice for this machine).
            threads_per_worker: Nodes one local worker runs at a time (default
                ``NETFLIX_DEC_DASK_THREADS``, else 1: a node such as the
                autoencoder's training already uses every core it is given).
            is_async: Load and save a node's datasets with threads.
        """
        super().__init__(is_async=is_async)
        if address is None:
            import dask

            address = dask.config.get("scheduler-address", None)
        self._address = address or None
        self._n_workers = _positive_int(
            n_workers if n_workers is not None else os.environ.get(WORKERS_ENV),
            "n_workers" if n_workers is not None else WORKERS_ENV,
        )
        threads = (
            threads_per_worker
            if threads_per_worker is not None
            else os.environ.get(THREADS_ENV)
        )
        self._threads_per_worker = (
            _positive_int(
                threads,
                "threads_per_worker" if threads_per_worker is not None else THREADS_ENV,
            )
            or 1
        )
        if self._address and (n_workers is not None or threads_per_worker is not None):
            raise ValueError(
                "n_workers and threads_per_worker size a new local cluster; with a "
                f"scheduler address ({self._address}) the cluster's own workers run "
                "the nodes. Pass one or the other."
            )
        self.node_workers: dict[str, str] = {}
        self.node_records: list[dict[str, Any]] = []

    def _get_executor(self, max_workers: int) -> None:
        return None  # Dask's scheduler places the tasks, not an executor here

    def _run(
        self,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hook_manager: PluginManager | None = None,
        run_id: str | None = None,
    ) -> None:
        self._check_persisted(pipeline, catalog)
        client, cluster = self._connect()
        try:
            self._register_project(client)
            self._submit_and_wait(client, pipeline, catalog, run_id)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    @staticmethod
    def _check_persisted(pipeline: Pipeline, catalog: CatalogProtocol) -> None:
        """Refuse in-memory datasets between nodes: workers cannot share memory."""
        produced = {name for node in pipeline.nodes for name in node.outputs}
        consumed = {name for node in pipeline.nodes for name in node.inputs}
        in_memory = sorted(
            name for name in produced if getattr(catalog.get(name), "_EPHEMERAL", False)
        )
        handed_on = [name for name in in_memory if name in consumed]
        if handed_on:
            raise ValueError(
                f"DaskRunner: {handed_on} would be handed from one node to another "
                "in memory, which Dask workers do not share. Give each a file "
                "dataset in conf/base/catalog.yml."
            )
        if in_memory:
            logger.warning(
                "DaskRunner: the in-memory outputs %s stay on the worker that made "
                "them and are not returned.",
                in_memory,
            )

    def _connect(self) -> tuple[Client, Any]:
        if self._address:
            logger.info("DaskRunner: connecting to the scheduler at %s.", self._address)
            return Client(self._address), None
        with dask.config.set({_PRE_SPAWN: worker_environ()}):
            cluster = LocalCluster(
                n_workers=self._n_workers,
                threads_per_worker=self._threads_per_worker,
                processes=True,
                dashboard_address=None,  # no web server: runs stay off the network
                silence_logs=logging.WARNING,
            )
        logger.info(
            "DaskRunner: local cluster of %d workers × %d threads.",
            len(cluster.workers),
            self._threads_per_worker,
        )
        return Client(cluster), cluster

    @staticmethod
    def _register_project(client: Client) -> None:
        from kedro.framework.project import LOGGING, PACKAGE_NAME

        if not PACKAGE_NAME:
            raise RuntimeError(
                "DaskRunner runs inside a Kedro project: start it with `kedro run` "
                "or a KedroSession of the project."
            )
        plugin = ProjectOnWorker(
            package_name=PACKAGE_NAME,
            project_path=str(Path.cwd()),
            logging_config=dict(LOGGING),
        )
        try:
            client.register_plugin(plugin, name=_PLUGIN_NAME)
        except Exception as error:
            raise RuntimeError(
                f"A Dask worker could not load the Kedro project {PACKAGE_NAME!r}: "
                f"{type(error).__name__}: {error} (every worker needs the project "
                "package and its dependencies installed: docs/scaling.md)"
            ) from error

    def _submit_and_wait(
        self,
        client: Client,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        run_id: str | None,
    ) -> None:
        """Submit each node once the nodes it reads from are done.

        Nodes are handed over when ready, as Kedro's own runners do, rather than
        as one graph whose tasks Dask would place next to their inputs' results,
        and each goes to the worker with the fewest of this run's nodes per
        thread, so that sibling nodes such as the shards spread over the workers.
        """
        [shared_catalog] = client.scatter([catalog], broadcast=True, hash=False)
        waiting = dict(pipeline.node_dependencies)
        tag = uuid.uuid4().hex[:8]
        node_of: dict[str, Node] = {}
        worker_of: dict[str, str] = {}
        in_flight: Counter[str] = Counter()
        submitted: list[Any] = []
        running = as_completed()
        done: set[Node] = set()

        def submit_ready() -> None:
            ready = [node for node, parents in waiting.items() if parents <= done]
            threads = client.nthreads() if ready else {}
            for node in ready:
                del waiting[node]
                # The worker with the fewest of this run's nodes per thread: the
                # nodes read and write files, not each other's memory, so Dask's
                # own preference for where earlier results are has nothing to
                # keep local, and quick nodes would all go to one worker.
                worker = min(threads, key=lambda w: (in_flight[w] / threads[w], w))
                in_flight[worker] += 1
                future = client.submit(
                    _run_node,
                    node,
                    catalog=shared_catalog,
                    is_async=self._is_async,
                    run_id=run_id,
                    key=f"{node.name}-{tag}",
                    workers=[worker],
                    allow_other_workers=True,  # if that worker leaves
                    pure=False,
                    retries=0,
                )
                node_of[future.key] = node
                worker_of[future.key] = worker
                submitted.append(future)
                running.add(future)

        submit_ready()
        for future in running:
            node = node_of[future.key]
            in_flight[worker_of[future.key]] -= 1
            if future.status != "finished":
                error = future.exception()
                client.cancel(submitted)
                self._suggest_resume_scenario(pipeline, done, catalog)
                if isinstance(error, NodeFailedError):
                    raise error
                raise NodeFailedError(  # the worker died or the task was lost
                    f"Node '{node.name}' did not finish on Dask: "
                    f"{type(error).__name__}: {error}"
                ) from error
            result = future.result()
            done.add(node)
            self.node_workers[node.name] = result["worker"]
            self.node_records.append(result)
            self._logger.info(
                "Completed node %s on %s in %.1f s, worker peak %.0f MB (%d of %d).",
                node.name,
                result["worker"],
                result["seconds"],
                result["worker_peak_rss_mb"],
                len(done),
                len(pipeline.nodes),
            )
            submit_ready()
        if waiting:  # pragma: no cover - a cycle Kedro's Pipeline already forbids
            raise RuntimeError(f"Nodes never became ready: {sorted(map(str, waiting))}")
