"""Hooks that make a run say what it used and fail fast on a bad input file."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import pkgutil
import resource
import threading
import time
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline
from pydantic import BaseModel, ValidationError

from netflix_dec.catalogue import (
    NEW_TITLES_ENV_VAR,
    check_new_titles_file,
    check_titles_header,
    check_titles_left,
    check_titles_table,
    clean_catalogue,
    describe_source,
    source_of,
)
from netflix_dec.memory import trim_heap
from netflix_dec.params import PARAMETER_GROUPS, EncodingParams, group_not_a_mapping

logger = logging.getLogger(__name__)

RAW_DATASET = "raw_titles"
CLEAN_DATASET = "clean_titles"
NEW_DATASET = "new_titles"


class RunInfoHooks:
    """Log the input file, environment and parameters; check the input file."""

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        env = run_params.get("env") or "local (the default)"
        logger.info("Environment: base + %s.", env)
        parameters = catalog.load("parameters") if "parameters" in catalog else {}
        check_parameter_groups(parameters)
        for group, values in parameters.items():
            logger.info("Parameters %s: %s", group, _compact(values))
        if "params:encoding" in pipeline.inputs():
            # A dict where no node of the run types it EncodingParams
            # (export_model's node takes it untyped).
            encoding = catalog.load("params:encoding")
            if isinstance(encoding, dict):
                encoding = EncodingParams.model_validate(encoding)
            from netflix_dec.encoders import encoder_type

            # Raises, saying how to install it, if the encoder's model is missing.
            encoder_type(encoding.features).check_installed()
        check_inputs_exist(pipeline, catalog)
        register_model_layers(pipeline, catalog)
        if NEW_DATASET in pipeline.inputs():
            source = source_of(catalog.get(NEW_DATASET))
            logger.info("New titles to assign: %s.", source["path"])
            columns = catalog.load("params:data_processing").columns
            check_new_titles_file(
                source["path"],
                columns,
                file_format=source["file_format"],
                load_args=source["load_args"],
            )
        check_titles(pipeline, catalog)


def check_titles(pipeline: Pipeline, catalog: DataCatalog) -> None:
    """Check the input titles against what the run will ask of them.

    Cleans the raw file as the pipeline will (or reads the cleaned table when
    the run starts from it) and checks the limits that depend on the data:
    titles left, distinct descriptions, ``n_clusters`` and t-SNE's perplexity
    when those pipelines are in the run. It happens before the first node, so
    a run that cannot finish leaves every earlier output as it was.
    """
    inputs = pipeline.inputs()
    if RAW_DATASET in inputs:
        described = source_of(catalog.get(RAW_DATASET))
        path = described["path"]
        logger.info(describe_source(path))
        params = catalog.load("params:data_processing")
        check_titles_header(
            path,
            params.columns,
            file_format=described["file_format"],
            load_args=described["load_args"],
        )
        raw = catalog.load(RAW_DATASET)
        titles = check_titles_table(raw, params.types, params.columns, str(path))
        cleaned, report = clean_catalogue(titles, params.types, params.required_columns)
        source = str(path)
    elif CLEAN_DATASET in inputs and catalog.exists(CLEAN_DATASET):
        cleaned, report = catalog.load(CLEAN_DATASET), None
        source = str(catalog.get(CLEAN_DATASET)._describe().get("filepath"))
    else:
        return
    limits: dict[str, Any] = {}
    if "params:dec_clustering" in inputs:
        limits["n_clusters"] = catalog.load("params:dec_clustering").n_clusters
    if "params:visualization" in inputs:
        visualization = catalog.load("params:visualization")
        limits["perplexity"] = visualization.perplexity
        limits["max_points"] = visualization.max_points
    check_titles_left(cleaned, report, source, **limits)


def check_parameter_groups(parameters: dict[str, Any]) -> None:
    """Refuse a parameter group no pipeline reads, or a group that is not valid.

    Kedro checks the keys inside a group against its model (params.py) only
    when a node of the run reads it, and a misspelt group name
    (``dec_clusterng.n_clusters=8``) would be ignored without a word. Checking
    every group here means ``--pipelines data_processing --params
    encoding.epochs=true`` fails now, not on the next full run.
    """
    unknown = sorted(set(parameters) - set(PARAMETER_GROUPS))
    if unknown:
        hints = [
            f"'{name}' (did you mean '{match[0]}'?)"
            if (match := get_close_matches(name, PARAMETER_GROUPS, n=1))
            else f"'{name}'"
            for name in unknown
        ]
        raise ValueError(
            f"Unknown parameter group(s) {', '.join(hints)}; the parameter groups are "
            f"{list(PARAMETER_GROUPS)}. Check conf/*/parameters*.yml and --params."
        )
    for group, values in parameters.items():
        if not isinstance(values, dict | BaseModel):  # a model: Kedro validated it
            raise ValueError(group_not_a_mapping(group, values))
        if isinstance(values, dict):
            try:
                PARAMETER_GROUPS[group].model_validate(values)
            except ValidationError as error:
                raise ValueError(
                    f"Parameter group '{group}' is not valid (conf/*/parameters*.yml "
                    f"or --params): {error}"
                ) from error


def check_inputs_exist(pipeline: Pipeline, catalog: DataCatalog) -> None:
    """Refuse to start when an input no node of this run makes is missing.

    ``kedro run --pipelines assign`` before any training, or ``--pipelines
    visualization`` before clustering, would otherwise fail midway on a bare
    "file not found"; this names each missing file and the command that makes it.
    """
    from netflix_dec.storage.caches import FeatureCache, MapCache

    missing = []
    for name in sorted(pipeline.inputs()):
        if name.startswith("params:") or name in {"parameters", RAW_DATASET}:
            continue
        if name not in catalog or isinstance(
            catalog.get(name), FeatureCache | MapCache
        ):
            continue
        if not catalog.exists(name):
            missing.append(name)
    if not missing:
        return
    registered = _every_pipeline()
    lines = []
    for name in missing:
        described = catalog.get(name)._describe()
        where = str(described.get("filepath") or described.get("path") or "")
        with contextlib.suppress(ValueError):
            where = str(Path(where).relative_to(Path.cwd()))
        makers = sorted(
            key for key, pipe in registered.items() if name in pipe.all_outputs()
        )
        how = (
            f"made by the {', '.join(makers)} pipeline"
            if makers
            else "not made by any pipeline: provide it"
        )
        if name == NEW_DATASET:
            how = (
                "put the titles to assign there, or set "
                f"{NEW_TITLES_ENV_VAR} to their file"
            )
        lines.append(f"  {name} ({where}): {how}")
    trained = "dec_model" in missing
    raise FileNotFoundError(
        ("No trained model yet. " if trained else "")
        + "This run needs inputs that do not exist:\n"
        + "\n".join(lines)
        + (
            "\nTrain a model first with `kedro run` (the default pipelines), then "
            "run this command again."
            if trained
            else "\nRun the pipelines that make them first (`kedro run` makes all)."
        )
    )


def register_model_layers(pipeline: Pipeline, catalog: DataCatalog) -> None:
    """Register the project's Keras layers when the run loads a saved model.

    ``dec_model.keras`` names ``ClusteringLayer``, which Keras can rebuild only
    once :mod:`netflix_dec.dec` has registered it. Nodes import that module
    lazily, so a run that starts from saved models (``--pipelines assign``)
    would otherwise load a model before anything imported it.
    """
    for name in pipeline.inputs():
        if name not in catalog:
            continue
        dataset = catalog.get(name)
        kind = str(dataset._describe().get("dataset") or type(dataset).__name__)
        if "TensorFlowModelDataset" in kind:
            import netflix_dec.dec  # noqa: F401, PLC0415  (registers the layers)

            return


def _every_pipeline() -> dict[str, Pipeline]:
    """Each pipeline folder's pipeline, whichever ones this run loaded.

    Kedro's registry holds only the pipelines a run asked for (``--pipelines``),
    and the message should name the one that makes a missing input.
    """
    import netflix_dec.pipelines as package

    return {
        module.name: importlib.import_module(
            f"{package.__name__}.{module.name}"
        ).create_pipeline()
        for module in pkgutil.iter_modules(package.__path__)
        if module.ispkg
    }


def _compact(values: Any) -> str:
    """Parameters on one line, as ``key=value`` pairs."""
    if isinstance(values, BaseModel):
        values = values.model_dump()
    if isinstance(values, dict):
        return ", ".join(f"{key}={value}" for key, value in values.items())
    return str(values)


class FreedMemoryHooks:
    """Hand the memory a node freed back to the system before the next node runs.

    glibc keeps freed blocks in its heaps for reuse (one heap per thread that
    allocated, and TensorFlow's and scikit-learn's thread pools make several),
    and the next node's large arrays are mapped afresh beside them, so the
    process holds both. ``malloc_trim(0)`` returns the free pages (on a
    million titles, 699,088 clustered, it lowered the peaks of ``train_dec``
    and ``embed_titles`` by 0.6 and 0.7 GB); where the C library has no
    ``malloc_trim`` (not glibc) this does nothing.
    """

    # First of the before_node_run hooks: the peak NodeTimingHooks measures
    # for a node starts from the trimmed process.
    @hook_impl(tryfirst=True)
    def before_node_run(self) -> None:
        trim_heap()


class _PeakMemory:
    """Sample the process's resident memory while a node runs (Linux /proc)."""

    def __init__(self, interval: float = 0.05) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self.peak = _resident_bytes()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, _resident_bytes())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak, _resident_bytes())


def _resident_bytes() -> int:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # not Linux: the lifetime peak
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class NodeTimingHooks:
    """Time every node, dataset load and save; record each node's peak memory.

    The record goes to the ``run_timings`` dataset when the catalogue has one,
    so that benchmarks (and curious users) can see where a run spends its
    time: in the nodes, or in reading and writing their datasets (a large CSV
    can take longer to save than the node that made it).
    """

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._memory: dict[str, _PeakMemory] = {}
        self._records: list[dict[str, Any]] = []
        # (dataset, "load" | "save", thread) -> start; a thread per pair since
        # asynchronous loading and saving (`kedro run --async`) overlap.
        self._io_started: dict[tuple[str, str, int], float] = {}
        self._io: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()
        self._run_started = 0.0

    @hook_impl
    def before_pipeline_run(self) -> None:
        self._records = []
        self._io = {}
        self._io_started = {}
        self._run_started = time.perf_counter()

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        self._memory[node.name] = _PeakMemory()
        self._started[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        seconds = time.perf_counter() - self._started.pop(node.name)
        peak = self._memory.pop(node.name).stop()
        self._records.append(
            {
                "node": node.name,
                "pipeline": node.namespace or "",
                "seconds": round(seconds, 3),
                "peak_rss_mb": round(peak / 2**20, 1),
            }
        )

    def _io_begin(self, dataset_name: str, operation: str) -> None:
        key = (dataset_name, operation, threading.get_ident())
        with self._lock:
            self._io_started[key] = time.perf_counter()

    def _io_end(self, dataset_name: str, operation: str) -> None:
        key = (dataset_name, operation, threading.get_ident())
        with self._lock:
            started = self._io_started.pop(key, None)
            if started is None:
                return
            record = self._io.setdefault(dataset_name, {"load": 0.0, "save": 0.0})
            record[operation] += time.perf_counter() - started

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str) -> None:
        self._io_begin(dataset_name, "load")

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str) -> None:
        self._io_end(dataset_name, "load")

    @hook_impl
    def before_dataset_saved(self, dataset_name: str) -> None:
        self._io_begin(dataset_name, "save")

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        self._io_end(dataset_name, "save")

    def record(self, total: float) -> dict[str, Any]:
        """The run's seconds, its nodes and its datasets' load and save seconds."""
        datasets = [
            {
                "dataset": name,
                "load_seconds": round(times["load"], 3),
                "save_seconds": round(times["save"], 3),
            }
            for name, times in sorted(
                self._io.items(), key=lambda item: -sum(item[1].values())
            )
        ]
        return {
            "seconds": round(total, 3),
            "node_seconds": round(sum(r["seconds"] for r in self._records), 3),
            "load_seconds": round(sum(d["load_seconds"] for d in datasets), 3),
            "save_seconds": round(sum(d["save_seconds"] for d in datasets), 3),
            "nodes": self._records,
            "datasets": datasets,
        }

    @hook_impl
    def after_pipeline_run(self, catalog: DataCatalog) -> None:
        record = self.record(time.perf_counter() - self._run_started)
        slowest = sorted(self._records, key=lambda r: -r["seconds"])[:5]
        logger.info(
            "Pipeline time %.1f s (nodes %.1f s, loading %.1f s, saving %.1f s); "
            "slowest nodes: %s.",
            record["seconds"],
            record["node_seconds"],
            record["load_seconds"],
            record["save_seconds"],
            ", ".join(f"{r['node']} {r['seconds']:.1f} s" for r in slowest),
        )
        if "run_timings" in catalog:
            catalog.save("run_timings", record)
